"""An in-process `ServiceRegistry`: register and get services by name or by
interface (seed 001 §1, seed 003 §7.2).

    registry.register("mailer", SmtpMailer())
    registry.register(TaskService, TaskService(repo))   # by interface
    registry.get("mailer"); registry.get(TaskService)

Getting by interface also finds a service registered under a subclass or an
implementation of a `runtime_checkable` Protocol. One registry per process
(`registry`), or a fresh one per test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast, overload

from fastapi import Depends, Request

from webos_common.http.errors import NotFound

T = TypeVar("T")
Key = str | type


class ServiceRegistry:
    def __init__(self) -> None:
        self._services: dict[Key, Any] = {}
        self._factories: dict[Key, Callable[[], Any]] = {}

    def register(self, key: Key, service: Any, *, replace: bool = False) -> None:
        """Register `service` under a name or an interface (a class)."""
        self._check_free(key, replace)
        if isinstance(key, type) and not _implements(service, key):
            raise TypeError(f"{type(service).__name__} does not implement {key.__name__}")
        self._services[key] = service

    def register_factory(self, key: Key, factory: Callable[[], Any], *, replace: bool = False) -> None:
        """Build the service on first `get` (then keep it)."""
        self._check_free(key, replace)
        self._factories[key] = factory

    @overload
    def get(self, key: type[T]) -> T: ...
    @overload
    def get(self, key: str) -> Any: ...
    def get(self, key: Key) -> Any:
        found = self.find(key)
        if found is None:
            raise NotFound(f"no service registered for {_name(key)}")
        return found

    def find(self, key: Key) -> Any:
        """Like `get`, but None when nothing is registered."""
        if key in self._services:
            return self._services[key]
        if key in self._factories:
            self._services[key] = self._factories.pop(key)()
            return self._services[key]
        if isinstance(key, type):
            for service in list(self._services.values()):
                if _implements(service, key):
                    return cast(Any, service)
        return None

    def unregister(self, key: Key) -> None:
        self._services.pop(key, None)
        self._factories.pop(key, None)

    def __contains__(self, key: Key) -> bool:
        return self.find(key) is not None

    def __iter__(self) -> Iterator[Key]:
        return iter([*self._services, *self._factories])

    def clear(self) -> None:
        self._services.clear()
        self._factories.clear()

    def _check_free(self, key: Key, replace: bool) -> None:
        if not replace and (key in self._services or key in self._factories):
            raise ValueError(f"a service is already registered for {_name(key)} (pass replace=True)")


def _implements(service: Any, interface: type) -> bool:
    try:
        return isinstance(service, interface)
    except TypeError:  # a Protocol that is not runtime_checkable: has the service its public members?
        return all(hasattr(service, name) for name in _members(interface))  # (any service did: a 500 later)


def _members(interface: type) -> set[str]:
    return {name for klass in interface.__mro__ if klass.__module__ not in ("typing", "builtins")
            for name in vars(klass) if not name.startswith("_")}


def _name(key: Key) -> str:
    return key.__name__ if isinstance(key, type) else repr(key)


registry = ServiceRegistry()


def app_registry(app: Any) -> ServiceRegistry:
    """The registry an app carries in `app.state.services` (the process one otherwise)."""
    found = getattr(app.state, "services", None)
    return found if isinstance(found, ServiceRegistry) else registry


def provide(key: Key) -> Any:
    """A FastAPI dependency that returns the service registered under `key`:

        def tasks(events: EventPublisher = provide(EventPublisher)) -> TaskService: ...
    """
    async def dependency(request: Request) -> Any:  # async: a plain def would run in the thread pool
        return app_registry(request.app).get(key)

    return Depends(dependency)
