"""Topic `entity:action` ↔ NATS subject `webos.events.entity.action`.

Wildcards: `*` stands for one token (`file:*`, `*:created`), `>` for the
rest (`file:>`, or `>` alone for every event).
"""

from __future__ import annotations

import re

EVENTS_PREFIX = "webos.events"
REPLAY_PREFIX = "webos.replay"
DLQ_PREFIX = "webos.dlq"

_TOKEN = re.compile(r"^[A-Za-z0-9_\-]+$")


def topic_to_subject(topic: str) -> str:
    """The subject of a topic or topic pattern; raises ValueError if malformed."""
    if topic == ">":
        return f"{EVENTS_PREFIX}.>"
    entity, sep, action = topic.partition(":")
    if not sep or not entity or not action:
        raise ValueError(f"topic {topic!r} is not of the form entity:action")
    parts = [*entity.split("."), *action.split(".")]
    for i, part in enumerate(parts):
        if part == ">" and i == len(parts) - 1:
            continue
        if part != "*" and not _TOKEN.match(part):
            raise ValueError(f"topic {topic!r} has an invalid token {part!r}")
    return ".".join([EVENTS_PREFIX, *parts])


def is_pattern(topic: str) -> bool:
    return topic == ">" or any(t in ("*", ">") for t in re.split(r"[:.]", topic))


def topic_matches(pattern: str, topic: str) -> bool:
    """True when a concrete topic falls under a pattern (same rules as NATS)."""
    want = topic_to_subject(pattern).split(".")
    have = topic_to_subject(topic).split(".")
    for i, part in enumerate(want):
        if part == ">":
            return len(have) > i
        if i >= len(have) or (part != "*" and part != have[i]):
            return False
    return len(want) == len(have)


def safe_name(value: str) -> str:
    """A name usable as a JetStream consumer name and subject token."""
    return re.sub(r"[^A-Za-z0-9_\-]", "_", value)[:200]
