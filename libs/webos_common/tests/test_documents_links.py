"""String-named links resolved through the document registry, no imports."""

from __future__ import annotations

import pytest
from beanie import init_beanie

from webos_common import context
from webos_common.documents import BeanieRepository, DocumentRegistry, Link, LinkValue, OwnedDocument, db
from webos_common.identity import User

ALICE = User(id="alice")
BOB = User(id="bob")


class Board(OwnedDocument):
    webos_module = "linkdemo"
    title: str


class Card(OwnedDocument):
    webos_module = "linkdemo"
    board: Link["linkdemo.Board"]  # noqa: F821, UP037 - a name, not an import


async def test_link_stores_the_id_and_resolves_through_the_registry(mongo_url: str, db_name: str) -> None:
    client = db.mongo_client(mongo_url)
    await init_beanie(database=client[db_name], document_models=[Board, Card])
    registry = DocumentRegistry()
    registry.register(Board)
    registry.register(Card)
    try:
        with context.as_user(ALICE):
            board = await BeanieRepository(Board).insert(Board(title="b"))
            card = await BeanieRepository(Card).insert(Card(board=board))
            raw = await Card.get_pymongo_collection().find_one({"_id": card.id})
            assert raw["board"] == str(board.id)
            loaded = await BeanieRepository(Card).get(card.id)
            assert isinstance(loaded.board, LinkValue) and loaded.board.target == "linkdemo.Board"
            fetched = await loaded.board.fetch(registry)
            assert fetched.title == "b"
        with context.as_user(BOB):  # the link is resolved under the caller's scope
            assert await loaded.board.fetch(registry) is None
    finally:
        await client.close()
    schema = Card.model_json_schema()
    assert schema["properties"]["board"]["x-link"] == "linkdemo.Board"


def test_registry_names_and_ambiguity() -> None:
    registry = DocumentRegistry()
    registry.register(Board)
    assert registry.resolve("Board") is Board and registry.resolve("linkdemo.Board") is Board
    with pytest.raises(LookupError, match="no document"):
        registry.resolve("other.Thing")
