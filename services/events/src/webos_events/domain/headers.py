"""The headers of every event on the bus: CloudEvents 1.0, binary content mode of the NATS
protocol binding, as `webos_common.bus.wire` writes them (the names are its constants)."""

from __future__ import annotations

from typing import Any

from webos_common.bus import wire

_STRING = {"type": "string", "minLength": 1}

HEADERS: dict[str, Any] = {
    "type": "object",
    "title": "CloudEventHeaders",
    "description": "CloudEvents 1.0 context attributes as `ce-*` NATS headers (binary content mode). "
                   "Values are single-line; a `%` in a value is percent-encoded as the binding requires.",
    "required": [wire.MSG_ID, wire.SPECVERSION, wire.CE_ID, wire.CE_TYPE, wire.SOURCE, wire.CE_TIME,
                 wire.CONTENT_TYPE],
    "properties": {
        wire.MSG_ID: {**_STRING, "description": "JetStream de-duplication id; equal to `ce-id`."},
        wire.SPECVERSION: {"type": "string", "const": "1.0", "description": "CloudEvents `specversion`."},
        wire.CE_ID: {**_STRING, "description": "CloudEvents `id`: unique per event."},
        wire.CE_TYPE: {**_STRING, "description": "CloudEvents `type`: the WebOS topic `entity:action`."},
        wire.SOURCE: {**_STRING, "description": "CloudEvents `source`: the publishing principal, the same "
                                                "name as the subject's `{source}` token."},
        wire.CE_TIME: {"type": "string", "format": "date-time", "description": "CloudEvents `time` (UTC)."},
        wire.CONTENT_TYPE: {"type": "string", "const": wire.JSON,
                            "description": "CloudEvents `datacontenttype`: the body is the event data as JSON."},
        wire.TRACEPARENT: {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                           "description": "Distributed-tracing extension: the W3C trace context of the emitter."},
        wire.REQUEST_ID: {**_STRING, "description": "Extension `requestid`: the HTTP request that caused it."},
        wire.USER: {**_STRING, "description": "Extension `webosuser`: the acting person as JSON (id, username, "
                                              "roles); believed only together with `webosidentity`."},
        wire.AUTHTYPE: {"type": "string", "const": "app_user",
                        "description": "authcontext extension `authtype`, present with `authid`."},
        wire.AUTHID: {**_STRING, "description": "authcontext extension `authid`: the acting person's id."},
        wire.IDENTITY: {**_STRING, "description": "Extension `webosidentity`: a short-lived token auth signed "
                                                  "that proves who the event acts for (the bus checks it)."},
    },
}


def headers_for(topic: str) -> dict[str, Any]:
    """The headers of one event type: the shared ones with `ce-type` fixed to the topic."""
    return {"allOf": [{"$ref": "#/components/schemas/CloudEventHeaders"},
                      {"type": "object", "properties": {wire.CE_TYPE: {"const": topic}}}]}
