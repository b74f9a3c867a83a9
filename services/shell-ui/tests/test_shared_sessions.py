"""People's sessions in the shared NATS KV bucket (`webos_shell.sessions`), as two shell replicas
see them: each `SharedSessions` below is one replica (its own NATS connection, its own watcher)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS

from webos_common.security.keyring import Keyring
from webos_shell.sessions import CONTEXT, SessionDict, SharedSessions

KEY = "shell-session-test-key"


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time"
        await asyncio.sleep(0.02)


Replicas = Callable[..., Awaitable[tuple[SharedSessions, SharedSessions]]]


@pytest.fixture
async def replicas(nats_url: str) -> AsyncIterator[Replicas]:
    opened: list[tuple[NATS, SharedSessions]] = []

    async def make(ttl: float | None = None) -> tuple[SharedSessions, SharedSessions]:
        bucket = f"sessions_{uuid.uuid4().hex[:8]}"
        pair = []
        for _ in range(2):
            nc = await nats.connect(nats_url)
            sessions = await SharedSessions.open(nc.jetstream(), Keyring(KEY, context=CONTEXT), bucket=bucket,
                                                 create=True, ttl=ttl)
            opened.append((nc, sessions))
            pair.append(sessions)
        return pair[0], pair[1]

    yield make
    for nc, sessions in opened:
        await sessions.close()
        await nc.close()


async def held(sessions: SharedSessions, session_id: str) -> SessionDict:
    found = sessions.session(session_id)
    await found.initialize()
    return found


async def test_what_one_replica_writes_the_other_reads_and_follows(replicas: Replicas) -> None:
    a, b = await replicas()
    sid = str(uuid.uuid4())
    on_a = await held(a, sid)
    on_a["access_token"], on_a["refresh_token"] = "access-1", "refresh-1"
    on_a["recent"] = ["files"]
    await on_a.flushed()

    on_b = await held(b, sid)  # a session B has not seen: loaded from the bucket
    assert dict(on_b) == {"access_token": "access-1", "refresh_token": "refresh-1", "recent": ["files"]}

    on_b["access_token"], on_b["refresh_token"] = "access-2", "refresh-2"  # B refreshes
    await on_b.flushed()
    await until(lambda: on_a.get("refresh_token") == "refresh-2")  # A's watcher brings it, no request
    on_a["recent"].append("tasks")  # a nested change is a change of the session
    await on_a.flushed()
    await until(lambda: on_b.get("recent") == ["files", "tasks"])
    assert on_b["refresh_token"] == "refresh-2"


async def test_a_change_on_one_replica_never_writes_back_what_another_just_rotated(replicas: Replicas) -> None:
    """Per key, compare-and-set: A saving the theme at the same moment B stores a refreshed pair keeps both."""
    a, b = await replicas()
    sid = str(uuid.uuid4())
    on_a = await held(a, sid)
    on_a["refresh_token"] = "refresh-1"
    await on_a.flushed()
    on_b = await held(b, sid)
    a.held.pop(sid)  # A's watcher is slower than the write below: A still holds refresh-1 when it writes
    on_b["refresh_token"] = "refresh-2"
    on_a["theme"] = "dark"
    await asyncio.gather(on_a.flushed(), on_b.flushed())
    await on_a.sync()
    await on_b.sync()
    assert dict(on_a) == dict(on_b) == {"refresh_token": "refresh-2", "theme": "dark"}


async def test_the_bucket_holds_no_token_in_clear_and_a_value_opens_under_its_own_key_only(
        replicas: Replicas, nc: NATS) -> None:
    a, b = await replicas()
    sid, other = str(uuid.uuid4()), str(uuid.uuid4())
    on_a = await held(a, sid)
    on_a["access_token"], on_a["refresh_token"] = "eyJ-secret-access", "secret-refresh-value"
    await on_a.flushed()
    raw = (await (await nc.jetstream().key_value(a.bucket)).get(sid)).value or b""
    assert b"secret" not in raw and b"eyJ" not in raw and raw.startswith(b"enc:v1:")
    assert a.unseal(sid, raw) is not None
    assert a.unseal(other, raw) is None  # copied under another session's key: nobody's session
    await a.kv.put(other, raw)
    assert dict(await held(b, other)) == {}
    wrong_key = SharedSessions(a.js, a.kv, Keyring("another secret", context=CONTEXT), bucket=a.bucket)
    assert wrong_key.unseal(sid, raw) is None


async def test_a_cleared_session_is_gone_from_the_bucket_and_from_every_replica(replicas: Replicas) -> None:
    a, b = await replicas()
    sid = str(uuid.uuid4())
    on_a = await held(a, sid)
    on_a["access_token"] = "access-1"
    await on_a.flushed()
    on_b = await held(b, sid)
    assert on_b["access_token"] == "access-1"
    on_a.clear()
    await on_a.flushed()
    await until(lambda: dict(on_b) == {})
    assert (await a.latest(sid))[1] is None
    assert dict(await held(b, sid)) == {}


async def test_a_session_not_written_for_the_buckets_ttl_is_gone(replicas: Replicas) -> None:
    a, b = await replicas(ttl=1.0)
    sid = str(uuid.uuid4())
    on_a = await held(a, sid)
    on_a["access_token"] = "access-1"
    await on_a.flushed()
    assert (await b.latest(sid))[1] == {"access_token": "access-1"}
    await asyncio.sleep(1.6)
    assert (await b.latest(sid))[1] is None
    assert dict(await held(b, sid)) == {}


async def test_a_session_kept_in_a_file_before_the_upgrade_moves_into_the_bucket_and_the_file_goes(
        replicas: Replicas, tmp_path: Path) -> None:
    """NiceGUI's own storage kept it in this replica's folder, tokens in clear: taken over once."""
    a, b = await replicas()
    sid, fresh = str(uuid.uuid4()), str(uuid.uuid4())
    a.legacy = lambda session_id: tmp_path / f"storage-user-{session_id}.json"
    (tmp_path / f"storage-user-{sid}.json").write_text(json.dumps({"access_token": "a1", "refresh_token": "r1"}))
    on_a = await held(a, sid)
    assert dict(on_a) == {"access_token": "a1", "refresh_token": "r1"}
    assert not (tmp_path / f"storage-user-{sid}.json").exists()
    assert dict(await held(b, sid)) == {"access_token": "a1", "refresh_token": "r1"}  # any replica now
    assert dict(await held(a, fresh)) == {}  # no file, no session: nothing made up
    assert (await a.latest(fresh)) == (0, None)


async def test_a_rotated_session_key_signs_nobody_out_and_the_next_write_seals_under_the_new_one(
        replicas: Replicas, nc: NATS) -> None:
    """`WEBOS_SHELL_SESSION_KEY` rotated with the old one in `WEBOS_SHELL_SESSION_OLD_KEYS`."""
    from webos_shell.main import session_keyring
    from webos_shell.settings import ShellSettings

    a, _ = await replicas()  # the replicas under the old key (`KEY`)
    sid = str(uuid.uuid4())
    on_a = await held(a, sid)
    on_a["refresh_token"] = "refresh-1"
    await on_a.flushed()
    rotated = session_keyring(ShellSettings(shell_session_key="a brand-new key", shell_session_old_keys=f" {KEY} ,"))
    assert session_keyring(ShellSettings(shell_session_key="a brand-new key")).current_kid == rotated.current_kid
    js = nc.jetstream()
    after = SharedSessions(js, await js.key_value(a.bucket), rotated, bucket=a.bucket)
    only_new = SharedSessions(js, await js.key_value(a.bucket), session_keyring(
        ShellSettings(shell_session_key="a brand-new key")), bucket=a.bucket)
    assert (await only_new.latest(sid))[1] is None  # without the old key: signed out (the old behaviour)
    on_after = await held(after, sid)
    assert dict(on_after) == {"refresh_token": "refresh-1"}
    on_after["theme"] = "dark"
    await on_after.flushed()
    raw = (await after.kv.get(sid)).value or b""
    assert not rotated.needs_rotation(raw.decode())  # sealed under the new key now
    assert (await only_new.latest(sid))[1] == {"refresh_token": "refresh-1", "theme": "dark"}


async def test_a_rotated_pair_written_during_a_nats_restart_reaches_every_replica(tmp_path: Path) -> None:
    """NATS restarts. Replica B stores a person's new token pair while NATS is not back yet: the
    write fails, and B writes it again in the background until it lands, with no further change
    made there (it used to wait for the person's next change: meanwhile another replica would use
    the old refresh token, which auth takes for theft). Replica A, still reconnecting when the
    pair lands, gets it from its watcher (an ordered consumer resumes after the last revision it
    saw): nothing written during the gap is missed."""
    from webos_common.infra.nats import NatsServer
    from webos_common.infra.process import free_port

    server = NatsServer(tmp_path / "store", port=free_port(), log_path=tmp_path / "nats.log")
    server.start()
    bucket, sid = f"sessions_{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    slow = await nats.connect(server.url, reconnect_time_wait=10, max_reconnect_attempts=-1)  # replica A
    fast = await nats.connect(server.url, reconnect_time_wait=0.2, max_reconnect_attempts=-1)  # replica B
    keyring = Keyring(KEY, context=CONTEXT)
    a = await SharedSessions.open(slow.jetstream(), keyring, bucket=bucket, create=True)
    b = await SharedSessions.open(fast.jetstream(), keyring, bucket=bucket, create=True)
    try:
        on_a = await held(a, sid)
        on_a["access_token"], on_a["refresh_token"] = "access-1", "refresh-1"
        await on_a.flushed()
        on_b = await held(b, sid)
        server.stop()
        on_b["access_token"], on_b["refresh_token"] = "access-2", "refresh-2"  # NATS is down
        await on_b.flushed()
        assert on_b.pending, "the write could not have landed: NATS was down"
        server.start()

        async def stored() -> str | None:
            try:
                _, data = await b.latest(sid)
            except Exception:  # NATS still coming back
                return None
            return (data or {}).get("refresh_token")

        deadline = asyncio.get_running_loop().time() + 30
        while await stored() != "refresh-2":  # B's retry, not a change of ours, puts it there
            assert asyncio.get_running_loop().time() < deadline, "B never wrote the new pair"
            await asyncio.sleep(0.2)
        assert not slow.is_connected, "A reconnected before the pair landed: the gap did not happen"
        await until(lambda: on_a.get("refresh_token") == "refresh-2", within=30)
        assert on_a["access_token"] == "access-2" and not on_b.pending
    finally:
        for sessions, nc in ((a, slow), (b, fast)):
            await sessions.close()
            await nc.close()
        server.stop()
