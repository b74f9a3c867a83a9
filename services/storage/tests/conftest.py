"""Fixtures: a storage app on real MongoDB / NATS / S3, with a test token issuer.

`storage_app(kind)` serves two sources: `main` of the given kind (local,
S3, a remote kind on its loopback server, or `module`: a folder a module host serves over
NATS, mounted from the registry; the contract suite runs on all) and `other` of the other kind (for
cross-source moves), plus `local` for homes, and a mount `/mnt/reports`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client, serve_app
from webos_storage.adapters.local import LocalDataSource
from webos_storage.main import create_app
from webos_storage.settings import MountConfig, SourceConfig, StorageSettings
from webos_storage.testing.loopback import KINDS, Loopback


@dataclass
class Harness:
    client: httpx.AsyncClient
    app: Any
    issuer: TestIssuer
    root: Path
    base_url: str = "http://test"

    def as_user(self, user: str, **kwargs: Any) -> dict[str, str]:
        return self.issuer.headers(user, **kwargs)

    @property
    def container(self) -> Any:
        return self.app.state.storage

    async def put(self, urn: str, data: bytes, user: str = "alice", **kwargs: Any) -> httpx.Response:
        response = await self.client.put("/files/content", params={"urn": urn}, content=data,
                                         headers=self.as_user(user, **kwargs))
        assert response.status_code == 201, response.text
        return response

    async def get(self, urn: str, user: str = "alice", **kwargs: Any) -> httpx.Response:
        return await self.client.get("/files/content", params={"urn": urn}, headers=self.as_user(user, **kwargs))

    async def wait_job(self, job_id: str, user: str = "alice") -> dict[str, Any]:
        """A transfer job once it finished (polled; the test's timeout bounds it)."""
        while True:
            job: dict[str, Any] = (await self.client.get(f"/jobs/{job_id}", headers=self.as_user(user))).json()
            if job["state"] in ("succeeded", "failed"):
                return job
            await asyncio.sleep(0.05)

    async def snapshot(self, source_id: str) -> dict[str, tuple[int, str]]:
        """Every file of a source (path → size, sha256), read from the source itself."""
        source = self.container.sources[source_id]
        out: dict[str, tuple[int, str]] = {}

        async def walk(path: str) -> None:
            for meta in await source.list_dir(path):
                if meta.is_dir:
                    await walk(meta.path)
                    continue
                digest, size = hashlib.sha256(), 0
                async for chunk in source.open_file(meta.path):
                    digest.update(chunk)
                    size += len(chunk)
                out[meta.path] = (size, digest.hexdigest())

        await walk("")
        return out

    async def assert_index_matches(self, source_id: str) -> None:
        """Every file indexed as it is; every indexed folder still a folder."""
        files = await self.snapshot(source_id)
        entries = await self.container.service.index.all_in(source_id, "")
        assert {e.path: (e.size, e.sha256) for e in entries if not e.is_dir} == files
        source = self.container.sources[source_id]
        for folder in (e for e in entries if e.is_dir):
            assert (await source.get_stat(folder.path)).is_dir, folder


def sources_for(kind: str, tmp_path: Path, s3_url: str,
                servers: Callable[[str], Loopback] | None = None) -> list[SourceConfig]:
    def make(source_id: str, source_kind: str) -> SourceConfig:
        if source_kind == "local":
            return SourceConfig(id=source_id, kind="local", root=str(tmp_path / source_id))
        if source_kind in KINDS:
            assert servers is not None
            return servers(source_kind).source(source_id, f"t-{uuid.uuid4().hex[:12]}")
        return SourceConfig(id=source_id, kind="s3", bucket=f"b-{uuid.uuid4().hex[:12]}", endpoint_url=s3_url)

    other = "s3" if kind == "local" else "local"
    main = [] if kind == "module" else [make("main", kind)]
    return [*main, make("other", other), make("local", "local")]


@asynccontextmanager
async def module_host_source(nats_url: str, source: Any, module: str | None = None) -> AsyncIterator[str]:
    """`source` served as a module host serves it (`SourceServer`) and announced in the registry."""
    import nats

    from webos_common.files.remote import SourceServer, wire
    from webos_common.modules.manifest import ModuleManifest
    from webos_common.modules.registry import ModuleRegistry

    module = module or f"m{uuid.uuid4().hex[:10]}"
    await source.connect()
    nc = await nats.connect(nats_url)
    server = SourceServer(nc, module, "i1", [source])
    await server.start()
    registry = ModuleRegistry(nc.jetstream(), ttl=60)
    manifest = ModuleManifest(name=module, instance_id="i1", base_url="http://127.0.0.1:9",
                              data_sources=[wire.entry(source.id, source.capabilities())])
    await registry.announce(manifest)
    try:
        yield module
    finally:
        await registry.withdraw(module, "i1")
        await server.stop()
        await nc.close()


@pytest.fixture
def module_source(webos_env: dict[str, str]) -> Callable[..., Any]:
    """`async with module_source(source) as module:` a data source served by a module host."""
    return lambda source, module=None: module_host_source(webos_env["WEBOS_NATS_URL"], source, module)


@pytest.fixture
def eventually() -> Callable[..., Any]:
    return until


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := check()) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return result


@pytest.fixture(scope="session")
def loopback_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Loopback]]:
    """One real server per remote kind, started when a test first needs it; a
    test gets a fresh folder on it (`Loopback.source`)."""
    started: dict[str, Loopback] = {}

    def get(kind: str) -> Loopback:
        if kind not in started:
            started[kind] = Loopback(kind, tmp_path_factory.mktemp(f"{kind}-server")).start()
        return started[kind]

    yield get
    for server in started.values():
        server.stop()


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def storage_app(webos_env: dict[str, str], tmp_path: Path, s3_url: str, issuer: TestIssuer,
                request: pytest.FixtureRequest) -> Callable[..., Any]:
    @asynccontextmanager
    async def make(kind: str = "local", *, served: bool = False, adapters: dict[str, Any] | None = None,
                   **settings: Any) -> AsyncIterator[Harness]:
        servers = request.getfixturevalue("loopback_servers") if kind in KINDS else None
        settings.setdefault("storage_sources", sources_for(kind, tmp_path, s3_url, servers))
        settings.setdefault("storage_mounts", [MountConfig(path="/mnt/reports", target="fs://main/reports/",
                                                           read_permission="reports.read",
                                                           write_permission="reports.write")])
        app = create_app(StorageSettings(**settings), **(adapters or {}))
        app.state.resources.verifier = issuer.verifier()
        async with contextlib.AsyncExitStack() as stack:
            if kind == "module":  # `main` is a module's: served over NATS, mounted from the registry
                await stack.enter_async_context(module_host_source(
                    webos_env["WEBOS_NATS_URL"], LocalDataSource("main", tmp_path / "main")))
            if not served:
                client = await stack.enter_async_context(lifespan_client(app))
                harness = Harness(client, app, issuer, tmp_path)
            else:
                base = await stack.enter_async_context(serve_app(app))
                client = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=60))
                harness = Harness(client, app, issuer, tmp_path, base)
            if kind == "module":
                assert await until(lambda: "main" in app.state.storage.sources), "the module's source never mounted"
            yield harness

    return make
