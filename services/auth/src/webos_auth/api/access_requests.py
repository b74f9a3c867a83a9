"""Access requests for admins: the pending ones (asked on the first-day page), approved by
granting roles (added to the person's, as a role change through `PATCH /users/{id}`: audited,
and the person signs in again with them) or denied. Either way the person is notified."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from webos_auth.adapters.mongo.access_requests import public
from webos_auth.api.deps import Auth
from webos_auth.api.schemas import AccessGrant, UserUpdate
from webos_auth.api.users import Reader, Writer, update_user
from webos_auth.services import accounts
from webos_common.http.errors import Conflict

router = APIRouter(prefix="/access-requests", tags=["users"])
_MERGE_ATTEMPTS = 3


@router.get("")
async def pending(c: Auth, _: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    return {"items": [public(d) for d in await c.access_requests.pending(limit=limit)]}


@router.post("/{request_id}/approve")
async def approve(request_id: str, body: AccessGrant, c: Auth, caller: Writer) -> dict[str, Any]:
    request = await c.access_requests.get_pending(request_id)
    for attempt in range(_MERGE_ATTEMPTS):  # the roles are merged: another admin's change meanwhile is re-read
        person = await c.users.get(request["user_id"])
        roles = sorted(set(person.get("roles", [])) | set(body.roles))
        try:
            await update_user(person["_id"], UserUpdate(roles=roles), c, caller)
            break
        except Conflict:
            if attempt == _MERGE_ATTEMPTS - 1:
                raise
    granted = sorted(set(body.roles))
    return public(await accounts.answer_access_request(c, request, approved=True, roles=granted, by=caller))


@router.post("/{request_id}/deny")
async def deny(request_id: str, c: Auth, caller: Writer) -> dict[str, Any]:
    request = await c.access_requests.get_pending(request_id)
    return public(await accounts.answer_access_request(c, request, approved=False, roles=[], by=caller))
