"""The apps that sign in with WebOS: admins register them (`/oauth/clients`, the secret shown
once), a person lists and revokes the ones they allowed (`/me/apps`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, status
from pydantic import AnyUrl, Field, StringConstraints, field_validator

from webos_auth.adapters.oauth.models import SCOPES
from webos_auth.api.deps import Auth, SessionUser
from webos_auth.api.schemas import Body
from webos_common.http.errors import NotFound
from webos_common.identity import User
from webos_common.security import require_permission

router = APIRouter(tags=["openid provider"])
ClientAdmin = Annotated[User, Depends(require_permission("auth.clients.write"))]
ClientId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Scope = Literal["openid", "profile", "email"]


class ClientIn(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    redirect_uris: Annotated[list[AnyUrl], Field(min_length=1, max_length=10)]
    post_logout_redirect_uris: Annotated[list[AnyUrl], Field(max_length=10)] = []
    scopes: Annotated[list[Scope], Field(min_length=1)] = ["openid", "profile", "email"]
    public: bool = False  # an app that cannot keep a secret (a browser or desktop app): PKCE alone

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _no_fragment(cls, value: list[AnyUrl]) -> list[AnyUrl]:
        for uri in value:
            if uri.fragment:
                raise ValueError("a redirect URI has no fragment (RFC 6749 §3.1.2)")
            if uri.scheme not in ("https", "http"):
                raise ValueError("a redirect URI is http(s)")
        return value


def _client_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"client_id": doc["_id"], "name": doc["name"], "redirect_uris": doc["redirect_uris"],
            "post_logout_redirect_uris": doc.get("post_logout_redirect_uris", []), "scopes": doc["scopes"],
            "public": doc["public"], "created_by": doc.get("created_by"), "created_at": doc["created_at"]}


@router.get("/oauth/clients", summary="The registered apps")
async def list_clients(c: Auth, _: ClientAdmin) -> list[dict[str, Any]]:
    return [_client_view(doc) for doc in await c.oauth_store.list_clients()]


@router.post("/oauth/clients", status_code=status.HTTP_201_CREATED, summary="Register an app")
async def register_client(body: ClientIn, c: Auth, admin: ClientAdmin) -> dict[str, Any]:
    """A confidential app's `client_secret` is in this answer only (stored as SHA-256)."""
    doc, secret = await c.oauth_store.register(
        name=body.name, redirect_uris=[str(u) for u in body.redirect_uris],
        post_logout_redirect_uris=[str(u) for u in body.post_logout_redirect_uris],
        scopes=list(dict.fromkeys(body.scopes)), public=body.public, created_by=admin.username)
    await c.audit.record(admin, "oauth_client.registered", f"oauth_client:{doc['_id']}", name=doc["name"],
                         redirect_uris=doc["redirect_uris"], scopes=doc["scopes"], public=doc["public"])
    return {**_client_view(doc), "client_secret": secret}


@router.delete("/oauth/clients/{client_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an app")
async def delete_client(client_id: ClientId, c: Auth, admin: ClientAdmin) -> None:
    """Its consents go and every token it holds stops working."""
    if not await c.oauth_store.delete_client(client_id):
        raise NotFound("No such app")
    await c.audit.record(admin, "oauth_client.removed", f"oauth_client:{client_id}")


@router.get("/me/apps", summary="The apps I allowed to sign me in")
async def my_apps(c: Auth, user: SessionUser) -> list[dict[str, Any]]:
    items = []
    for consent in await c.oauth_store.consents_of(user.id):
        client = await c.oauth_store.client(consent["client_id"])
        if client is not None:
            items.append({"client_id": client["_id"], "name": client["name"], "granted_at": consent["granted_at"],
                          "scopes": [{"name": s, "description": SCOPES.get(s, s)} for s in consent["scopes"]]})
    return items


@router.delete("/me/apps/{client_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an app")
async def revoke_app(client_id: ClientId, c: Auth, user: SessionUser) -> None:
    """The consent and the app's refresh and access tokens for me, at once."""
    if not await c.oauth_store.withdraw(user.id, client_id):
        raise NotFound("You did not allow this app")
