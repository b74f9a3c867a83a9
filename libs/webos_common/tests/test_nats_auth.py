"""NATS as an attacker meets it: anonymous clients refused, each credential
held to what its principal declared, rotated keys shut out (real nats-server)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from loguru import logger
from nats.aio.client import Client as NATS

from webos_common.bus import BusSettings, EventBus, PublishRefused
from webos_common.bus.connection import NatsAuthError, connect_nats, connect_options
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.topics import event_subject, topic_filter
from webos_common.files.afs import Capabilities, FileMetadata, FileMissing
from webos_common.files.remote import RemoteDataSource, SourceServer
from webos_common.infra import NatsServer
from webos_common.processes.schedule import DueTimes, Schedule, Scheduler
from webos_common.security.credentials import CredentialStore
from webos_common.testing.plugin import wait_credential

# Here the server drops connections (a permissions violation, a revoked credential): nats-py
# (2.16) leaves the socket, transport and StreamWriter of a dropped connection or of a refused
# reconnect attempt to the garbage collector, which may run after the test's loop closed, even
# though every client here is closed. Named third-party exceptions, for this module only:
pytestmark = [
    pytest.mark.filterwarnings(f"ignore:Exception ignored in. {what}:pytest.PytestUnraisableExceptionWarning")
    for what in ("<function StreamWriter.__del__", "<function _SelectorTransport.__del__", "<socket.socket")
]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def _issue(store: CredentialStore, server: NatsServer, name: str, kind: str, **declared: list[str]) -> Path:
    seed = store.issue(name, kind, **declared)  # type: ignore[arg-type]
    server.reload()
    await wait_credential(server.url, seed, principal=name)
    return seed


class Connection:
    """A client as one principal, remembering the permission errors the server sent it."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: NATS | None = None

    async def open(self, url: str, seed: Path, principal: str) -> NATS:
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc).lower())

        self.nc = await nats.connect(url, error_cb=on_error, allow_reconnect=False,
                                     **connect_options(name=principal, credential_file=seed, principal=principal))
        return self.nc

    async def refused(self, subject: str, *, kind: str = "publish") -> bool:
        assert self.nc is not None
        await self.nc.flush()
        for _ in range(40):
            if any(f"{kind} to \"{subject.lower()}\"" in e or f"{kind} to {subject.lower()}" in e
                   for e in self.errors):
                return True
            await asyncio.sleep(0.025)
        return False


async def test_an_anonymous_client_is_refused(nats_server: NatsServer) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(nats_server.url, allow_reconnect=False, connect_timeout=2)


async def test_a_module_publishes_only_its_declared_events_under_its_own_name(
        nats_server: NatsServer, nats_credentials: CredentialStore, nc: NATS) -> None:
    name = _name("mod")
    seed = await _issue(nats_credentials, nats_server, name, "module", emits=["order:paid"])
    conn = Connection()
    client = await conn.open(nats_server.url, seed, name)
    try:
        js = client.jetstream()
        ack = await js.publish(event_subject("order:paid", name), b"{}")  # its own, declared: stored
        assert ack.stream == "WEBOS_EVENTS"
        forbidden = [
            event_subject("order:paid", "billing"),        # as another principal
            event_subject("notification:send", name),      # a topic it did not declare
            "webos.auth.revoked",                          # sign anybody out
            "$KV.webos_modules.enabled.tasks",             # switch a module off
            "$KV.webos_modules.manifest.tasks.rogue",      # take another module's traffic
            "$JS.API.STREAM.DELETE.WEBOS_EVENTS",          # drop the event log
        ]
        for subject in forbidden:
            await client.publish(subject, b"{}")
            assert await conn.refused(subject), subject
        await client.publish(f"$KV.webos_modules.manifest.{name}.i1", b"{}")  # its own registry key
        await client.flush()
        assert not [e for e in conn.errors if f"manifest.{name}" in e]
        await (await nc.jetstream().key_value("webos_modules")).purge(f"manifest.{name}.i1")
    finally:
        await client.close()


async def test_an_event_nats_refuses_fails_at_once_as_refused_not_as_a_timeout(
        nats_server: NatsServer, nats_credentials: CredentialStore) -> None:
    """The refusal is an asynchronous -ERR naming the subject: the bus turns it into the publish's
    own `PublishRefused` (the outbox sets such a row aside) instead of a timeout (an outage, retried)."""
    name = _name("mod")
    seed = await _issue(nats_credentials, nats_server, name, "module", emits=["ledger:posted"])  # no model: any payload
    client = await connect_nats(nats_server.url, name=name, credential_file=seed, principal=name)
    bus = EventBus(client, service=name, settings=BusSettings(publish_timeout=30))
    try:
        assert await bus.emit("ledger:posted", {}) is not None  # declared: stored
        started = time.monotonic()
        with pytest.raises(PublishRefused) as refused:
            await bus.emit("ledger:reversed", {})
        assert time.monotonic() - started < 15, "waited for the acknowledgement's timeout (30 s)"
        assert refused.value.subject == event_subject("ledger:reversed", name)
        assert "permissions violation" in refused.value.reason.lower()
        assert await bus.emit("ledger:posted", {}) is not None  # the connection goes on
    finally:
        await bus.close()
        await client.close()


