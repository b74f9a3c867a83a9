"""ServiceRegistry: by name, by interface (class or runtime Protocol), factories."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pytest

from webos_common.http.errors import NotFound
from webos_common.modules.service_registry import ServiceRegistry


@runtime_checkable
class Mailer(Protocol):
    def send(self, to: str) -> str: ...


class SmtpMailer:
    def send(self, to: str) -> str:
        return f"smtp:{to}"


class Base:
    pass


class Impl(Base):
    pass


def test_by_name_and_by_interface() -> None:
    reg = ServiceRegistry()
    mailer = SmtpMailer()
    reg.register("mailer", mailer)
    reg.register(Base, Impl())
    assert reg.get("mailer") is mailer
    assert isinstance(reg.get(Base), Impl)
    assert reg.get(Mailer) is mailer  # found through the Protocol
    assert "mailer" in reg and "nope" not in reg


def test_missing_is_not_found_and_duplicates_refused() -> None:
    reg = ServiceRegistry()
    with pytest.raises(NotFound, match="'x'"):
        reg.get("x")
    reg.register("x", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("x", 2)
    reg.register("x", 2, replace=True)
    assert reg.get("x") == 2


def test_interface_key_must_be_implemented() -> None:
    with pytest.raises(TypeError, match="does not implement Base"):
        ServiceRegistry().register(Base, object())


def test_factory_builds_once() -> None:
    reg = ServiceRegistry()
    calls: list[int] = []
    reg.register_factory("svc", lambda: calls.append(1) or object())
    first = reg.get("svc")
    assert reg.get("svc") is first and calls == [1]
    reg.unregister("svc")
    assert reg.find("svc") is None


class Directory(Protocol):  # not runtime_checkable, like `documents.sharing.Directory`
    async def exists(self, kind: str, id: str) -> bool: ...


class AuthDirectory:
    async def exists(self, kind: str, id: str) -> bool:
        return True


def test_a_plain_protocol_finds_only_a_service_with_its_members() -> None:
    """It found any registered service before: sharing then called `exists` on the module's
    settings and answered 500."""
    reg = ServiceRegistry()
    reg.register("settings", SmtpMailer())
    assert reg.find(Directory) is None
    directory = AuthDirectory()
    reg.register("directory", directory)
    assert reg.find(Directory) is directory
