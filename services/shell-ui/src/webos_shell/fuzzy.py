"""Fuzzy matching for the command palette: pure, no UI.

A query matches a text when its characters appear in order. The score
rewards consecutive runs, matches at word starts and a match at the very
start, and prefers shorter texts, so "mot" ranks "My open tasks" above
"Import settings".
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


def rank(query: str, items: Iterable[T], key: Callable[[T], Sequence[str]], limit: int = 20) -> list[T]:
    """Items whose best text (the label or a keyword) matches, best first."""
    scored: list[tuple[float, int, T]] = []
    for index, item in enumerate(items):
        scores = [s for s in (score(query, text) for text in key(item)) if s is not None]
        if scores:
            scored.append((max(scores), -index, item))
    scored.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [item for _, _, item in scored[:limit]]
