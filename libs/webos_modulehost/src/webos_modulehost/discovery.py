"""Find a module and read what it contributes, by convention then by hooks.

A module is found through the `webos.modules` entry points (an installed
package) or, failing that, in the modules folder: `<dir>/<name>/pyproject.toml`
declaring the entry point, whose `src/` is put on the import path. Its
package (the plugin's parent) may hold `router.py` (`router`, mounted under
`/api/<name>` behind sign-in), `router_public.py` (`router`, under
`/api/<name>/public`, open), `models.py` (every `CoreDocument` subclass),
`admin.py` (`pages`, and a `router` under `/api/<name>/admin`), `tasks.py`
(`ScheduledJob`s and `@task` functions), `migrations/` and `static/` (files
served openly at `/api/<name>/static/…`: images, CSS, JS for the module's
shell views; never secrets). A `GET /api/<name>/search` route becomes the
module's search endpoint.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from webos_common.documents import BaseService, CoreDocument
from webos_common.documents.grants import parse_grants
from webos_common.files.afs import DataSource
from webos_common.http.errors import ValidationFailed
from webos_common.modules.hooks import (
    ENTRY_POINT_GROUP,
    CollectionSpec,
    ModuleLoadError,
    ScheduledJob,
    WebOSPluginManager,
    collect,
    installed_modules,
    load_module,
)
from webos_common.modules.manifest import AdminPage, NavEntry, PaletteCommand, PermissionSpec, Widget, owns
from webos_common.modules.shell_sdk import ShellComponent
from webos_common.processes.saga import Saga


@dataclass
class LoadedModule:
    name: str
    package: ModuleType
    plugin: ModuleType
    pm: WebOSPluginManager
    version: str = "0.1.0"
    description: str = ""
    documents: list[type[CoreDocument]] = field(default_factory=list)
    router: APIRouter | None = None
    public_router: APIRouter | None = None
    admin_router: APIRouter | None = None
    extra_routers: list[APIRouter] = field(default_factory=list)
    admin_pages: list[AdminPage] = field(default_factory=list)
    nav: list[NavEntry] = field(default_factory=list)
    widgets: list[Widget] = field(default_factory=list)
    commands: list[PaletteCommand] = field(default_factory=list)
    collections: list[CollectionSpec] = field(default_factory=list)
    shell_components: list[ShellComponent] = field(default_factory=list)
    settings_model: type[BaseModel] | None = None
    handlers: dict[str, Any] = field(default_factory=dict)
    jobs: list[ScheduledJob] = field(default_factory=list)
    services: list[type[BaseService[Any, Any, Any, Any]]] = field(default_factory=list)
    migrations_dir: Path | None = None
    static_dir: Path | None = None
    reads: list[str] = field(default_factory=list)
    declared_events: list[str] = field(default_factory=list)  # other owners' topics it publishes
    data_sources: list[Any] = field(default_factory=list)  # served to storage over NATS (afs_remote)
    permissions: list[PermissionSpec] = field(default_factory=list)
    sagas: list[Saga] = field(default_factory=list)  # their runs are served under /api/<name>/admin/sagas


def _folder_plugin(name: str, modules_dir: Path) -> str | None:
    """The plugin path a not-installed module in `<modules_dir>/<name>/` declares."""
    project = modules_dir / name / "pyproject.toml"
    if not project.is_file():
        return None
    meta = tomllib.loads(project.read_text())
    eps = meta.get("project", {}).get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    if name not in eps:
        raise ModuleLoadError(f"{project} declares no [project.entry-points.\"{ENTRY_POINT_GROUP}\"] {name}")
    src = str((modules_dir / name / "src").resolve())
    if src not in sys.path:
        sys.path.insert(0, src)
    value: str = eps[name]
    return value


def _optional(package: str, sub: str) -> ModuleType | None:
    full = f"{package}.{sub}"
    if importlib.util.find_spec(full) is None:
        return None
    return importlib.import_module(full)


def load(name: str, *, modules_dir: str | Path = "modules", settings: Any = None) -> LoadedModule:
    """Load module `name`: validate its hooks, then gather its contributions
    (`settings`, the host's, go to `webos_register_data_sources`)."""
    plugin_path = installed_modules().get(name) or _folder_plugin(name, Path(modules_dir))
    if plugin_path is None:
        raise ModuleLoadError(f"module {name!r} not found: no {ENTRY_POINT_GROUP!r} entry point and no "
                              f"{Path(modules_dir) / name / 'pyproject.toml'}")
    pm, plugin = load_module(name, plugin=plugin_path)
    package_name = plugin.__name__.rpartition(".")[0] or plugin.__name__
    package = importlib.import_module(package_name)
    mod = LoadedModule(name=name, package=package, plugin=plugin, pm=pm,
                       version=str(getattr(package, "__version__", "0.1.0")),
                       description=(package.__doc__ or "").strip().split("\n")[0])
    _conventions(mod, package_name)
    _hooks(mod, settings)
    return mod


def _defined_subclass(obj: Any, base: type, module: str) -> bool:
    return inspect.isclass(obj) and issubclass(obj, base) and obj.__module__ == module


def _conventions(mod: LoadedModule, package: str) -> None:
    if (models := _optional(package, "models")) is not None:
        mod.documents = [obj for obj in vars(models).values()
                         if _defined_subclass(obj, CoreDocument, models.__name__)]
    if (router := _optional(package, "router")) is not None:
        mod.router = getattr(router, "router", None)
    if (public := _optional(package, "router_public")) is not None:
        mod.public_router = getattr(public, "router", None)
    if (admin := _optional(package, "admin")) is not None:
        mod.admin_pages = list(getattr(admin, "pages", []))
        mod.admin_router = getattr(admin, "router", None)
    if (tasks := _optional(package, "tasks")) is not None:
        mod.jobs = [obj for obj in vars(tasks).values() if isinstance(obj, ScheduledJob)]
    if (service := _optional(package, "service")) is not None:
        mod.services = [obj for obj in vars(service).values()
                        if _defined_subclass(obj, BaseService, service.__name__)]
    folder = Path(mod.package.__file__ or "").parent / "migrations"
    mod.migrations_dir = folder if folder.is_dir() else None
    static = Path(mod.package.__file__ or "").parent / "static"
    mod.static_dir = static if static.is_dir() else None


def _hooks(mod: LoadedModule, settings: Any) -> None:
    hook = mod.pm.hook
    for doc in collect(hook.webos_register_db_models()):
        if doc not in mod.documents:
            mod.documents.append(doc)
    mod.extra_routers = collect(hook.webos_register_routes())
    for item in collect(hook.webos_register_ui()):
        (mod.nav if isinstance(item, NavEntry) else mod.widgets).append(item)
    mod.commands = collect(hook.webos_register_commands())
    mod.admin_pages += collect(hook.webos_register_admin_ui())
    mod.settings_model = hook.webos_register_settings()
    mod.collections = collect(hook.webos_register_collections())
    try:
        mod.reads = parse_grants(collect(hook.webos_register_read_grants()), module=mod.name)
    except ValidationFailed as exc:
        raise ModuleLoadError(f"module {mod.name!r}: {exc.message}") from exc
    mod.shell_components = collect(hook.webos_register_shell_components())
    for component in mod.shell_components:
        if not isinstance(component, ShellComponent):
            raise ModuleLoadError(f"module {mod.name!r}: webos_register_shell_components returned "
                                  f"{component!r}, not a ShellComponent")
    mod.declared_events = [str(topic) for topic in collect(hook.webos_declare_emitted_events())]
    mod.permissions = _permissions(mod, collect(hook.webos_declare_permissions()))
    for handlers in hook.webos_register_event_handlers():
        mod.handlers.update(handlers or {})
    mod.data_sources = collect(hook.webos_register_data_sources(settings=settings))
    for source in mod.data_sources:
        if not isinstance(source, DataSource):
            raise ModuleLoadError(f"module {mod.name!r}: webos_register_data_sources returned {source!r}, "
                                  "not a webos_common.files.afs.DataSource")
    mod.sagas = collect(hook.webos_register_sagas())
    names = [saga.name for saga in mod.sagas if isinstance(saga, Saga)]
    if len(names) != len(mod.sagas) or len(set(names)) != len(names):
        raise ModuleLoadError(f"module {mod.name!r}: webos_register_sagas must return Saga objects with "
                              f"different names, not {mod.sagas!r}")
    for job in collect(hook.webos_register_tasks()):
        if isinstance(job, ScheduledJob):
            mod.jobs.append(job)


def _permissions(mod: LoadedModule, declared: list[Any]) -> list[PermissionSpec]:
    """The module's declared permissions (each named `<module>.…`), or the three it always had."""
    if not declared:
        label = mod.name.capitalize()
        return [PermissionSpec(name=f"{mod.name}.{action}", description=f"{text} {label}", group=mod.name)
                for action, text in (("read", "See"), ("write", "Create and change"), ("admin", "Administer"))]
    specs = []
    for item in declared:
        spec = PermissionSpec.model_validate(item)
        if not owns(mod.name, spec.name):
            raise ModuleLoadError(f"module {mod.name!r} declares permission {spec.name!r}: "
                                  f"a module's permissions are named {mod.name}.<action>")
        specs.append(spec.model_copy(update={"group": spec.group or mod.name}))
    return specs
