"""A record's history in the event log: which events are about a record, and who may read them."""

from __future__ import annotations

from typing import Any

from webos_common.identity import User

RECORD_ACTIONS = ("created", "updated", "deleted", "restored", "access_changed", "bulk_updated")


def about(record_id: str) -> dict[str, Any]:
    """The log's events about one record: the documents service's record actions (`RECORD_ACTIONS`)
    and any other event that names the record's `id` with the `version` it made (a workflow step,
    `order:approved`); bulk updates name it among their `ids`."""
    return {"$and": [{"$or": [{"payload.id": record_id}, {"payload.ids": record_id}]},
                     {"$or": [{"topic": {"$regex": f":({'|'.join(RECORD_ACTIONS)})$"}},
                              {"payload.version": {"$type": "int"}}]}]}


def may_see(user: User, source: str, snapshot: dict[str, Any]) -> bool:
    """Whether `user` may read the record `snapshot` (its read shape in its newest event) is of:
    as `documents.sharing` decides for an owned record (owner, assignee, shared with them or one
    of their roles; record rules live in the module and are not known here), else `<source>.read`."""
    if user.is_admin:
        return True
    if "owner_id" not in snapshot:
        return user.has_permission(f"{source}.read")
    shares = snapshot.get("shares") or []
    return (snapshot.get("owner_id") == user.id or user.id in (snapshot.get("assignees") or [])
            or any(s.get("id") == user.id or (s.get("kind") == "role" and s.get("id") in user.roles)
                   for s in shares if isinstance(s, dict)))
