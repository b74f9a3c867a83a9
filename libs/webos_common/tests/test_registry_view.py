"""The one rule every reader of the module registry applies (`module_registry` and the shared
`RegistryView`), checked on the view's `apply` — what the watch feeds it — and on a real bucket."""

import uuid
from datetime import UTC, datetime, timedelta

import nats

from webos_common.config import WebOSSettings
from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry, flag_enabled
from webos_common.modules.registry_view import RegistryView


def _manifest(name: str, instance: str, minutes: int = 0) -> ModuleManifest:
    started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return ModuleManifest(name=name, instance_id=instance, base_url=f"http://127.0.0.1:1/{instance}",
                          started_at=started)


class Recording(RegistryView):
    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]  # apply needs no bucket
        self.heard: list[tuple[str, str]] = []

    def announced(self, name: str, instance: str) -> None:
        self.heard.append((name, instance))


def _put(view: RegistryView, manifest: ModuleManifest, key: str | None = None) -> None:
    view.apply(key or f"manifest.{manifest.name}.{manifest.instance_id}", manifest.model_dump_json().encode())


def test_a_damaged_switch_keeps_a_module_off_on_load_and_on_watch() -> None:
    assert flag_enabled(None) and flag_enabled(b"true")
    assert not flag_enabled(b"false") and not flag_enabled(b"yes")
    view = Recording()
    view.apply("enabled.wiki", b"yes")
    assert view.is_enabled("wiki") is False
    view.apply("enabled.wiki", None)  # the switch removed: enabled again
    assert view.is_enabled("wiki") is True


def test_invalid_and_foreign_manifests_are_dropped() -> None:
    view = Recording()
    view.apply("manifest.wiki.i1", b"{not json")
    _put(view, _manifest("wiki", "i1"), key="manifest.notes.i1")  # announced under another module's key
    assert view.instances == {} and view.version == 0 and view.heard == []
    assert "wiki" not in view.seen


def test_heartbeats_are_heard_but_are_no_change_and_the_newest_instance_speaks() -> None:
    view = Recording()
    old, new = _manifest("wiki", "old"), _manifest("wiki", "new", minutes=5)
    _put(view, new)
    _put(view, old)
    assert view.version == 2
    _put(view, old)  # a heartbeat
    assert view.version == 2 and view.heard[-1] == ("wiki", "old")
    assert view.manifest("wiki") == new
    view.apply("manifest.wiki.new", None)
    view.apply("manifest.wiki.old", None)
    assert view.modules() == [] and "wiki" in view.seen  # gone, but not unknown


async def test_the_bucket_is_the_configured_one(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        bucket = f"reg_{uuid.uuid4().hex[:8]}"
        settings = WebOSSettings(registry_bucket=bucket)
        registry = ModuleRegistry.of(nc.jetstream(), settings)
        assert registry.bucket == bucket and registry.create is settings.may_provision
        await registry.announce(_manifest("wiki", "i1"))
        await registry.set_enabled("wiki", False)
        view = RegistryView(ModuleRegistry(nc.jetstream(), bucket=bucket))
        await view.start()
        try:
            assert list(view.instances) == ["wiki"] and view.is_enabled("wiki") is False
            assert view.synced.is_set()
        finally:
            await view.stop()
    finally:
        await nc.close()
