"""Whom live push hands an event to: a notification to the person the events service names, a
task event only to the person its identity token proves (`webos_common.bus.live`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from webos_common.bus.identity import AUDIENCE, HEADER, BusIdentity
from webos_common.bus.live import changed_module, concerns, recipient
from webos_common.bus.topics import event_subject
from webos_common.identity import User
from webos_common.security.jwks import StaticJWKS
from webos_common.security.testing import TestIssuer
from webos_common.security.verifier import TokenVerifier

ISSUER = TestIssuer(audience=AUDIENCE)
REQUIRED = BusIdentity(exchange=None, required=True,
                       verifier=TokenVerifier(StaticJWKS(ISSUER.jwks), issuer=ISSUER.issuer, audience=AUDIENCE))


def wire(topic: str, payload: dict[str, object], user_id: str | None = None) -> bytes:
    # the JSON-envelope body of events stored before the CloudEvents wire form (still read); every
    # envelope ever written names its source
    return json.dumps({"id": "e1", "topic": topic, "source": "x", "user_id": user_id, "payload": payload,
                       "timestamp": datetime.now(UTC).isoformat()}).encode()


def token(user_id: str, azp: str) -> dict[str, str]:
    return {HEADER: ISSUER.token(user_id, typ="bus", azp=azp, expires_in=300)}


async def test_a_notification_goes_to_the_person_the_events_service_names() -> None:
    data = wire("notification:created", {"user_id": "u1", "title": "Hi"}, user_id="sender")
    found = await recipient(event_subject("notification:created", "events"), data, None, REQUIRED)
    assert found == ("u1", {"type": "notification:created", "id": "e1", "data": {"user_id": "u1", "title": "Hi"}})
    assert await recipient(event_subject("notification:created", "events"), b"not json", None, REQUIRED) is None
    nobody = wire("notification:created", {})
    assert await recipient(event_subject("notification:created", "events"), nobody, None, REQUIRED) is None


async def test_a_task_event_goes_only_to_the_person_its_token_proves() -> None:
    subject = event_subject("task:progress", "tasks-worker")
    signed = wire("task:progress", {"task_id": "t1", "user_id": "alice"}, user_id="alice")
    found = await recipient(subject, signed, token("alice", "tasks-worker"), REQUIRED)
    assert found is not None and found[0] == "alice"
    cases = {
        "no token": (signed, None),
        "another publisher's token": (signed, token("alice", "billing")),
        "another person's token": (signed, token("mallory", "tasks-worker")),
        "payload names a victim": (wire("task:progress", {"task_id": "t1", "user_id": "victim"}, user_id="alice"),
                                   token("alice", "tasks-worker")),
        "no person at all": (wire("task:progress", {"task_id": "t1", "user_id": "victim"}), None),
    }
    for case, (data, headers) in cases.items():
        assert await recipient(subject, data, headers, REQUIRED) is None, case


async def test_without_required_identity_the_envelope_is_taken_at_its_word() -> None:
    data = wire("task:status", {"task_id": "t1", "user_id": "u2"})
    found = await recipient(event_subject("task:status", "tasks"), data, None, BusIdentity.unchecked())
    assert found is not None and found[0] == "u2"


def test_a_record_event_is_news_of_its_publishers_module_only_to_who_may_read_the_record() -> None:
    def event(topic: str, payload: dict[str, object], source: str = "notes") -> bytes:
        return json.dumps({"id": "e1", "topic": topic, "source": source, "user_id": "ann", "payload": payload,
                           "timestamp": datetime.now(UTC).isoformat()}).encode()

    found = changed_module(event_subject("note:updated", "notes"), event("note:updated", {"id": "n1"}), None)
    assert found is not None and found[:2] == ("notes", "updated") and found[2].user_id == "ann"
    for subject, data in {  # what is not a record event of the module that published it
        "another source's word": (event_subject("note:updated", "billing"), event("note:updated", {})),
        "a replayed dead letter": (event_subject("note:updated", "_replay"), event("note:updated", {})),
        "not a record action": (event_subject("note:purged", "notes"), event("note:purged", {})),
        "a kernel service's": (event_subject("notification:created", "events"),
                               event("notification:created", {"user_id": "ann"}, source="events")),
        "not an envelope": (event_subject("note:updated", "notes"), b"{"),
    }.values():
        assert changed_module(subject, data, None) is None
    note = {"id": "n1", "owner_id": "ann", "assignees": ["cy"], "shares": [{"kind": "role", "id": "sales"}]}
    people = {"ann": User(id="ann"), "cy": User(id="cy"), "dee": User(id="dee", roles=("sales",)),
              "bob": User(id="bob", permissions=("notes.read",)), "root": User(id="root", roles=("admin",))}
    assert {p for p, u in people.items() if concerns(u, "notes", "updated", note, "ann")} == {
        "ann", "cy", "dee", "root"}  # notes.read alone does not reach an owned record
    assert {p for p, u in people.items() if concerns(u, "notes", "updated", {"id": "x"}, None)} == {
        "bob", "root"}  # a record nobody owns: whoever may read the module's records
    assert {p for p, u in people.items() if concerns(u, "notes", "bulk_updated", {"ids": ["n1"]}, "cy")} == {
        "cy", "root"}  # ids only: its author and the admins
