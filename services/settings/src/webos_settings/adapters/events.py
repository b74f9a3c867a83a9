"""`settings:changed` out to every listener.

Through the bus (`resources.bus.emit`) once a service has one; until then
(or in a process without it) as the same envelope on the topic's subject
`webos.events.settings.settings.changed` with core NATS. Clients that only need to
drop a cache listen with a plain core subscription on that subject, so
every replica hears every change (a shared durable consumer would hand
each event to one replica only).
"""

from __future__ import annotations

from typing import Any, Literal

from loguru import logger
from pydantic import BaseModel

from webos_common.bus import register_event
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.topics import event_subject
from webos_common.bus.wire import envelope_body, envelope_headers

TOPIC = "settings:changed"
SUBJECT = event_subject(TOPIC, "settings")


class SettingsChanged(BaseModel):
    """The payload of `settings:changed` (module is the section name for the system layer)."""

    layer: Literal["system", "module", "user"]
    module: str
    key: str | None = None  # the changed key when exactly one changed
    keys: list[str] = []
    user: str | None = None
    version: int | None = None
    schema_changed: bool = False


register_event(TOPIC, SettingsChanged)


class ChangePublisher:
    def __init__(self, resources: Any, *, source: str = "settings") -> None:
        self.resources = resources
        self.source = source

    async def changed(self, payload: dict[str, Any]) -> None:
        try:
            bus = getattr(self.resources, "bus", None)
            if bus is not None:
                await bus.emit(TOPIC, payload)
                return
            nc = self.resources.nats
            if nc is None:
                return
            envelope = EventEnvelope.create(TOPIC, payload, source=self.source)
            await nc.publish(SUBJECT, envelope_body(envelope), headers=envelope_headers(envelope))
            await nc.flush()
        except Exception:  # noqa: BLE001 - the write has committed; a lost event only delays caches
            logger.exception("settings: could not publish {}", TOPIC)
