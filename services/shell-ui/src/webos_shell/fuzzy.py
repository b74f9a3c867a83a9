"""Fuzzy matching for the command palette: pure, no UI.

A query matches a text when its characters appear in order. The score
rewards consecutive runs, matches at word starts and a match at the very
start, and prefers shorter texts, so "mot" ranks "My open tasks" above
"Import settings".

A query that does not match so forgives typos: when the text, from its
start or a word's start, is within a small edit distance of the query (one
edit up to 7 characters, two beyond; a swap of neighbours is one edit),
it matches with a low score ("flies" finds "Files", "dashbaord" finds
"Dashboard").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")

_SEPARATORS = " _-/.:"


def score(query: str, text: str) -> float | None:
    """A score (higher is better) when every character of `query` appears in
    order in `text` (case-insensitive); None otherwise. An empty query
    matches everything with score 0."""
    q = "".join(query.lower().split())
    if not q:
        return 0.0
    t = text.lower()
    if q in t:
        start = t.index(q)
        bonus = 30.0 if start == 0 else (15.0 if t[start - 1] in _SEPARATORS else 0.0)
        return 100.0 + bonus + 10.0 * len(q) - 0.1 * len(t)
    in_order = _in_order(q, t)
    if in_order is not None:
        return in_order
    return _typo(q, t)


def _in_order(q: str, t: str) -> float | None:
    total, pos, run = 0.0, 0, 0
    for char in q:
        found = t.find(char, pos)
        if found < 0:
            return None
        at_word_start = found == 0 or t[found - 1] in _SEPARATORS
        run = run + 1 if found == pos and pos > 0 else 0
        total += 1.0 + (4.0 if at_word_start else 0.0) + 2.0 * run - 0.05 * (found - pos)
        pos = found + 1
    return total - 0.1 * len(t)


def _typo(q: str, t: str) -> float | None:
    """A low score when the text from its start or a word's start is within
    one edit of `q` (two when `q` is longer than 7); spaces do not count."""
    allowed = 0 if len(q) < 3 else (1 if len(q) <= 7 else 2)
    if not allowed or sum(char not in t for char in q) > allowed:
        return None
    # a stretch begins at a word start whose letter opens the query (or follows a typo there)
    starts = [i for i in range(len(t)) if (i == 0 or t[i - 1] in _SEPARATORS) and t[i] in q[:allowed + 1]]
    rows = (prefix_distances(q, "".join(t[start:].split())[:len(q) + allowed]) for start in starts)
    best = min((min(row[len(q) - allowed:] or row[-1:]) for row in rows), default=allowed + 1)
    if best > allowed:
        return None
    return 2.0 * len(q) - 6.0 * best - 0.1 * len(t)


def prefix_distances(a: str, b: str) -> list[int]:
    """For each prefix of `b` (from the empty one), the edits (insert, delete,
    substitute, swap two neighbours) that turn `a` into it: the last row of
    the optimal string alignment distance."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous


def rank(query: str, items: Iterable[T], key: Callable[[T], Sequence[str]], limit: int = 20) -> list[T]:
    """Items whose best text (the label or a keyword) matches, best first."""
    scored: list[tuple[float, int, T]] = []
    for index, item in enumerate(items):
        scores = [s for s in (score(query, text) for text in key(item)) if s is not None]
        if scores:
            scored.append((max(scores), -index, item))
    scored.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [item for _, _, item in scored[:limit]]
