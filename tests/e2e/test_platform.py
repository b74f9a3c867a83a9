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


def test_the_issuer_is_the_url_its_openid_discovery_answers_under(platform: Any, admin_token: str) -> None:
    """An OIDC client fetches `<iss>/.well-known/openid-configuration`: on the running stack the
    tokens' issuer is that URL at the gateway, and every URL the discovery names answers."""
    from jose import jwt

    issuer = jwt.get_unverified_claims(admin_token)["iss"]
    assert issuer == f"{platform.url}/api/auth"
    with platform.api(admin_token) as client:
        discovery = client.get(f"{issuer}/.well-known/openid-configuration")
        assert discovery.status_code == 200 and discovery.json()["issuer"] == issuer
        assert client.get(discovery.json()["jwks_uri"]).json()["keys"]
        # userinfo answers (an app's token is its credential: a platform token is not one)
        assert client.get(discovery.json()["userinfo_endpoint"]).status_code == 401


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


def test_an_operator_issues_rotates_and_revokes_a_credential_on_the_running_stack(platform: Any) -> None:
    """`webos creds` changes who NATS lets in, at once (the running server reloads)."""
    import asyncio
    import subprocess
    import sys

    from webos_common.bus.connection import NatsAuthError, connect_nats

    args = ["--state-dir", str(platform.state_dir), "--base-port", str(platform.base_port)]
    name = f"e2e{uuid.uuid4().hex[:6]}-worker"
    seed = platform.state_dir / "credentials" / f"{name}.nk"

    def webos(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "webos_cli.main", "creds", *argv, *args],
                              capture_output=True, text=True, timeout=60)

    async def connects(seed_text: str) -> bool:
        path = platform.state_dir / f"{name}.probe.nk"
        path.write_text(seed_text)
        path.chmod(0o600)
        try:
            nc = await connect_nats(platform.nats_url, name=name, deadline=5, credential_file=path, principal=name,
                                    ca_file=platform.nats_ca)
        except NatsAuthError:
            return False
        finally:
            path.unlink()
        await nc.close()
        return True

    issued = webos("issue", name, "--kind", "worker")
    assert issued.returncode == 0 and "NATS reloaded" in issued.stdout, issued.stdout + issued.stderr
    assert (seed.stat().st_mode & 0o777) == 0o600
    first = seed.read_text()
    assert asyncio.run(connects(first))
    listed = webos("list")
    assert listed.returncode == 0 and name in listed.stdout and "worker" in listed.stdout

    assert webos("rotate", name).returncode == 0
    second = seed.read_text()
    assert second != first
    assert not asyncio.run(connects(first)) and asyncio.run(connects(second))

    assert webos("revoke", name).returncode == 0
    assert not seed.exists() and not asyncio.run(connects(second))
    assert name not in webos("list").stdout

    wrong = webos("issue", "not-a-service", "--kind", "service")
    assert wrong.returncode == 2 and "no kernel service is called 'not-a-service'" in wrong.stderr


def test_nats_takes_only_tls_connections_verified_with_the_stacks_ca(platform: Any, tmp_path: Any) -> None:
    import asyncio

    from webos_common.bus.connection import connect_nats
    from webos_common.security.tls import ensure_server_tls

    operator = platform.state_dir / "credentials" / "operator.nk"

    async def connect(ca_file: Any) -> str:
        try:
            nc = await connect_nats(platform.nats_url, name="e2e-tls", deadline=2, credential_file=operator,
                                    principal="operator", ca_file=ca_file)
        except Exception as exc:
            return f"refused: {exc}"
        await nc.close()
        return "connected"

    assert asyncio.run(connect(platform.nats_ca)) == "connected"
    assert asyncio.run(connect(None)).startswith("refused")  # plain text, even with a valid key
    impostor = ensure_server_tls(tmp_path / "other-ca")  # a CA the stack never used: a spoofed server
    assert asyncio.run(connect(impostor.ca_file)).startswith("refused")
