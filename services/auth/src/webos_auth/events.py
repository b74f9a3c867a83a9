"""Auth's events on the platform bus (`resources.bus`, JetStream), with
registered payload schemas so consumers get validated data (published by
`adapters.bus.Events`):

* `user:created`, `user:updated` — `UserEvent` (no secrets, no hash)
* `user:deleted` — `UserRef`
* `user:logged_in` — `UserLoggedIn` (method: password or sso)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from webos_common.bus import register_event

USER_CREATED = "user:created"
USER_UPDATED = "user:updated"
USER_DELETED = "user:deleted"
USER_LOGGED_IN = "user:logged_in"


class UserRef(BaseModel):
    id: str
    username: str
    email: str


class UserEvent(UserRef):
    roles: list[str] = []
    active: bool = True
    verified: bool = False
    profile: dict[str, Any] = {}
    created_at: datetime | None = None
    updated_at: datetime | None = None


class UserLoggedIn(BaseModel):
    id: str
    username: str
    method: str


register_event(USER_CREATED, UserEvent)
register_event(USER_UPDATED, UserEvent)
register_event(USER_DELETED, UserRef)
register_event(USER_LOGGED_IN, UserLoggedIn)
