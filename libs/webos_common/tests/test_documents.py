"""CoreDocument / OwnedDocument through the Beanie repository and BaseService,
against a real MongoDB: audit fields, owner isolation (404, never 403),
admin override, soft delete and restore, purge, pagination, bulk update."""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import StrEnum

import pytest
from beanie import init_beanie
from pydantic import BaseModel

from webos_common import context
from webos_common.documents import (
    BaseService,
    BeanieRepository,
    CoreDocument,
    CreateModel,
    OwnedDocument,
    OwnedReadModel,
    Page,
    RecordingPublisher,
    UpdateModel,
    db,
)
from webos_common.http.errors import Forbidden, NotFound, Unauthorized
from webos_common.identity import User

ALICE = User(id="alice", permissions=("demo.*",))
BOB = User(id="bob", permissions=("demo.*",))
READER = User(id="carol", permissions=("demo.read",))
ADMIN = User(id="root", roles=("admin",))


class Colour(StrEnum):
    red = "red"
    blue = "blue"


class Note(OwnedDocument):
    webos_module = "demo"
    title: str
    colour: Colour = Colour.red


class Page_(CoreDocument):
    webos_module = "demo"
    body: str = ""

    class Settings:
        name = "wiki_pages"


class NoteCreate(CreateModel):
    title: str
    colour: Colour = Colour.red


class NoteUpdate(UpdateModel):
    title: str | None = None
    colour: Colour | None = None


class NoteRead(OwnedReadModel):
    title: str
    colour: Colour


class NoteService(BaseService[Note, NoteCreate, NoteUpdate, NoteRead]):
    module, entity = "demo", "note"
    document, read_schema = Note, NoteRead


@pytest.fixture
async def mongo(mongo_url: str, db_name: str) -> AsyncIterator[object]:
    client = db.mongo_client(mongo_url)
    await db.init_documents(client, db_name, [Note, Page_])
    yield client[db_name]
    await client.close()


def test_collection_names_carry_the_module_prefix() -> None:
    assert Note.Settings.name == "demo_notes"
    assert Page_.Settings.name == "demo_wiki_pages"
    assert Note.Settings.use_state_management is False


async def test_the_default_list_is_indexed_along_every_path_it_reaches_rows_by(mongo: object) -> None:
    info = await Note.get_pymongo_collection().index_information()
    keys = {tuple(k for k, _ in spec["key"]): spec.get("partialFilterExpression") for spec in info.values()}
    tail = ("deleted_at", "created_at", "_id")
    assert keys[("reach", *tail)] is None and keys[tail] is None  # a person's rows (own, assigned, shared)
    assert len(info) == 3  # and the _id index: nothing else costs a write


async def test_audit_fields_and_owner_come_from_the_context(mongo: object) -> None:
    repo = BeanieRepository(Note)
    with context.as_user(ALICE):
        note = await repo.insert(Note(title="a", owner_id="someone-else"))
    assert note.owner_id == "alice" and note.created_by == "alice" and note.updated_by == "alice"
    with context.as_user(BOB):
        with pytest.raises(NotFound):
            await repo.get(note.id)
        with pytest.raises(NotFound):
            await repo.update(note.id, {"title": "hacked"})
        with pytest.raises(NotFound):
            await repo.delete(note.id)
        assert await repo.count() == 0
        assert await repo.update_many([note.id], {"title": "hacked"}) == 0
    with context.as_user(ADMIN):
        seen = await repo.update(note.id, {"title": "by admin", "owner_id": "root"})
    assert seen.title == "by admin" and seen.owner_id == "alice" and seen.updated_by == "root"
    with context.as_user(None), pytest.raises(Unauthorized):
        await repo.find()


async def test_soft_delete_restore_and_purge(mongo: object) -> None:
    repo = BeanieRepository(Note)
    with context.as_user(ALICE):
        keep, gone = [await repo.insert(Note(title=t)) for t in ("keep", "gone")]
        await repo.delete(gone.id)
        assert [n.title for n in await repo.find()] == ["keep"]
        with pytest.raises(NotFound):
            await repo.get(gone.id)
        assert [n.title for n in await repo.find(deleted=True)] == ["gone"]
        restored = await repo.restore(gone.id)
        assert restored.deleted_at is None
        assert sorted(n.title for n in await repo.find()) == ["gone", "keep"]
        with pytest.raises(Forbidden):
            await repo.purge(keep.id)
    with context.as_user(ADMIN):
        await repo.purge(keep.id)
        with pytest.raises(NotFound):
            await repo.get(keep.id)
    assert await Note.get_pymongo_collection().count_documents({"_id": keep.id}) == 0


