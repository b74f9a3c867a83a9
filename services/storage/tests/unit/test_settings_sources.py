"""Sources from the settings service never mount storage's own disk, even if the settings
service's schema let one through: only the operator's configuration mounts a `local` source."""

from __future__ import annotations

from typing import Any

from webos_storage.access import Access
from webos_storage.settings import SourceConfig, SourcesSection
from webos_storage.settings_sources import SettingsSources


async def test_a_local_source_from_the_settings_is_not_mounted() -> None:
    access = Access({}, [], {}, "home")
    made: list[str] = []

    def make(config: SourceConfig) -> Any:
        made.append(config.id)
        raise AssertionError("nothing should be made")

    sources = SettingsSources(access, make)
    await sources.sync(SourcesSection(sources=[SourceConfig(id="host", kind="local", root="/")]))
    assert made == [] and "host" not in access.sources and sources.mounted == {}
