"""`python -m webos_settings`: serve the settings service;
`python -m webos_settings rotate-key`: re-encrypt every secret under the current master key."""

import sys

from webos_common.http.service import run_service
from webos_settings.settings import SettingsSettings


def main() -> None:
    if sys.argv[1:2] == ["rotate-key"]:
        from webos_settings.cli import rotate_key_main

        rotate_key_main()
        return
    if sys.argv[1:]:
        sys.exit("usage: python -m webos_settings [rotate-key]")
    run_service("webos_settings.main:create_app", SettingsSettings())


if __name__ == "__main__":
    main()
