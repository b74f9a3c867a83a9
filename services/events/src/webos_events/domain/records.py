"""A record's history in the event log: which logged events are about one record (who may read
them is `webos_common.documents.sharing.may_see`, which live pushes use too)."""

from __future__ import annotations

from typing import Any

from webos_common.documents.sharing import RECORD_ACTIONS


def about(record_id: str) -> dict[str, Any]:
    """The log's events about one record: the documents service's record actions (`RECORD_ACTIONS`)
    and any other event that names the record's `id` with the `version` it made (a workflow step,
    `order:approved`); bulk updates name it among their `ids`."""
    return {"$and": [{"$or": [{"payload.id": record_id}, {"payload.ids": record_id}]},
                     {"$or": [{"topic": {"$regex": f":({'|'.join(RECORD_ACTIONS)})$"}},
                              {"payload.version": {"$type": "int"}}]}]}
