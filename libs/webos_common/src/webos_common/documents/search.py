"""Quick search an index serves: the words of a document's searchable fields, kept by the repository.

    class Task(OwnedDocument):
        class Settings:
            search = ["title"]

A document that declares `search` gets a derived field, `search_words`: the distinct words of
those fields, lower-case, accents stripped (Unicode NFKD without its combining marks: "Élan" is
"elan"), split on what is not a letter, digit or `_` ("follow-up" is "follow" and "up"). The
repository writes it on every write that sets a searchable field (`BeanieRepository`), and
`documents.queries` indexes it (`search_words`, `deleted_at`).

`search_filter(document, q)` is the quick search of `q`: every word of `q` is the start of some
word of the fields, in any case and accent ("rep" finds "Write the Report", "rep wri" too; "port"
does not: a search box's text is the start of a word, and an unanchored "contains" could not use
an index: on a million rows it read every row a person may see, 0.5-1 s, an admin's 14 s). Each
word is an anchored prefix (`^rep`) on the words array: a range of the index. MongoDB's planner
races it against the list's sort index: a rare word is read from the words index and its few
rows sorted (see `queries.scan_stages`), a common one by walking the sort index to the page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bson.regex import Regex
from pymongo import UpdateOne

SEARCH_FIELD = "search_words"
MAX_QUERY = 100  # characters of `q` read, as the regex it replaced did
MAX_WORDS = 10  # words of `q` used: each is one more condition on the same row
_SPLIT = re.compile(r"\W+")


def searchable(document: type) -> tuple[str, ...]:
    """The fields `document` declares searchable (`Settings.search`); empty when none."""
    settings = getattr(document, "Settings", None)
    fields = getattr(settings, "search", None) or ()
    if isinstance(fields, str):
        raise TypeError("Settings.search is a list of field names")
    return tuple(fields)


def words(text: str) -> list[str]:
    """The distinct normalised words of `text`, in order: "Café au-lait, CAFE" -> ["cafe", "au", "lait"]."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return list(dict.fromkeys(w for w in _SPLIT.split(plain) if w))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value)
    return str(value)


def row_words(row: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
    """The `search_words` of a row: the words of its searchable fields together."""
    return words(" ".join(_text(row.get(field)) for field in fields))


def search_filter(q: str) -> dict[str, Any]:
    """Rows where each word of `q` starts some word of the searchable fields; when `q` has no word
    (only punctuation), none: nothing typed can start a word."""
    wanted = words(q[:MAX_QUERY])[:MAX_WORDS]
    if not wanted:
        return {SEARCH_FIELD: {"$in": []}}
    # BSON regexes without flags: Python's `re.compile` sends `u`, and MongoDB reads a regex with
    # a flag it does not know as no prefix, so its index bounds were every word
    return {SEARCH_FIELD: {"$all": [Regex("^" + re.escape(w)) for w in wanted]}}


def word_updates(rows: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> list[UpdateOne]:
    """The writes that give `rows` the words of their `fields` (those whose words differ), each
    only while the row's fields still hold what was read: a change of one of them meanwhile
    wrote its own words, which these must not overwrite."""
    return [UpdateOne({"_id": row["_id"], **{f: row.get(f) for f in fields}}, {"$set": {SEARCH_FIELD: found}})
            for row in rows if (found := row_words(row, fields)) != row.get(SEARCH_FIELD)]


async def backfill(collection: Any, fields: Sequence[str], *, batch: int = 1000) -> int:
    """Give the rows written before `search_words` existed (or before `fields` were searchable)
    their words, `batch` rows a round trip, in `_id` order. Each row is written only if its fields
    still hold what was read: a change made meanwhile wrote its own words. The rows changed."""
    projection = {field: 1 for field in fields}
    changed, after = 0, None
    while True:
        query: dict[str, Any] = {SEARCH_FIELD: {"$exists": False}}
        if after is not None:
            query["_id"] = {"$gt": after}
        rows = await collection.find(query, projection, sort=[("_id", 1)], limit=batch).to_list(batch)
        if not rows:
            return changed
        writes = word_updates(rows, fields)  # rows without the field: each has a write
        result = await collection.bulk_write(writes, ordered=False)
        changed += result.modified_count
        after = rows[-1]["_id"]