async def test_a_module_cannot_ask_for_secrets_contacts_or_others_settings(
        nats_server: NatsServer, nats_credentials: CredentialStore) -> None:
    name = _name("mod")
    seed = await _issue(nats_credentials, nats_server, name, "module")
    conn = Connection()
    client = await conn.open(nats_server.url, seed, name)
    try:
        for subject in ("webos.settings.system.smtp", "webos.settings.module.tasks", "webos.settings.user",
                        "webos.auth.users.contacts"):
            with pytest.raises(nats.errors.TimeoutError):  # the request never leaves: nobody could answer
                await client.request(subject, b"{}", timeout=0.3)
            assert await conn.refused(subject), subject
    finally:
        await client.close()


async def test_a_module_cannot_listen_to_what_it_did_not_declare(
        nats_server: NatsServer, nats_credentials: CredentialStore) -> None:
    name = _name("mod")
    durable = f"{name}--on_paid"
    seed = await _issue(nats_credentials, nats_server, name, "module", consumes=["order:paid"], consumers=[durable])
    conn = Connection()
    client = await conn.open(nats_server.url, seed, name)
    try:
        # everything, every module's record events (live push's), others' replies, logs
        for subject in ("webos.events.>", topic_filter("*:created"), "_INBOX.>", "webos.logs.>"):
            await client.subscribe(subject)
            assert await conn.refused(subject, kind="subscription"), subject
        bus = EventBus(client, service=name, settings=BusSettings(publish_timeout=1))
        await bus.start()
        received: list[EventEnvelope] = []

        async def on_paid(event: EventEnvelope) -> None:
            received.append(event)

        bus.subscribe("order:paid", on_paid, name="on_paid")  # its declared consumer: allowed
        await bus.wait_ready()
        with pytest.raises(Exception):  # noqa: B017 - a consumer on every event is refused (no answer)
            js = client.jetstream(timeout=0.5)
            from nats.js.api import ConsumerConfig
            await js.add_consumer("WEBOS_EVENTS", ConsumerConfig(name=durable, durable_name=durable,
                                                                  filter_subject=topic_filter(">")))
        await bus.close()
    finally:
        await client.close()


async def test_the_shell_and_the_events_service_hear_every_modules_record_events_live(
        nats_server: NatsServer, nats_credentials: CredentialStore, nc: NATS) -> None:
    """Live push tells people which module changed (`webos_common.bus.live`): both its listeners'
    credentials may subscribe to any module's record events on core NATS."""
    for principal in ("shell-ui", "events"):
        seed = await _issue(nats_credentials, nats_server, principal, "service")
        conn = Connection()
        client = await conn.open(nats_server.url, seed, principal)
        heard: list[str] = []

        async def on_record(msg: Any, into: list[str] = heard) -> None:
            into.append(msg.subject)

        try:
            actions = ("created", "bulk_updated")
            for action in actions:
                await client.subscribe(topic_filter(f"*:{action}"), cb=on_record)
            await client.flush()
            subjects = [event_subject(f"note:{action}", "notes") for action in actions]
            for subject in subjects:
                await nc.publish(subject, b"{}")
            await nc.flush()
            for _ in range(500):  # each subscription's callbacks run in a task of their own: any order
                if len(heard) == len(subjects):
                    break
                await asyncio.sleep(0.02)
            assert sorted(heard) == sorted(subjects), principal
            assert not conn.errors, conn.errors
        finally:
            await client.close()


async def test_the_shell_and_modules_queue_tasks_only_as_themselves_and_never_flip_modules(
        nats_server: NatsServer, nats_credentials: CredentialStore, nc: NATS) -> None:
    """The module switch goes through the settings API; the task queue subject names who queued."""
    name = _name("mod")
    seeds = {"shell-ui": await _issue(nats_credentials, nats_server, "shell-ui", "service"),
             name: await _issue(nats_credentials, nats_server, name, "module", emits=["task:status"])}
    for principal, seed in seeds.items():
        conn = Connection()
        client = await conn.open(nats_server.url, seed, principal)
        try:
            for subject in ("$KV.webos_modules.enabled.tasks", "webos.tasks.run.tasks-worker",
                            "webos.tasks.run.billing"):
                await client.publish(subject, b"{}")
                assert await conn.refused(subject), (principal, subject)
            ack = await client.jetstream().publish(f"webos.tasks.run.{principal}", b"not a task")
            assert ack.stream == "WEBOS_TASKS"
            await nc.jetstream().delete_msg("WEBOS_TASKS", ack.seq)  # no worker should see it
        finally:
            await client.close()


