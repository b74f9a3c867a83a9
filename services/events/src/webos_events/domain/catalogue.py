"""The event catalogue as an AsyncAPI 3.0 document.

One channel per event type (its NATS subject, `webos.events.{source}.<entity>.<action>`,
where `{source}` is the publishing principal), one message per channel with
the CloudEvents binary-mode headers the bus writes (`webos_common.bus.wire`)
and the payload's JSON Schema; one `send` operation per publisher and one
`receive` operation per subscriber of each channel. Payload schemas go to
`components.schemas` under `<owner>.<Model>`, their `$defs` beside them, so two
services' `Item` stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from loguru import logger

from webos_common.bus.topics import EVENTS_PREFIX, is_pattern, topic_matches, topic_to_subject
from webos_common.http.openapi import rewrite_refs
from webos_events.domain.headers import HEADERS, headers_for

ASYNCAPI = "3.0.0"
DESCRIPTION = (
    "Every event type on the WebOS bus (NATS JetStream, stream `WEBOS_EVENTS`): who publishes it, who "
    "receives it, and its payload. Each event is a CloudEvents 1.0 message in the binary content mode of "
    "the NATS protocol binding: the context attributes travel as `ce-*` headers, the body is the event data "
    "as JSON. A principal publishes only under its own name (`{source}` in the address) and only the topics "
    "it declared; the server refuses anything else. Generated from the kernel's bus roles and the modules' "
    "manifests in the module registry.")


@dataclass
class Participant:
    name: str
    kind: str  # service | worker | module
    emits: list[str]
    receives: list[str]
    version: str = ""
    description: str = ""


@dataclass
class Sources:
    participants: list[Participant] = field(default_factory=list)
    schemas: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # topic -> (owner, schema)
    status: dict[str, str] = field(default_factory=dict)  # where each part came from: ok | unavailable

    def add_schemas(self, owner: str, emits: list[str], schemas: dict[str, Any]) -> None:
        for topic, schema in sorted(schemas.items()):
            if topic in self.schemas or not isinstance(schema, dict) or is_pattern(topic):
                continue
            if any(topic_matches(pattern, topic) for pattern in emits):
                self.schemas[topic] = (owner, schema)
            else:
                logger.warning("event catalogue: {} described {}, which it does not emit", owner, topic)


def key(topic: str) -> str:
    """A topic's channel and message key: its subject tokens (`file:created` → `file.created`)."""
    return topic_to_subject(topic)[len(EVENTS_PREFIX) + 1:]


def build(sources: Sources, *, nats_url: str) -> dict[str, Any]:
    topics = _topics(sources)
    schemas: dict[str, Any] = {"CloudEventHeaders": HEADERS}
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in topics:
        k = key(topic)
        publishers = [p.name for p in sources.participants if _emits(p, topic)]
        channels[k] = _channel(topic, k, publishers)
        messages[k] = _message(topic, _payload(sources, topic, schemas))
    return {
        "asyncapi": ASYNCAPI,
        "id": "urn:webos:events",
        "info": {"title": "WebOS events", "version": "1", "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {"nats": _server(nats_url)},
        "channels": channels,
        "operations": _operations(sources.participants, topics),
        "components": {"schemas": schemas, "messages": messages},
        "x-webos-sources": sources.status,
    }


def _topics(sources: Sources) -> list[str]:
    """Every concrete topic: what is declared by name, and what a declared pattern covers."""
    found = set(sources.schemas)
    for participant in sources.participants:
        found |= {t for t in (*participant.emits, *participant.receives) if not is_pattern(t)}
    return sorted(found)


def _emits(participant: Participant, topic: str) -> bool:
    return any(topic_matches(pattern, topic) for pattern in participant.emits)


def _receives(participant: Participant, topic: str) -> bool:
    return any(topic_matches(pattern, topic) for pattern in participant.receives)


def _channel(topic: str, k: str, publishers: list[str]) -> dict[str, Any]:
    source: dict[str, Any] = {"description": "The publishing principal (a kernel service, module or "
                                             "`<name>-worker`); the server lets each publish only under its name."}
    if publishers:
        source["examples"] = publishers
    return {"address": f"{EVENTS_PREFIX}.{{source}}.{k}", "title": topic, "parameters": {"source": source},
            "messages": {k: {"$ref": f"#/components/messages/{k}"}}}


def _message(topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"name": topic, "title": topic, "contentType": "application/json",
            "summary": f"The `{topic}` event (CloudEvents type `{topic}`).",
            "headers": headers_for(topic), "payload": payload,
            "correlationId": {"description": "The W3C trace context the event was emitted in.",
                              "location": "$message.header#/ce-traceparent"}}


def _payload(sources: Sources, topic: str, schemas: dict[str, Any]) -> dict[str, Any]:
    found = sources.schemas.get(topic)
    if found is None:
        return {"type": "object", "description": "No payload schema is registered for this topic."}
    owner, schema = found
    schema = _relocate(schema, owner)
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(f"{owner}.{name}", sub)
    name = f"{owner}.{schema.get('title') or key(topic)}"
    schemas.setdefault(name, schema)
    return {"$ref": f"#/components/schemas/{name}"}


def _relocate(node: Any, owner: str) -> Any:
    """The schema with its local refs (`#/$defs/X`) pointing at `#/components/schemas/<owner>.X`."""
    prefix = "#/$defs/"
    return rewrite_refs(node, lambda ref: f"#/components/schemas/{owner}.{ref[len(prefix):]}"
                        if ref.startswith(prefix) else None)


def _operations(participants: list[Participant], topics: list[str]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for participant in participants:
        for topic in topics:
            for action, takes_part in (("send", _emits), ("receive", _receives)):
                if takes_part(participant, topic):
                    k = key(topic)
                    operations[f"{participant.name}.{action}.{k}"] = {
                        "action": action, "channel": {"$ref": f"#/channels/{k}"},
                        "messages": [{"$ref": f"#/channels/{k}/messages/{k}"}],
                        "title": f"{participant.name} {'publishes' if action == 'send' else 'receives'} {topic}",
                        "x-webos-principal": {"name": participant.name, "kind": participant.kind},
                    }
    return operations


def _server(nats_url: str) -> dict[str, Any]:
    url = urlsplit(nats_url.split(",")[0])
    host = f"{url.hostname}:{url.port}" if url.port else str(url.hostname)  # never the URL's credentials
    return {"host": host, "protocol": "nats", "description": (
        "NATS with JetStream. Clients authenticate with an nkey and connect over TLS with the stack's CA; "
        "each principal may publish and consume only what it declared.")}
