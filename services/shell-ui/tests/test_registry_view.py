"""The shell's registry view against a real NATS: a module that announces
appears, a disabled one leaves, a withdrawn one goes — no restart."""

import asyncio

from webos_common.bus.connection import connect_nats
from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry
from webos_common.modules.registry_view import RegistryView


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_modules_come_and_go_live(nats_url: str) -> None:
    import uuid

    nc = await connect_nats(nats_url, name="shell-test")
    bucket = f"mods_{uuid.uuid4().hex[:8]}"
    registry = ModuleRegistry(nc.jetstream(), bucket=bucket, ttl=30)
    view = RegistryView(registry)
    try:
        await view.start()
        assert view.modules() == []
        manifest = ModuleManifest(name="tasks", instance_id="i1", base_url="http://127.0.0.1:1")
        await registry.announce(manifest)
        await _until(lambda: [m.name for m in view.modules()] == ["tasks"])
        await registry.set_enabled("tasks", False)
        await _until(lambda: view.modules() == [])
        assert view.known() == ["tasks"]
        await registry.set_enabled("tasks", True)
        await _until(lambda: len(view.modules()) == 1)
        await registry.withdraw("tasks", "i1")
        await _until(lambda: view.modules() == [])
    finally:
        await view.stop()
        await nc.drain()


async def test_heartbeats_and_our_own_echo_do_not_redraw(nats_url: str) -> None:
    """Pages redraw when `version` moves; a redraw replaces the nav and the
    module switches, and a click landing on a replaced element is lost. So
    only a change a page could show may move it."""
    import uuid

    nc = await connect_nats(nats_url, name="shell-test")
    registry = ModuleRegistry(nc.jetstream(), bucket=f"mods_{uuid.uuid4().hex[:8]}", ttl=30)
    view = RegistryView(registry)
    try:
        await view.start()
        manifest = ModuleManifest(name="tasks", instance_id="i1", base_url="http://127.0.0.1:1")
        await registry.announce(manifest)
        await _until(lambda: len(view.modules()) == 1)
        settled = view.version
        for _ in range(3):
            await registry.announce(manifest)  # what the heartbeat does
        await registry.set_enabled("tasks", False)  # what the settings service does for the admin
        view.note_enabled("tasks", False)
        after_switch = view.version
        assert after_switch == settled + 1
        marker = ModuleManifest(name="marker", instance_id="m1", base_url="http://127.0.0.1:2")
        await registry.announce(marker)  # the watch is ordered: once this is seen, so is all above
        await _until(lambda: "marker" in view.instances)
        assert view.version == after_switch + 1
        assert view.is_enabled("tasks") is False
        changed = manifest.model_copy(update={"description": "new"})
        await registry.announce(changed)
        await _until(lambda: view.version == after_switch + 2)
        assert view.instances["tasks"]["i1"].description == "new"
    finally:
        await view.stop()
        await nc.drain()
