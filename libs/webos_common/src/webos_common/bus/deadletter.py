"""Dead letters: what a consumer gave up on, with the error and attempts.

Published to `webos.dlq.<consumer>` in the dead-letter stream. Replay sends
the original envelope to `webos.replay.<consumer>`, which only that
consumer listens to, so the other services do not see it twice.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from nats.js import JetStreamContext
from pydantic import BaseModel, Field

from webos_common.bus.topics import DLQ_PREFIX, REPLAY_PREFIX, topic_to_subject
from webos_common.bus.wire import MSG_ID, envelope_headers
from webos_common.envelope import EventEnvelope

Reason = Literal["handler_failed", "invalid_payload", "invalid_envelope", "max_deliver_exceeded"]


class DeadLetter(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    service: str
    consumer: str
    subject: str
    reason: Reason
    error: str
    attempts: int
    envelope: dict[str, Any] | None = None
    raw: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    stream_seq: int | None = None
    failed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def topic(self) -> str | None:
        return (self.envelope or {}).get("topic")


def dlq_subject(consumer: str) -> str:
    return f"{DLQ_PREFIX}.{consumer}"


def replay_subject(consumer: str) -> str:
    return f"{REPLAY_PREFIX}.{consumer}"


async def publish_dead_letter(js: JetStreamContext, letter: DeadLetter, *, stream: str) -> None:
    msg_id = f"dlq-{letter.consumer}-{letter.stream_seq or letter.id}"
    await js.publish(
        dlq_subject(letter.consumer), letter.model_dump_json().encode(),
        headers={MSG_ID: msg_id}, stream=stream,
    )


async def replay_dead_letter(js: JetStreamContext, letter: DeadLetter, *, to_subject: bool = False) -> None:
    """Deliver the dead letter's envelope again to the consumer that failed it.

    `to_subject=True` re-publishes on the topic's own subject instead (every
    subscriber sees it again).
    """
    if letter.envelope is None:
        raise ValueError("dead letter has no envelope to replay")
    envelope = EventEnvelope.model_validate(letter.envelope)
    headers = {**envelope_headers(envelope, user=None), **letter.headers}
    headers[MSG_ID] = f"{envelope.id}-replay-{uuid.uuid4().hex[:12]}"
    subject = topic_to_subject(envelope.topic) if to_subject else replay_subject(letter.consumer)
    await js.publish(subject, envelope.to_json(), headers=headers)


def parse_dead_letter(data: bytes) -> DeadLetter:
    return DeadLetter.model_validate(json.loads(data))
