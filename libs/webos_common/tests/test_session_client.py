"""The person's session client: silent refresh shared by concurrent calls, errors with their
status and body, the gateway out of reach as a 503 `ApiError` (an HTTP double answers; the
end-to-end path is the shell's browser tests)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from webos_common.clients.session import ApiError, SessionClient, SessionExpired, error_code


def client(answer: Any) -> SessionClient:
    return SessionClient("http://gateway", transport=httpx.MockTransport(answer))


async def test_concurrent_calls_share_one_refresh_and_keep_the_rotated_pair() -> None:
    refreshes: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/refresh":
            refreshes.append(request.content.decode())
            await asyncio.sleep(0.05)  # the other calls wait on the same exchange
            return httpx.Response(200, json={"access_token": "new", "refresh_token": "r2"})
        if request.headers.get("authorization") != "Bearer new":
            return httpx.Response(401, json={"error": {"code": "token_expired", "message": "expired"}})
        return httpx.Response(200, json={"ok": True})

    tokens: dict[str, Any] = {"access_token": "old", "refresh_token": "r1"}
    async with client(answer) as platform:
        answers = await asyncio.gather(*(platform.get(tokens, "/api/tasks") for _ in range(5)))
    assert answers == [{"ok": True}] * 5
    assert len(refreshes) == 1
    assert tokens == {"access_token": "new", "refresh_token": "r2"}


async def test_an_admin_sign_out_is_a_session_expired_with_the_reason_kept() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/refresh":
            return httpx.Response(401, json={"error": {"code": "signed_out_by_admin", "message": "An admin ended it"}})
        return httpx.Response(401, json={"error": {"message": "expired"}})

    tokens: dict[str, Any] = {"access_token": "old", "refresh_token": "r1"}
    async with client(answer) as platform:
        with pytest.raises(SessionExpired) as expired:
            await platform.send(tokens, "POST", "/api/tasks", {"title": "x"})
    assert expired.value.status == 401
    assert tokens["signed_out_reason"] == "An admin ended it"


async def test_error_answers_keep_status_and_body_and_empty_ones_are_none() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(204)
        if request.headers.get("if-match") == '"1"':
            return httpx.Response(412, json={"error": {"code": "precondition_failed", "message": "changed"}})
        return httpx.Response(422, json={"error": {"code": "validation_error", "message": "bad",
                                                   "details": [{"field": "title", "message": "too short"}]}})

    tokens: dict[str, Any] = {"access_token": "t"}
    async with client(answer) as platform:
        assert await platform.send(tokens, "DELETE", "/api/tasks/1") is None
        with pytest.raises(ApiError) as stale:
            await platform.send(tokens, "PATCH", "/api/tasks/1", {}, headers={"If-Match": '"1"'})
        with pytest.raises(ApiError) as invalid:
            await platform.send(tokens, "POST", "/api/tasks", {"title": ""})
    assert (stale.value.status, error_code(stale.value)) == (412, "precondition_failed")
    assert invalid.value.status == 422
    assert invalid.value.body["error"]["details"] == [{"field": "title", "message": "too short"}]


async def test_the_gateway_out_of_reach_is_a_503_api_error() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with client(answer) as platform:
        with pytest.raises(ApiError) as down:
            await platform.get({"access_token": "t"}, "/api/tasks")
        await platform.logout({"access_token": "t", "refresh_token": "r"})  # signing out still clears
    assert down.value.status == 503
    assert error_code(down.value) == "unavailable"
    assert "the gateway did not answer" in down.value.message


class SharedTokens(dict[str, Any]):
    """Tokens several replicas share: `sync` reads what another one wrote, `flushed` records the writes."""

    def __init__(self, held: dict[str, Any], latest: dict[str, Any]) -> None:
        super().__init__(held)
        self.latest = latest
        self.written: list[dict[str, Any]] = []

    async def sync(self) -> None:
        self.update(self.latest)

    async def flushed(self) -> None:
        self.written.append(dict(self))


async def test_a_refresh_another_replica_made_is_used_not_made_again_and_a_new_pair_is_written_first() -> None:
    refreshes: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/refresh":
            refreshes.append(request.content.decode())
            return httpx.Response(200, json={"access_token": "a3", "refresh_token": "r3"})
        if request.headers.get("authorization") in ("Bearer a2", "Bearer a3"):
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"error": {"code": "token_expired", "message": "expired"}})

    tokens = SharedTokens({"access_token": "a1", "refresh_token": "r1"}, {"access_token": "a2", "refresh_token": "r2"})
    async with client(answer) as platform:
        assert await platform.get(tokens, "/api/tasks") == {"ok": True}
        assert refreshes == []  # r1 (rotated by the other replica) was never sent again
        assert dict(tokens) == {"access_token": "a2", "refresh_token": "r2"}
        tokens.latest = {}
        tokens["access_token"] = "spoilt"
        assert await platform.get(tokens, "/api/tasks") == {"ok": True}
    assert refreshes == ['{"refresh_token":"r2"}']
    assert tokens.written == [{"access_token": "a3", "refresh_token": "r3"}]  # before the call went on
