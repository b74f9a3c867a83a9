"""One handler's durable pull consumer: fetch, restore context, run, ack.

The consumer is named `<service>--<handler>` so every replica of a service
binds the same one and JetStream hands each event to one of them.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import typing
from collections.abc import Awaitable, Callable
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError
from opentelemetry.trace import SpanKind
from pydantic import BaseModel

from webos_common import context
from webos_common.bus.deadletter import REPLAY_FOR, DeadLetter, Reason, publish_dead_letter
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.identity import BusIdentity, IdentityRefused
from webos_common.bus.pull import pull_messages
from webos_common.bus.schemas import parse_payload, schema_for
from webos_common.bus.settings import BusSettings
from webos_common.bus.topics import REPLAY_SOURCE, safe_name, source_of, topic_filter
from webos_common.bus.wire import TRACEPARENT, envelope_of, handler_scope
from webos_common.http.errors import ValidationFailed
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.identity import User
from webos_common.observability import metrics, tracing

Handler = Callable[[Any], Awaitable[Any]]


def handler_name(handler: Callable[..., Any]) -> str:
    return f"{handler.__module__}.{handler.__qualname__}".replace(".<locals>", "")


def _typed_model(handler: Callable[..., Any]) -> type[BaseModel] | None:
    """The payload model a handler asks for by annotating its first parameter."""
    try:
        hints = typing.get_type_hints(handler)
    except Exception:  # noqa: BLE001 - unresolved annotations: hand the envelope
        return None
    params = [p for p in inspect.signature(handler).parameters.values() if p.name != "self"]
    if not params:
        return None
    hint = hints.get(params[0].name)
    if isinstance(hint, type) and issubclass(hint, BaseModel) and not issubclass(hint, EventEnvelope):
        return hint
    return None


class Subscription:
    """A topic pattern, its handler and the durable consumer that feeds it."""

    def __init__(self, topic: str, handler: Handler, *, service: str, name: str | None = None,
                 max_deliver: int | None = None, validate: bool = True, concurrency: int = 1) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency  # > 1: handled side by side, acked as each finishes (no order kept)
        self.topic = topic
        self.validate = validate
        self.subject = topic_filter(topic)
        self.handler = handler
        self.service = service
        self.name = name or handler_name(handler)
        self.durable = safe_name(f"{service}--{self.name}")
        self._metric_ok = metrics.EVENTS_CONSUMED.labels(self.durable, "ok")
        self._metric_retried = metrics.EVENTS_CONSUMED.labels(self.durable, "retried")
        self._metric_dead = metrics.EVENTS_CONSUMED.labels(self.durable, "dead_lettered")
        self._metric_seconds = metrics.EVENT_HANDLER_SECONDS.labels(self.durable)
        self.max_deliver = max_deliver
        self.model = _typed_model(handler)
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._busy: list[Any] | None = None  # [message, last sign of life] while the handler runs
        self._inflight: set[asyncio.Task[None]] = set()

    def argument(self, envelope: EventEnvelope) -> Any:
        """What the handler receives; raises ValidationFailed on a bad payload."""
        schema = schema_for(envelope.topic) if self.validate else None
        if schema is not None and (self.model is None or self.model is not schema):
            parse_payload(schema, envelope.topic, envelope.payload)
        if self.model is not None:
            return parse_payload(self.model, envelope.topic, envelope.payload)
        return envelope

    # -- lifecycle ------------------------------------------------------------
    async def start(self, nc: NATS, js: JetStreamContext, cfg: BusSettings,
                    identity: BusIdentity | None = None) -> None:
        self.identity = identity or BusIdentity.unchecked()
        config = ConsumerConfig(
            name=self.durable,  # with one filter, NATS puts both in the API subject: permissions can check them
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.NEW,
            ack_wait=cfg.ack_wait,
            max_deliver=-1,  # the bus dead-letters itself, so nothing is dropped silently
            filter_subject=self.subject,
            max_ack_pending=10_000,
        )
        try:
            await js.add_consumer(cfg.stream, config=config)  # creates, or updates compatible changes
        except BadRequestError as exc:
            logger.warning("bus consumer {} keeps its existing configuration: {}", self.durable, exc)
        self._task = asyncio.create_task(self._run(nc, js, cfg), name=f"bus:{self.durable}")
        self._watchdog = asyncio.create_task(self._keep_alive(cfg.ack_wait / 2), name=f"bus:{self.durable}:wpi")

    async def stop(self) -> None:
        await cancel_and_wait([self._task, self._watchdog], what=f"bus consumer {self.durable}")
        self._task = self._watchdog = None
        if self._inflight:  # what is not acked yet is redelivered
            await asyncio.wait(list(self._inflight), timeout=2.0)
            for task in list(self._inflight):
                task.cancel()

    async def _keep_alive(self, beat: float) -> None:
        """Tell JetStream a slow handler is still working (`+WPI`) at least every `beat`
        seconds (half of ack_wait): one task per consumer, no timer per message."""
        while True:
            await asyncio.sleep(beat / 2)
            busy = self._busy
            now = time.monotonic()
            if busy is not None and now - busy[1] >= beat / 2:
                busy[1] = now
                try:
                    await busy[0].in_progress()
                except Exception as exc:  # noqa: BLE001 - the ack (or redelivery) settles it anyway
                    logger.debug("bus consumer {} could not send +WPI: {}", self.durable, exc)

    async def _run(self, nc: NATS, js: JetStreamContext, cfg: BusSettings) -> None:
        while True:
            try:
                slots = asyncio.Semaphore(self.concurrency)
                async for msg in pull_messages(nc, stream=cfg.stream, durable=self.durable,
                                               batch=cfg.fetch_batch):
                    if self.concurrency == 1:
                        await self._settle(js, cfg, msg)
                        continue
                    await slots.acquire()
                    task = asyncio.create_task(self._settle(js, cfg, msg, slots))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnects, server restarts
                logger.warning("bus consumer {} pull failed: {}", self.durable, exc)
                await asyncio.sleep(0.5)

    async def _settle(self, js: JetStreamContext, cfg: BusSettings, msg: Msg,
                      slots: asyncio.Semaphore | None = None) -> None:
        try:
            await self.dispatch(js, cfg, msg)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - never kill the consumer loop
            logger.exception("bus consumer {} failed to settle a message", self.durable)
        finally:
            if slots is not None:
                slots.release()

    # -- one message ----------------------------------------------------------
    async def dispatch(self, js: JetStreamContext, cfg: BusSettings, msg: Msg) -> None:
        attempt = _delivered(msg)
        max_deliver = self.max_deliver or cfg.max_deliver
        try:
            envelope = envelope_of(msg.headers, msg.data)
        except ValidationFailed as exc:
            await self._dead_letter(js, cfg, msg, None, "invalid_envelope", exc, attempt)
            return
        source = source_of(msg.subject)
        if source == REPLAY_SOURCE:
            replay_for = (msg.headers or {}).get(REPLAY_FOR)
            if replay_for and replay_for != self.durable:  # another consumer's dead letter
                await msg.ack()
                return
        elif source != envelope.source:
            await self._refuse(js, cfg, msg, envelope, "forged_source", PermissionError(
                f"envelope says source {envelope.source!r} but {source!r} published it"), attempt)
            return
        try:
            verified = None if not envelope.user_id else await self.identity.check(
                envelope, msg.headers or {}, envelope.source, _stored_at(msg))
        except IdentityRefused as exc:
            await self._refuse(js, cfg, msg, envelope, "forged_identity", exc, attempt)
            return
        if attempt > max_deliver:
            await self._dead_letter(js, cfg, msg, envelope, "max_deliver_exceeded",
                                    RuntimeError("delivered more than max_deliver times"), attempt - 1)
            return
        try:
            argument = self.argument(envelope)
        except ValidationFailed as exc:
            await self._dead_letter(js, cfg, msg, envelope, "invalid_payload", exc, attempt)
            return
        started = time.perf_counter()
        try:
            await self._run_handler(msg, envelope, argument, verified)
        except Exception as exc:  # noqa: BLE001 - any handler failure is retried
            if attempt >= max_deliver:
                logger.warning("bus handler {} gave up on {} after {} attempts: {!r}",
                               self.durable, envelope.topic, attempt, exc)
                await self._dead_letter(js, cfg, msg, envelope, "handler_failed", exc, attempt)
            else:
                logger.info("bus handler {} failed on {} (attempt {}): {!r}", self.durable, envelope.topic,
                            attempt, exc)
                self._metric_retried.inc()
                await msg.nak(delay=cfg.delay(attempt))
            return
        finally:
            self._metric_seconds.observe(time.perf_counter() - started)
        self._metric_ok.inc()
        await msg.ack()

    async def _run_handler(self, msg: Msg, envelope: EventEnvelope, argument: Any, verified: User | None) -> None:
        self._busy = [msg, time.monotonic()]
        try:
            scope = handler_scope(envelope, msg.headers, verified, trust_headers=not self.identity.required)
            with scope, self._span(msg, envelope):
                await self.handler(argument)
        finally:
            self._busy = None

    def _span(self, msg: Msg, envelope: EventEnvelope) -> Any:
        """The CONSUMER span of one delivery, child of the publisher's (`ce-traceparent`)."""
        if not tracing.active():
            return tracing.maybe_span("")
        return tracing.start_span(
            f"{envelope.topic} process", kind=SpanKind.CONSUMER,
            carrier={context.TRACEPARENT: (msg.headers or {}).get(TRACEPARENT) or ""},
            attributes={"messaging.system": "nats", "messaging.destination.name": msg.subject,
                        "messaging.operation.type": "process", "messaging.operation.name": "process",
                        "messaging.consumer.group.name": self.durable, "messaging.message.id": envelope.id})

    async def _refuse(self, js: JetStreamContext, cfg: BusSettings, msg: Msg, envelope: EventEnvelope,
                      reason: Reason, exc: BaseException, attempts: int) -> None:
        """A security refusal: one WARNING line, the event in dead letters, the handler never runs."""
        logger.warning("security: {} refused {} {} from {}: {}", self.durable, reason, envelope.id, msg.subject, exc)
        await self._dead_letter(js, cfg, msg, envelope, reason, exc, attempts)

    async def _dead_letter(self, js: JetStreamContext, cfg: BusSettings, msg: Msg,
                           envelope: EventEnvelope | None, reason: Reason, exc: BaseException,
                           attempts: int) -> None:
        headers = {k: v for k, v in (msg.headers or {}).items() if not k.startswith("Nats-")}
        letter = DeadLetter(
            service=self.service, consumer=self.durable, subject=msg.subject, reason=reason,
            error=f"{type(exc).__name__}: {exc}"[:4000], attempts=attempts,
            envelope=envelope.model_dump(mode="json") if envelope else None,
            raw=None if envelope else msg.data.decode(errors="replace")[:65536],
            headers=headers, stream_seq=msg.metadata.sequence.stream,
        )
        await publish_dead_letter(js, letter, stream=cfg.dlq_stream)
        self._metric_dead.inc()
        await msg.ack()


def _stored_at(msg: Msg) -> float | None:
    """When the server stored `msg` (seconds), off its reply subject: the time an event was really
    sent, which its emitter cannot backdate."""
    tokens = (msg.reply or "").split(".")
    if len(tokens) == 9 and tokens[7].isdigit():
        return int(tokens[7]) / 1e9
    return None


def _delivered(msg: Msg) -> int:
    """How many times JetStream delivered `msg`, read off its reply subject
    (`$JS.ACK.<stream>.<consumer>.<delivered>.…`) without nats-py's full metadata parse."""
    tokens = (msg.reply or "").split(".")
    if len(tokens) == 9 and tokens[4].isdigit():
        return int(tokens[4]) or 1
    return msg.metadata.num_delivered or 1
