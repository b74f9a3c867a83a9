"""`python -m webos_settings rotate-key`: re-encrypt every secret under the current master key.

Rotation: set `WEBOS_SETTINGS_MASTER_KEY` to the new key and
`WEBOS_SETTINGS_OLD_MASTER_KEYS` to the old one (replicas then read both),
run this command, then drop the old key.
"""

from __future__ import annotations

import asyncio

from webos_common.documents import db
from webos_settings.adapters.mongo import MongoSettingsStore
from webos_settings.bootstrap import keyring_from
from webos_settings.settings import SettingsSettings


async def rotate_key(settings: SettingsSettings) -> int:
    client = db.mongo_client(settings.mongo_url, appname="settings-rotate-key")
    try:
        return await MongoSettingsStore(client, settings.mongo_db).reencrypt(keyring_from(settings))
    finally:
        await client.close()


def rotate_key_main() -> None:
    settings = SettingsSettings()
    count = asyncio.run(rotate_key(settings))
    print(f"re-encrypted {count} secret value(s) under key {keyring_from(settings).current_kid}")
