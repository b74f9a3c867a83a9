"""The hook specs: a fresh plugin manager per test, plugins as plain modules;
unknown or misspelled `webos_*` hooks fail with a clear message."""

from __future__ import annotations

import types

import pytest
from fastapi import APIRouter

from webos_common.modules.hooks import (
    ModuleLoadError,
    ScheduledJob,
    WebOSHookSpec,
    collect,
    hookimpl,
    installed_modules,
    load_module,
    make_plugin_manager,
)
from webos_common.modules.manifest import NavEntry


def plugin(**functions: object) -> types.ModuleType:
    module = types.ModuleType("fake_plugin")
    for name, fn in functions.items():
        setattr(module, name, fn)
    return module


def test_hooks_carry_the_prefix_and_are_documented() -> None:
    names = [n for n in vars(WebOSHookSpec) if not n.startswith("_")]
    assert names and all(n.startswith("webos_") for n in names)
    assert all(getattr(WebOSHookSpec, n).__doc__ for n in names)
    for wanted in ("register_routes", "register_db_models", "register_ui", "register_admin_ui",
                   "register_settings", "register_data_sources", "register_collections", "register_event_handlers",
                   "register_tasks", "register_commands", "startup", "shutdown"):
        assert f"webos_{wanted}" in names


def test_undecorated_hooks_are_called() -> None:
    router = APIRouter()

    def webos_register_routes() -> list[APIRouter]:
        return [router]

    @hookimpl
    def webos_register_ui() -> list[NavEntry]:
        return [NavEntry(label="X", path="/m/x")]

    pm, _ = load_module("x", plugin=plugin(webos_register_routes=webos_register_routes,
                                           webos_register_ui=webos_register_ui, helper=lambda: 1))
    assert collect(pm.hook.webos_register_routes()) == [router]
    assert collect(pm.hook.webos_register_ui())[0].label == "X"


def test_misspelled_hook_fails_with_a_suggestion() -> None:
    def webos_register_rotues() -> list[APIRouter]:
        return []

    with pytest.raises(ModuleLoadError) as err:
        load_module("x", plugin=plugin(webos_register_rotues=webos_register_rotues))
    message = str(err.value)
    assert "'webos_register_rotues'" in message and "did you mean 'webos_register_routes'" in message


def test_decorated_hook_without_prefix_fails() -> None:
    @hookimpl
    def register_routes() -> list[APIRouter]:
        return []

    with pytest.raises(ModuleLoadError, match="unknown hook"):
        load_module("x", plugin=plugin(register_routes=register_routes))


def test_wrong_argument_name_fails() -> None:
    def webos_startup(context: object) -> None:
        return None

    with pytest.raises(ModuleLoadError, match="webos_startup"):
        load_module("x", plugin=plugin(webos_startup=webos_startup))


def test_unknown_module_names_the_group() -> None:
    with pytest.raises(ModuleLoadError, match=r"webos\.modules"):
        load_module("surely-not-installed")
    assert isinstance(installed_modules(), dict)


def test_settings_hook_is_first_result() -> None:
    from pydantic import BaseModel

    class S(BaseModel):
        a: int = 1

    pm = make_plugin_manager()
    pm.register(plugin(webos_register_settings=lambda: S), name="p")
    assert pm.hook.webos_register_settings() is S


def test_scheduled_job_shape() -> None:
    async def tick(ctx: object) -> None:
        return None

    job = ScheduledJob(name="tick", func=tick, every=60)
    assert job.cron is None and job.every == 60
