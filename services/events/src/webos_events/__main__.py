"""`python -m webos_events`: serve the events service."""

from webos_common.http.service import run_service
from webos_events.settings import EventsSettings


def main() -> None:
    run_service("webos_events.main:create_app", EventsSettings())


if __name__ == "__main__":
    main()
