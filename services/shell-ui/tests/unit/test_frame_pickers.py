"""Which collection a module view's record picker may search, and which files its file
picker offers: the person's permissions and the live registry decide, never the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from webos_common.clients.session import SessionClient
from webos_common.identity import User
from webos_common.modules.manifest import Collection, ModuleManifest
from webos_common.modules.registry_view import RegistryView
from webos_shell import runtime
from webos_shell.file_picker import accepted
from webos_shell.frame_pickers import Refused, collection_for
from webos_shell.settings import ShellSettings


def _manifest(name: str, *collections: str) -> ModuleManifest:
    return ModuleManifest(name=name, instance_id="i1", base_url="http://127.0.0.1:1", collections=[
        Collection(name=c, label=c.capitalize(), endpoint=f"/api/{name}/{c}", model=c, permission_read=f"{name}.read")
        for c in collections])


@pytest.fixture
def registry() -> Iterator[RegistryView]:
    view = RegistryView(None)  # type: ignore[arg-type]  # read only: no bucket followed
    view.instances = {"tasks": {"i1": _manifest("tasks", "tasks")}, "orders": {"i1": _manifest("orders", "orders")},
                      "old": {"i1": _manifest("old", "things")}}
    view.enabled = {"old": False}
    before = runtime._current
    runtime.install(runtime.Runtime(settings=ShellSettings(), gateway=SessionClient("http://gateway"),
                                    registry=view))
    yield view
    runtime._current = before


def test_a_record_picker_searches_a_collection_the_person_may_read(registry: RegistryView) -> None:
    ann = User(id="ann", permissions=["tasks.read", "orders.read", "old.read"])
    assert collection_for(ann, "tasks", "tasks").collection.endpoint == "/api/tasks/tasks"  # its own module's
    assert collection_for(ann, "tasks", "orders/orders").collection.endpoint == "/api/orders/orders"  # another's
    refusals = [("tasks", "nothing", 404), ("tasks", "orders/nothing", 404), ("tasks", "nomodule/tasks", 404),
                ("tasks", "old/things", 404)]  # the module is switched off
    for module, name, status in refusals:
        with pytest.raises(Refused) as refused:
            collection_for(ann, module, name)
        assert refused.value.status == status and name in refused.value.message
    bob = User(id="bob", permissions=["tasks.read"])
    with pytest.raises(Refused) as refused:  # the tasks view may not read orders through bob
        collection_for(bob, "tasks", "orders/orders")
    assert (refused.value.status, refused.value.message) == (403, "You may not read Orders.")


def test_a_file_picker_offers_the_name_endings_asked_for() -> None:
    assert accepted("Report.PDF", (".pdf",)) and accepted("a.png", (".pdf", ".png")) and accepted("any", ())
    assert not accepted("report.pdf.txt", (".pdf",)) and not accepted("pdf", (".pdf",))
