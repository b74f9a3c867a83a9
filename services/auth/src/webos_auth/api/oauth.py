"""The OpenID Provider's protocol endpoints (`/oauth/...`, public at the gateway: each checks its
own credential): authorize, the consent the shell asks for, token, userinfo, introspection,
revocation, end-session. The work is authlib's (`webos_auth.adapters.oauth`); this is the FastAPI side."""

from __future__ import annotations

import time
from typing import Annotated, Any

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from webos_auth.adapters.oauth.endpoints import userinfo as userinfo_answer
from webos_auth.adapters.oauth.models import SCOPES, Person, epoch
from webos_auth.adapters.oauth.server import Answer, Call, OAuthServer, WebRequest, read_call
from webos_auth.api.deps import Auth, SessionUser, clear_session_cookies
from webos_auth.bootstrap import Container
from webos_common.http.errors import BadRequest, NotFound
from webos_common.http.openapi import PROTOCOL_ERRORS
from webos_common.identity import User
from webos_common.security.revocation import Revocation

router = APIRouter(prefix="/oauth", tags=["openid provider"])
_OAUTH_ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}}}}}
# RFC 6749 §5.2 / RFC 6750 §3: the protocol's own error body on 400 and 401
OAUTH_ERRORS = {PROTOCOL_ERRORS: ["400", "401"], "responses": {
    "400": {"description": "The request is refused (`error` names why)", **_OAUTH_ERROR},
    "401": {"description": "The client or token is not accepted", **_OAUTH_ERROR}}}
FORM = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
    "schema": {"type": "object", "additionalProperties": {"type": "string"}}}}}, **OAUTH_ERRORS}


def _server(c: Container) -> OAuthServer:
    if c.oauth_server is None:
        raise NotFound("The OpenID Provider is not running")
    return c.oauth_server


def respond(answer: Answer) -> Response:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-type", "location")}
    if answer.location:
        return RedirectResponse(answer.location, status_code=302, headers=headers)
    if isinstance(answer.body, dict):
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)
    media = answer.headers.get("Content-Type", "text/plain")
    return Response(answer.body or b"", status_code=answer.status, headers=headers, media_type=media)


class ProtocolRefusal(BadRequest):
    """An OAuth error shown to a person (in the shell) rather than sent back to the app."""

    def __init__(self, error: OAuth2Error) -> None:
        super().__init__(error.description or error.error, code=error.error)


async def _call(request: Request, c: Container) -> Call:
    return await read_call(request, c.settings.api_url)


@router.get("/authorize", summary="Start the authorization code flow (browser)")
async def authorize(request: Request, c: Auth) -> Response:
    """Checks the app's request (client, redirect URI, scopes, PKCE) and sends the browser to the
    shell's consent page with it; a bad request goes back to the app, or is a 400 when the
    redirect URI itself is not the app's."""
    server, call = _server(c), await _call(request, c)

    def check() -> Answer | None:
        try:
            server.get_consent_grant(call)
        except OAuth2Error as error:
            return server.handle_error_response(WebRequest(call), error)  # type: ignore[no-any-return]
        return None

    refused = await server.run(check)
    if refused is not None:
        return respond(refused)
    return RedirectResponse(f"{c.settings.base_url}/oauth/consent?{request.url.query}", status_code=302)


async def _grant(request: Request, c: Container, user: User) -> tuple[Any, Person]:
    server, call = _server(c), await _call(request, c)
    doc = await c.users.collection.find_one({"_id": user.id})
    if doc is None:
        raise NotFound("No such user")
    sid = user.extra.get("sid")
    signed_in = await c.tokens.refresh.find_one({"family": sid}, sort=[("created_at", 1)]) if sid else None
    auth_time = int(epoch(signed_in["created_at"])) if signed_in else None
    person = Person(doc, sid=sid, auth_time=auth_time)

    def check() -> Any:
        try:
            return server.get_consent_grant(call, end_user=person)
        except OAuth2Error as error:
            raise ProtocolRefusal(error) from error

    return await server.run(check), person


