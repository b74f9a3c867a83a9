"""`require_permission("inventory.read")` — one name for both uses:

* a route dependency: `Depends(require_permission("inventory.read"))`;
* a decorator on plain (async) service code, checked against the context
  user, so it works the same in event handlers and background tasks.

`area_permission("storage")` guards a whole router: reads need
`storage.read`, everything else `storage.write` — for people's tokens and
API keys alike (a key holds only its scopes). Service tokens are bound to
this service by their audience and checked by the routes themselves.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import Depends
from starlette.requests import HTTPConnection

from webos_common import context
from webos_common.http.errors import Forbidden, Unauthorized
from webos_common.identity import User
from webos_common.security.deps import current_user, optional_user

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_permission(permission: str, user: User | None = None) -> User:
    """Return the (context) user if it holds `permission`; raise otherwise."""
    user = user or context.current_user.get()
    if user is None:
        raise Unauthorized("Sign-in required")
    if not user.has_permission(permission):
        raise Forbidden(f"Missing permission {permission}", details={"permission": permission})
    return user


class require_permission:
    def __init__(self, permission: str) -> None:
        self.permission = permission

    def __call__(self, user: User = Depends(current_user)) -> Any:
        if isinstance(user, User):  # FastAPI calling the dependency
            return check_permission(self.permission, user)
        return self._decorate(user)

    def _decorate(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                check_permission(self.permission)
                return await func(*args, **kwargs)
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_permission(self.permission)
            return func(*args, **kwargs)
        return wrapper


def area_permission(area: str) -> Any:
    """A router dependency: `<area>.read` for reads, `<area>.write` for changes."""
    async def check(connection: HTTPConnection) -> None:
        if connection.scope["type"] != "http":
            return  # a WebSocket endpoint checks for itself
        user = await optional_user(connection)  # type: ignore[arg-type]
        if user is None or user.extra.get("principal"):
            return  # no token: the route answers 401 (or serves a public link); a service token
        action = "read" if connection.scope["method"] in READ_METHODS else "write"
        check_permission(f"{area}.{action}", user)

    return Depends(check)
