"""The one place that picks adapters: `build(settings, resources, store=…, publisher=…)`
returns the service over MongoDB and the bus; tests and the CLI pass their own."""

from __future__ import annotations

from typing import Any

from webos_common.security.keyring import Keyring
from webos_settings.adapters.events import ChangePublisher
from webos_settings.adapters.mongo import MongoSettingsStore
from webos_settings.ports import Publisher
from webos_settings.service import SettingsService
from webos_settings.settings import SettingsSettings


def keyring_from(settings: SettingsSettings) -> Keyring:
    return Keyring(settings.settings_master_key.get_secret_value(), settings.old_master_keys())


async def build(settings: SettingsSettings, resources: Any, *, store: MongoSettingsStore | None = None,
                publisher: Publisher | None = None) -> SettingsService:
    if store is None:
        store = MongoSettingsStore(resources.mongo, settings.mongo_db)
        await store.ensure_indexes()
    return SettingsService(store=store, keyring=keyring_from(settings),
                           publisher=publisher or ChangePublisher(resources))
