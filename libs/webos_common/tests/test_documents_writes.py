"""Writes that hold under contention, against a real MongoDB replica set:
retried transactions, versions and If-Match, bulk updates with versions,
and idempotent creates (lists: test_documents_lists)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import OperationFailure

from webos_common import context
from webos_common.documents import (
    BaseService,
    CreateModel,
    OutboxPublisher,
    OwnedDocument,
    OwnedReadModel,
    UpdateModel,
    db,
)
from webos_common.documents.outbox import Outbox
from webos_common.documents.transactions import ATTEMPTS, run_transaction
from webos_common.http.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from webos_common.identity import User

ALICE = User(id="alice", permissions=("race.*",))
BOB = User(id="bob", permissions=("race.*",))


class Card(OwnedDocument):
    webos_module = "race"
    title: str
    hits: int = 0
    body: str = ""


class CardCreate(CreateModel):
    title: str
    body: str = ""


class CardUpdate(UpdateModel):
    title: str | None = None
    hits: int | None = None


class CardRead(OwnedReadModel):
    title: str
    hits: int
    body: str


class CardService(BaseService[Card, CardCreate, CardUpdate, CardRead]):
    module, entity = "race", "card"
    document, read_schema = Card, CardRead


@pytest.fixture
async def mongo(mongo_url: str, db_name: str) -> AsyncIterator[object]:
    client = db.mongo_client(mongo_url)
    await db.init_documents(client, db_name, [Card])
    yield client[db_name]
    await client.close()


@pytest.fixture
def outbox(mongo: object) -> Outbox:
    return Outbox(mongo, service="race")


@pytest.fixture
def service(outbox: Outbox) -> CardService:
    return CardService(events=OutboxPublisher(outbox))


async def topics(outbox: Outbox) -> list[str]:
    return [row["envelope"]["topic"] async for row in outbox.collection.find({})]


async def test_concurrent_updates_of_one_record_all_succeed_and_the_events_agree(
        service: CardService, outbox: Outbox) -> None:
    with context.as_user(ALICE):
        card = await service.create(CardCreate(title="hot"))
        results = await asyncio.gather(*(service.update(card.id, {"hits": i}) for i in range(20)),
                                       return_exceptions=True)
        final = await service.get(card.id)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert final.version == 1 + 20
    assert sorted(r.version for r in results if isinstance(r, CardRead)) == list(range(2, 22))
    assert (await topics(outbox)).count("card:updated") == 20


async def test_a_stale_if_match_is_412_with_the_current_version_and_writes_nothing(
        service: CardService, outbox: Outbox) -> None:
    with context.as_user(ALICE):
        card = await service.create(CardCreate(title="v"))
        assert card.version == 1
        moved = await service.update(card.id, {"title": "first"}, version=1)
        assert moved.version == 2
        with pytest.raises(PreconditionFailed) as stale:
            await service.update(card.id, {"title": "second"}, version=1)
        with pytest.raises(PreconditionFailed):
            await service.delete(card.id, version=1)
        after = await service.get(card.id)
    assert stale.value.etag == '"2"' and stale.value.details["version"] == 2
    assert stale.value.details["updated_by"] == "alice"
    assert after.title == "first" and after.version == 2 and after.deleted_at is None
    assert await topics(outbox) == ["card:created", "card:updated"]


async def test_a_reader_s_current_if_match_is_not_a_conflict(service: CardService) -> None:
    """A row shared for reading is not written; its version did not change, so no 412."""
    with context.as_user(ALICE):
        card = await service.create(CardCreate(title="read only"))
        await service.repo.set_access(card.id, shares=[{"kind": "user", "id": "bob", "access": "read"}])
    with context.as_user(BOB):
        seen = await service.get(card.id)
        with pytest.raises(NotFound):
            await service.update(card.id, {"title": "mine"}, version=seen.version)
        with pytest.raises(PreconditionFailed):  # a stale one still is
            await service.update(card.id, {"title": "mine"}, version=seen.version - 1)
        assert (await service.get(card.id)).title == "read only"


async def test_bulk_update_with_versions_is_all_or_nothing(service: CardService, outbox: Outbox) -> None:
    with context.as_user(ALICE):
        cards = [await service.create(CardCreate(title=f"c{i}")) for i in range(3)]
        await service.update(cards[2].id, {"title": "moved on"})
        versions = {c.id: c.version for c in cards}
        with pytest.raises(PreconditionFailed) as stale:
            await service.bulk_update([c.id for c in cards], {"hits": 7}, versions=versions)
        untouched = [await service.get(c.id) for c in cards]
        versions[cards[2].id] = 2
        assert await service.bulk_update([c.id for c in cards], {"hits": 7}, versions=versions) == 3
    assert [s["id"] for s in stale.value.details["stale"]] == [cards[2].id]
    assert [c.hits for c in untouched] == [0, 0, 0]
    assert (await topics(outbox)).count("card:bulk_updated") == 1


async def test_the_same_idempotency_key_creates_once_and_answers_the_same(
        service: CardService, mongo: object) -> None:
    with context.as_user(ALICE):
        first = await service.create(CardCreate(title="once"), idempotency_key="k-1")
        again = await service.create(CardCreate(title="once"), idempotency_key="k-1")
        with pytest.raises(ValidationFailed) as other:
            await service.create(CardCreate(title="another body"), idempotency_key="k-1")
        rows = await Card.get_pymongo_collection().count_documents({"title": "once"})
    assert again == first and rows == 1
    assert other.value.details[0]["field"] == "Idempotency-Key"


async def test_a_key_in_flight_is_409_and_a_lapsed_claim_is_taken_over(service: CardService) -> None:
    store = service.idempotency
    assert store is not None
    now = datetime.now(UTC)
    body = CardCreate(title="slow").model_dump_json()
    from webos_common.documents.idempotency import fingerprint

    for key, lease in (("busy", now + timedelta(minutes=1)), ("dead", now - timedelta(seconds=1))):
        await store.collection.insert_one({"_id": f"alice:card:{key}", "fingerprint": fingerprint(body),
                                           "state": "pending", "token": "other", "created_at": now,
                                           "lease_until": lease})
    with context.as_user(ALICE):
        with pytest.raises(Conflict):
            await service.create(CardCreate(title="slow"), idempotency_key="busy")
        made = await service.create(CardCreate(title="slow"), idempotency_key="dead")
        replay = await service.create(CardCreate(title="slow"), idempotency_key="dead")
    assert replay == made
    assert await Card.get_pymongo_collection().count_documents({"title": "slow"}) == 1


async def test_a_failed_create_gives_its_key_back(service: CardService) -> None:
    with context.as_user(User(id="alice", permissions=("race.read",))):
        with pytest.raises(Exception):  # noqa: B017 - no write permission
            await service.create(CardCreate(title="x"), idempotency_key="k-2")
    with context.as_user(ALICE):
        made = await service.create(CardCreate(title="x"), idempotency_key="k-2")
    assert made.title == "x"


async def test_transient_errors_are_retried_then_a_409(mongo: object) -> None:
    calls = 0

    async def flaky(session: object) -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise OperationFailure("write conflict", code=112,
                                   details={"errorLabels": ["TransientTransactionError"]})
        return "done"

    async def hopeless(session: object) -> None:
        raise OperationFailure("write conflict", code=112, details={"errorLabels": ["TransientTransactionError"]})

    client = mongo.client  # type: ignore[attr-defined]
    assert await run_transaction(client, flaky) == "done" and calls == 3
    with pytest.raises(Conflict) as exhausted:
        await run_transaction(client, hopeless, what="The card")
    assert exhausted.value.details == {"attempts": ATTEMPTS} and "The card" in exhausted.value.message
