"""pytest plugin: real infrastructure, started once per test session on free
ports in temporary folders, and a fresh database name for every test.

Fixtures: `mongo_server`, `nats_server`, `s3_server` (session; started only
when a test asks), `mongo_url`, `nats_url`, `s3_url`, `db_name` and `nc` (a NATS client) per test,
`webos_env` (per test: the `WEBOS_*` variables pointing at all of it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS

from webos_common.infra import MongoServer, NatsServer, S3Server


@pytest.fixture(scope="session")
def infra_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("webos-infra")


@pytest.fixture(scope="session")
def mongo_server(infra_dir: Path) -> Iterator[MongoServer]:
    server = MongoServer(infra_dir / "mongo", log_path=infra_dir / "mongod.log", die_with_parent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server(infra_dir: Path) -> Iterator[NatsServer]:
    server = NatsServer(infra_dir / "nats", log_path=infra_dir / "nats.log", die_with_parent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server(infra_dir: Path) -> Iterator[S3Server]:
    server = S3Server(infra_dir / "s3.log", die_with_parent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_url(mongo_server: MongoServer) -> str:
    return mongo_server.url


@pytest.fixture(scope="session")
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


@pytest.fixture(scope="session")
def s3_url(s3_server: S3Server) -> str:
    return s3_server.url


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    """A NATS client on the test server, closed after the test."""
    client = await nats.connect(nats_url)
    yield client
    await client.close()


@pytest.fixture
def db_name() -> str:
    """A database name no other test uses (random ids instead of cleanup)."""
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def webos_env(monkeypatch: pytest.MonkeyPatch, mongo_url: str, nats_url: str, db_name: str,
              tmp_path: Path) -> dict[str, str]:
    """Point every `WEBOS_*` setting at the test infrastructure for this test."""
    env = {
        "WEBOS_ENV": "test",
        "WEBOS_MONGO_URL": mongo_url,
        "WEBOS_MONGO_DB": db_name,
        "WEBOS_NATS_URL": nats_url,
        "WEBOS_STATE_DIR": str(tmp_path / "state"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
