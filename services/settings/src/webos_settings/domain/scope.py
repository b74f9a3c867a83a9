"""Where a setting lives (system section, module, or user × module) and who may touch it.

* system — `settings.admin` to read or write (admins hold every permission).
* module — any signed-in caller reads; writing needs `settings.admin` or
  `<module>.settings.write`.
* user — the user themself, or `settings.admin`. Anyone else gets 404, for
  reads and writes alike, so the answer never tells whether B has settings.

Secrets come back in clear only on request (`reveal`) and only for a caller
granted `settings.secrets.read` explicitly (a wildcard grant such as
`settings.*` or `*` counts; the admin role alone does not), for a user's
own user-layer secrets, or for a module's own process: a service token
whose principal is the module (the module host reading its settings). A
system section is read (secrets included) by the kernel services named for
it in `SYSTEM_READERS` with their service tokens (auth and events send mail
with `smtp`, storage mounts the sources of `storage`), never written by them.
Any other process asking to reveal is refused (403); a person asking without
the permission gets the masked view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from webos_common.http.errors import Forbidden, NotFound, ValidationFailed
from webos_common.identity import User, permission_matches

Layer = Literal["system", "module", "user"]
LAYERS: tuple[Layer, ...] = ("system", "module", "user")
ADMIN = "settings.admin"
REVEAL = "settings.secrets.read"
NAME = re.compile(r"^[a-z][a-z0-9_-]{1,40}$")
USER_ID = re.compile(r"^[A-Za-z0-9_.@:+-]{1,128}$")
# system sections a kernel service reads with its own service token (and nothing else of the layer)
SYSTEM_READERS: dict[str, frozenset[str]] = {"smtp": frozenset({"auth", "events"}), "storage": frozenset({"storage"})}


@dataclass(frozen=True, slots=True)
class Scope:
    layer: Layer
    name: str  # system section, or module
    user_id: str | None = None

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ValidationFailed("Invalid settings name", details=[
                {"field": "module" if self.layer != "system" else "section",
                 "message": "lowercase letters, digits, '_' or '-', 2-41 characters"}])
        if (self.layer == "user") != (self.user_id is not None) or (
                self.user_id is not None and not USER_ID.match(self.user_id)):
            raise ValidationFailed("Invalid user id", details=[{"field": "user_id", "message": "invalid"}])

    @property
    def id(self) -> str:
        return "/".join(p for p in (self.layer, self.user_id, self.name) if p)

    def label(self) -> str:
        return f"{self.layer} settings {self.name!r}" + (f" of user {self.user_id!r}" if self.user_id else "")


def _hidden(scope: Scope) -> NotFound:
    return NotFound(f"No {scope.layer} settings {scope.name!r} for this user")


def entitled(scope: Scope, user: User) -> bool:
    """A kernel service's own process (its service token) reading a system section it needs."""
    return (scope.layer == "system" and user.extra.get("principal_kind") == "service"
            and user.extra.get("principal", "") in SYSTEM_READERS.get(scope.name, frozenset()))


def check_read(scope: Scope, user: User) -> None:
    if scope.layer == "system" and not (user.has_permission(ADMIN) or entitled(scope, user)):
        raise Forbidden(f"Reading system settings needs {ADMIN!r}")
    if scope.layer == "user" and scope.user_id != user.id and not user.has_permission(ADMIN):
        raise _hidden(scope)


def check_write(scope: Scope, user: User) -> None:
    check_read(scope, user)
    if scope.layer == "system" and not user.has_permission(ADMIN):
        raise Forbidden(f"Changing system settings needs {ADMIN!r}")
    if scope.layer == "system" or scope.layer == "user":
        return
    if not (user.has_permission(ADMIN) or user.has_permission(f"{scope.name}.settings.write")):
        raise Forbidden(f"Changing module settings needs {ADMIN!r} or '{scope.name}.settings.write'")


def can_reveal(user: User) -> bool:
    """Granted `settings.secrets.read` explicitly (the admin role alone is not enough)."""
    return any(permission_matches(granted, REVEAL) for granted in user.permissions)


def may_reveal(scope: Scope, user: User) -> bool:
    return can_reveal(user) or (scope.layer == "user" and scope.user_id == user.id)


def owns(scope: Scope, user: User) -> bool:
    """The module's own process (a service token auth issued to the principal named like it)."""
    return scope.layer == "module" and user.extra.get("principal") == scope.name


def check_reveal(scope: Scope, user: User) -> None:
    if user.extra.get("principal") and not (owns(scope, user) or entitled(scope, user) or can_reveal(user)):
        raise Forbidden(f"Only module {scope.name!r} itself or a holder of {REVEAL!r} reads its secrets")
