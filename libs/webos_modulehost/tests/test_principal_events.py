"""Every event a module's services can emit is inside what its NATS credential lets it publish.

A topic missing from the declaration is refused by NATS in production only (the host's
`access_changed` once was: its rows were set aside, or before that held the outbox). This reads
what `BaseService` and each module's services emit from their source (`self.emit("<action>")`,
a helper that passes its `action` on, `self.events.emit(f"{self.entity}:<action>")` or a named
topic) and checks each subject against the permissions the declaration gives the host."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

from webos_common.bus.topics import event_subject
from webos_common.documents.service import NOTIFY_TOPIC, BaseService
from webos_common.security.nats_permissions import permissions_for
from webos_common.security.principals import Principal
from webos_modulehost.discovery import load
from webos_modulehost.principal import declaration

MODULES = Path(__file__).resolve().parents[3] / "modules"
KEY = "U" + "A" * 55  # a well-formed public key: only the permissions are read


def _self_call(node: ast.Call, names: set[str]) -> str | None:
    """`self.<name>("<constant>", …)` → the constant."""
    func = node.func
    if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
            and func.attr in names and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


def _topics_of(arg: ast.expr, entity: str, globals_: dict[str, Any]) -> set[str] | None:
    """The topics of `self.events.emit(arg, …)`: a string, a module constant, `f"{self.entity}:<action>"`,
    `f"<entity>:{TABLE[…]}"` (every value of a module's table); `f"…{action}"` is `emit` handing on
    the actions its callers name (read at those calls). None: a form this reading does not know."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return {arg.value}
    if isinstance(arg, ast.Name) and isinstance(globals_.get(arg.id), str):
        return {str(globals_[arg.id])}
    if not isinstance(arg, ast.JoinedStr):
        return None
    last = arg.values[-1]
    if isinstance(last, ast.FormattedValue) and isinstance(last.value, ast.Name) and last.value.id == "action":
        return set()
    if len(arg.values) != 2:
        return None
    head, tail = arg.values
    if isinstance(head, ast.FormattedValue) and ast.unparse(head.value) == "self.entity" \
            and isinstance(tail, ast.Constant):
        return {f"{entity}{tail.value!s}"}
    if isinstance(tail, ast.FormattedValue) and isinstance(head, ast.Constant):
        if isinstance(tail.value, ast.Subscript) and isinstance(tail.value.value, ast.Name):
            table = globals_.get(tail.value.value.id)
            if isinstance(table, dict):
                return {f"{head.value!s}{value}" for value in table.values()}
    return None


def _is_events_emit(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == "emit" and isinstance(func.value, ast.Attribute)
            and func.value.attr == "events")


def emitted_topics(service: type[BaseService[Any, Any, Any, Any]]) -> set[str]:
    """The topics `service` and the classes it inherits from emit, read from their source."""
    topics: set[str] = set()
    for cls in service.__mro__:
        if cls is object or not issubclass(cls, BaseService):
            continue
        tree = ast.parse(inspect.getsource(cls))
        # `emit` and the helpers that take an `action` and hand it on (`_change("deleted", …)`)
        names = {"emit"} | {fn.name for fn in ast.walk(tree) if isinstance(fn, ast.AsyncFunctionDef | ast.FunctionDef)
                            and any(a.arg == "action" for a in fn.args.args) and fn.name != "emit"}
        globals_ = vars(sys.modules[cls.__module__])
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if (action := _self_call(node, names)) is not None:
                topics.add(f"{service.entity}:{action}")
            elif _is_events_emit(node) and node.args:
                found = _topics_of(node.args[0], service.entity, globals_)
                assert found is not None, f"{cls.__name__} emits a topic this test cannot read: {ast.unparse(node)}"
                topics |= found
    return topics


def _allowed(subject: str, patterns: set[str]) -> bool:
    def match(pattern: str) -> bool:
        have, want = subject.split("."), pattern.split(".")
        for i, token in enumerate(want):
            if token == ">":
                return len(have) > i
            if i >= len(have) or (token != "*" and token != have[i]):
                return False
        return len(have) == len(want)

    return any(match(p) for p in patterns)


class _Probe(BaseService[Any, Any, Any, Any]):
    entity, module = "probe", "probe"


def test_the_reading_finds_every_event_base_service_emits() -> None:
    """The reading itself works: these are the events `BaseService` is known to emit."""
    assert emitted_topics(_Probe) == {f"probe:{action}" for action in (
        "created", "updated", "deleted", "restored", "bulk_updated", "purged", "access_changed")} | {NOTIFY_TOPIC}


@pytest.mark.parametrize("name", sorted(p.name for p in MODULES.iterdir() if (p / "pyproject.toml").is_file()))
def test_a_module_host_may_publish_every_event_its_services_emit(name: str) -> None:
    mod = load(name, modules_dir=MODULES)
    declared = declaration(mod)
    principal = Principal(name=name, kind="module", public_key=KEY, emits=declared["emits"],
                          consumes=declared["consumes"], consumers=declared["consumers"],
                          data_sources=declared["data_sources"])
    perms = permissions_for(principal)
    assert perms is not None
    missing = sorted(topic for svc in mod.services for topic in emitted_topics(svc)
                     if not _allowed(event_subject(topic, name), perms.publish))
    assert not missing, f"module {name} emits events its NATS credential may not publish: {missing}"
