"""A record's audit trail as people read it (pure): the events service's log of the record
(`GET /api/events/events/records/{id}`: `<entity>:created`, `:updated` with the names of
the fields it `changed` and the record as it then was, `:deleted`, `:restored`,
`:access_changed`, `:bulk_updated`, and a workflow's steps, `:approved`, naming the record's
`id` and `version`), turned into "who did what, when", each change with the
value before (the previous event's record) and after, said as the grid says them (`tabular.shown`:
times as instants the browser says in local time, `local_time.MomentText`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webos_shell import local_time, tabular
from webos_shell.schema_fields import FieldSpec

ACTIONS = {"created": "created it", "updated": "changed", "deleted": "moved it to the trash",
           "restored": "restored it from the trash", "access_changed": "changed who may see it",
           "bulk_updated": "changed (bulk edit)"}
AUDIT_FIELDS = {"updated_at", "updated_by", "version", "created_at", "created_by", "deleted_at", "deleted_by"}


@dataclass
class Entry:
    who: str  # the person's id (see `names`)
    when: str  # ISO timestamp (UTC)
    action: str  # the last part of the topic
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field, before, after)
    fields: list[str] = field(default_factory=list)  # changed fields whose values are not known (bulk)
    reason: str = ""  # a workflow step's reason (a rejection's)

    def sentence(self, names: Mapping[str, str], labels: Mapping[str, str]) -> str:
        who = names.get(self.who) or ("Someone" if not self.who else self.who)
        what = ACTIONS.get(self.action, self.action.replace("_", " "))
        if self.fields:
            what += " " + ", ".join(labels.get(f, f) for f in self.fields)
        return f"{who} {what}" + (f": “{self.reason}”" if self.reason else "")


def describe(change: tuple[str, Any, Any], specs: Mapping[str, FieldSpec]) -> list[local_time.Part]:
    """"Due date: <before> → <after>" (`specs`: the record's fields by name, for their labels and kinds)."""
    name, before, after = change
    spec = specs.get(name)
    return local_time.text(f"{spec.label if spec else name}: ", tabular.shown(spec, before), " → ",
                           tabular.shown(spec, after))


def entries(events: list[dict[str, Any]]) -> list[Entry]:
    """Newest first, as the log answers; each update's values before come from the event before it."""
    found: list[Entry] = []
    before: dict[str, Any] = {}
    for event in reversed(events):
        payload = event.get("payload") or {}
        action = str(event.get("topic", "")).rpartition(":")[2]
        entry = Entry(str(event.get("user_id") or payload.get("updated_by") or ""), str(event.get("timestamp", "")),
                      action)
        if action == "bulk_updated":
            entry.fields = list(payload.get("changed") or [])
        elif action == "updated":
            names = payload.get("changed") or [k for k in payload if k not in AUDIT_FIELDS and
                                                  before.get(k) != payload.get(k)]
            entry.changes = [(n, before.get(n), payload.get(n)) for n in names if n in payload]
        elif action not in ACTIONS:  # a workflow step (`approved`): the record's fields it names that moved
            entry.changes = [(n, before[n], v) for n, v in payload.items()
                             if n in before and n not in AUDIT_FIELDS and before[n] != v]
            entry.reason = str(payload.get("reason") or "")
        if action not in ACTIONS:  # a step names some of the record's fields (and its own `by`, `reason`)
            before = {**before, **{n: v for n, v in payload.items() if n in before}}
        elif "id" in payload:
            before = payload
        found.append(entry)
    return list(reversed(found))
