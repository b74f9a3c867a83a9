"""`python -m webos_settings`: serve the settings service."""

from webos_common.service import run_service
from webos_settings.settings import SettingsSettings


def main() -> None:
    run_service("webos_settings.main:create_app", SettingsSettings())


if __name__ == "__main__":
    main()
