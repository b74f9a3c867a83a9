"""Unauthenticated endpoints other services rely on: JWKS, OpenID discovery,
API-key introspection; plus key rotation and the development mail outbox."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from webos_auth.adapters.oauth.models import SCOPES
from webos_auth.api.deps import Auth
from webos_auth.api.schemas import IntrospectIn
from webos_auth.services import accounts
from webos_common.http.errors import Forbidden, NotFound
from webos_common.identity import User
from webos_common.security import CurrentUser, require_permission

router = APIRouter()


@router.get("/.well-known/jwks.json", tags=["discovery"])
async def jwks(c: Auth) -> dict[str, Any]:
    return await c.keys.jwks()


@router.get("/.well-known/openid-configuration", tags=["discovery"])
async def openid_configuration(c: Auth) -> dict[str, Any]:
    base = c.settings.api_url  # the endpoints are auth's API, under /api/auth behind the gateway
    provider = f"{base}/oauth"
    return {
        "issuer": c.settings.issuer, "jwks_uri": f"{base}/.well-known/jwks.json",
        "authorization_endpoint": f"{provider}/authorize", "token_endpoint": f"{provider}/token",
        "userinfo_endpoint": f"{provider}/userinfo", "introspection_endpoint": f"{provider}/introspect",
        "revocation_endpoint": f"{provider}/revoke", "end_session_endpoint": f"{provider}/end-session",
        "scopes_supported": list(SCOPES), "response_types_supported": ["code"], "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "preferred_username",
                             "name", "email", "email_verified"],
    }


@router.post("/introspect", tags=["discovery"])
async def introspect(body: IntrospectIn, c: Auth) -> dict[str, Any]:
    """Anyone holding a key may ask what it grants (the key is the credential)."""
    return await accounts.introspect(c, body.token)


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
