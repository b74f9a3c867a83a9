"""Sign-in through the OIDC provider: the provider's verified claims become
a local user (found by subject, linked by verified email, or created) with
roles taken from the configured claim."""

from __future__ import annotations

import re
import secrets
from typing import Any

from webos_auth.bootstrap import Container
from webos_auth.domain.sso import claimed_roles
from webos_auth.domain.tokens import TokenPair
from webos_auth.domain.users import public
from webos_auth.events import USER_CREATED, USER_LOGGED_IN
from webos_auth.services.accounts import issue_tokens
from webos_common.http.errors import Conflict, Forbidden


async def sso_sign_in(c: Container, claims: dict[str, Any]) -> tuple[dict[str, Any], TokenPair]:
    """A local user for the provider's subject: found, linked by verified email, or created."""
    s = c.settings
    provider, subject = s.oidc_provider_name, str(claims["sub"])
    known_roles = await c.roles.names()
    roles = sorted({*s.oidc_default_roles, *(r for r in claimed_roles(claims, s.oidc_roles_claim) if r in known_roles)})
    email = str(claims.get("email") or f"{subject}@{provider}.invalid").lower()
    user = await c.users.find_sso(provider, subject)
    if user is None:
        user = await c.users.find_email(email)
        if user is not None and claims.get("email_verified") is not True:
            raise Conflict("An account already uses this email; sign in with your password first",
                           details={"field": "email"})
    sso = {"provider": provider, "subject": subject}
    if user is None:
        user = await c.users.create(email=email, username=await _free_username(c, claims, subject),
                                    password_hash=None, roles=roles, verified=claims.get("email_verified") is True,
                                    profile={"display_name": claims.get("name") or subject,
                                             "avatar_url": claims.get("picture")}, sso=sso)
        await c.events.emit(USER_CREATED, public(user))
    else:
        user = await c.users.update(user["_id"], {"roles": roles, "sso": sso})
    if not user.get("active", True):
        raise Forbidden("This account is disabled", code="account_disabled")
    await c.users.touch_login(user["_id"])
    await c.events.emit(USER_LOGGED_IN, {"id": user["_id"], "username": user["username"], "method": "sso"})
    return user, await issue_tokens(c, user)


async def _free_username(c: Container, claims: dict[str, Any], subject: str) -> str:
    raw = str(claims.get("preferred_username") or claims.get("email", "").split("@")[0] or subject)
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", raw)[:24].ljust(3, "_")
    name = base
    while await c.users.find_username(name):
        name = f"{base}-{secrets.token_hex(2)}"
    return name
