"""Provisioning on a real NATS server: the shell sessions' bucket keeps a session exactly as long
as auth's refresh token lives (`WEBOS_REFRESH_TOKEN_TTL`), also when the bucket was made earlier
with another lifetime (a person whose refresh token still works is never signed out by the bucket)."""

from __future__ import annotations

import pytest
from nats.aio.client import Client as NATS

from webos_common.infra.provision import SHELL_SESSION_TTL, provision
from webos_common.security.nats_permissions import SHELL_SESSIONS_BUCKET

DAY = 86400


async def _kept(nc: NATS) -> float:
    return float((await nc.jetstream().stream_info(f"KV_{SHELL_SESSIONS_BUCKET}")).config.max_age or 0)


async def test_the_sessions_bucket_follows_the_refresh_tokens_lifetime(nc: NATS,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    js = nc.jetstream()
    try:
        monkeypatch.setenv("WEBOS_REFRESH_TOKEN_TTL", str(90 * DAY))
        await provision(js)
        assert await _kept(nc) == 90 * DAY  # longer than the default: was 30 days, signing people out early
        monkeypatch.setenv("WEBOS_REFRESH_TOKEN_TTL", str(7 * DAY))
        await provision(js)
        assert await _kept(nc) == 7 * DAY  # the bucket made above follows the change
    finally:
        monkeypatch.delenv("WEBOS_REFRESH_TOKEN_TTL")
        await provision(js)
    assert await _kept(nc) == SHELL_SESSION_TTL  # unset: the default both sides share
