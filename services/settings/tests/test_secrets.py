"""Secrets: ciphertext at rest, masked unless explicitly permitted, and key rotation."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from webos_settings.cli import rotate_key
from webos_settings.settings import SettingsSettings

OLD_KEY, NEW_KEY = "old master key for tests", "new master key for tests"


async def test_stored_secret_is_ciphertext_and_masked(client: Any, admin: Any, ops: Any, mongo: Any) -> None:
    r = await client.put("/system/smtp", headers=admin,
                         json={"host": "mail.example.com", "username": "mailer", "password": "hunter2-secret"})
    assert r.status_code == 200, r.text
    assert r.json()["values"]["password"] == "********"
    assert r.json()["values"]["port"] == 587  # default from the schema

    raw = await mongo["settings_values"].find_one({"_id": "system/smtp"})
    assert raw["values"]["password"].startswith("enc:v1:")
    assert "hunter2" not in str(raw)

    # The admin role alone does not reveal; the explicit permission does.
    masked = await client.get("/system/smtp", params={"reveal": "true"}, headers=admin)
    assert masked.json()["values"]["password"] == "********"
    clear = await client.get("/system/smtp", params={"reveal": "true"}, headers=ops)
    assert clear.json()["values"]["password"] == "hunter2-secret"
    assert clear.json()["secrets_revealed"] is True

    # Sending the mask back keeps the secret (read, edit, save).
    edited = {**masked.json()["explicit"], "host": "smtp.example.com"}
    assert (await client.put("/system/smtp", headers=admin, json=edited)).status_code == 200
    again = await client.get("/system/smtp", params={"reveal": "true"}, headers=ops)
    assert again.json()["values"]["password"] == "hunter2-secret"
    assert again.json()["values"]["host"] == "smtp.example.com"

    history = (await client.get("/system/smtp/history", headers=admin)).json()
    assert history["total"] == 2
    first = history["items"][-1]
    assert {"key": "password", "old": None, "new": "********"} in first["changes"]
    assert first["by"] == "root" and "hunter2" not in str(history)


async def test_user_secrets_reveal_to_owner_not_module_secrets(client: Any, issuer: Any, admin: Any,
                                                               tasks_schema: Any, mongo: Any) -> None:
    root = admin
    assert (await client.put("/schemas/tasks", headers=root, json={"schema": tasks_schema})).status_code == 200
    r = await client.patch("/modules/tasks", headers=root, json={"webhook_token": "module-secret"})
    assert r.status_code == 200
    alice = issuer.headers("alice")
    assert (await client.get("/modules/tasks", params={"reveal": "true"}, headers=alice)).json()["values"][
        "webhook_token"] == "********"
    mine = await client.get("/me/tasks", params={"reveal": "true"}, headers=alice)
    assert mine.json()["values"]["webhook_token"] == "********"  # the module's, inherited: still masked
    await client.patch("/me/tasks", headers=alice, json={"webhook_token": "alice-own"})
    mine = await client.get("/me/tasks", params={"reveal": "true"}, headers=alice)
    assert mine.json()["values"]["webhook_token"] == "alice-own"
    raw = await mongo["settings_users"].find_one({"_id": "alice"})
    assert raw["plugin_settings"]["tasks"]["webhook_token"].startswith("enc:v1:")


async def test_rotation_keeps_every_secret_readable(open_app: Any, ops: Any, mongo: Any) -> None:
    async with open_app(settings_master_key=OLD_KEY) as client:
        for password in ("first-password", "second-password"):
            r = await client.patch("/system/smtp", headers=ops, json={"password": password})
            assert r.status_code == 200
        await client.put("/system/api-keys", headers=ops, json={"keys": {"maps": "k-maps", "llm": "k-llm"}})
    before = await mongo["settings_values"].find_one({"_id": "system/smtp"})

    env = {**os.environ, "WEBOS_SETTINGS_MASTER_KEY": NEW_KEY, "WEBOS_SETTINGS_OLD_MASTER_KEYS": OLD_KEY}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "webos_settings", "rotate-key", env=env,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0
    assert out.decode().startswith("re-encrypted 7 ")  # smtp: 1 current + 2 history; api-keys: 2 + 2
    after = await mongo["settings_values"].find_one({"_id": "system/smtp"})
    assert after["values"]["password"] != before["values"]["password"]
    assert after["values"]["password"].split(":")[2] != before["values"]["password"].split(":")[2]

    async with open_app(settings_master_key=NEW_KEY) as client:  # the old key is gone
        smtp = await client.get("/system/smtp", params={"reveal": "true"}, headers=ops)
        assert smtp.json()["values"]["password"] == "second-password"
        keys = await client.get("/system/api-keys", params={"reveal": "true"}, headers=ops)
        assert keys.json()["values"]["keys"] == {"maps": "k-maps", "llm": "k-llm"}
        back = await client.post("/system/smtp/rollback", headers=ops, json={"version": 1})
        assert back.status_code == 200, back.text
        smtp = await client.get("/system/smtp", params={"reveal": "true"}, headers=ops)
        assert smtp.json()["values"]["password"] == "first-password"
        again = await client.post("/admin/rotate-key", headers=ops)
        assert again.json()["reencrypted"] == 0
    assert await rotate_key(SettingsSettings(settings_master_key=NEW_KEY)) == 0


async def test_reading_with_a_missing_key_is_not_a_500(open_app: Any, ops: Any) -> None:
    async with open_app(settings_master_key=OLD_KEY) as client:
        await client.patch("/system/smtp", headers=ops, json={"password": "p"})
    async with open_app(settings_master_key=NEW_KEY) as client:
        masked = await client.get("/system/smtp", headers=ops)  # masked reads need no key
        assert masked.status_code == 200 and masked.json()["values"]["password"] == "********"
        r = await client.get("/system/smtp", headers=ops, params={"reveal": "true"})
        assert r.status_code == 503
        assert "WEBOS_SETTINGS_OLD_MASTER_KEYS" in r.json()["error"]["message"]
        r = await client.patch("/system/smtp", headers=ops, json={"host": "x"})
        assert r.status_code == 503


async def test_secret_values_are_not_echoed_in_errors(client: Any, ops: Any) -> None:
    r = await client.put("/system/api-keys", headers=ops, json={"keys": {"maps": 123456789}})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "keys.maps"
    assert "123456789" not in r.text


def test_placeholder_master_key_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="WEBOS_SETTINGS_MASTER_KEY"):
        SettingsSettings(env="production")
    assert SettingsSettings(env="production", settings_master_key="a real key, long enough").env == "production"
