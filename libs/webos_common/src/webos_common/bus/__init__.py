"""The event bus over NATS JetStream (seed 001; seed 002 §11.2).

`EventBus(nc, service=...)`: `emit(topic, payload)`, `@on(topic)` /
`subscribe(topic, handler)`; `register_event(topic, Model)` for payload
schemas; dead letters in their own stream (`deadletter`).
"""

from webos_common.bus.consumer import Subscription
from webos_common.bus.core import EventBus
from webos_common.bus.deadletter import DeadLetter, replay_dead_letter
from webos_common.bus.publisher import PublishRefused
from webos_common.bus.schemas import register_event, registered_events, schema_for, unregister_event
from webos_common.bus.settings import BusSettings
from webos_common.bus.topics import topic_matches, topic_to_subject
from webos_common.compat import nats as nats_compat

nats_compat.install()  # every event carries up to 13 headers: nats-py's own parser is the slowest step

__all__ = [
    "BusSettings", "DeadLetter", "EventBus", "PublishRefused", "Subscription", "register_event", "registered_events",
    "replay_dead_letter", "schema_for", "topic_matches", "topic_to_subject", "unregister_event",
]
