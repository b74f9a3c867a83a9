"""Signed identity on the bus (real NATS): a handler acts for a person only
on an identity token auth signed for that person and the emitting principal;
a forged, foreign, expired or missing one is a dead letter, never an action."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from webos_common import context
from webos_common.bus import BusSettings, EventBus
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.identity import AUDIENCE, HEADER, BusIdentity
from webos_common.bus.topics import event_subject
from webos_common.bus.wire import MSG_ID, USER
from webos_common.identity import User
from webos_common.security.jwks import StaticJWKS
from webos_common.security.testing import TestIssuer
from webos_common.security.verifier import TokenVerifier
from webos_common.testing.bus import dead_letters, eventually

FAST = BusSettings(backoff=[0.05], max_deliver=2)
ISSUER = TestIssuer(audience=AUDIENCE)  # stands for auth: the same RS256 tokens, one key


def bus_token(user_id: str, azp: str, *, roles: tuple[str, ...] = ("user",), expires_in: int = 300) -> str:
    return ISSUER.token(user_id, roles=roles, typ="bus", azp=azp, expires_in=expires_in)


def checking() -> BusIdentity:
    verifier = TokenVerifier(StaticJWKS(ISSUER.jwks), issuer=ISSUER.issuer, audience=AUDIENCE, leeway=3600)
    return BusIdentity(exchange=None, verifier=verifier, required=True, grace=3600)


@pytest.fixture
async def names() -> AsyncIterator[Callable[[str], str]]:
    suffix = uuid.uuid4().hex[:8]
    yield lambda prefix: f"{prefix}{suffix}"


@pytest.fixture
async def consumer(nc: NATS, names: Callable[[str], str]) -> AsyncIterator[tuple[EventBus, list[Any], str]]:
    """A consuming service that requires identity, with a handler recording who it ran for."""
    bus = EventBus(nc, service=names("svcb"), settings=FAST, identity=checking())
    seen: list[Any] = []
    topic = f"{names('order')}:approved"

    async def approve(event: EventEnvelope) -> None:
        seen.append((event.id, context.current_user.get()))

    bus.subscribe(topic, approve, name="approve")
    await bus.start()
    yield bus, seen, topic
    await bus.close()


async def _publish(nc: NATS, topic: str, source: str, user_id: str | None, headers: dict[str, str]) -> str:
    envelope = EventEnvelope(topic=topic, source=source, user_id=user_id, payload={"n": 1})
    await nc.jetstream().publish(event_subject(topic, source), envelope.to_json(),
                                 headers={MSG_ID: envelope.id, **headers})
    return envelope.id


async def test_a_signed_event_runs_as_the_person_the_token_names(
        nc: NATS, consumer: tuple[EventBus, list[Any], str], names: Callable[[str], str]) -> None:
    _bus, seen, topic = consumer
    emitter_name = names("svca")

    async def exchange(credential: str) -> str:  # auth's exchange: the person's credential -> a bus token
        assert credential == "the-persons-access-token"
        return bus_token("alice", emitter_name, roles=("user",))

    emitter = EventBus(nc, service=emitter_name, settings=FAST,
                       identity=BusIdentity(exchange=exchange, verifier=None, required=True))
    await emitter.start()
    try:
        # the emitter's context claims more than alice has: only the token's word counts
        forged_roles = User(id="alice", roles=("superadmin",), permissions=("*",))
        context.current_user.set(forged_roles)
        context.credential.set("the-persons-access-token")
        sent = await emitter.emit(topic, {"n": 1})
        await eventually(lambda: len(seen) == 1)
        event_id, user = seen[0]
        assert event_id == sent.id and user.id == "alice" and user.roles == ("user",) and not user.is_admin
    finally:
        context.current_user.set(None)
        context.credential.set(None)
        await emitter.close()


@pytest.mark.parametrize("case", ["missing", "other_person", "other_emitter", "expired", "garbage", "foreign_key"])
async def test_a_forged_identity_is_a_dead_letter_and_the_handler_never_runs(
        nc: NATS, consumer: tuple[EventBus, list[Any], str], names: Callable[[str], str], case: str) -> None:
    bus, seen, topic = consumer
    source = names("svca")
    tokens = {
        "missing": None,
        "other_person": bus_token("mallory", source),
        "other_emitter": bus_token("alice", names("svcz")),  # a token copied off the bus by another principal
        "expired": bus_token("alice", source, expires_in=-3700),
        "garbage": "not.a.token",
        "foreign_key": TestIssuer(audience=AUDIENCE).token("alice", typ="bus", azp=source),
    }
    token = tokens[case]
    event_id = await _publish(nc, topic, source, "alice", {HEADER: token} if token else {})
    # an event of no person next: it is handled, so the forged one was settled before it
    other = await _publish(nc, topic, source, None, {})
    await eventually(lambda: any(e == other for e, _ in seen))
    assert all(e != event_id for e, _ in seen)
    letters = await dead_letters(nc, bus.subscriptions[0].durable)
    assert [(dl.reason, dl.envelope["id"]) for _, dl in letters] == [("forged_identity", event_id)]


async def test_an_event_of_no_person_never_takes_a_user_from_its_headers(
        nc: NATS, consumer: tuple[EventBus, list[Any], str], names: Callable[[str], str]) -> None:
    """No `user_id`, so no token is asked for: a `ce-webosuser` header claiming a superadmin is not
    believed either — the handler runs as nobody."""
    _bus, seen, topic = consumer
    forged = User(id="alice", roles=("superadmin",), permissions=("*",)).model_dump_json()
    event_id = await _publish(nc, topic, names("svca"), None, {USER: forged})
    await eventually(lambda: any(e == event_id for e, _ in seen))
    assert [user for e, user in seen if e == event_id] == [None]


async def test_an_envelope_naming_another_source_is_a_dead_letter(
        nc: NATS, consumer: tuple[EventBus, list[Any], str], names: Callable[[str], str]) -> None:
    bus, seen, topic = consumer
    envelope = EventEnvelope(topic=topic, source="auth", payload={"n": 1})  # claims to be auth
    await nc.jetstream().publish(event_subject(topic, names("rogue")), envelope.to_json(),
                                 headers={MSG_ID: envelope.id})
    for _ in range(50):
        letters = await dead_letters(nc, bus.subscriptions[0].durable)
        if letters:
            break
        await asyncio.sleep(0.05)
    assert [(dl.reason, dl.envelope["id"]) for _, dl in letters] == [("forged_source", envelope.id)]
    assert seen == []


async def test_without_a_credential_of_the_person_the_event_goes_out_as_the_process(
        nc: NATS, consumer: tuple[EventBus, list[Any], str], names: Callable[[str], str]) -> None:
    _bus, seen, topic = consumer
    emitter = EventBus(nc, service=names("svca"), settings=FAST,
                       identity=BusIdentity(exchange=None, verifier=None, required=True))
    await emitter.start()
    try:
        context.current_user.set(User(id="alice"))  # e.g. a scheduled job that knows the person's id only
        sent = await emitter.emit(topic, {"n": 2})
        assert sent.user_id is None
        await eventually(lambda: len(seen) == 1)
        assert seen[0][1] is None
    finally:
        context.current_user.set(None)
        await emitter.close()


async def test_a_token_is_verified_once_then_served_from_the_cache() -> None:
    class Counting(TokenVerifier):
        calls = 0

        async def claims(self, token: str, **kwargs: Any) -> dict[str, Any]:
            Counting.calls += 1
            return await super().claims(token, **kwargs)

    verifier = Counting(StaticJWKS(ISSUER.jwks), issuer=ISSUER.issuer, audience=AUDIENCE, leeway=3600)
    identity = BusIdentity(exchange=None, verifier=verifier, required=True)
    token = bus_token("alice", "svca")
    envelope = EventEnvelope(topic="order:approved", source="svca", user_id="alice")
    for _ in range(100):
        assert (await identity.check(envelope, {HEADER: token}, "svca")).id == "alice"  # type: ignore[union-attr]
    assert Counting.calls == 1  # one signature check, then a dictionary look-up per event


async def test_a_person_revoked_since_the_token_was_issued_is_refused_even_from_the_cache() -> None:
    """Signed out everywhere (or disabled, or roles changed): a bus token issued before that proves
    nothing sent after it, cached or not; what was sent before still stands."""
    import time

    from webos_common.bus.identity import IdentityRefused
    from webos_common.security.revocation import Revocation

    identity = checking()
    token = bus_token("alice", "svca")
    sent_before = time.time()
    assert (await identity.verify("alice", token, "svca", sent_before)) is not None  # now cached
    revoked_at = time.time() + 0.5
    identity.revocations.revoke(Revocation(user_id="alice", before=revoked_at, until=revoked_at + 600))
    assert (await identity.verify("alice", token, "svca", sent_before)) is not None  # sent before the sign-out
    with pytest.raises(IdentityRefused, match="revoked"):
        await identity.verify("alice", token, "svca", revoked_at + 1)
    with pytest.raises(IdentityRefused, match="revoked"):
        await identity.verify("alice", token, "svca")  # live push: no server time, so now
    bob = bus_token("bob", "svca")
    assert (await identity.verify("bob", bob, "svca", revoked_at + 1)) is not None  # only alice's


async def test_an_event_stored_after_a_revocation_is_a_dead_letter(
        nc: NATS, consumer: tuple[EventBus, list[Any], str], names: Callable[[str], str]) -> None:
    """The server's own store time decides, not the envelope's (an emitter could backdate it)."""
    import time

    from webos_common.security.revocation import Revocation

    bus, seen, topic = consumer
    source = names("svca")
    token = bus_token("alice", source)
    first = await _publish(nc, topic, source, "alice", {HEADER: token})
    await eventually(lambda: any(e == first for e, _ in seen))
    now = time.time()
    bus.identity.revocations.revoke(Revocation(user_id="alice", before=now, until=now + 600))
    backdated = EventEnvelope(topic=topic, source=source, user_id="alice", payload={"n": 2},
                              timestamp=datetime.fromtimestamp(now - 60, UTC))
    await nc.jetstream().publish(event_subject(topic, source), backdated.to_json(),
                                 headers={MSG_ID: backdated.id, HEADER: token})
    other = await _publish(nc, topic, source, None, {})
    await eventually(lambda: any(e == other for e, _ in seen))
    assert all(e != backdated.id for e, _ in seen)
    letters = await dead_letters(nc, bus.subscriptions[0].durable)
    assert [(dl.reason, dl.envelope["id"]) for _, dl in letters] == [("forged_identity", backdated.id)]