async def test_malformed_id_is_not_found(mongo: object) -> None:
    with context.as_user(ALICE), pytest.raises(NotFound):
        await BeanieRepository(Note).get("not-an-id")


async def test_service_checks_permissions_emits_events_and_pages(mongo: object) -> None:
    events = RecordingPublisher()
    service = NoteService(events=events)
    with context.as_user(ALICE):
        created = [await service.create(NoteCreate(title=f"n{i}")) for i in range(7)]
        page = await service.list(limit=5, sort=[("title", 1)], total=True)
        assert isinstance(page, Page)
        assert (page.total, page.skip, page.limit, page.has_more) == (7, 0, 5, True)
        assert (await service.list(limit=5)).total is None  # not asked for, not known: not counted
        assert [n.title for n in page.items] == ["n0", "n1", "n2", "n3", "n4"]
        last = await service.list(skip=5, limit=1000)
        assert last.limit == 100 and last.has_more is False and len(last.items) == 2
        updated = await service.update(created[0].id, NoteUpdate(colour=Colour.blue))
        assert updated.colour == Colour.blue and updated.title == "n0"
        assert await service.bulk_update([c.id for c in created[:3]], NoteUpdate(title="bulk")) == 3
        await service.delete(created[1].id)
        assert (await service.trash()).total == 1
        await service.restore(created[1].id)
    assert events.topics()[:8] == ["note:created"] * 7 + ["note:updated"]
    assert events.topics()[-3:] == ["note:bulk_updated", "note:deleted", "note:restored"]
    assert events.events[0][1]["owner_id"] == "alice"
    with context.as_user(READER):
        assert (await service.list()).total == 0
        with pytest.raises(Forbidden):
            await service.create(NoteCreate(title="no"))
    with context.as_user(BOB), pytest.raises(NotFound):
        await service.get(created[0].id)
    with context.as_user(ADMIN):
        assert (await service.list()).total == 7
        with pytest.raises(NotFound):
            await service.purge("5f0000000000000000000000")


async def test_aggregate_is_scoped(mongo: object) -> None:
    repo = BeanieRepository(Note)
    for user, colour in ((ALICE, Colour.red), (ALICE, Colour.blue), (BOB, Colour.red)):
        with context.as_user(user):
            await repo.insert(Note(title="x", colour=colour))
    pipeline = [{"$group": {"_id": "$colour", "n": {"$sum": 1}}}]
    with context.as_user(ALICE):
        assert {r["_id"]: r["n"] for r in await repo.aggregate(pipeline)} == {"red": 1, "blue": 1}
    with context.as_user(ADMIN):
        assert {r["_id"]: r["n"] for r in await repo.aggregate(pipeline)} == {"red": 2, "blue": 1}


async def test_bulk_insert_stamps_every_row(mongo: object) -> None:
    repo = BeanieRepository(Note)
    with context.as_user(BOB):
        notes = await repo.insert_many([Note(title=str(i)) for i in range(20)])
        assert all(n.id is not None and n.owner_id == "bob" for n in notes)
        assert await repo.count() == 20
    with context.as_user(ALICE):
        assert await repo.count() == 0


async def test_documents_defined_after_another_init_keep_their_defaults(mongo: object) -> None:
    class Late(OwnedDocument):  # created after Beanie initialised Note (and touched the bases)
        webos_module = "demo"
        title: str = "untitled"

    await init_beanie(database=mongo, document_models=[Late])  # type: ignore[arg-type]
    late = Late()
    assert late.deleted_at is None and late.title == "untitled" and late.owner_id == ""
    with context.as_user(ALICE):
        saved = await BeanieRepository(Late).insert(late)
        assert (await BeanieRepository(Late).get(saved.id)).deleted_at is None


class Address(BaseModel):
    city: str


class Contact(CoreDocument):
    webos_module = "demo"
    name: str
    colour: Colour = Colour.blue
    address: Address | None = None


async def test_nested_models_and_enums_are_stored_as_plain_values(mongo_url: str, db_name: str) -> None:
    client = db.mongo_client(mongo_url)
    await init_beanie(database=client[db_name], document_models=[Contact])
    try:
        with context.as_user(ADMIN):
            saved = await BeanieRepository(Contact).insert(Contact(name="x", address=Address(city="Oslo")))
            raw = await Contact.get_pymongo_collection().find_one({"_id": saved.id})
            assert raw["address"] == {"city": "Oslo"} and raw["colour"] == "blue" and raw["created_by"] == "root"
            loaded = await BeanieRepository(Contact).get(saved.id)
            assert loaded.address == Address(city="Oslo") and loaded.colour is Colour.blue
    finally:
        await client.close()
