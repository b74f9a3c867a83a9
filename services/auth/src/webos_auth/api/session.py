"""Sign-up, sign-in, refresh, sign-out, email verification, password reset."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response

from webos_auth.api.deps import Auth, clear_session_cookies, client_address, set_session_cookies
from webos_auth.api.schemas import ForgotIn, LoginIn, RefreshIn, RegisterIn, ResetIn, VerifyIn
from webos_auth.domain.users import public
from webos_auth.services import accounts
from webos_common.http.errors import Unauthorized, WebOSError
from webos_common.security.revocation import Revocation

router = APIRouter(tags=["session"])


@router.post("/register", status_code=201)
async def register(body: RegisterIn, c: Auth) -> dict[str, Any]:
    user = await accounts.register(c, email=body.email, username=body.username, password=body.password,
                                  display_name=body.display_name, invite=body.invite)
    return public(user)


@router.post("/login")
async def login(body: LoginIn, request: Request, response: Response, c: Auth) -> dict[str, Any]:
    user, pair = await accounts.login(c, login=body.login, password=body.password, address=client_address(request),
                                     otp=body.otp)
    set_session_cookies(response, pair, secure=c.settings.cookie_secure or request.url.scheme == "https")
    required = await accounts.otp_setup_required(c, user)
    return {**pair.as_dict(), "user": public(user), "otp_setup_required": required}


@router.post("/refresh")
async def refresh(request: Request, response: Response, c: Auth, body: RefreshIn | None = None) -> dict[str, Any]:
    token = (body.refresh_token if body else None) or request.cookies.get("refresh_token")
    if not token:
        raise Unauthorized("No refresh token", details={"field": "refresh_token"})
    pair = await accounts.refresh(c, token)
    set_session_cookies(response, pair, secure=c.settings.cookie_secure or request.url.scheme == "https")
    return pair.as_dict()


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


@router.post("/logout")
async def logout(request: Request, response: Response, c: Auth, body: RefreshIn | None = None) -> dict[str, str]:
    token = (body.refresh_token if body else None) or request.cookies.get("refresh_token")
    if token:
        await c.tokens.revoke(token)
    access = _bearer(request) or request.cookies.get("access_token")
    if access:  # the access token in hand stops working everywhere now, not at its expiry
        try:
            claims = await request.app.state.resources.verifier.claims(access)
        except WebOSError:
            claims = {}
        if claims.get("jti"):  # with its sign-in: the family's other access tokens (other tabs) too
            await c.events.revoke(Revocation(jti=str(claims["jti"]), sid=claims.get("sid"),
                                             until=float(claims["exp"])))
    clear_session_cookies(response)
    return {"status": "signed_out"}


@router.post("/verify-email")
async def verify_email(body: VerifyIn, c: Auth) -> dict[str, Any]:
    return public(await accounts.verify_email(c, body.token))


@router.get("/verify-email")
async def verify_email_link(token: Annotated[str, Query(min_length=8, max_length=512)], c: Auth) -> dict[str, Any]:
    """The link in the mail, opened directly in a browser."""
    return public(await accounts.verify_email(c, token))


@router.post("/password/forgot", status_code=202)
async def forgot(body: ForgotIn, c: Auth, background: BackgroundTasks) -> dict[str, str]:
    # the lookup and the mail run after the answer is sent: same answer, same timing either way
    background.add_task(accounts.forgot_password, c, body.email)
    return {"status": "If an account uses that address, a reset link is on its way"}


@router.post("/password/reset")
async def reset(body: ResetIn, c: Auth) -> dict[str, str]:
    await accounts.reset_password(c, token=body.token, new=body.new_password)
    return {"status": "password_changed"}
