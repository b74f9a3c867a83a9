"""A live view of the module registry (NATS KV): manifests and enabled
flags, kept current by a watch so a module that starts appears and a
disabled one disappears without a restart — in the shell (navigation,
pages) and in storage (modules' data sources). `version` grows
on every change a page could show; open pages compare it to know when to
redraw. Heartbeats (the same manifest re-written every few seconds) and the
echo of our own enable switch are not changes: redrawing on them would
replace the nav and the module switches under the person's pointer and
drop the click that lands on the removed element."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import nats.errors
from loguru import logger

from webos_common.manifest import ModuleManifest
from webos_common.module_registry import ModuleRegistry, newest


class RegistryView:
    def __init__(self, registry: ModuleRegistry) -> None:
        self.registry = registry
        self.instances: dict[str, dict[str, ModuleManifest]] = {}
        self.enabled: dict[str, bool] = {}
        self.version = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.listeners: list[Callable[[], Any]] = []  # called after every change (sync or async)
        self._pending: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        await self.load()
        self._stopping = False
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            await asyncio.wait({self._task}, timeout=2.0)

    async def load(self) -> None:
        live = await self.registry.live()
        self.instances = {name: {m.instance_id: m for m in ms} for name, ms in live.items()}
        self.enabled = await self.registry.enabled_flags()
        self._bump()

    def apply(self, key: str, value: bytes | None) -> None:
        if self._changed(key, value):
            self._bump()

    def _bump(self) -> None:
        self.version += 1
        for listener in self.listeners:
            try:
                result = listener()
                if asyncio.iscoroutine(result):
                    task = asyncio.ensure_future(result)
                    self._pending.add(task)
                    task.add_done_callback(self._pending.discard)
            except Exception:  # noqa: BLE001 - one listener's bug must not stop the watch
                logger.exception("registry listener failed")

    def _changed(self, key: str, value: bytes | None) -> bool:
        kind, _, rest = key.partition(".")
        if kind == "enabled":
            enabled = value != b"false" if value is not None else True
            if self.enabled.get(rest) == enabled:
                return False
            self.enabled[rest] = enabled
            return True
        if kind != "manifest":
            return False
        name, _, instance = rest.partition(".")
        known = self.instances.get(name, {})
        if value is None:
            if instance not in known:
                return False
            del known[instance]
            if not known:
                self.instances.pop(name, None)
            return True
        try:
            manifest = ModuleManifest.model_validate_json(value)
        except ValueError:
            logger.warning("module registry: ignoring an invalid manifest at {}", key)
            return False
        if manifest.name != name:  # a module may announce only under its own keys
            logger.warning("module registry: ignoring {} announced under {}", manifest.name, key)
            return False
        if known.get(instance) == manifest:
            return False
        self.instances.setdefault(name, {})[instance] = manifest
        return True

    async def _follow(self) -> None:
        """Apply every change; polls the watcher so that `stop` ends it cleanly
        (cancelling nats-py's watcher mid-wait can hang its cleanup)."""
        while not self._stopping:
            try:
                kv = await self.registry.open()
                watcher = await kv.watchall(include_history=False)
            except Exception:  # noqa: BLE001 - NATS away: retry
                await asyncio.sleep(0.5)
                continue
            try:
                while not self._stopping:
                    try:
                        entry = await watcher.updates(timeout=0.5)  # type: ignore[no-untyped-call]
                    except nats.errors.TimeoutError:
                        continue
                    if entry is not None:
                        self.apply(entry.key, entry.value if entry.operation is None else None)
            except Exception:  # noqa: BLE001 - reconnect and reload
                if not self._stopping:
                    logger.warning("registry watch failed; reloading")
                    await asyncio.sleep(0.5)
                    with contextlib.suppress(Exception):
                        await self.load()
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(watcher.stop(), timeout=1.0)  # type: ignore[no-untyped-call]

    # -- readers --------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stopping

    def is_enabled(self, name: str) -> bool:
        return self.enabled.get(name, True)

    def manifest(self, name: str) -> ModuleManifest | None:
        found = self.instances.get(name)
        return newest(found.values()) if found else None

    def modules(self) -> list[ModuleManifest]:
        """One manifest per live, enabled module, by name."""
        return [m for name in sorted(self.instances) if self.is_enabled(name) and (m := self.manifest(name))]

    def known(self) -> list[str]:
        return sorted(set(self.instances) | set(self.enabled))

    def note_enabled(self, name: str, enabled: bool) -> None:
        """What the settings service just wrote for the admin, shown before the watch brings it."""
        self.enabled[name] = enabled
        self._bump()
