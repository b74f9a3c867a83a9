"""The TaskIQ broker: a JetStream work queue, results in a NATS object store.

One process-wide `broker`; `configure(nats_url, …)` points it at a server,
as this process's principal, before `start()` (services) or the worker
(`webos_common.tasks.worker`). A task is queued on `webos.tasks.run.<principal>`:
the subject names who queued it (each principal may publish only its own).

A task queued for a person carries a bus token (label `webos_identity`,
see `webos_common.bus.identity`) that auth issued to the queuing principal
for that person. The worker checks it as each message arrives (`admit`),
before any middleware or task code sees the message: a forged, foreign or
missing token is refused with a `security:` line, the task is marked
failed and the message is terminated.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import nats
from loguru import logger
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from taskiq import AckableMessage, BrokerMessage
from taskiq_nats import NATSObjectStoreResultBackend, PullBasedJetStreamBroker

from webos_common.bus import EventBus
from webos_common.bus.connection import connect_options, nats_servers
from webos_common.bus.identity import BusIdentity, IdentityRefused
from webos_common.bus.streams import provisioned, wait_streams
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.identity import User
from webos_common.tasks.status import CANCEL_PREFIX, MAX_DELIVERIES, TaskRecord, TaskState, TaskStore, ack_wait

STREAM = "WEBOS_TASKS"
SUBJECT = "webos.tasks.run"  # .<principal>
DURABLE = "webos-workers"
RESULTS_BUCKET = "webos_task_results"


class ResultBackend(NATSObjectStoreResultBackend[Any]):
    """taskiq-nats's object-store results; a process that may not provision (its credential
    only uses the bucket) waits for provisioning to make the bucket, as for every stream and KV
    bucket (`provisioned`), instead of trying to create it: `webos up` starts the processes while
    NATS is being provisioned, and a worker that came first exited on a permissions violation."""

    def __init__(self, *args: Any, create: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.create = create

    async def startup(self) -> None:
        if self.create:
            await super().startup()
            return
        self.nats_client = await nats.connect(servers=self.servers, **self.connect_options)
        self.nats_jetstream = self.nats_client.jetstream()
        self.object_store = await provisioned(lambda: self.nats_jetstream.object_store(self.bucket_name),
                                              f"object store {self.bucket_name}")


def stream_config() -> StreamConfig:
    """The work queue: every `webos.tasks.run.<principal>` subject."""
    return StreamConfig(name=STREAM, subjects=[f"{SUBJECT}.>"], retention=RetentionPolicy.WORK_QUEUE,
                        storage=StorageType.FILE)


class WebOSBroker(PullBasedJetStreamBroker):
    """PullBasedJetStreamBroker whose server address is set late (`configure`)."""

    def __init__(self) -> None:
        super().__init__(
            servers=[],
            subject=f"{SUBJECT}.>",
            stream_name=STREAM,
            durable=DURABLE,
            stream_config=stream_config(),
            consumer_config=ConsumerConfig(
                durable_name=DURABLE, ack_policy=AckPolicy.EXPLICIT, ack_wait=ack_wait(), max_deliver=MAX_DELIVERIES,
                filter_subject=f"{SUBJECT}.>",
            ),
            pull_consume_batch=1,
            pull_consume_timeout=5.0,
            name="webos-tasks",
        )
        self.principal = "tasks"
        self.may_provision = True
        self.started = False
        self.store: TaskStore | None = None
        self.bus: EventBus | None = None
        self.running: dict[str, asyncio.Task[Any]] = {}
        self.cancelled: set[str] = set()
        self._cancel_sub: Subscription | None = None
        self._beats: set[asyncio.Task[None]] = set()
        self.identity = BusIdentity.unchecked()
        self.verified: dict[str, tuple[User | None, str | None]] = {}  # task id -> proven person, token

    def configure(self, nats_url: str, *, credential_file: str | None = None, principal: str = "tasks",
                  identity: BusIdentity | None = None, ca_file: str | None = None) -> WebOSBroker:
        """Where NATS is, and who this process is there (its credential and principal name);
        `identity` signs the person of each task queued and checks those a worker runs."""
        object.__setattr__(self, "servers", nats_servers(nats_url))
        self.principal = principal
        self.identity = identity or BusIdentity.unchecked()
        self.may_provision = credential_file is None
        options = connect_options(name=f"{principal}-tasks", credential_file=credential_file, principal=principal,
                                  ca_file=ca_file)
        object.__setattr__(self, "connection_kwargs", options)  # Final in taskiq-nats; set late like servers
        backend = ResultBackend(servers=self.servers, bucket_name=RESULTS_BUCKET, create=self.may_provision,
                                **options)
        self.with_result_backend(backend)
        return self

    def _kept_alive(self, msg: Msg) -> Callable[[], Awaitable[None]]:
        async def beat() -> None:
            while True:
                await asyncio.sleep(ack_wait() / 3)
                try:
                    await msg.in_progress()
                except Exception as exc:  # noqa: BLE001 - redelivery settles it
                    logger.debug("task keep-alive failed: {}", exc)

        beating = asyncio.create_task(beat(), name="task-keep-alive")
        self._beats.add(beating)
        beating.add_done_callback(self._beats.discard)

        async def ack() -> None:
            await cancel_and_wait(beating, what="task keep-alive")
            await msg.ack()

        return ack

    async def kick(self, message: BrokerMessage) -> None:
        await self.js.publish(f"{SUBJECT}.{self.principal}", payload=message.message, headers=message.labels)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Worker side: each queued message, once `admit` let it in, with a keep-alive: while a
        worker holds it, an in-progress beat every third of the ack wait; a worker that dies stops
        beating and JetStream redelivers the task within the ack wait (30 s), not after a long timeout."""
        while True:
            try:
                batch = await self.consumer.fetch(batch=self.pull_consume_batch, timeout=self.pull_consume_timeout)
            except NatsTimeoutError:
                continue
            for msg in batch:
                if await self.admit(msg):
                    yield AckableMessage(data=msg.data, ack=self._kept_alive(msg))

    async def admit(self, msg: Msg) -> bool:
        """Check the person a queued task acts for: a token auth issued for that person to the
        principal the subject names (only it may publish there). Keeps what it proved for
        `pre_execute`; refuses (terminated, marked failed, one `security:` line) otherwise."""
        from webos_common.tasks.middleware import CONTEXT_LABEL, IDENTITY_LABEL

        publisher = msg.subject.rpartition(".")[2]
        try:
            message = self.formatter.loads(msg.data)
            raw = message.labels.get(CONTEXT_LABEL)
            user = (json.loads(raw) if isinstance(raw, str) and raw else {}).get("user") or {}
        except (ValueError, TypeError, AttributeError) as exc:
            logger.warning("security: task message on {} refused: unreadable ({})", msg.subject, exc)
            await msg.term()
            return False
        if not user.get("id"):
            return True
        token = message.labels.get(IDENTITY_LABEL)
        try:
            verified = await self.identity.verify(str(user["id"]), str(token) if token else None, publisher,
                                                  msg.metadata.timestamp.timestamp())
        except IdentityRefused as exc:
            logger.warning("security: task {} {} queued by {} refused: {}", message.task_name, message.task_id,
                           publisher, exc)
            await self._refused(message.task_id, message.task_name, str(exc))
            await msg.term()
            return False
        except Exception as exc:  # noqa: BLE001 - auth's keys unreachable: not a forgery, try again later
            logger.warning("task {}: its identity cannot be checked now ({}); redelivering", message.task_id, exc)
            await msg.nak(delay=5)
            return False
        self.verified[message.task_id] = (verified, str(token) if verified is not None else None)
        return True

    async def _refused(self, task_id: str, name: str, reason: str) -> None:
        if self.store is None:
            return

        def failed(record: TaskRecord) -> None:
            record.state, record.error = TaskState.failed, f"identity refused: {reason}"[:4000]

        await self.store.update(task_id, failed, default=TaskRecord(id=task_id, name=name))

    async def _startup_consumer(self) -> None:
        if self.is_worker_process:  # a process that only queues tasks needs no consumer
            await super()._startup_consumer()

    async def startup(self) -> None:
        if not self.servers:
            raise RuntimeError("tasks broker not configured: call webos_common.tasks.configure(nats_url)")
        object.__setattr__(self, "client", Client())  # a fresh connection for this event loop
        await super().startup()
        self.store = TaskStore(self.js, create=self.may_provision)
        await self.store.open()
        self.bus = EventBus(self.client, service=self.principal, identity=self.identity)
        await wait_streams(self.bus.js, self.bus.settings)
        if self.is_worker_process:
            self._cancel_sub = await self.client.subscribe(f"{CANCEL_PREFIX}.*", cb=self._on_cancel)
            await self.identity.follow(self.client)  # a person signed out everywhere: their queued tasks stop
        self.started = True

    async def _on_cancel(self, msg: Msg) -> None:
        task_id = msg.subject.rsplit(".", 1)[-1]
        running = self.running.get(task_id)
        if running is not None and not running.done():
            logger.info("cancelling task {}", task_id)
            self.cancelled.add(task_id)
            running.cancel()

    async def shutdown(self) -> None:
        self.started = False
        await cancel_and_wait(list(self._beats), what="task keep-alives")
        if self._cancel_sub is not None:
            await self._cancel_sub.unsubscribe()
            self._cancel_sub = None
        if self.bus is not None:  # its ack waiter's subscription and timeout sweeper
            await self.bus.close()
        await super().shutdown()
