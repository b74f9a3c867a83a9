"""Two shell replicas without stickiness (issue #19): the platform's shell (A, behind the gateway)
and a second shell process (B, its own port and its own NiceGUI storage folder, as on another
machine). A person signed in through A is signed in on B with the same browser cookie; a
refresh B makes is what A uses next; the shared bucket holds their tokens sealed only."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from webos_cli.plan import StackPlan
from webos_common.infra.process import ManagedProcess, free_port
from webos_common.security.keyring import Keyring
from webos_common.security.nats_permissions import SHELL_SESSIONS_BUCKET

from .conftest import ADMIN, Platform, Shell

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def replica_b(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second shell-ui process on the platform, with the platform shell's environment."""
    plan = StackPlan(platform.state_dir, platform.base_port)
    port = free_port()
    env = {**plan.shared_env(), **plan.identity_env("shell-ui"), "WEBOS_PORT": str(port),
           "WEBOS_SERVICE_NAME": "shell-ui",
           "NICEGUI_STORAGE_PATH": str(tmp_path_factory.mktemp("shell-b-storage"))}  # not A's files
    proc = ManagedProcess("shell-ui.b", [sys.executable, "-m", "webos_shell"], env=env, die_with_parent=True,
                          log_path=tmp_path_factory.mktemp("shell-b") / "shell-ui.b.log")
    proc.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.alive(), proc.log_tail(60)
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, proc.log_tail(60)
            time.sleep(0.2)
        yield url
    finally:
        proc.stop(timeout=10)


def session_id(page: Any) -> str:
    """NiceGUI's session id, from its signed `session` cookie (base64 JSON, then the signature)."""
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "session")
    body = cookie.split(".")[0]
    return str(json.loads(base64.b64decode(body + "=" * (-len(body) % 4)))["id"])


class Bucket:
    """The shared bucket as an operator reads and writes it (TLS, the operator's credential)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.keyring = Keyring("changeme", context=b"webos-shell-sessions")  # `webos up`'s storage secret

    def _run(self, work: Any) -> Any:
        """On a thread of its own: Playwright's sync API holds this thread's event loop."""
        async def connected() -> Any:
            from webos_common.bus.connection import connect_nats

            nc = await connect_nats(self.platform.nats_url, name="e2e-sessions", deadline=5,
                                    credential_file=self.platform.state_dir / "credentials" / "operator.nk",
                                    principal="operator", ca_file=self.platform.nats_ca)
            try:
                return await work(await nc.jetstream().key_value(SHELL_SESSIONS_BUCKET))
            finally:
                await nc.close()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, connected()).result(timeout=30)

    def raw(self, sid: str) -> bytes:
        async def get(kv: Any) -> bytes:
            return bytes((await kv.get(sid)).value)
        return bytes(self._run(get))

    def read(self, sid: str) -> dict[str, Any]:
        body = self.keyring.decrypt(self.raw(sid).decode())
        assert body["key"] == sid
        return dict(body["data"])

    def write(self, sid: str, data: dict[str, Any]) -> None:
        async def put(kv: Any) -> None:
            await kv.put(sid, self.keyring.encrypt({"key": sid, "writer": "e2e", "data": data}).encode())
        self._run(put)


def signed_in(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("page-title").wait_for()
    assert "/login" not in page.url, page.url


def test_a_person_signed_in_on_one_replica_is_signed_in_on_another_and_both_follow_one_refresh(
        platform: Platform, replica_b: str, page: Any) -> None:
    bucket = Bucket(platform)
    Shell(page, platform).sign_in(*ADMIN)  # through the gateway: replica A
    signed_in(page, f"{replica_b}/")  # B never saw this person: it reads the session from the bucket
    sid = session_id(page)
    first = bucket.read(sid)
    assert first["access_token"] and first["refresh_token"]

    # The access token runs out (spoilt here: the same for a verifier): B, the next to serve, refreshes.
    bucket.write(sid, {**first, "access_token": "expired"})
    signed_in(page, f"{replica_b}/")
    after_b = bucket.read(sid)
    assert after_b["refresh_token"] != first["refresh_token"], "B did not refresh (or did not write it)"
    assert after_b["access_token"] not in ("expired", first["access_token"])

    signed_in(page, f"{platform.url}/")  # A, which held the spoilt token and the old refresh token
    after_a = bucket.read(sid)
    assert after_a["refresh_token"] == after_b["refresh_token"], "A refreshed again with what it held"
    assert after_a["access_token"] == after_b["access_token"]

    raw = bucket.raw(sid)  # what the bucket (and every NATS message of it) holds
    for token in (after_a["access_token"], after_a["refresh_token"], first["refresh_token"]):
        assert token.encode() not in raw
    assert b"eyJ" not in raw and raw.startswith(b"enc:v1:")

