"""The one live mirror of the module registry (NATS KV): manifests per
instance and enabled flags, kept current by a watch, so a module that
starts appears and a disabled one disappears without a restart — in the
gateway (routing), the shell (navigation, pages), settings (schemas), auth
(declared permissions) and storage (modules' data sources).

One rule for everyone (`module_registry`): `manifest_at` decides which
entries are valid manifests, `flag_enabled` what a switch says, `newest`
which instance speaks for a module. Readers keep only their own state on top
(the gateway: instances refusing connections, health; the shell: the pages
that redraw).

`version` grows on every change a reader could act on; the shell's pages
compare it to know when to redraw, the gateway's merged OpenAPI document to
know when to rebuild. Heartbeats (the same manifest re-written every few
seconds) and the echo of our own enable switch are not changes: redrawing on
them would replace the nav and the module switches under the person's
pointer and drop the click that lands on the removed element. A heartbeat is
still told to `announced` (the gateway takes it as the instance answering).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import nats.errors
from loguru import logger

from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry, flag_enabled, manifest_at, newest


class RegistryView:
    def __init__(self, registry: ModuleRegistry) -> None:
        self.registry = registry
        self.instances: dict[str, dict[str, ModuleManifest]] = {}
        self.enabled: dict[str, bool] = {}
        self.seen: set[str] = set()  # every module named since start, also those gone since
        self.version = 0
        self.synced = asyncio.Event()  # set once the bucket was read whole
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.listeners: list[Callable[[], Any]] = []  # called after every change (sync or async)
        self._pending: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        """Read the bucket (raising when it cannot be read), then follow it."""
        await self.load()
        self._begin(loaded=True)

    async def start_following(self, *, wait: float) -> None:
        """Follow the bucket from now on, reading it whole as soon as it can be read; return once
        it was read or after `wait` seconds (a process that must start while NATS is away)."""
        self._begin(loaded=False)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.synced.wait(), timeout=wait)

    def _begin(self, *, loaded: bool) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._follow(loaded), name="module-registry-watch")

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            await asyncio.wait({self._task}, timeout=2.0)
            if not self._task.done():  # stuck reading a bucket NATS no longer answers for
                self._task.cancel()

    async def load(self) -> None:
        live = await self.registry.live()
        flags = await self.registry.enabled_flags()
        self.instances = {name: {m.instance_id: m for m in ms} for name, ms in live.items()}
        self.enabled = flags
        self.seen |= set(self.instances) | set(flags)
        self._bump()
        self.synced.set()

    def apply(self, key: str, value: bytes | None) -> None:
        if self._changed(key, value):
            self._bump()

    def announced(self, name: str, instance: str) -> None:
        """Every valid manifest write, heartbeats included (a hook for readers; nothing here)."""

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
            self.seen.add(rest)
            enabled = flag_enabled(value)
            before, self.enabled[rest] = self.enabled.get(rest, True), enabled
            return before != enabled
        if kind != "manifest":
            return False
        name, _, instance = rest.partition(".")
        if value is None:
            return self._gone(name, instance)
        manifest = manifest_at(key, value)
        if manifest is None:
            return False
        self.seen.add(name)
        self.announced(name, instance)
        known = self.instances.setdefault(name, {})
        if known.get(instance) == manifest:
            return False
        known[instance] = manifest
        return True

    def _gone(self, name: str, instance: str) -> bool:
        known = self.instances.get(name, {})
        if known.pop(instance, None) is None:
            return False
        if not known:
            self.instances.pop(name, None)
        return True

    async def _follow(self, loaded: bool) -> None:
        """Apply every change; polls the watcher so that `stop` ends it cleanly
        (cancelling nats-py's watcher mid-wait can hang its cleanup). After a failure
        (or before the first read) the bucket is read whole again."""
        while not self._stopping:
            try:
                if not loaded:
                    await self.load()
                    loaded = True
                kv = await self.registry.open()
                watcher = await kv.watchall(include_history=False)
            except Exception as exc:  # noqa: BLE001 - NATS away: retry
                logger.debug("module registry not readable ({}); retrying", exc)
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
            except Exception as exc:  # noqa: BLE001 - reconnect and reload
                if not self._stopping:
                    logger.warning("module registry watch failed ({}); reloading", exc)
                    loaded = False
                    await asyncio.sleep(0.5)
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
