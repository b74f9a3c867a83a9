"""The module registry: a JetStream key-value bucket.

Keys:
* `manifest.<module>.<instance>` — a live host's manifest, written with a
  per-message TTL and re-written as a heartbeat; it vanishes when the host
  dies (the server leaves a delete marker that watchers see).
* `enabled.<module>` — `true`/`false`, no TTL; absent means enabled.

The bucket's name is `WebOSSettings.registry_bucket` (`WEBOS_REGISTRY_BUCKET`), which
every process reads (`ModuleRegistry.of`). The rules every reader applies — which entry is
a valid manifest, what a flag means, which instance speaks for a module — are the functions
below; `registry_view.RegistryView` is the one live mirror built on them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

from loguru import logger
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue

from webos_common.bus.streams import open_key_value
from webos_common.config import WebOSSettings
from webos_common.modules.manifest import ModuleManifest

BUCKET: str = WebOSSettings.model_fields["registry_bucket"].default  # WEBOS_REGISTRY_BUCKET
DEFAULT_TTL = 10.0


def newest(instances: Iterable[ModuleManifest]) -> ModuleManifest | None:
    """The manifest that speaks for a module: its most recently started instance (during a
    rolling upgrade, the new version)."""
    return max(instances, key=lambda m: m.started_at, default=None)


def flag_enabled(value: bytes | None) -> bool:
    """What an `enabled.<module>` entry says: absent (or deleted) is enabled, `true` is enabled,
    anything else is disabled (a damaged switch keeps a module off rather than on)."""
    return value is None or value == b"true"


def manifest_at(key: str, raw: bytes) -> ModuleManifest | None:
    """The manifest stored at `manifest.<module>.<instance>`, or None (logged) when it is invalid
    or names another module: a broken (or hostile) host's entry must not hide every other module,
    and a module may announce only under its own keys."""
    try:
        manifest = ModuleManifest.model_validate_json(raw)
    except ValueError:
        logger.warning("module registry: ignoring an invalid manifest at {}", key)
        return None
    if key.split(".")[1:2] != [manifest.name]:
        logger.warning("module registry: ignoring {} announced under {}", manifest.name, key)
        return None
    return manifest


class ModuleRegistry:
    def __init__(self, js: JetStreamContext, *, bucket: str = BUCKET, ttl: float = DEFAULT_TTL,
                 create: bool = True) -> None:
        self.js = js
        self.create = create  # False in services: their credential may only use the provisioned bucket
        self.bucket = bucket
        self.ttl = ttl
        self._kv: KeyValue | None = None

    @classmethod
    def of(cls, js: JetStreamContext, settings: WebOSSettings, **options: Any) -> ModuleRegistry:
        """The registry a process configured by `settings` reads: its bucket, created only where
        the process may provision."""
        return cls(js, bucket=settings.registry_bucket, create=settings.may_provision, **options)

    async def open(self) -> KeyValue:
        if self._kv is None:
            self._kv = await open_key_value(
                self.js, KeyValueConfig(bucket=self.bucket, history=1, limit_marker_ttl=1.0), create=self.create)
        return self._kv

    # -- hosts ----------------------------------------------------------------
    async def announce(self, manifest: ModuleManifest) -> None:
        """Write (or refresh) this instance's manifest with the heartbeat TTL."""
        await self.open()
        key = f"manifest.{manifest.name}.{manifest.instance_id}"
        await self.js.publish(f"$KV.{self.bucket}.{key}", manifest.model_dump_json().encode(), msg_ttl=self.ttl)

    async def heartbeat(self, manifest: ModuleManifest, interval: float | None = None) -> None:
        """Re-announce for ever (run as a task; cancel it on shutdown)."""
        while True:
            await asyncio.sleep(interval or self.ttl / 3)
            with contextlib.suppress(Exception):
                await self.announce(manifest)

    async def withdraw(self, name: str, instance_id: str) -> None:
        kv = await self.open()
        with contextlib.suppress(KeyNotFoundError):
            await kv.purge(f"manifest.{name}.{instance_id}")

    # -- admin ----------------------------------------------------------------
    async def set_enabled(self, name: str, enabled: bool) -> None:
        kv = await self.open()
        await kv.put(f"enabled.{name}", b"true" if enabled else b"false")

    async def enabled_flags(self) -> dict[str, bool]:
        return {k.split(".", 1)[1]: flag_enabled(v) for k, v in (await self._entries("enabled.>")).items()}

    async def is_enabled(self, name: str) -> bool:
        return (await self.enabled_flags()).get(name, True)

    # -- readers --------------------------------------------------------------
    async def live(self) -> dict[str, list[ModuleManifest]]:
        """Every live instance, by module name (disabled modules included)."""
        found: dict[str, list[ModuleManifest]] = {}
        for key, raw in (await self._entries("manifest.>")).items():
            manifest = manifest_at(key, raw)
            if manifest is not None:
                found.setdefault(manifest.name, []).append(manifest)
        return found

    async def _entries(self, pattern: str) -> dict[str, bytes]:
        kv = await self.open()
        out: dict[str, Any] = {}
        try:
            watcher = await kv.watch(pattern, ignore_deletes=True)
        except NoKeysError:
            return out
        try:
            async for entry in watcher:
                if entry is None:
                    break
                if entry.value:
                    out[entry.key] = entry.value
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]
        return out
