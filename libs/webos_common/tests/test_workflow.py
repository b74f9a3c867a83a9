"""`webos_common.processes.workflow`: transitions guarded by permission, source state and guards; the
history entry; the actions a user may take now."""

from __future__ import annotations

import pytest

from webos_common import context
from webos_common.http.errors import Conflict, Forbidden, Unauthorized
from webos_common.identity import User
from webos_common.processes.workflow import Transition, Workflow, not_by_whoever

FLOW = Workflow("doc", initial="draft", transitions=[
    Transition("submit", {"draft"}, "pending", "docs.write"),
    Transition("approve", {"pending"}, "approved", "docs.approve", guard=not_by_whoever("submit")),
])
WRITER = User(id="w", username="w", permissions=("docs.write",))
BOTH = User(id="w", username="w", permissions=("docs.write", "docs.approve"))
APPROVER = User(id="a", username="a", permissions=("docs.approve",))


def test_a_transition_moves_the_state_and_records_who() -> None:
    with context.as_user(WRITER):
        state, entry = FLOW.apply("draft", "submit")
    assert state == "pending" and (entry["action"], entry["from"], entry["to"], entry["by"]) == (
        "submit", "draft", "pending", "w")
    with context.as_user(APPROVER):
        assert FLOW.apply("pending", "approve", history=[entry])[0] == "approved"
    assert FLOW.states == {"draft", "pending", "approved"}


def test_refusals_name_why() -> None:
    history = [{"action": "submit", "by": "w"}]
    with pytest.raises(Unauthorized):
        FLOW.apply("draft", "submit")
    with context.as_user(WRITER), pytest.raises(Forbidden, match=r"docs\.approve"):
        FLOW.apply("pending", "approve", history=history)
    with context.as_user(BOTH), pytest.raises(Forbidden, match="submit"):
        FLOW.apply("pending", "approve", history=history)
    with context.as_user(WRITER), pytest.raises(Conflict, match="cannot submit when pending"):
        FLOW.apply("pending", "submit")
    with context.as_user(WRITER), pytest.raises(Conflict, match="no transition"):
        FLOW.apply("draft", "publish")


def test_available_actions_follow_state_permission_and_guard() -> None:
    history = [{"action": "submit", "by": "w"}]
    assert FLOW.available("draft") == []  # nobody signed in
    with context.as_user(BOTH):
        assert FLOW.available("draft") == ["submit"]
        assert FLOW.available("pending", history=history) == []
    with context.as_user(APPROVER):
        assert FLOW.available("pending", history=history) == ["approve"]
