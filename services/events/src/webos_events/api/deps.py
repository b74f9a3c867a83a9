"""Shared route dependencies: resources, the admin check, capped paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from webos_common.http.errors import Forbidden, Unavailable
from webos_common.http.paging import Limit, Skip
from webos_common.http.service import ServiceResources, get_resources
from webos_common.identity import User
from webos_common.security import CurrentUser

Resources = Annotated[ServiceResources, Depends(get_resources)]


def db_of(resources: ServiceResources) -> Any:
    return resources.db


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("Admin only")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


@dataclass
class Paging:
    skip: int
    limit: int

    def page(self, items: list[Any], total: int) -> dict[str, Any]:
        return {"items": items, "total": total, "skip": self.skip, "limit": self.limit,
                "has_more": self.skip + len(items) < total}


def paging(request: Request, skip: Skip = 0, limit: Limit = 50) -> Paging:
    cap: int = getattr(request.app.state.resources.settings, "events_max_page", 200)
    return Paging(skip=skip, limit=min(limit, cap))


PagingDep = Annotated[Paging, Depends(paging)]


def bus_js(resources: ServiceResources) -> Any:
    if resources.bus is None:
        raise Unavailable("events service has no bus")
    return resources.bus.js
