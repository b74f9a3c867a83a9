"""An S3 API on loopback: moto's server (MinIO or AWS outside one machine)."""

from __future__ import annotations

import sys
from pathlib import Path

from webos_common.infra.process import LocalServer


class S3Server(LocalServer):
    name = "s3"

    def __init__(self, log_path: Path, *, port: int | None = None,
                 die_with_parent: bool = False) -> None:
        super().__init__(port=port, log_path=log_path, die_with_parent=die_with_parent)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def start(self, timeout: float = 30.0) -> int:
        return self.launch(timeout)
