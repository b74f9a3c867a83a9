"""An S3 API on loopback: moto's server (MinIO or AWS outside one machine)."""

from __future__ import annotations

import sys
from pathlib import Path

from webos_common.infra.process import ManagedProcess, free_port, wait_port


class S3Server:
    def __init__(self, log_path: Path, *, port: int | None = None,
                 die_with_parent: bool = False) -> None:
        self.die_with_parent = die_with_parent
        self.port = port or free_port()
        self.log_path = log_path
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def start(self, timeout: float = 30.0) -> int:
        self.process = ManagedProcess("s3", self.argv(), log_path=self.log_path,
                                      die_with_parent=self.die_with_parent)
        pid = self.process.start()
        wait_port(self.port, timeout=timeout, proc=self.process.proc)
        return pid

    def stop(self) -> None:
        if self.process:
            self.process.stop()
