"""What the API and the events show of a person's record (`auth_users`)."""

from __future__ import annotations

from typing import Any

PUBLIC_FIELDS = ("email", "username", "roles", "profile", "created_at", "updated_at", "last_login",
                 "active", "verified")


def public(user: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of a user: never the hash or lockout internals."""
    out = {"id": user["_id"], **{k: user.get(k) for k in PUBLIC_FIELDS}}
    out["sso"] = bool(user.get("sso"))
    out["two_factor"] = bool((user.get("totp") or {}).get("secret"))
    return out
