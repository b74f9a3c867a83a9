"""Dead letters: what a consumer gave up on, with the error and attempts.

Published to `webos.dlq.<consumer>` in the dead-letter stream. Replay sends
the original envelope again on its topic from the source `_replay` (only the
events service may publish there) with a `webos-replay-for: <consumer>`
header: every consumer of the topic receives it, and all but that one
settle it without running their handler, so the others do not see it twice.
(One filter subject per consumer is what lets NATS permissions say which
topics a principal may consume.)
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from nats.js import JetStreamContext
from pydantic import BaseModel, Field

from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.topics import DLQ_PREFIX, REPLAY_SOURCE, event_subject
from webos_common.bus.wire import MSG_ID, envelope_body, envelope_headers

Reason = Literal["handler_failed", "invalid_payload", "invalid_envelope", "max_deliver_exceeded", "forged_source",
                 "forged_identity"]


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


REPLAY_FOR = "webos-replay-for"


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
    headers.pop(REPLAY_FOR, None)
    headers[MSG_ID] = f"{envelope.id}-replay-{uuid.uuid4().hex[:12]}"
    if not to_subject:
        headers[REPLAY_FOR] = letter.consumer
    await js.publish(event_subject(envelope.topic, REPLAY_SOURCE), envelope_body(envelope), headers=headers)


def parse_dead_letter(data: bytes) -> DeadLetter:
    return DeadLetter.model_validate(json.loads(data))
