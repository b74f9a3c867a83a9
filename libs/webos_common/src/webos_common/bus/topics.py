"""Topic `entity:action` ↔ NATS subject `webos.events.<source>.entity.action`.

The subject names who published: `<source>` is the emitting principal's
name, and the NATS server lets each principal publish only under its own
name (its credential's permissions). So a consumer knows the emitter from
the subject alone — no signature to check per event — and refuses an
envelope whose `source` says otherwise. `_replay` is the source of dead
letters an admin replays (only the events service may publish it).

Wildcards: `*` stands for one token (`file:*`, `*:created`), `>` for the
rest (`file:>`, or `>` alone for every event).
"""

from __future__ import annotations

import re

EVENTS_PREFIX = "webos.events"
DLQ_PREFIX = "webos.dlq"
REPLAY_SOURCE = "_replay"

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


def _tokens(topic: str) -> str:
    return topic_to_subject(topic)[len(EVENTS_PREFIX) + 1:]


def event_subject(topic: str, source: str) -> str:
    """The subject `source` publishes `topic` on."""
    if not _TOKEN.match(source) and source != REPLAY_SOURCE:
        raise ValueError(f"source {source!r} is not a single subject token")
    return f"{EVENTS_PREFIX}.{source}.{_tokens(topic)}"


def topic_filter(pattern: str) -> str:
    """The subject filter of a topic pattern, from any source."""
    if pattern == ">":
        return f"{EVENTS_PREFIX}.>"
    return f"{EVENTS_PREFIX}.*.{_tokens(pattern)}"


def source_of(subject: str) -> str | None:
    """The publishing principal named by an event subject (None for other subjects)."""
    parts = subject.split(".", 3)
    if len(parts) < 4 or f"{parts[0]}.{parts[1]}" != EVENTS_PREFIX:
        return None
    return parts[2]


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
