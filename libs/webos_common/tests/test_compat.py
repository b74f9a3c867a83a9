"""The patches of other libraries' private code (`webos_common.compat`) fail loudly here
when a library moves: its release is still the one the patch was written against, the
private names it replaces still exist, and the patch still does what the original does."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest
from nats.aio.client import Client

from webos_common.compat import nats as nats_compat
from webos_common.compat import release_is

CASES = [
    b"",
    b"Nats-Msg-Id: abc\r\nwebos-source: storage\r\n\r\n",
    b"traceparent: 00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01\r\nwebos-user: {\"id\":\"u\"}\r\n",
    b"Name:Value\r\nOther:\tspaced \r\n",
    b"no colon here\r\nGood: yes\r\n",
    b"Bad Name: skipped\r\nTab\tName: skipped\r\nSep\x1cName: skipped\r\nOk: 1\r\n",
    "Caf\u00e9: non-ascii name\r\nUtf: caf\u00e9 \u2713\r\n".encode(),
    b"Broken: \xff\xfe\r\nEmpty:\r\n: no name\r\n",
    b"Dup: 1\r\nDup: 2\r\n",
    b"Colon: a:b:c\r\n",
]


def test_release_is_compares_the_leading_parts_only() -> None:
    major_minor = ".".join(version("nats-py").split(".")[:2])
    assert release_is("nats-py", major_minor)
    assert not release_is("nats-py", "0.1")


def test_nats_py_is_the_release_the_header_parser_was_written_for() -> None:
    assert release_is("nats-py", nats_compat.TESTED), (
        f"nats-py {version('nats-py')} is not {nats_compat.TESTED}: check Client._parse_header_lines "
        "against webos_common.compat.nats, then move TESTED")
    original = nats_compat.original_parse_header_lines
    assert isinstance(original, staticmethod)
    assert list(inspect.signature(original.__func__).parameters) == ["raw"]
    assert nats_compat.applies()


def test_the_bus_installs_the_parser_into_nats_py() -> None:
    import webos_common.bus  # noqa: F401 - installs it

    assert Client.__dict__["_parse_header_lines"].__func__ is nats_compat.parse_header_lines


@pytest.mark.parametrize("raw", CASES)
def test_the_parser_gives_what_nats_py_gives(raw: bytes) -> None:
    original = nats_compat.original_parse_header_lines
    assert isinstance(original, staticmethod)
    assert nats_compat.parse_header_lines(raw) == original.__func__(raw)


def test_beanie_and_pydantic_are_the_releases_the_lean_documents_were_written_for() -> None:
    from webos_common.compat import beanie as beanie_compat

    for name, tested in beanie_compat.TESTED.items():
        assert release_is(name, tested), (
            f"{name} {version(name)} is not {tested}: check webos_common.compat.beanie against it, then move TESTED")
    assert beanie_compat.applies()


def test_the_beanie_internals_the_lean_documents_replace_are_still_there() -> None:
    import ast
    import textwrap

    from beanie import Document, PydanticObjectId
    from pydantic import BaseModel

    from webos_common.compat.beanie import BACK_REFS

    init = ast.parse(textwrap.dedent(inspect.getsource(Document.__init__))).body[0]
    assert isinstance(init, ast.AsyncFunctionDef | ast.FunctionDef)
    assert len(init.body) == 2 and "get_pymongo_collection" in ast.unparse(init.body[1]), (
        "Beanie's Document.__init__ does more than check the collection now: LeanDocument skips it")
    assert BACK_REFS in Document.__pydantic_decorators__.model_validators
    assert callable(PydanticObjectId._validate)
    assert {"_saved_state", "_previous_saved_state"} <= set(Document.__private_attributes__)
    for name in ("__pydantic_post_init__", "__pydantic_fields__", "__pydantic_decorators__"):
        assert hasattr(Document, name), f"pydantic's {name} is gone: webos_common.compat.beanie writes it"
    assert "__pydantic_fields_set__" in BaseModel.__slots__ and "__pydantic_private__" in BaseModel.__slots__


def test_a_lean_document_is_validated_by_pydantic_alone_and_makes_privates_on_first_use() -> None:
    from bson import ObjectId

    from webos_common.compat.beanie import BACK_REFS, set_id, stamp, stored
    from webos_common.documents import CoreDocument

    class Lean(CoreDocument):
        webos_module = "compat"
        title: str = ""

    assert BACK_REFS not in Lean.__pydantic_decorators__.model_validators
    assert Lean.__init__ is CoreDocument.__init__ and Lean.__pydantic_post_init__ is None
    oid = ObjectId()
    doc = Lean.model_validate({"_id": oid, "title": "t"})
    assert doc.id is oid  # not re-parsed
    assert object.__getattribute__(doc, "__pydantic_private__") is None
    assert doc._saved_state is None  # made on first use
    private = object.__getattribute__(doc, "__pydantic_private__")
    assert set(private) == set(Lean.__private_attributes__) and private["_previous_saved_state"] is None
    fresh = Lean(title="x")
    set_id(fresh, oid)
    stamp(fresh, {"version": 3})
    assert fresh.id == oid and "id" in fresh.model_fields_set and fresh.version == 3
    assert stored(fresh)["title"] == "x" and stored(fresh)["id"] == oid


def test_uvicorn_is_the_release_whose_httptools_protocol_the_gateway_subclasses() -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from webos_common.compat import uvicorn as uvicorn_compat

    assert release_is("uvicorn", uvicorn_compat.TESTED), (
        f"uvicorn {version('uvicorn')} is not {uvicorn_compat.TESTED}: check HttpToolsProtocol's use of its "
        "transport against webos_common.compat.uvicorn.CoalescingTransport, then move TESTED")
    assert list(inspect.signature(HttpToolsProtocol.connection_made).parameters) == ["self", "transport"]
    assert uvicorn_compat.http_protocol() is uvicorn_compat.CoalescingHttpProtocol
    assert uvicorn_compat.http_protocol(coalesce=False) is uvicorn_compat.BodyHttpProtocol


def test_uvicorn_still_gathers_a_body_the_way_the_body_protocol_replaces() -> None:
    """`BodyHttpProtocol.on_body` is uvicorn's own but for the gathering line; the cycle still starts
    with an empty `bytearray`, hands `bytes()` of it over and starts a fresh one."""
    import ast
    import textwrap

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

    def body_of(function: object) -> list[str]:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]  # type: ignore[arg-type]
        assert isinstance(tree, ast.FunctionDef | ast.AsyncFunctionDef)
        return [ast.unparse(statement) for statement in tree.body]

    assert body_of(HttpToolsProtocol.on_body) == [
        "if self.parser.should_upgrade() and self._should_upgrade() or self.cycle.response_complete:\n    return",
        "self.cycle.body += body",
        "if len(self.cycle.body) > HIGH_WATER_LIMIT:\n    self.flow.pause_reading()",
        "self.cycle.message_event.set()",
    ], "uvicorn's on_body changed: check webos_common.compat.uvicorn.BodyHttpProtocol against it"
    receive = body_of(RequestResponseCycle.receive)
    assert receive[-3:-1] == [
        "message: HTTPRequestEvent = {'type': 'http.request', 'body': bytes(self.body), 'more_body': self.more_body}",
        "self.body = bytearray()",
    ], "uvicorn's receive no longer hands over bytes(cycle.body): check BodyHttpProtocol"
    assert "self.body = bytearray()" in body_of(RequestResponseCycle.__init__)


def test_on_another_uvicorn_release_its_own_protocol_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    from webos_common.compat import uvicorn as uvicorn_compat

    monkeypatch.setattr(uvicorn_compat, "release_is", lambda name, tested: False)
    assert uvicorn_compat.http_protocol() == "httptools"
    assert uvicorn_compat.http_protocol(coalesce=False) == "httptools"


async def test_the_private_send_path_of_a_connected_nats_py_client_is_still_there(nc: Client) -> None:
    for name in nats_compat.PRIVATE:
        assert hasattr(nc, name), f"nats-py's Client.{name} is gone: webos_common.compat.nats.send_hpub uses it"
    assert list(inspect.signature(nc._send_command).parameters) == ["cmd", "priority"]
    assert {"out_msgs", "out_bytes"} <= set(nc.stats)
    assert nats_compat._fast


async def test_on_another_nats_py_release_a_header_block_goes_through_the_public_publish(
        nc: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from nats.js.api import StreamConfig

    from webos_common.bus.publisher import AckPublisher
    from webos_common.bus.wire import header_block

    name = f"C{uuid.uuid4().hex[:8].upper()}"
    await nc.jetstream().add_stream(StreamConfig(name=name, subjects=[f"{name.lower()}.>"]))
    monkeypatch.setattr(nats_compat, "_fast", False)
    publisher = AckPublisher(nc, timeout=2)
    headers = header_block({"Nats-Msg-Id": "m-1", "ce-source": "shop"})
    assert await (await publisher.publish(f"{name.lower()}.a", b"{}", headers)) is True
    assert await (await publisher.publish(f"{name.lower()}.a", b"{}", headers)) is False  # same msg id
    stored = await nc.jetstream().get_last_msg(name, f"{name.lower()}.a")
    assert stored.headers == {"Nats-Msg-Id": "m-1", "ce-source": "shop"}
    await publisher.close()


def test_nicegui_is_the_release_whose_user_storage_factory_the_shell_replaces() -> None:
    from nicegui import storage as nicegui_storage
    from nicegui.storage import Storage

    from webos_common.compat import nicegui as nicegui_compat

    assert release_is("nicegui", nicegui_compat.TESTED), (
        f"nicegui {version('nicegui')} is not {nicegui_compat.TESTED}: check Storage._create_persistent_dict "
        "and Storage._create_user_storage against webos_common.compat.nicegui, then move TESTED")
    assert isinstance(nicegui_compat.original_create, staticmethod)
    assert list(inspect.signature(nicegui_compat.original_create.__func__).parameters) == ["id"]
    assert "USER_PREFIX}{session_id}" in inspect.getsource(Storage._create_user_storage), (
        "NiceGUI no longer names a user storage `user-<session id>`: check webos_common.compat.nicegui")
    assert nicegui_storage.USER_PREFIX == "user-" and nicegui_compat.applies()


def test_the_shells_user_storage_gets_every_user_id_and_nothing_else() -> None:
    from nicegui.persistence import FilePersistentDict, PersistentDict
    from nicegui.persistence.pseudo_persistent_dict import PseudoPersistentDict
    from nicegui.storage import Storage

    from webos_common.compat import nicegui as nicegui_compat

    made: list[str] = []

    def factory(session_id: str) -> PersistentDict:
        made.append(session_id)
        return PseudoPersistentDict()

    try:
        assert nicegui_compat.user_storage(factory)
        assert isinstance(Storage._create_persistent_dict("user-s1"), PseudoPersistentDict)
        assert isinstance(Storage._create_persistent_dict("general"), FilePersistentDict)
        assert made == ["s1"]
    finally:
        assert nicegui_compat.user_storage(None)
    assert Storage.__dict__["_create_persistent_dict"] is nicegui_compat.original_create
    assert isinstance(Storage._create_persistent_dict("user-s2"), FilePersistentDict) and made == ["s1"]


def test_on_another_nicegui_release_its_own_user_storage_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    from nicegui.storage import Storage

    from webos_common.compat import nicegui as nicegui_compat

    monkeypatch.setattr(nicegui_compat, "release_is", lambda name, tested: False)
    assert not nicegui_compat.user_storage(lambda session_id: None)  # type: ignore[arg-type,return-value]
    assert Storage.__dict__["_create_persistent_dict"] is nicegui_compat.original_create


def test_nicegui_kept_a_user_storage_in_the_file_the_shell_takes_over() -> None:
    from nicegui.persistence import FilePersistentDict

    from webos_common.compat import nicegui as nicegui_compat

    assert isinstance(nicegui_compat.original_create, staticmethod)
    made = nicegui_compat.original_create.__func__("user-s1")
    assert isinstance(made, FilePersistentDict) and made.filepath == nicegui_compat.user_storage_file("s1")
