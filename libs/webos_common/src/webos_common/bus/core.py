"""`EventBus`: emit events and run handlers over NATS JetStream.

    bus = EventBus(nc, service="storage")
    await bus.start()

    @bus.on("file:*")
    async def index(event: EventEnvelope) -> None: ...

    await bus.emit("file:created", {"urn": urn})
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from loguru import logger
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from pydantic import BaseModel

from webos_common import context
from webos_common.bus.consumer import Handler, Subscription
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.identity import BusIdentity
from webos_common.bus.publisher import AckPublisher
from webos_common.bus.schemas import validate_payload
from webos_common.bus.settings import BusSettings
from webos_common.bus.streams import wait_streams
from webos_common.bus.topics import event_subject, is_pattern
from webos_common.bus.wire import envelope_body, envelope_header_block
from webos_common.identity import User
from webos_common.observability import metrics, tracing

H = TypeVar("H", bound=Handler)


_FIELDS = frozenset(EventEnvelope.model_fields)


def _construct(values: dict[str, Any]) -> EventEnvelope:
    """`EventEnvelope.model_construct` for a complete set of fields, without its per-field loop."""
    envelope = EventEnvelope.__new__(EventEnvelope)
    object.__setattr__(envelope, "__dict__", values)
    object.__setattr__(envelope, "__pydantic_fields_set__", set(_FIELDS))
    object.__setattr__(envelope, "__pydantic_extra__", None)
    object.__setattr__(envelope, "__pydantic_private__", None)
    return envelope


class EventBus:
    def __init__(self, nc: NATS, *, service: str, settings: BusSettings | None = None,
                 identity: BusIdentity | None = None) -> None:
        if not service:
            raise ValueError("service name is required")
        event_subject("bus:check", service)  # the name is a subject token: the NATS user may publish under it
        self.nc = nc
        self.service = service
        self.identity = identity or BusIdentity.unchecked()
        self.settings = settings or BusSettings()
        self.js: JetStreamContext = nc.jetstream(timeout=self.settings.publish_timeout)
        self.publisher = AckPublisher(nc, timeout=self.settings.publish_timeout)
        self.subscriptions: list[Subscription] = []
        self._started = False
        self._pending: set[asyncio.Task[None]] = set()

    # -- lifecycle ------------------------------------------------------------
    async def start(self) -> None:
        """Wait for the (provisioned) streams, then start a consumer for every handler so far (and later)."""
        await wait_streams(self.js, self.settings)
        self._started = True
        await asyncio.gather(*(s.start(self.nc, self.js, self.settings, self.identity) for s in self.subscriptions))

    async def wait_ready(self) -> None:
        """Wait until consumers of handlers subscribed after `start` exist."""
        while self._pending:
            await asyncio.gather(*list(self._pending))

    async def close(self) -> None:
        await asyncio.gather(*list(self._pending), return_exceptions=True)
        await asyncio.gather(*(s.stop() for s in self.subscriptions), return_exceptions=True)
        await self.publisher.close()
        self._started = False

    # -- publishing -----------------------------------------------------------
    async def emit(self, topic: str, payload: BaseModel | dict[str, Any] | None = None, *,
                   id: str | None = None) -> EventEnvelope:
        """Validate, wrap in an envelope stamped with the current context, publish.

        Raises ValidationFailed (nothing published) when the topic's schema refuses
        the payload.
        """
        subject = event_subject(topic, self.service)  # also checks the topic's tokens
        if is_pattern(topic):
            raise ValueError(f"cannot emit to a pattern: {topic!r}")
        data = validate_payload(topic, payload)
        with tracing.maybe_span(f"{topic} publish", kind=SpanKind.PRODUCER, attributes=_sending(subject)):
            return await self._emit(topic, subject, data, id)

    async def _emit(self, topic: str, subject: str, data: dict[str, Any], id: str | None) -> EventEnvelope:
        user = context.current_user.get()
        token = await self.identity.token(user) if user is not None else None
        if token is None and user is not None and self.identity.required:
            user = None  # no proof of the person: the event goes out as this process's own
        # every field is built here from checked parts: skip re-validating them (hot path)
        envelope = _construct({
            "id": id or uuid.uuid4().hex, "topic": topic, "payload": data, "source": self.service,
            "trace_id": context.trace_id.get(), "span_id": context.span_id.get(),
            "user_id": user.id if user else None, "timestamp": datetime.now(UTC),
        })
        await self._publish(subject, envelope, user, token)
        metrics.event_published(topic)
        return envelope

    async def publish(self, envelope: EventEnvelope, *, user: User | dict[str, Any] | None = None,
                      identity: str | None = None) -> bool:
        """Publish a ready envelope with the identity token obtained when it was written (the
        outbox relay's one row; `send` for a batch). False if it was a duplicate."""
        return await self._stored(await self.send(envelope, user=user, identity=identity), envelope)

    async def send(self, envelope: EventEnvelope, *, user: User | dict[str, Any] | None = None,
                   identity: str | None = None) -> asyncio.Future[bool]:
        """Send a ready envelope now and return the future of the stream's answer (False: a duplicate):
        a batch is sent in order, then its acknowledgements are awaited together.

        Traced as a PRODUCER span child of the span that wrote the event (its envelope's trace), and
        the event goes out naming that PRODUCER span as its parent: the consumer joins the tree."""
        subject = event_subject(envelope.topic, self.service)
        if not tracing.active():
            return await self._send(subject, envelope, user, identity)
        carrier = {context.TRACEPARENT: context.format_traceparent(
            envelope.trace_id, envelope.span_id or context.new_span_id())} if envelope.trace_id else None
        attributes = {**_sending(subject), "messaging.message.id": envelope.id}
        with tracing.maybe_span(f"{envelope.topic} publish", kind=SpanKind.PRODUCER, carrier=carrier,
                                attributes=attributes):
            traced = envelope.model_copy(update={"trace_id": context.trace_id.get(), "span_id": context.span_id.get()})
            return await self._send(subject, traced, user, identity)

    async def _send(self, subject: str, envelope: EventEnvelope, user: User | dict[str, Any] | None,
                    identity: str | None = None) -> asyncio.Future[bool]:
        headers = envelope_header_block(envelope, user, identity)
        return await self.publisher.publish(subject, envelope_body(envelope), headers)

    async def _publish(self, subject: str, envelope: EventEnvelope, user: User | dict[str, Any] | None,
                       identity: str | None = None) -> bool:
        return await self._stored(await self._send(subject, envelope, user, identity), envelope)

    @staticmethod
    async def _stored(ack: asyncio.Future[bool], envelope: EventEnvelope) -> bool:
        stored = await ack
        if not stored:
            logger.debug("bus: duplicate event {} dropped by the stream", envelope.id)
        return stored

    # -- subscribing ----------------------------------------------------------
    def subscribe(self, topic: str, handler: Handler, *, name: str | None = None,
                  max_deliver: int | None = None, validate: bool = True, concurrency: int = 1) -> Subscription:
        """Run `handler` for every event matching `topic` (once per service).

        `validate=False` hands over payloads even when they fail their schema
        (an audit log wants them all).
        """
        sub = Subscription(topic, handler, service=self.service, name=name, max_deliver=max_deliver,
                           validate=validate, concurrency=concurrency)
        if any(s.durable == sub.durable for s in self.subscriptions):
            raise ValueError(f"handler {sub.name!r} already subscribed in {self.service}")
        self.subscriptions.append(sub)
        if self._started:
            task = asyncio.create_task(sub.start(self.nc, self.js, self.settings, self.identity))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return sub

    def on(self, topic: str, *, name: str | None = None, max_deliver: int | None = None,
           validate: bool = True, concurrency: int = 1) -> Callable[[H], H]:
        """Decorator form of `subscribe`."""

        def decorate(handler: H) -> H:
            self.subscribe(topic, handler, name=name, max_deliver=max_deliver, validate=validate,
                           concurrency=concurrency)
            return handler

        return decorate


def _sending(subject: str) -> dict[str, str]:
    """OpenTelemetry messaging attributes of a publish (semantic conventions, messaging)."""
    return {"messaging.system": "nats", "messaging.destination.name": subject,
            "messaging.operation.type": "send", "messaging.operation.name": "publish"}
