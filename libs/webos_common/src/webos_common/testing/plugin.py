"""pytest plugin: real infrastructure, started once per test session on free
ports in temporary folders, and a fresh database name for every test.

Fixtures: `log_lines` (loguru lines of the test), `mongo_server`, `nats_server`, `s3_server` (session; started only
when a test asks), `mongo_url`, `nats_url`, `s3_url`, `db_name` and `nc` (a NATS client) per test,
`webos_env` (per test: the `WEBOS_*` variables pointing at all of it).

NATS requires authentication here as everywhere: the session's server takes
the principals of `nats_credentials` (nkeys with their derived permissions),
plus one password user with every permission whose name and password are in
`nats_url` — the test's own tools (fixtures, clients that play an operator).
A test that proves least privilege issues a principal (`nats_credentials.issue`,
then `nats_server.reload()`/`wait_credential`) and connects with its seed.

Every test that needs one of these servers, or lives under a top-level
`tests/` folder that starts the platform (`INTEGRATION_DIRS`), is marked
`integration`; the others are the unit tests `make unit` runs
(`-m "not integration and not browser"`).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS

from webos_common.bus.connection import connect_options
from webos_common.infra import MongoServer, NatsServer, S3Server
from webos_common.security.credentials import CredentialStore
from webos_common.testing.bus import provision_now

TEST_USER = "webos-test"
SERVERS = frozenset({"mongo_server", "nats_server", "s3_server"})
INTEGRATION_DIRS = ("tests/e2e/", "tests/operate/", "tests/integration/")  # `make unit` skips them: same list


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs a started MongoDB, NATS or S3, or the platform "
                                       "(set by webos_common.testing; `make unit` leaves these out)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    for item in items:
        where = item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else ""
        if SERVERS.intersection(getattr(item, "fixturenames", ())) or where.startswith(INTEGRATION_DIRS):
            item.add_marker(pytest.mark.integration)


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
def nats_password() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def nats_credentials(infra_dir: Path, nats_password: str) -> CredentialStore:
    """The session's principals (start empty) and the test user, rendered into the server's auth.conf."""
    store = CredentialStore(infra_dir / "nats-auth", extra_users=[{"user": TEST_USER, "password": nats_password}])
    store.render()
    return store


@pytest.fixture(scope="session")
def nats_server(infra_dir: Path, nats_credentials: CredentialStore, nats_password: str) -> Iterator[NatsServer]:
    server = NatsServer(infra_dir / "nats", log_path=infra_dir / "nats.log", die_with_parent=True,
                        auth_dir=nats_credentials.directory)
    server.start()
    provision_now(_authed(server.url, nats_password))
    yield server
    server.stop()


def _authed(url: str, password: str) -> str:
    return url.replace("nats://", f"nats://{TEST_USER}:{password}@", 1)


async def wait_credential(url: str, seed_file: Path, *, principal: str, accepted: bool = True,
                          within: float = 5.0) -> None:
    """Wait until the server (after a reload) accepts — or refuses — a credential."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            client = await nats.connect(url, allow_reconnect=False, connect_timeout=1,
                                        **connect_options(name=principal, credential_file=seed_file,
                                                          principal=principal))
            await client.close()
            ok = True
        except Exception:  # noqa: BLE001 - refused (or not yet reloaded)
            ok = False
        if ok == accepted:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"NATS still {'refuses' if accepted else 'accepts'} {seed_file}")
        await asyncio.sleep(0.05)


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
def nats_url(nats_server: NatsServer, nats_password: str) -> str:
    """The server's address with the test user's name and password (every permission)."""
    return _authed(nats_server.url, nats_password)


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


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every loguru line logged during the test, as `LEVEL message`."""
    from loguru import logger

    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(f"{m.record['level'].name} {m.record['message']}"), level="DEBUG")
    yield lines
    logger.remove(sink)