@router.get("/consent", summary="What an app asks of the signed-in person")
async def consent_request(request: Request, c: Auth, user: SessionUser) -> dict[str, Any]:
    """The authorize request's own query: the app, the scopes it asks for and whether the person
    granted them all before (then the shell does not ask again)."""
    grant, _ = await _grant(request, c, user)
    client, scopes = grant.client, grant.request.scope.split()
    granted = await c.oauth_store.consented(user.id, client.client_id)
    return {"client": {"id": client.client_id, "name": client.doc["name"]},
            "scopes": [{"name": s, "description": SCOPES.get(s, s)} for s in scopes],
            "redirect_uri": grant.redirect_uri, "consented": set(scopes) <= granted}


@router.post("/consent", summary="The person's answer: allow or deny the app")
async def consent(request: Request, c: Auth, user: SessionUser,
                  allow: Annotated[bool, Body(embed=True)]) -> dict[str, str]:
    """Allow: the consent is kept and a single-use code issued; deny: `access_denied`. Either way
    the answer is where the browser goes next, back to the app."""
    grant, person = await _grant(request, c, user)
    server = _server(c)
    if allow:
        await c.oauth_store.consent(user.id, grant.client.client_id, grant.request.scope.split())
    answer: Answer = await server.run(lambda: server.create_authorization_response(
        grant.request, grant_user=person if allow else None, grant=grant))
    if not answer.location:
        raise BadRequest(str(answer.body), code="invalid_request")
    return {"redirect_to": answer.location}


@router.post("/token", summary="OAuth token endpoint (form-encoded)", openapi_extra=FORM)
async def token(request: Request, c: Auth) -> Response:
    server, call = _server(c), await _call(request, c)
    return respond(await server.run(lambda: server.create_token_response(call)))


@router.post("/introspect", summary="RFC 7662 token introspection (client-authenticated)", openapi_extra=FORM)
async def introspect(request: Request, c: Auth) -> Response:
    server, call = _server(c), await _call(request, c)
    return respond(await server.run(lambda: server.create_endpoint_response("introspection", call)))


@router.post("/revoke", summary="RFC 7009 token revocation", openapi_extra=FORM)
async def revoke(request: Request, c: Auth) -> Response:
    server, call = _server(c), await _call(request, c)
    return respond(await server.run(lambda: server.create_endpoint_response("revocation", call)))


@router.get("/userinfo", summary="OpenID Connect userinfo (the app's token)", openapi_extra=OAUTH_ERRORS)
@router.post("/userinfo", summary="OpenID Connect userinfo (the app's token)", openapi_extra=OAUTH_ERRORS)
async def userinfo(request: Request, c: Auth) -> Response:
    server, call = _server(c), await _call(request, c)
    return respond(await server.run(lambda: userinfo_answer(server, WebRequest(call))))


@router.get("/end-session", summary="RP-initiated logout")
async def end_session(request: Request, c: Auth) -> Response:
    """With the app's ID token as `id_token_hint`: ends the WebOS sign-in it came from and the
    app's tokens for that person, then back to a registered `post_logout_redirect_uri` (with
    `state`), else to the shell's sign-in page."""
    server, call = _server(c), await _call(request, c)

    def check() -> Any:
        try:
            return server.validate_endpoint_request("end_session", call)
        except OAuth2Error as error:
            raise ProtocolRefusal(error) from error

    ending = await server.run(check)
    claims = ending.id_token_claims
    if claims is None or ending.client is None:
        raise BadRequest("An id_token_hint from this provider is required", code="invalid_request")
    await c.oauth_store.revoke_tokens(str(claims["sub"]), ending.client.client_id)
    if claims.get("sid"):
        await c.tokens.revoke_family(str(claims["sid"]))
        await c.events.revoke(Revocation(sid=str(claims["sid"]), until=time.time() + c.settings.access_token_ttl))
    answer = server.create_endpoint_response("end_session", ending)
    response = respond(answer) if answer is not None else RedirectResponse(
        f"{c.settings.base_url}/login?notice=signed_out", status_code=302)
    clear_session_cookies(response)
    return response
