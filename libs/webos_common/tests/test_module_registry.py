import asyncio
import uuid

import nats

from webos_common.modules.manifest import ModuleManifest, NavEntry
from webos_common.modules.registry import ModuleRegistry


def _manifest(name: str) -> ModuleManifest:
    return ModuleManifest(name=name, instance_id=uuid.uuid4().hex[:8], base_url="http://127.0.0.1:1",
                          nav=[NavEntry(label="Tasks", path="/m/tasks")])


async def test_announce_expire_and_enabled_flag(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        registry = ModuleRegistry(nc.jetstream(), bucket=f"reg_{uuid.uuid4().hex[:8]}", ttl=1.5)
        assert await registry.live() == {}
        first, second = _manifest("tasks"), _manifest("tasks")
        await registry.announce(first)
        await registry.announce(second)
        live = await registry.live()
        assert sorted(m.instance_id for m in live["tasks"]) == sorted([first.instance_id, second.instance_id])
        assert live["tasks"][0].nav[0].label == "Tasks"

        await registry.withdraw("tasks", second.instance_id)
        assert [m.instance_id for m in (await registry.live())["tasks"]] == [first.instance_id]

        assert await registry.is_enabled("tasks")
        await registry.set_enabled("tasks", False)
        assert not await registry.is_enabled("tasks")

        await asyncio.sleep(3.5)  # no heartbeat: the entry expires, the flag stays
        assert await registry.live() == {}
        assert await registry.enabled_flags() == {"tasks": False}
    finally:
        await nc.close()
