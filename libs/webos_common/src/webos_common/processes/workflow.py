"""Workflows of documents (seed 002 §12.1): declared states and transitions,
each guarded by a permission (and optionally a guard), recorded on the record
with who and when, and announced as `<entity>:<transition>` by the service
that applies it.

    ORDER = Workflow("order", initial="draft", transitions=[
        Transition("submit", {"draft"}, "submitted", "orders.write"),
        Transition("approve", {"submitted"}, "approved", "orders.approve", guard=not_the_submitter),
    ])
    state, entry = ORDER.apply(order.state, "approve", history=order.history)   # raises if not allowed
    ORDER.available(order.state, history=order.history)                       # for the record page
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from webos_common import context
from webos_common.http.errors import Conflict, Forbidden
from webos_common.identity import User
from webos_common.security.permissions import check_permission

# a guard gets the acting user and the record's history; it returns a reason to refuse, or None
Guard = Callable[[User, Sequence[dict[str, Any]]], str | None]


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str] | set[str]
    target: str
    permission: str
    guard: Guard | None = None


class Workflow:
    def __init__(self, entity: str, *, initial: str, transitions: Iterable[Transition]) -> None:
        self.entity, self.initial = entity, initial
        self.transitions = {t.name: t for t in transitions}

    @property
    def states(self) -> set[str]:
        found = {self.initial}
        for t in self.transitions.values():
            found |= set(t.sources) | {t.target}
        return found

    def apply(self, state: str, name: str, *, history: Sequence[dict[str, Any]] = ()) -> tuple[str, dict[str, Any]]:
        """The state after transition `name` and its history entry; Forbidden when the user may
        not, Conflict when the record is not in a state the transition starts from."""
        transition = self.transitions.get(name)
        if transition is None:
            raise Conflict(f"{self.entity}: no transition {name!r}", details={"transition": name})
        user = check_permission(transition.permission)
        if state not in transition.sources:
            raise Conflict(f"{self.entity}: cannot {name} when {state}",
                           details={"state": state, "transition": name, "from": sorted(transition.sources)})
        if transition.guard is not None and (reason := transition.guard(user, history)):
            raise Forbidden(f"{self.entity}: {reason}", details={"transition": name})
        return transition.target, {"action": name, "from": state, "to": transition.target, "by": user.id,
                                   "at": datetime.now(UTC)}

    def available(self, state: str, *, history: Sequence[dict[str, Any]] = ()) -> list[str]:
        """The transitions the context user may apply now (the actions a record page offers)."""
        user = context.current_user.get()
        if user is None:
            return []
        return [t.name for t in self.transitions.values()
                if state in t.sources and user.has_permission(t.permission)
                and not (t.guard is not None and t.guard(user, history))]


def not_by_whoever(action: str) -> Guard:
    """A guard: the user who last did `action` on the record may not do this (four-eyes)."""
    def guard(user: User, history: Sequence[dict[str, Any]]) -> str | None:
        done = [entry for entry in history if entry.get("action") == action]
        if done and done[-1].get("by") == user.id:
            return f"whoever did {action} may not do this too"
        return None
    return guard
