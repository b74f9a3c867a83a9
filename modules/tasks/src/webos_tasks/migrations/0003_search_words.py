"""Quick search reads the words of a task's title (`search_words`, `webos_common.documents.search`),
which the repository writes on every write since; tasks written before get theirs here, a
thousand a round trip (a million rows: a few minutes, while the module serves)."""

from typing import Any

from webos_common.documents.search import backfill


async def up(db: Any) -> None:
    await backfill(db["tasks_items"], ["title"])
