"""`python -m webos_storage`: serve the storage service."""

from webos_common.http.service import run_service
from webos_storage.settings import StorageSettings


def main() -> None:
    run_service("webos_storage.main:create_app", StorageSettings())


if __name__ == "__main__":
    main()
