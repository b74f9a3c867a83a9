"""`require_permission("inventory.read")` — one name for both uses:

* a route dependency: `Depends(require_permission("inventory.read"))`;
* a decorator on plain (async) service code, checked against the context
  user, so it works the same in event handlers and background tasks.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import Depends

from webos_common import context
from webos_common.errors import Forbidden, Unauthorized
from webos_common.identity import User
from webos_common.security.deps import current_user


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
