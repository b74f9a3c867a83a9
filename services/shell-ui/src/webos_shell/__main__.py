"""`python -m webos_shell`: serve the shell-ui service."""

import os
from pathlib import Path

from webos_common.http.service import run_service
from webos_shell.settings import ShellSettings


def main() -> None:
    settings = ShellSettings()
    # NiceGUI's own files (`app.storage.general`): under the state dir, not the cwd. People's sessions
    # (`app.storage.user`) are in NATS, shared by the replicas: `webos_shell.sessions`.
    os.environ.setdefault("NICEGUI_STORAGE_PATH", str(Path(settings.state_dir) / "shell-storage"))
    run_service("webos_shell.main:create_app", settings)


if __name__ == "__main__":
    main()
