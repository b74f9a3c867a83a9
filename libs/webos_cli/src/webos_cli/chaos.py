"""`webos chaos`: faults against a running `webos up --cluster` stack under a steady write
load, then a checker that compares what clients were told with what is stored.

The load: writers create tasks through the balancer with a client-chosen `Idempotency-Key`
(a create that got no answer is sent again with the same key) and then rename each one in
turn. Every attempt is recorded as the client saw it. Meanwhile the faults run one after
another (`FAULTS`): kill -9 of a replica of every service and of a module host mid-write,
of the NATS stream leader and of the MongoDB primary (both restarted), a NATS node paused
(SIGSTOP) past its election timeout, a NATS node restarted with its store wiped.

The checker (`check`, pure) then holds the history against the final records, the events
stream (publication order) and the events service's log (a consumer):

* every acknowledged (2xx) write is stored with its last acknowledged value, or a later
  write that got no answer (it happened whole); a value nobody sent is `partial`;
* one record per idempotency key;
* each acknowledged version's event is in the stream and in the log exactly once, and one
  record's events are in version order in the stream;
* how long writes were refused after each fault, and what clients saw (never 500).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, TypeVar

import httpx
from pymongo import MongoClient

from webos_cli import infra, stack
from webos_cli.plan import StackPlan
from webos_cli.supervise import read_status
from webos_common.bus.settings import BusSettings
from webos_common.bus.topics import topic_filter

TOPICS = ("task:created", "task:updated")
ACKED = range(200, 300)
REFUSED = range(400, 500)  # a definite "no": nothing was written


T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, on a thread of its own when this thread already runs an event loop
    (a caller's: the round is also run from tests whose browser's sync API holds one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# -- the history and the checker (pure) ---------------------------------------------------
@dataclass(frozen=True)
class Write:
    """One attempted write as its client saw it; `status` 0 means no answer."""

    key: str
    op: str  # "create" | "update"
    value: str
    status: int
    version: int | None = None
    at: float = 0.0
    fault: str | None = None
    retry_after: bool = False
    error: str | None = None  # a refusal's error code (or who answered, when not the platform)

    @property
    def acked(self) -> bool:
        return self.status in ACKED


@dataclass(frozen=True)
class Stored:
    id: str
    title: str


@dataclass(frozen=True)
class Event:
    record: str
    topic: str
    version: int


@dataclass
class Report:
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    reordered: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    unavailable: dict[str, float] = field(default_factory=dict)
    seen: Counter[int] = field(default_factory=Counter)
    bare_503: int = 0  # 503 answers without Retry-After
    bare_from: Counter[str] = field(default_factory=Counter)  # "fault: error" of those

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.reordered or self.partial or self.seen[500]
                    or self.bare_503)

    def line(self) -> str:
        outage = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.unavailable.items()) or "none"
        codes = " ".join(f"{code or 'no answer'}×{n}" for code, n in sorted(self.seen.items()))
        return (f"acknowledged {self.acknowledged}, lost {len(self.lost)}, duplicated {len(self.duplicated)}, "
                f"reordered {len(self.reordered)}, partial {len(self.partial)}; writes unavailable: {outage}; "
                f"answers: {codes}; 503 without Retry-After: {self.bare_503}"
                + (f" ({', '.join(f'{k} ×{n}' for k, n in self.bare_from.items())})" if self.bare_from else ""))


def check(history: list[Write], stored: dict[str, list[Stored]], stream: list[Event], log: list[Event],
          ids: dict[str, str]) -> Report:
    """`stored`: key → records found; `stream`/`log`: events in their order; `ids`: key → record id
    as the acknowledged create answered it."""
    bare = [w for w in history if w.status == 503 and not w.retry_after]
    report = Report(seen=Counter(w.status for w in history), bare_503=len(bare),
                    bare_from=Counter(f"{w.fault or 'no fault'}: {w.error}" for w in bare))
    report.acknowledged = sum(1 for w in history if w.acked)
    by_key: dict[str, list[Write]] = {}
    for write in history:
        by_key.setdefault(write.key, []).append(write)
    in_stream = _versions(stream)
    in_log = _versions(log)
    for key, writes in by_key.items():
        _check_record(report, key, writes, stored.get(key, []))
        record = ids.get(key)
        if record is not None:
            _check_events(report, key, [w for w in writes if w.acked], in_stream.get(record, []),
                          in_log.get(record, []))
    report.unavailable = outages(history)
    return report


def _versions(events: Iterable[Event]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for event in events:
        found.setdefault(event.record, []).append(event.version)
    return found


def _check_record(report: Report, key: str, writes: list[Write], found: list[Stored]) -> None:
    if len(found) > 1:
        report.duplicated.append(f"{key}: {len(found)} records for one idempotency key")
    acked = [i for i, w in enumerate(writes) if w.acked]
    if not found:
        if any(writes[i].op == "create" for i in acked):
            report.lost.append(f"{key}: acknowledged create, no record")
        return
    title = found[0].title
    if title not in {w.value for w in writes}:
        report.partial.append(f"{key}: stored {title!r}, which no client sent")
        return
    if acked:
        last = acked[-1]
        allowed = {writes[last].value} | {w.value for w in writes[last + 1:] if w.status not in REFUSED}
        if title not in allowed:
            report.lost.append(f"{key}: stored {title!r}, last acknowledged {writes[last].value!r}")


def _check_events(report: Report, key: str, acked: list[Write], stream: list[int], log: list[int]) -> None:
    if any(b < a for a, b in pairwise(stream)):
        report.reordered.append(f"{key}: stream versions {stream}")
    for name, versions in (("stream", stream), ("log", log)):
        counts = Counter(versions)
        if any(n > 1 for n in counts.values()):
            report.duplicated.append(f"{key}: {name} versions {sorted(versions)}")
        missing = [w.version for w in acked if w.version is not None and counts[w.version] == 0]
        if missing:
            report.lost.append(f"{key}: acknowledged versions {missing} not in the {name}")


def outages(history: list[Write]) -> dict[str, float]:
    """Per fault: the longest time from a write refused while it was in place to the next
    acknowledged write (whenever that came)."""
    ordered = sorted(history, key=lambda w: w.at)
    worst: dict[str, float] = {}
    for fault in dict.fromkeys(w.fault for w in ordered if w.fault):
        assert fault is not None
        longest, failed_at = 0.0, None
        for write in ordered:
            if failed_at is None and write.fault == fault and not write.acked:
                failed_at = write.at
            elif failed_at is not None and write.acked:
                longest, failed_at = max(longest, write.at - failed_at), None
        if failed_at is not None:  # never acknowledged again
            longest = max(longest, ordered[-1].at - failed_at)
        worst[fault] = longest
    return worst


# -- the load -----------------------------------------------------------------------------
class Load:
    """`writers` threads, each creating a task and renaming it `renames` times, then the next."""

    def __init__(self, base_url: str, token: Callable[[], str], *, run: str, writers: int = 3,
                 renames: int = 4) -> None:
        self.base_url, self.token, self.run_id, self.renames = base_url, token, run, renames
        self.history: list[Write] = []
        self.ids: dict[str, str] = {}
        self.fault: str | None = None
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._writer, args=(n,), daemon=True) for n in range(writers)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        deadline = time.monotonic() + 30  # a write in flight has a 10 s timeout; a sign-in, 30 s
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _send(self, client: httpx.Client, key: str, op: str, value: str, method: str, path: str,
              headers: dict[str, str]) -> Write:
        fault = self.fault
        try:
            answer = client.request(method, path, json={"title": value},
                                    headers={"Authorization": f"Bearer {self.token()}", **headers})
            status = answer.status_code
            body = answer.json() if status in ACKED else {}
            version, after = body.get("version"), "retry-after" in answer.headers
            error = None if status in ACKED else _error_of(answer, whole=status == 503 and not after)
            if status in ACKED and op == "create":
                self.ids[key] = str(body["id"])
        except (httpx.HTTPError, ValueError):
            status, version, after, error = 0, None, False, None
        write = Write(key, op, value, status, version, time.monotonic(), fault, after, error)
        with self._lock:
            self.history.append(write)
        if not write.acked:
            time.sleep(0.2)
        return write

    def _writer(self, number: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            serial = 0
            while not self.stop.is_set():
                serial += 1
                key = f"chaos-{self.run_id}-{number}-{serial}"
                created = False
                while not created and not self.stop.is_set():  # the same key until answered
                    created = self._send(client, key, "create", f"{key}:0", "POST", "/api/tasks/tasks",
                                         {"Idempotency-Key": key}).acked
                for n in range(1, self.renames + 1):
                    if self.stop.is_set() or key not in self.ids:
                        break
                    self._send(client, key, "update", f"{key}:{n}", "PATCH", f"/api/tasks/tasks/{self.ids[key]}", {})


def _error_of(answer: httpx.Response, *, whole: bool = False) -> str:
    """The platform's error code, or (an answer not from the platform) its server and first words;
    `whole`: with the message and the answering server too (a 503 that breaks the rules is traced)."""
    try:
        error = answer.json()["error"]
        if whole:
            return f"{error['code']} ({str(error.get('message'))[:80]!r}, server {answer.headers.get('server', '?')})"
        return str(error["code"])
    except (ValueError, KeyError, TypeError):
        return f"{answer.headers.get('server', '?')}: {answer.text[:60]!r}"


# -- the faults ---------------------------------------------------------------------------
class Faults:
    """Each fault as `name → action`; an action returns when the fault is in place (and, for a
    node that comes back, once it was started again)."""

    def __init__(self, plan: StackPlan) -> None:
        self.plan = plan
        self.servers = infra.servers(plan)

    def records(self) -> dict[str, stack.Record]:
        return stack.load_state(self.plan)

    def child_pid(self, name: str) -> int:
        """The process a supervisor runs for `name` (the service itself, not its supervisor)."""
        return int(read_status(stack.supervisor_file(self.plan, name))["child_pid"])

    def kill_replica(self, *names: str) -> None:
        """kill -9 of the processes themselves: their supervisors start them again."""
        for name in names:
            os.kill(self.child_pid(name), signal.SIGKILL)

    def restart_node(self, name: str, *, down_for: float, wipe: bool = False) -> None:
        """kill -9 of an infrastructure node, then start it again (from an empty store if `wipe`)."""
        os.kill(self.records()[name].pid, signal.SIGKILL)
        time.sleep(down_for)
        server = self.servers[name]
        if wipe:
            shutil.rmtree(server.store_dir, ignore_errors=True)
        pid = server.start(timeout=60)
        stack.record_pid(self.plan, name, pid)

    def pause_node(self, name: str, seconds: float) -> None:
        pid = self.records()[name].pid
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    def mongo_primary(self) -> str:
        ports = ",".join(f"127.0.0.1:{p}" for p in self.plan.mongo_ports)
        client: MongoClient[dict[str, Any]] = MongoClient(f"mongodb://{ports}/?replicaSet=rs0",
                                                          serverSelectionTimeoutMS=20000)
        try:
            client.admin.command("ping")
            primary = client.primary
        finally:
            client.close()
        assert primary is not None
        return f"mongodb.{self.plan.mongo_ports.index(int(primary[1])) + 1}"

    def stream_leader(self) -> str:
        from webos_cli import ops  # the operator's NATS connection

        async def leader() -> str:
            target = ops.target(self.plan.state_dir, self.plan.base_port, None, None, "webos", None)
            async with ops.operator_nats(target) as nc:
                info = await nc.jetstream().stream_info(BusSettings().stream)
            assert info.cluster is not None and info.cluster.leader
            return f"nats.{info.cluster.leader.rpartition('-')[2]}"

        return _run(leader())

    def plan_of_faults(self, *, short: bool) -> list[tuple[str, Callable[[], None]]]:
        """The faults in the order they run."""
        replicas = [f"{s}.1" for s in ("gateway", "auth", "settings", "storage", "events")]
        faults: list[tuple[str, Callable[[], None]]] = [
            ("kill -9 module host tasks.1 mid-write", lambda: self.kill_replica("module:tasks.1")),
            ("kill -9 one replica of every service", lambda: self.kill_replica(*replicas)),
            ("kill -9 NATS stream leader", lambda: self.restart_node(self.stream_leader(), down_for=3)),
            ("kill -9 MongoDB primary", lambda: self.restart_node(self.mongo_primary(), down_for=3)),
        ]
        if not short:
            faults += [
                ("SIGSTOP NATS stream leader 8 s", lambda: self.pause_node(self.stream_leader(), 8)),
                ("NATS node restarted with its store wiped",
                 lambda: self.restart_node("nats.3", down_for=1, wipe=True)),
                ("kill -9 module host tasks.2 mid-write", lambda: self.kill_replica("module:tasks.2")),
            ]
        return faults


# -- collecting the final state -----------------------------------------------------------
def collect(plan: StackPlan, run: str, ids: dict[str, str]) -> tuple[dict[str, list[Stored]], list[Event],
                                                                      list[Event]]:
    from webos_cli import ops

    target = ops.target(plan.state_dir, plan.base_port, None, None, "webos", None)
    client: MongoClient[dict[str, Any]] = MongoClient(target.mongo_url, serverSelectionTimeoutMS=20000)
    try:
        db = client[target.db_name]
        stored: dict[str, list[Stored]] = {}
        for doc in db["tasks_items"].find({"title": {"$regex": f"^chaos-{run}-"}}, {"title": 1}):
            stored.setdefault(str(doc["title"]).rpartition(":")[0], []).append(Stored(str(doc["_id"]), doc["title"]))
        wanted = set(ids.values())
        log = [Event(str(d["payload"]["id"]), d["topic"], int(d["payload"].get("version") or 0))
               for d in db["events_log"].find({"topic": {"$in": list(TOPICS)}, "payload.id": {"$in": list(wanted)}})]
    finally:
        client.close()
    return stored, _run(_stream(target, wanted)), log


async def _stream(target: Any, wanted: set[str]) -> list[Event]:
    from nats.js.api import DeliverPolicy

    from webos_cli import ops

    found: list[Event] = []
    async with ops.operator_nats(target) as nc:
        js = nc.jetstream()
        sub = await js.subscribe(topic_filter("task:*"), stream=BusSettings().stream, ordered_consumer=True,
                                 deliver_policy=DeliverPolicy.ALL)
        give_up = time.monotonic() + 60  # a stream that never goes quiet is reported, not waited on
        try:
            while time.monotonic() < give_up:
                try:
                    msg = await sub.next_msg(timeout=3)
                except TimeoutError:
                    return found
                data = json.loads(msg.data)
                topic = (msg.headers or {}).get("ce-type", "")
                if isinstance(data, dict) and str(data.get("id")) in wanted:
                    found.append(Event(str(data["id"]), topic, int(data.get("version") or 0)))
            return found
        finally:
            await sub.unsubscribe()


# -- one round ----------------------------------------------------------------------------
def login(base_url: str, password: str) -> Callable[[], str]:
    """A token source that signs the admin in again shortly before the token expires."""
    held: dict[str, Any] = {"token": "", "until": 0.0}
    lock = threading.Lock()

    def token() -> str:
        with lock:
            if time.monotonic() > held["until"]:
                give_up = time.monotonic() + 30
                while time.monotonic() < give_up:
                    try:
                        answer = httpx.post(f"{base_url}/api/auth/login", json={"login": "admin", "password": password},
                                            timeout=10)
                        if answer.status_code == 200:
                            body = answer.json()
                            held["token"] = body["access_token"]
                            held["until"] = time.monotonic() + max(30, int(body.get("expires_in", 300)) - 60)
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(1)
            return str(held["token"])

    return token


def run_round(plan: StackPlan, *, short: bool, settle: float = 10.0, quiet: float = 60.0,
              password: str | None = None, say: Callable[[str], None] = print) -> Report:
    """Load, every fault in turn (each followed by `settle` seconds of load), quiet, check."""
    base_url = f"http://127.0.0.1:{plan.base_port}"
    token = login(base_url, password or os.environ.get("WEBOS_ADMIN_PASSWORD", "changeme"))
    faults = Faults(plan)
    run = uuid.uuid4().hex[:8]
    started = time.monotonic()
    with Load(base_url, token, run=run) as load:
        time.sleep(settle)
        for name, act in faults.plan_of_faults(short=short):
            say(f"{time.monotonic() - started:6.1f}s fault: {name}")
            load.fault = name
            act()
            time.sleep(settle)
            load.fault = None
        say(f"{time.monotonic() - started:6.1f}s load stops")
    report = settle_and_check(plan, run, load, quiet=quiet)
    say(f"{time.monotonic() - started:6.1f}s checked")
    return report


def settle_and_check(plan: StackPlan, run: str, load: Load, *, quiet: float = 60.0) -> Report:
    """Wait until every acknowledged version reached the log (or `quiet` s passed), then check."""
    deadline = time.monotonic() + quiet
    while True:
        stored, stream, log = collect(plan, run, load.ids)
        report = check(load.history, stored, stream, log, load.ids)
        if report.ok or time.monotonic() > deadline:
            return report
        time.sleep(3)
