"""The NATS subject permissions of each principal, and the server's
`authorization` block built from them.

Nothing here is written per deployment: a module's permissions follow from
what it declares (the topics it emits and consumes, its consumers — the
same declarations its manifest announces), a kernel service's from the
role table below, which says in one place what each one does on the bus.
Each principal may

* publish events only under its own name (`webos.events.<name>.…`) and only
  the topics it declared, and consume only the topics it declared, through
  its own durable consumers (one filter subject each, which the server
  checks when the consumer is created);
* receive replies only on its own inbox prefix (`_INBOX.<name>.>`): a reply
  carrying a secret reaches the one who asked and nobody else;
* answer storage's calls only for the data sources it declared
  (`webos.afs.<module>.…`, `webos_common.files.remote`); only storage calls them;
* write only its own registry keys (`manifest.<module>.*`) and its jobs' due times
  (`next.module.<module>.*` in `webos_schedules`: `webos_common.processes.schedule`); only settings
  flips `enabled.*`, only auth publishes revocations, only settings answers
  settings requests and only auth answers contact look-ups; only the shell reads or
  writes the people's sessions (`webos_shell_sessions`).

Everything not allowed is denied; the server answers a denied publish with
a permissions violation (the client logs it once, naming the subject) and
drops it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from webos_common.bus.topics import EVENTS_PREFIX, REPLAY_SOURCE, event_subject, topic_filter
from webos_common.config import WebOSSettings
from webos_common.documents.sharing import RECORD_ACTIONS
from webos_common.security.principals import Principal, PrincipalRegistry

EVENTS_STREAM, DLQ_STREAM, TASKS_STREAM = "WEBOS_EVENTS", "WEBOS_DLQ", "WEBOS_TASKS"
TASKS_BUCKET, SCHEDULES_BUCKET = "webos_tasks", "webos_schedules"
RESULTS_BUCKET = "webos_task_results"
RATE_LIMIT_BUCKET = "webos_ratelimits"  # the gateway replicas' shared rate limit counters
SHELL_SESSIONS_BUCKET = "webos_shell_sessions"  # the shell replicas' sessions (sealed): `webos_shell.sessions`
AFS_PREFIX = "webos.afs"  # remote data sources: `webos_common.files.remote`
TASK_TOPICS = ("task:status", "task:progress")  # what queueing or running a task announces
# any module's record events (`documents.sharing.RECORD_ACTIONS`): live push says "module changed" to
# whoever has a page open and may read the record (`bus.live`)
RECORD_TOPICS = tuple(f"*:{action}" for action in RECORD_ACTIONS)


def inbox_prefix(principal: str) -> str:
    """The only inbox a principal may receive replies on (nats-py's `inbox_prefix`)."""
    return f"_INBOX.{principal}"


@dataclass
class Permissions:
    publish: set[str] = field(default_factory=set)
    subscribe: set[str] = field(default_factory=set)
    responds: bool = False  # may answer requests (publish to the requester's reply subject once)

    def add(self, other: Permissions) -> Permissions:
        self.publish |= other.publish
        self.subscribe |= other.subscribe
        self.responds = self.responds or other.responds
        return self

    def as_config(self) -> dict[str, object]:
        body: dict[str, object] = {"publish": {"allow": sorted(self.publish)},
                                   "subscribe": {"allow": sorted(self.subscribe)}}
        if self.responds:
            body["allow_responses"] = {"max": 1, "expires": "1m"}
        return body


# -- building blocks ------------------------------------------------------------------
def _api(*parts: str) -> str:
    return ".".join(("$JS.API", *parts))


def stream_user(stream: str) -> Permissions:
    return Permissions(publish={_api("INFO"), _api("STREAM.INFO", stream)})


def kv_reader(bucket: str) -> Permissions:
    stream = f"KV_{bucket}"
    return Permissions(publish={
        _api("STREAM.INFO", stream), _api("STREAM.MSG.GET", stream), _api("DIRECT.GET", stream),
        _api("DIRECT.GET", stream, ">"), _api("CONSUMER.CREATE", stream), _api("CONSUMER.CREATE", stream, ">"),
        _api("CONSUMER.DELETE", stream, "*"), _api("CONSUMER.INFO", stream, "*"), f"$JS.FC.{stream}.>",
    })


def kv_writer(bucket: str, keys: str) -> Permissions:
    return Permissions(publish={_api("STREAM.INFO", f"KV_{bucket}"), f"$KV.{bucket}.{keys}"})


def object_store(bucket: str) -> Permissions:
    stream = f"OBJ_{bucket}"
    reader = kv_reader(bucket)  # the same API shape, on the object store's stream
    reader.publish = {s.replace(f"KV_{bucket}", stream) for s in reader.publish}
    return reader.add(Permissions(publish={f"$O.{bucket}.>", _api("STREAM.PURGE", stream)}))


def consumer(stream: str, durable: str, filters: list[str]) -> Permissions:
    perms = Permissions(publish={
        _api("CONSUMER.INFO", stream, durable), _api("CONSUMER.MSG.NEXT", stream, durable),
        f"$JS.ACK.{stream}.{durable}.>",
    })
    perms.publish |= {_api("CONSUMER.CREATE", stream, durable, f) for f in filters}
    return perms


def emitter(name: str, topics: list[str]) -> Permissions:
    perms = stream_user(EVENTS_STREAM)
    perms.publish |= {event_subject(topic, name) for topic in topics}
    return perms


def bus_consumers(principal: Principal) -> Permissions:
    filters = [topic_filter(t) for t in principal.consumes]
    perms = stream_user(EVENTS_STREAM).add(stream_user(DLQ_STREAM))
    for durable in principal.consumers:
        perms.add(consumer(EVENTS_STREAM, durable, filters))
        perms.publish.add(f"webos.dlq.{durable}")
    return perms


def task_client(name: str) -> Permissions:
    """Queue tasks (under its own name only: the worker knows who queued each), follow their
    status and results, ask for a cancel."""
    return stream_user(TASKS_STREAM).add(Permissions(publish={
        _api("STREAM.CREATE", TASKS_STREAM),  # taskiq re-declares the (provisioned) stream: idempotent
        f"webos.tasks.run.{name}", "webos.tasks.cancel.*"})).add(
        kv_reader(TASKS_BUCKET)).add(kv_writer(TASKS_BUCKET, "task.*")).add(object_store(RESULTS_BUCKET))


def task_worker(name: str) -> Permissions:
    perms = task_client(name).add(consumer(TASKS_STREAM, "webos-workers", []))
    perms.publish |= {_api("CONSUMER.DURABLE.CREATE", TASKS_STREAM, "webos-workers"), _api("STREAM.NAMES")}
    perms.subscribe.add("webos.tasks.cancel.*")
    return perms.add(kv_reader(SCHEDULES_BUCKET)).add(kv_writer(SCHEDULES_BUCKET, ">"))


def base(name: str) -> Permissions:
    """What every process does: its inbox, its log lines, revocations and settings changes."""
    return Permissions(
        publish={f"webos.logs.{name}", f"webos.cache.evict.{name}"},
        subscribe={f"{inbox_prefix(name)}.>", "webos.auth.revoked", event_subject("settings:changed", "settings"),
                   f"webos.cache.evict.{name}"},
    )


# -- the kernel's roles -----------------------------------------------------------------------
@dataclass(frozen=True)
class BusRole:
    """What a kernel process does with events: the topics it emits (its credential allows exactly
    these) and the topic patterns it receives, durably or live. The event catalogue reads it too."""

    emits: list[str]
    receives: list[str] = field(default_factory=list)


KERNEL_EVENTS: dict[str, BusRole] = {
    "auth": BusRole(["user:created", "user:updated", "user:deleted", "user:logged_in",
                     "notification:send"]),  # access requests reach the admins
    "storage": BusRole(["file:*", "storage:quota_changed", *TASK_TOPICS]),
    "settings": BusRole(["settings:changed"]),
    "events": BusRole(["notification:created"], [">", "notification:send", "task:>"]),  # the log, the bell
    "shell-ui": BusRole([], ["notification:created", "task:>", *RECORD_TOPICS]),  # pushed live to open pages
}
WORKER_EVENTS = BusRole([*TASK_TOPICS, "notification:send"])  # every task worker (`<name>-worker`)


def registry_bucket() -> str:
    """The module registry's bucket as this deployment names it (`WEBOS_REGISTRY_BUCKET`)."""
    return WebOSSettings().registry_bucket


def _kernel(name: str) -> Permissions:
    modules = registry_bucket()
    roles: dict[str, Permissions] = {
        "gateway": kv_reader(modules).add(kv_reader(RATE_LIMIT_BUCKET)).add(
            kv_writer(RATE_LIMIT_BUCKET, ">")),
        "auth": emitter("auth", KERNEL_EVENTS["auth"].emits).add(
            kv_reader(modules)).add(  # the permissions modules declare in their manifests
            Permissions(publish={"webos.auth.revoked"},
                        subscribe={"webos.auth.users.contacts"}, responds=True)),
        # modules' data sources: it follows the registry and calls their hosts
        "storage": emitter("storage", KERNEL_EVENTS["storage"].emits).add(kv_reader(modules)).add(
            Permissions(publish={f"{AFS_PREFIX}.>"})),
        "settings": emitter("settings", KERNEL_EVENTS["settings"].emits).add(kv_reader(modules)).add(
            kv_writer(modules, "enabled.*")).add(
            Permissions(subscribe={"webos.settings.>"}, responds=True)),
        "events": emitter("events", KERNEL_EVENTS["events"].emits).add(  # the catalogue reads manifests
            kv_reader(modules)).add(Permissions(
            publish={f"{EVENTS_PREFIX}.{REPLAY_SOURCE}.>", "webos.auth.users.contacts",
                     "webos.settings.user", _api("CONSUMER.CREATE", DLQ_STREAM, ">"),
                     _api("CONSUMER.CREATE", DLQ_STREAM), _api("CONSUMER.DURABLE.CREATE", DLQ_STREAM, ">"),
                     _api("CONSUMER.INFO", DLQ_STREAM, "*"), _api("CONSUMER.MSG.NEXT", DLQ_STREAM, "*"),
                     _api("STREAM.MSG.GET", DLQ_STREAM), _api("DIRECT.GET", DLQ_STREAM, ">"),
                     f"$JS.ACK.{DLQ_STREAM}.>", f"$JS.FC.{DLQ_STREAM}.>"},
            subscribe={event_subject("notification:created", "events"), topic_filter("task:>"),
                       *(topic_filter(t) for t in RECORD_TOPICS)})).add(task_client("events")),
        # the people's sessions, which only the shell reads or writes (sealed: they hold their tokens)
        "shell-ui": kv_reader(modules).add(task_client("shell-ui")).add(kv_reader(SHELL_SESSIONS_BUCKET)).add(
            kv_writer(SHELL_SESSIONS_BUCKET, ">")).add(
            Permissions(
                subscribe={"webos.logs.>", event_subject("notification:created", "events"),
                           topic_filter("task:>"), *(topic_filter(t) for t in RECORD_TOPICS)})),
    }
    if name not in roles:
        raise KeyError(f"no kernel service is called {name!r}")
    return roles[name]


KERNEL_SERVICES = ("gateway", "auth", "storage", "settings", "events", "shell-ui")
KERNEL_CONSUMERS = {  # durable consumers kernel services run, with their topics
    "events": (["events--event-log", "events--notify"], [">", "notification:send"]),
}


def kernel_principal(name: str, public_key: str) -> Principal:
    """The registry entry of a kernel service (its declarations come from the role table)."""
    consumers, consumes = KERNEL_CONSUMERS.get(name, ([], []))
    return Principal(name=name, kind="service", public_key=public_key, consumers=consumers, consumes=consumes)


# -- per principal ------------------------------------------------------------------------------
def permissions_for(principal: Principal) -> Permissions | None:
    """The principal's permissions; None means every subject (the operator's own tools)."""
    name = principal.name
    if principal.kind == "operator":
        return None
    perms = base(name).add(bus_consumers(principal))
    if principal.kind == "service":
        return perms.add(_kernel(name))
    if principal.kind == "worker":
        return perms.add(task_worker(name)).add(emitter(name, WORKER_EVENTS.emits))
    # a module host
    perms.add(emitter(name, principal.emits)).add(kv_writer(registry_bucket(), f"manifest.{name}.*"))
    perms.add(kv_reader(SCHEDULES_BUCKET)).add(kv_writer(SCHEDULES_BUCKET, f"next.module.{name}.*"))  # its jobs
    perms.publish.add(f"webos.settings.module.{name}")
    if any(t in principal.emits for t in TASK_TOPICS):  # it queues tasks
        perms.add(task_client(name))
    return perms.add(data_source_server(name, principal.data_sources))


def data_source_server(module: str, sources: list[str]) -> Permissions:
    """Answer storage's calls to the sources it declared (one queue group), and its own uploads."""
    if not sources:
        return Permissions()
    subscribe = {f"{AFS_PREFIX}.{module}.q.{source}.*" for source in sources}
    subscribe.add(f"{AFS_PREFIX}.{module}.s.*.*")
    return Permissions(subscribe=subscribe, responds=True)


def authorization(registry: PrincipalRegistry, extra_users: list[dict[str, object]] | None = None,
                  ) -> dict[str, object]:
    """The server's `authorization` block: one nkey user per principal (plus `extra_users`,
    e.g. the test session's password user)."""
    users: list[dict[str, object]] = list(extra_users or [])
    for principal in sorted(registry.principals.values(), key=lambda p: p.name):
        perms = permissions_for(principal)
        user: dict[str, object] = {"nkey": principal.public_key}
        if perms is not None:
            user["permissions"] = perms.as_config()
        users.append(user)
    return {"users": users}


def render(registry: PrincipalRegistry, extra_users: list[dict[str, object]] | None = None) -> str:
    """The `authorization` block as NATS configuration text (JSON is valid NATS syntax)."""
    return "authorization: " + json.dumps(authorization(registry, extra_users), indent=2) + "\n"
