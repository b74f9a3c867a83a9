"""The folder ACL rules (`domain/acl.py`), without I/O."""

from __future__ import annotations

import pytest

from webos_common.identity import User
from webos_storage.domain.acl import Level, level, strictest
from webos_storage.domain.model import IndexEntry


def folder(path: str, owner: str | None, acl: list[dict[str, str]] | None = None) -> IndexEntry:
    return IndexEntry(urn=f"fs://s/{path}", source="s", path=path, name=path.rsplit("/", 1)[-1], size=0,
                      sha256=None, content_type=None, owner=owner, is_dir=True, acl=acl)


def file(path: str, owner: str) -> IndexEntry:
    return IndexEntry(urn=f"fs://s/{path}", source="s", path=path, name=path.rsplit("/", 1)[-1], size=1,
                      sha256=None, content_type=None, owner=owner)


ANN, BOB = User(id="ann", roles=("user",)), User(id="bob", roles=("user", "finance"))
ADMIN = User(id="root", roles=("admin",))
TOP = folder("top", "ann", [{"kind": "role", "id": "finance", "access": "read"}])
SUB = folder("top/sub", "cat")  # no ACL of its own: TOP's applies


@pytest.mark.parametrize("user, item, folders, expected", [
    (BOB, file("top/sub/x", "cat"), [SUB, TOP], Level.READ),  # inherited through SUB
    (User(id="eve", roles=("user",)), None, [SUB, TOP], Level.NONE),
    (ANN, file("top/sub/x", "cat"), [SUB, TOP], Level.MANAGE),  # owner of the ruling folder
    (BOB, file("top/sub/x", "bob"), [SUB, TOP], Level.MANAGE),  # owner of the item
    (ADMIN, None, [SUB, TOP], Level.MANAGE),
    (BOB, None, [folder("top/w", "ann", [{"kind": "user", "id": "bob", "access": "write"}]), TOP], Level.WRITE),
    (BOB, None, [folder("top/n", "ann", []), TOP], Level.NONE),  # the nearest ACL wins, even empty
    (BOB, None, [folder("free", "ann")], Level.MANAGE),  # no ACL: the default (`full`)
])
def test_levels(user, item, folders, expected) -> None:
    assert level(user, item=item, folders=folders, default="full") == expected


def test_defaults_without_an_acl() -> None:
    assert level(BOB, item=None, folders=[folder("a", "ann")], default="write") == Level.WRITE
    assert level(BOB, item=None, folders=[folder("a", "ann")], default="read") == Level.READ
    assert level(BOB, item=None, folders=[folder("a", "ann")], default="none") == Level.NONE
    assert level(ANN, item=None, folders=[folder("a/b", None), folder("a", "ann")], default="none") == Level.MANAGE
    assert strictest(["full", "write", "read"]) == "read" and strictest(["full", "write"]) == "write"
    assert strictest([]) == "full"
