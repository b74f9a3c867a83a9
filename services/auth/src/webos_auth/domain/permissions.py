"""Permissions are named `<area>.<action>` (wildcards `area.*`, `*`) and held by roles:
the built-in roles, what a grant covers, and what counts as declared."""

from __future__ import annotations

import re
from typing import Any

from webos_common.identity import PERSON_PERMISSIONS, permission_matches

PERMISSION_RE = re.compile(r"^(\*|[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?)$")
ROLE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")

BUILTIN_ROLES: dict[str, dict[str, Any]] = {
    "user": {"description": "Every signed-up person", "permissions": list(PERSON_PERMISSIONS)},
    "admin": {"description": "Manages users, roles and modules", "permissions": ["*"]},
    "superadmin": {"description": "Everything, including admins and signing keys", "permissions": ["*"]},
}
PRIVILEGED_ROLES = frozenset({"admin", "superadmin"})


def covered(wanted: str, granted: list[str]) -> bool:
    """Is `wanted` (maybe itself a wildcard) within what `granted` allows?"""
    for g in granted:
        if g == "*" or g == wanted:
            return True
        if g.endswith(".*") and wanted != "*" and wanted.startswith(g[:-1]):
            return True
        if not wanted.endswith("*") and permission_matches(g, wanted):
            return True
    return False


def declared(permission: str, names: list[str]) -> bool:
    if permission == "*" or permission in names:
        return True
    if permission.endswith(".*"):
        prefix = permission[:-1]
        return any(name.startswith(prefix) for name in names)
    return False
