"""Unauthenticated endpoints other services rely on: JWKS, OpenID discovery,
API-key introspection; plus key rotation and the development mail outbox."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from webos_auth import service
from webos_auth.api.deps import Auth
from webos_auth.schemas import IntrospectIn
from webos_common.errors import Forbidden, NotFound
from webos_common.identity import User
from webos_common.security import CurrentUser, require_permission

router = APIRouter()


@router.get("/.well-known/jwks.json", tags=["discovery"])
async def jwks(c: Auth) -> dict[str, Any]:
    return await c.keys.jwks()


@router.get("/.well-known/openid-configuration", tags=["discovery"])
async def openid_configuration(c: Auth) -> dict[str, Any]:
    base = c.settings.api_url  # the endpoints are auth's API, under /api/auth behind the gateway
    return {
        "issuer": c.settings.issuer, "jwks_uri": f"{base}/.well-known/jwks.json",
        "token_endpoint": f"{base}/login", "userinfo_endpoint": f"{base}/me",
        "introspection_endpoint": f"{base}/introspect",
        "authorization_endpoint": f"{base}/sso/login",
        "id_token_signing_alg_values_supported": ["RS256"], "response_types_supported": ["code"],
        "subject_types_supported": ["public"], "grant_types_supported": ["password", "refresh_token"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "preferred_username", "email", "roles",
                             "permissions"],
    }


@router.post("/introspect", tags=["discovery"])
async def introspect(body: IntrospectIn, c: Auth) -> dict[str, Any]:
    """Anyone holding a key may ask what it grants (the key is the credential)."""
    return await service.introspect(c, body.token)


@router.post("/keys/rotate", tags=["keys"])
async def rotate(c: Auth, user: Annotated[User, Depends(require_permission("auth.keys.rotate"))]) -> dict[str, str]:
    if "superadmin" not in user.roles:
        raise Forbidden("Only a superadmin rotates signing keys")
    return {"kid": await c.keys.rotate()}


@router.get("/dev/mail", tags=["dev"])
async def outbox(c: Auth, user: CurrentUser, to: Annotated[str | None, Query(max_length=320)] = None,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict[str, Any]]:
    """Stored outgoing mail (outbox backend), for admins in development only: the
    messages hold password-reset and invitation links, so nobody else reads them."""
    if not c.settings.is_development or c.settings.mail_backend != "outbox":
        raise NotFound("There is no mail outbox here (development only)")
    if not user.is_admin:
        raise Forbidden("Only an admin reads the development mail outbox")
    return [{"id": m["_id"], "to": m["to"], "subject": m["subject"], "body": m["body"], "kind": m["kind"],
             "token": m.get("token"), "sent_at": m["sent_at"]} for m in await c.outbox.list(to, limit)]
