"""Across services, as `make up` runs them: a module follows the settings an
admin saves in the settings service (read over NATS by its host, no restart)."""

from __future__ import annotations

import os
import uuid
from typing import Any


def test_the_tasks_module_follows_its_settings(platform: Any, admin_token: str, tasks_api: str) -> None:
    with platform.api(admin_token) as client:
        for n in range(3):
            made = client.post(tasks_api, json={"title": f"widget {uuid.uuid4().hex[:6]} {n}",
                                                "due_date": f"2030-01-0{n + 1}T09:00:00Z"})
            assert made.status_code == 201, made.text

        def shown() -> int:
            answer = client.get("/api/tasks/widget")
            assert answer.status_code == 200, answer.text
            return len(answer.json()["items"])

        try:
            saved = client.patch("/api/settings/modules/tasks", json={"widget_limit": 1})
            assert saved.status_code == 200, saved.text
            assert platform.until(lambda: shown() == 1), shown()
            bad = client.patch("/api/settings/modules/tasks", json={"widget_limit": 99})
            assert bad.status_code == 422 and "widget_limit" in bad.text
            assert shown() == 1  # the refused value changed nothing
            client.patch("/api/settings/modules/tasks", json={"widget_limit": 2})
            assert platform.until(lambda: shown() == 2), shown()
        finally:
            client.put("/api/settings/modules/tasks", json={})  # back to the schema's defaults


def test_a_signed_out_token_is_refused_by_the_gateway_at_once(platform: Any, tasks_api: str) -> None:
    """The gateway verifies tokens locally and caches them; auth's revocation reaches it over NATS."""
    password = os.environ.get("WEBOS_ADMIN_PASSWORD", "changeme")
    with platform.api(None) as anonymous:
        signed_in = anonymous.post("/api/auth/login", json={"login": "admin", "password": password})
    assert signed_in.status_code == 200, signed_in.text
    pair = signed_in.json()
    with platform.api(pair["access_token"]) as client:
        assert client.get(tasks_api, params={"limit": 1}).status_code == 200  # verified and cached
        out = client.post("/api/auth/logout", json={"refresh_token": pair["refresh_token"]})
        assert out.status_code == 200, out.text
        assert platform.until(lambda: client.get(tasks_api, params={"limit": 1}).status_code == 401, timeout=3)


def test_mail_goes_through_the_smtp_server_an_admin_saves(platform: Any, admin_token: str) -> None:
    """System settings → auth, over NATS, no restart: the next mail uses the saved server."""
    import asyncio
    import threading

    from webos_common.testing.smtp import SmtpSink

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    sink = asyncio.run_coroutine_threadsafe(SmtpSink().__aenter__(), loop).result(10)
    with platform.api(admin_token) as client:
        email = client.get("/api/auth/me").json()["email"]
        try:
            saved = client.put("/api/settings/system/smtp", json={
                "host": "127.0.0.1", "port": sink.port, "use_tls": False, "from_address": "noreply@acme.test"})
            assert saved.status_code == 200, saved.text

            def delivered() -> bool:
                asked = client.post("/api/auth/password/forgot", json={"email": email})
                assert asked.status_code == 202, asked.text
                return any(m["to"] == [email] for m in sink.messages)

            assert platform.until(delivered, timeout=15), "no mail reached the SMTP server"
            mail = next(m for m in sink.messages if m["to"] == [email])
            assert mail["from"] == "noreply@acme.test" and "/password/reset?token=" in mail["body"]
        finally:
            client.put("/api/settings/system/smtp", json={})  # back to the development outbox
            asyncio.run_coroutine_threadsafe(sink.__aexit__(None, None, None), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