async def test_a_module_claims_only_its_own_jobs_due_times(
        nats_server: NatsServer, nats_credentials: CredentialStore) -> None:
    """Its host runs its jobs on the one scheduler (`webos_common.processes.schedule`) with its own credential."""
    name = _name("mod")
    seed = await _issue(nats_credentials, nats_server, name, "module")
    conn = Connection()
    client = await conn.open(nats_server.url, seed, name)
    try:
        ran: list[str] = []

        async def job() -> None:
            ran.append("tick")

        own = Scheduler(DueTimes(client.jetstream(timeout=1), create=False),
                        [Schedule(id=f"module.{name}.tick", action=job, every=60, name="tick")])
        now = datetime.now(UTC)
        assert await own.run_due(now) == []  # first sight: its key created
        assert await own.run_due(now + timedelta(seconds=61)) == ["tick"]  # claimed by compare-and-set
        assert ran == ["tick"]
        for subject in ("$KV.webos_schedules.next.module.tasks.notify_due_tomorrow",  # another module's job
                        "$KV.webos_schedules.schedule.rogue", "$KV.webos_schedules.next.task.rogue"):  # the worker's
            await client.publish(subject, b"{}")
            assert await conn.refused(subject), subject
    finally:
        await client.close()


async def test_a_rotated_credential_stops_working(nats_server: NatsServer, nats_credentials: CredentialStore) -> None:
    name = _name("svc")
    old = await _issue(nats_credentials, nats_server, name, "module")
    old_seed = old.read_text()
    conn = Connection()
    client = await conn.open(nats_server.url, old, name)
    kept = Path(str(old) + ".old")
    kept.write_text(old_seed)
    kept.chmod(0o600)
    new = nats_credentials.rotate(name)
    nats_server.reload()
    await wait_credential(nats_server.url, kept, principal=name, accepted=False)  # the old key: refused
    await wait_credential(nats_server.url, new, principal=name)  # the new one: in
    for _ in range(100):  # and the connection made with the old key was closed by the server
        if not client.is_connected:
            break
        await asyncio.sleep(0.05)
    assert not client.is_connected
    await client.close()
    nats_credentials.revoke(name)
    nats_server.reload()
    await wait_credential(nats_server.url, new, principal=name, accepted=False)


async def test_a_missing_or_refused_credential_stops_the_start_at_once_naming_both(
        nats_server: NatsServer, tmp_path: Path) -> None:
    missing = tmp_path / "nope.nk"
    with pytest.raises(NatsAuthError, match=r"NATS at .*nope\.nk"):
        await connect_nats(nats_server.url, name="svc", credential_file=missing)
    stranger = tmp_path / "stranger.nk"
    CredentialStore(tmp_path / "elsewhere").issue("stranger", "module").rename(stranger)
    started = time.monotonic()
    with pytest.raises(NatsAuthError, match=r"NATS at .* refused the credential .*stranger\.nk"):
        await connect_nats(nats_server.url, name="stranger", credential_file=stranger, deadline=30)
    assert time.monotonic() - started < 5  # refused is final: no retrying until the deadline
    with pytest.raises(NatsAuthError, match="without credential"):
        await connect_nats(nats_server.url, name="svc")


async def test_a_refused_subject_is_logged_once_with_the_subject(
        nats_server: NatsServer, nats_credentials: CredentialStore) -> None:
    name = _name("mod")
    seed = await _issue(nats_credentials, nats_server, name, "module")
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    client = await connect_nats(nats_server.url, name=name, credential_file=seed, principal=name)
    try:
        for _ in range(3):
            await client.publish("webos.auth.revoked", b"{}")
            await client.flush()
        await asyncio.sleep(0.3)
    finally:
        await client.close()
        logger.remove(sink)
    refused = [line for line in lines if "webos.auth.revoked" in line]
    assert len(refused) == 1 and "NATS refused a subject" in refused[0]


class _Shelf:
    """A one-file data source: what a module serves in the test below."""

    def __init__(self, source_id: str) -> None:
        self.id = source_id

    def capabilities(self) -> Capabilities:
        return Capabilities(write=False, delete=False, move=False, mkdir=False, kind="shelf")

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def get_stat(self, path: str) -> FileMetadata:
        if path != "book.txt":
            raise FileMissing(f"No {path}")
        return FileMetadata(path="book.txt", name="book.txt", is_dir=False, size=4)

    async def list_dir(self, path: str) -> list[FileMetadata]:
        return [await self.get_stat("book.txt")]


