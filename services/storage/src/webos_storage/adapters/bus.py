"""Event buses for the service.

`ResourcesBus` hands events to the shared bus (`resources.bus`, the
`webos_common` bus: `await bus.emit(topic, payload)`) when the app has one;
until then it publishes an `EventEnvelope` on the bus's NATS subject
(`webos.events.storage.<entity>.<action>`). `RecordingBus` keeps what was emitted,
for unit tests of the service.
"""

from __future__ import annotations

from typing import Any

from loguru import logger

from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.topics import event_subject
from webos_common.bus.wire import envelope_body, envelope_headers


class ResourcesBus:
    def __init__(self, resources: Any, *, source: str = "storage") -> None:
        self.resources, self.source = resources, source

    async def emit(self, topic: str, payload: dict[str, Any]) -> None:
        """Publish; a failure is logged and never fails the change that caused it."""
        try:
            await self._emit(topic, payload)
        except Exception:  # noqa: BLE001 - the file operation already happened
            logger.exception("could not publish {}", topic)

    async def _emit(self, topic: str, payload: dict[str, Any]) -> None:
        bus = getattr(self.resources, "bus", None)
        if bus is not None:
            await bus.emit(topic, payload)
            return
        nats = getattr(self.resources, "nats", None)
        if nats is None:
            logger.debug("no bus: dropped {}", topic)
            return
        envelope = EventEnvelope.create(topic, payload, source=self.source)
        await nats.publish(event_subject(topic, self.source), envelope_body(envelope),
                           headers=envelope_headers(envelope))


class RecordingBus:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def emit(self, topic: str, payload: dict[str, Any]) -> None:
        self.events.append((topic, payload))

    def topics(self) -> list[str]:
        return [topic for topic, _ in self.events]
