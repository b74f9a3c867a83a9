"""Who is calling: the `User` every layer sees (seed 002 §10.4).

Permissions are named `<area>.<action>`; a granted permission may end in
`.*` (everything in an area) or be `*` (everything).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

ADMIN_ROLES = frozenset({"admin", "superadmin"})
# What every person may do in the kernel's own areas (auth's built-in `user` role holds them):
# storage, settings and events check `<area>.read` / `<area>.write` for people and API keys alike,
# so a key scoped to `tasks.read` touches no file, setting or notification.
PERSON_PERMISSIONS = ("storage.read", "storage.write", "settings.read", "settings.write",
                      "events.read", "events.write")


def permission_matches(granted: str, wanted: str) -> bool:
    """True when the granted permission (possibly a wildcard) covers `wanted`."""
    if granted == "*" or granted == wanted:
        return True
    if granted.endswith(".*"):
        return wanted.startswith(granted[:-1])
    return False


class User(BaseModel):
    """The caller, as carried in the context, in events and in tasks."""

    model_config = ConfigDict(frozen=True)

    id: str
    username: str = ""
    email: str | None = None
    roles: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    extra: dict[str, str] = Field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return bool(ADMIN_ROLES.intersection(self.roles)) or "*" in self.permissions

    def has_permission(self, wanted: str) -> bool:
        if self.is_admin:
            return True
        return any(permission_matches(granted, wanted) for granted in self.permissions)


SYSTEM_USER = User(id="system", username="system", roles=("superadmin",), permissions=("*",))
