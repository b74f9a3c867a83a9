"""The lists a task serves are declared (`Task.Settings.queries`) and indexed from that
declaration; the indexes made by hand before it serve nothing now and cost every write."""

from typing import Any

from pymongo.errors import OperationFailure

SUPERSEDED = ("owner_id_1", "assignees_1", "owner_id_1_status_1", "owner_id_1_due_date_1",
              "due_date_1_status_1", "assignees_1_status_1", "shares.id_1")


async def up(db: Any) -> None:
    items = db["tasks_items"]
    for name in SUPERSEDED:
        try:
            await items.drop_index(name)
        except OperationFailure as exc:
            if exc.code not in (26, 27):  # NamespaceNotFound / IndexNotFound: a new install never had it
                raise
