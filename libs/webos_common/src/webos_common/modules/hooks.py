# mypy: disable-error-code="empty-body"
"""The hooks a WebOS module may implement (pluggy, prefix `webos_`).

Most of a module needs no hook at all: the module host finds `router.py`,
`router_public.py`, `models.py`, `admin.py`, `tasks.py` and `migrations/`
by convention. Hooks are for what a convention cannot say: navigation, the
palette, widgets, settings, collections and components for the shell, event handlers,
scheduled jobs, and code at startup or shutdown.

Hooks return data (routers, schemas, topics, manifests) and stay cheap; I/O
lives in services and tasks. A module file may implement a hook with or
without `@hookimpl`: every function named `webos_*` is a hook, so a
misspelled one fails the start (`load_module` calls `check_pending`).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy
from pydantic import BaseModel

from webos_common.modules.manifest import AdminPage, NavEntry, PaletteCommand, PermissionSpec, Widget
from webos_common.modules.shell_sdk import ShellComponent

PROJECT = "webos"
ENTRY_POINT_GROUP = "webos.modules"
PREFIX = "webos_"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

EventHandler = Callable[..., Awaitable[Any]]
AT_ONCE = "webos_at_once"  # the attribute `at_once` sets on a handler; the module host reads it


def at_once(limit: int) -> Callable[[EventHandler], EventHandler]:
    """Mark an event handler (of `webos_register_event_handlers`) to handle up to `limit` events side
    by side, each acknowledged as it finishes, so their order is not kept. Only for a handler whose
    writes hold when they meet (each reads what it changes in the transaction that writes it, as
    `BaseService`'s use cases do); one module host is otherwise one event at a time per handler."""
    if limit < 1:
        raise ValueError("at_once needs a limit of at least 1")

    def mark(handler: EventHandler) -> EventHandler:
        setattr(handler, AT_ONCE, limit)
        return handler

    return mark


@dataclass(frozen=True)
class CollectionSpec:
    """A REST collection the shell can show (DataExplorer) and fill (AutoForm)."""

    name: str
    label: str
    path: str  # below /api/<module>, e.g. "/tasks"
    read: type[BaseModel]
    create: type[BaseModel] | None = None
    update: type[BaseModel] | None = None
    trash: bool = True


@dataclass
class ModuleContext:
    """What `webos_startup`/`webos_shutdown` and scheduled jobs get: the module,
    its host's settings (environment), resources and services, and `config`:
    the module's own settings (`webos_common.settings.client.ModuleSettings`, whose
    `.get()` is the typed current value) when it registers a settings model."""

    name: str
    settings: Any
    resources: Any
    services: Any
    extra: dict[str, Any] = field(default_factory=dict)
    config: Any = None


@dataclass(frozen=True)
class ScheduledJob:
    """`async def func(ctx: ModuleContext)` the module host runs on a schedule,
    as the system user, once per due time across all replicas."""

    name: str
    func: Callable[[ModuleContext], Awaitable[Any]]
    cron: str | None = None  # "0 8 * * *"
    every: float | None = None  # seconds


class WebOSHookSpec:
    # -- discovery: data and HTTP --------------------------------------------
    @hookspec
    def webos_register_db_models(self) -> Sequence[type]:
        """Documents to register beyond those `models.py` defines."""

    @hookspec
    def webos_register_routes(self) -> Sequence[Any]:
        """APIRouters to mount beyond `router.py` (paths are absolute: `/api/<name>/...`)."""

    # -- the shell -------------------------------------------------------------
    @hookspec
    def webos_register_ui(self) -> Sequence[NavEntry | Widget]:
        """Navigation entries and dashboard widgets."""

    @hookspec
    def webos_register_commands(self) -> Sequence[PaletteCommand]:
        """Commands for the shell's palette."""

    @hookspec
    def webos_register_admin_ui(self) -> Sequence[AdminPage]:
        """Admin pages beyond `admin.py`'s `pages`."""

    @hookspec(firstresult=True)
    def webos_register_settings(self) -> type[BaseModel] | None:
        """The Pydantic model of the module's settings (its JSON Schema is announced)."""

    @hookspec
    def webos_register_collections(self) -> Sequence[CollectionSpec]:
        """REST collections for the shell's DataExplorer and AutoForm."""

    @hookspec
    def webos_register_shell_components(self) -> Sequence[ShellComponent]:
        """NiceGUI views the module ships for the shell (`webos_common.modules.shell_sdk`):
        each is served at `/m/<module>/<name>` and called with a `ShellContext`."""

    @hookspec
    def webos_register_data_sources(self, settings: Any) -> Sequence[Any]:
        """AFS data sources (`webos_common.files.afs.DataSource`) this module contributes.

        Called by the storage service with its settings; each source is then
        reachable as `fs://<source id>/…` with the same API, permissions and
        index as the built-in ones."""

    @hookspec
    def webos_register_read_grants(self) -> Sequence[str]:
        """Other modules' collections this module reads directly, read-only
        (`"tasks.items"` = `tasks_items`), through `documents.grants.ReadGrants`."""

    @hookspec
    def webos_register_sagas(self) -> Sequence[Any]:
        """The module's sagas (`webos_common.processes.saga.Saga`, each made without a store): the
        host gives each one the module's store (`<module>_sagas`, also registered as `SagaStore`)
        and serves their runs to the module's admins under `/api/<module>/admin/sagas` (list, one
        run with its steps, retry, compensate), which the shell's admin panel shows."""

    # -- events and tasks -----------------------------------------------------
    @hookspec
    def webos_register_event_handlers(self) -> Mapping[str, EventHandler]:
        """Handlers by topic (`entity:action`); each gets the event envelope, one event at a time
        unless marked with `at_once(limit)`."""

    @hookspec
    def webos_declare_emitted_events(self) -> Sequence[str]:
        """Topics of other owners this module publishes (e.g. `notification:send`), and actions of
        its own entities beyond `BaseService`'s (e.g. `item:received`). Its entities' standard
        events and the topics its package registers need no declaration; anything else it may
        not publish (its NATS credential's permissions follow this list)."""

    @hookspec
    def webos_declare_permissions(self) -> Sequence[PermissionSpec]:
        """The module's permissions with a description and group; those marked `default` are
        granted to the `user` role (every registered person). Without this hook a module
        declares `<name>.read`, `<name>.write` and `<name>.admin`, none by default."""

    @hookspec
    def webos_register_tasks(self) -> Sequence[ScheduledJob | Callable[..., Any]]:
        """Scheduled jobs, and background task functions, beyond `tasks.py`."""

    # -- lifecycle ------------------------------------------------------------
    @hookspec
    def webos_startup(self, ctx: ModuleContext) -> Awaitable[None] | None:
        """Runs once the module is wired; may return a coroutine the host awaits."""

    @hookspec
    def webos_shutdown(self, ctx: ModuleContext) -> Awaitable[None] | None:
        """Runs when the host stops; may return a coroutine the host awaits."""


class ModuleLoadError(RuntimeError):
    """A module cannot start: not installed, not importable, or a bad hook."""


class WebOSPluginManager(pluggy.PluginManager):
    """Every `webos_*` function of a plugin is a hook, decorated or not."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(PREFIX) and callable(getattr(plugin, name, None)):
            return {}
        return opts


def make_plugin_manager() -> WebOSPluginManager:
    pm = WebOSPluginManager(PROJECT)
    pm.add_hookspecs(WebOSHookSpec)
    return pm


def installed_modules() -> dict[str, str]:
    """Module name -> plugin import path, from the `webos.modules` entry points."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_module(name: str, pm: WebOSPluginManager | None = None,
                plugin: ModuleType | str | None = None) -> tuple[WebOSPluginManager, ModuleType]:
    """Register one module's plugin and validate its hooks; return (manager, plugin)."""
    pm = pm or make_plugin_manager()
    if plugin is None:
        found = installed_modules()
        if name not in found:
            known = ", ".join(sorted(found)) or "none"
            raise ModuleLoadError(f"module {name!r} is not installed (entry point group "
                                  f"{ENTRY_POINT_GROUP!r}; installed: {known})")
        plugin = found[name]
    if isinstance(plugin, str):
        try:
            plugin = importlib.import_module(plugin)
        except Exception as exc:
            raise ModuleLoadError(f"module {name!r}: cannot import {plugin}: {exc}") from exc
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise ModuleLoadError(f"module {name!r}: {exc}") from exc
    check_hooks(pm, name)
    return pm, plugin


def check_hooks(pm: pluggy.PluginManager, name: str) -> None:
    """Fail with a clear message when a plugin implements a hook that does not exist."""
    known = sorted(n for n in dir(WebOSHookSpec) if n.startswith(PREFIX))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        bad = [impl.function.__name__ for caller in pm.hook.__dict__.values()
               if isinstance(caller, pluggy.HookCaller) and not caller.has_spec()
               for impl in caller.get_hookimpls()]
        hints = []
        for hook in bad or [str(exc)]:
            close = difflib.get_close_matches(hook, known, n=1)
            hints.append(f"{hook!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ModuleLoadError(f"module {name!r} implements unknown hook(s): {', '.join(hints)}; "
                              f"known hooks: {', '.join(known)}") from exc


def collect(results: Sequence[Any] | None) -> list[Any]:
    """Flatten the list-of-lists a hook call returns, skipping Nones."""
    out: list[Any] = []
    for result in results or ():
        if result is None:
            continue
        if isinstance(result, (list, tuple)):
            out.extend(result)
        else:
            out.append(result)
    return out
