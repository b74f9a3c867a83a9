"""What a single sign-on provider's claims grant."""

from __future__ import annotations

from typing import Any


def claimed_roles(claims: dict[str, Any], claim: str) -> list[str]:
    """Roles from a (possibly dotted, e.g. `realm_access.roles`) claim: a list or a space-separated string."""
    value: Any = claims
    for part in claim.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []
