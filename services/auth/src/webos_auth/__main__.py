"""`python -m webos_auth`: serve the auth service."""

from webos_auth.settings import AuthSettings
from webos_common.http.service import run_service


def main() -> None:
    run_service("webos_auth.main:create_app", AuthSettings())


if __name__ == "__main__":
    main()
