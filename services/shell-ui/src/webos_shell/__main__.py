"""`python -m webos_shell`: serve the shell-ui service."""

from webos_common.service import run_service
from webos_shell.settings import ShellSettings


def main() -> None:
    run_service("webos_shell.main:create_app", ShellSettings())


if __name__ == "__main__":
    main()