async def test_only_storage_calls_a_modules_data_source_and_only_that_module_answers(
        nats_server: NatsServer, nats_credentials: CredentialStore) -> None:
    owner, other, source = _name("mod"), _name("mod"), _name("shelf")
    owner_seed = await _issue(nats_credentials, nats_server, owner, "module", data_sources=[source])
    other_seed = await _issue(nats_credentials, nats_server, other, "module", data_sources=["own-shelf"])
    storage_seed = await _issue(nats_credentials, nats_server, "storage", "service")
    owner_conn, other_conn, storage_conn = Connection(), Connection(), Connection()
    owner_nc = await owner_conn.open(nats_server.url, owner_seed, owner)
    other_nc = await other_conn.open(nats_server.url, other_seed, other)
    storage_nc = await storage_conn.open(nats_server.url, storage_seed, "storage")
    server = SourceServer(owner_nc, owner, "i1", [_Shelf(source)])  # type: ignore[list-item]
    await server.start()
    try:
        remote = RemoteDataSource(storage_nc, owner, server.entries()[0], timeout=2)
        assert (await remote.get_stat("book.txt")).size == 4  # storage asks, the owner answers
        with pytest.raises(FileMissing):  # its errors arrive as themselves
            await remote.get_stat("nope.txt")
        assert remote.capabilities().kind == "shelf" and not remote.capabilities().write
        asked = f"webos.afs.{owner}.q.{source}.stat"
        with pytest.raises(nats.errors.TimeoutError):  # another module may not call it ...
            await other_nc.request(asked, b"", timeout=0.3)
        assert await other_conn.refused(asked)
        for subject in (f"webos.afs.{owner}.q.{source}.*", f"webos.afs.{owner}.s.*.*",  # ... nor answer for it
                        f"webos.afs.{other}.q.undeclared.*"):  # nor serve a source it did not declare
            await other_nc.subscribe(subject, queue=f"webos-afs-{owner}")
            assert await other_conn.refused(subject, kind="subscription"), subject
        assert (await remote.get_stat("book.txt")).size == 4  # still only the owner answers
    finally:
        await server.stop()
        for client in (owner_nc, other_nc, storage_nc):
            await client.close()


async def test_only_the_shell_reads_or_writes_peoples_sessions(
        nats_server: NatsServer, nats_credentials: CredentialStore, nc: NATS) -> None:
    """`webos_shell_sessions` holds every signed-in person's (sealed) tokens: the shell's credential reads,
    watches and writes it; no other service's or module's does."""
    from nats.js.api import DeliverPolicy

    from webos_common.security.nats_permissions import SHELL_SESSIONS_BUCKET as BUCKET

    await (await nc.jetstream().key_value(BUCKET)).put("s-auth-test", b"enc:v1:sealed")
    module = _name("mod")
    seeds = {"shell-ui": await _issue(nats_credentials, nats_server, "shell-ui", "service"),
             "storage": await _issue(nats_credentials, nats_server, "storage", "service"),
             module: await _issue(nats_credentials, nats_server, module, "module")}
    seen: list[bytes] = []

    async def on_change(msg: Any) -> None:
        seen.append(msg.data)

    for principal, seed in seeds.items():
        conn = Connection()
        client = await conn.open(nats_server.url, seed, principal)
        try:
            get, put = f"$JS.API.DIRECT.GET.KV_{BUCKET}.$KV.{BUCKET}.s-auth-test", f"$KV.{BUCKET}.s-auth-test"
            if principal == "shell-ui":
                kv = await client.jetstream().key_value(BUCKET)
                assert (await kv.get("s-auth-test")).value == b"enc:v1:sealed"
                sub = await client.jetstream().subscribe(f"$KV.{BUCKET}.>", stream=f"KV_{BUCKET}", cb=on_change,
                                                         ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)
                await kv.put("s-auth-test", b"enc:v1:again")
                for _ in range(100):
                    if seen:
                        break
                    await asyncio.sleep(0.02)
                assert seen == [b"enc:v1:again"]
                await sub.unsubscribe()
                await kv.delete("s-auth-test")
                assert not conn.errors, conn.errors
                continue
            with pytest.raises(nats.errors.TimeoutError):
                await client.request(get, b"", timeout=0.3)
            assert await conn.refused(get), (principal, get)
            await client.publish(put, b"stolen")
            assert await conn.refused(put), (principal, put)
            await client.subscribe(f"$KV.{BUCKET}.>")
            assert await conn.refused(f"$KV.{BUCKET}.>", kind="subscription"), principal
        finally:
            await client.close()
