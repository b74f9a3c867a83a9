"""The one place that picks adapters: `build(settings, db=…, …)`.

Every adapter is a keyword argument with a real default, so tests pass
their own (an in-memory bus, a prepared source) instead of patching.
Sources come from the settings and from entry points in the group
`webos.data_sources` (packages installed into storage's own image that are
not modules; each is a callable taking the settings and returning data
sources). One that fails to load or connect is logged and left out, not
fatal. Modules' sources are never imported here: their hosts serve them
over NATS and `module_sources.ModuleSources` mounts them from the registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from loguru import logger

from webos_common.documents.sharing import AuthDirectory, Directory
from webos_common.files.afs import DataSource, parse_urn
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.http.startup import Gate
from webos_storage import events  # noqa: F401 - registers the payload schemas
from webos_storage.access import Access
from webos_storage.acls import Acls
from webos_storage.adapters.bus import ResourcesBus
from webos_storage.adapters.guard import GuardedSource, SourceUnavailable
from webos_storage.adapters.kinds import REMOTE
from webos_storage.adapters.local import LocalDataSource
from webos_storage.adapters.mongo import MongoFileIndex, MongoJobStore, MongoQuotaStore, MongoTrashStore
from webos_storage.adapters.s3 import S3DataSource
from webos_storage.domain.model import Mount, SourceRules
from webos_storage.jobs import JobRunner
from webos_storage.ports import EventBus, FileIndex, JobStore, QuotaStore, TrashStore
from webos_storage.service import StorageService
from webos_storage.settings import SourceConfig, StorageSettings
from webos_storage.shares import ShareSigner
from webos_storage.transfer import Transfers

ENTRY_POINT_GROUP = "webos.data_sources"


@dataclass
class Container:
    service: StorageService
    transfers: Transfers
    jobs: JobRunner
    sources: dict[str, DataSource]
    access: Access
    acls: Acls
    unavailable: dict[str, str] = field(default_factory=dict)  # sources that failed to load (not guarded)
    _retry: asyncio.Task[None] | None = None

    def source_status(self, source_id: str) -> dict[str, Any]:
        source = self.sources.get(source_id)
        if isinstance(source, GuardedSource):
            return source.status()
        return {"available": source_id not in self.unavailable, "reason": self.unavailable.get(source_id)}

    async def check_sources(self) -> None:
        """Readiness: the home source answers — when it is down, a check has it tried again in
        the background (after its `retry_seconds`), so a storage taken out of rotation comes
        back without traffic. Another source being down is shown in discovery and answers 503
        for itself; the rest of the AFS keeps serving."""
        home = self.access.home_source
        source = self.sources.get(home)
        if isinstance(source, GuardedSource):
            if not source.available:
                if self._retry is None or self._retry.done():  # a connect may take longer than a check
                    self._retry = asyncio.create_task(_quietly(source.ready()), name=f"retry:{home}")
                raise ConnectionError(f"home {source.describe()} unavailable: {source.reason}")
            return
        status = self.source_status(home) if source is not None else {"available": False, "reason": "missing"}
        if not status["available"]:
            raise ConnectionError(f"home source {home} unavailable: {status['reason']}")

    def gates(self, *, then: Callable[[GuardedSource], Awaitable[object]]) -> list[Gate]:
        """For each source that did not connect at start: a background loop trying it until it
        does (each failed attempt a WARNING naming it), then `then(source)`."""
        return [Gate(source.describe(), source.reconnect, timeout=source.timeout,
                     then=functools.partial(then, source))
                for source in self.sources.values() if isinstance(source, GuardedSource) and not source.available]

    async def close(self) -> None:
        await cancel_and_wait(self._retry, what="storage source retry")
        await self.jobs.close()
        for source in self.sources.values():
            try:
                await source.disconnect()
            except Exception:  # noqa: BLE001 - shutdown goes on
                logger.exception("disconnecting source {} failed", source.id)


async def _quietly(attempt: Awaitable[None]) -> None:
    with contextlib.suppress(SourceUnavailable):  # the reason stays on the source
        await attempt


def make_source(config: SourceConfig, settings: StorageSettings) -> DataSource:
    if config.kind in REMOTE:
        return REMOTE[config.kind](config)
    if config.kind == "local":
        return LocalDataSource(config.id, Path(config.root or Path(settings.state_dir) / "files" / config.id))
    access_key, secret_key = settings.s3_credentials()
    return S3DataSource(config.id, bucket=config.bucket or settings.s3_bucket, prefix=config.prefix,
                        endpoint_url=config.endpoint_url or settings.s3_endpoint_url, region=config.region,
                        access_key=access_key, secret_key=secret_key)


def contributed_sources(settings: StorageSettings) -> list[DataSource]:
    found: list[DataSource] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            made = point.load()(settings)
            found += list(made.values()) if isinstance(made, Mapping) else list(made)
        except Exception:  # noqa: BLE001 - a broken plugin is logged, not fatal
            logger.exception("data source plugin {} failed to load", point.name)
    return found


async def build(settings: StorageSettings, *, db: Any = None, resources: Any = None,
                sources: Mapping[str, DataSource] | None = None, index: FileIndex | None = None,
                trash: TrashStore | None = None, bus: EventBus | None = None, quotas: QuotaStore | None = None,
                directory: Directory | None = None, job_store: JobStore | None = None) -> Container:
    configs = settings.sources()
    unavailable: dict[str, str] = {}
    if sources is None:
        configured = {c.id: c for c in configs}
        candidates = [make_source(c, settings) for c in configs] + contributed_sources(settings)
        sources = {}
        for source in candidates:
            c = configured.get(source.id)
            guarded = GuardedSource(source) if c is None else GuardedSource(
                source, timeout=c.timeout, retry_seconds=c.retry_seconds, read_only=c.read_only)
            sources[source.id] = guarded  # one that does not connect answers 503 until it does
            try:
                await guarded.connect()
            except Exception as exc:  # noqa: BLE001 - shown by /sources, retried on use
                logger.warning("{} could not connect: {}", guarded.describe(), exc)
    rules = {c.id: SourceRules(c.read_permission, c.write_permission, c.default_access) for c in configs}
    mounts = [Mount(m.name, parse_urn(m.target), m.read_permission, m.write_permission, m.default_access)
              for m in settings.mounts()]
    mounts = [m for m in mounts if m.target.source in sources]
    access = Access(sources, mounts, rules, settings.storage_home_source)
    if index is None:
        mongo_index = MongoFileIndex(db)
        await mongo_index.ensure_indexes()
        index = mongo_index
    bus = bus or ResourcesBus(resources)
    service = StorageService(access=access, index=index, trash=trash or MongoTrashStore(db), bus=bus,
                             signer=ShareSigner(settings.storage_share_secret.get_secret_value()),
                             share_max_seconds=settings.storage_share_max_seconds,
                             user_quota=settings.storage_user_quota_bytes, quotas=quotas or MongoQuotaStore(db))
    credentials = getattr(resources, "credentials", None)
    if directory is None and credentials is not None:  # who an ACL or a quota may name: auth's directory
        directory = AuthDirectory(settings.auth_url, credentials)
    if job_store is None and db is not None:  # shared: every replica answers for every transfer
        mongo_jobs = MongoJobStore(db)
        await mongo_jobs.ensure_indexes()
        job_store = mongo_jobs
    jobs = JobRunner(bus, store=job_store)
    transfers = Transfers(service, jobs, background_bytes=settings.storage_background_bytes)
    return Container(service=service, transfers=transfers, jobs=jobs, sources=access.sources, access=access,
                     acls=Acls(service, directory), unavailable=unavailable)
