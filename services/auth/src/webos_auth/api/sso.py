"""Single sign-on routes: start at the provider, come back with a code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from webos_auth.adapters.oidc import OidcClient
from webos_auth.api.deps import Auth, set_session_cookies
from webos_auth.services import sso

router = APIRouter(prefix="/sso", tags=["sso"])


def _oidc(request: Request, c: Any) -> OidcClient:
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        client = request.app.state.oidc = OidcClient(c.settings, c.db["auth_sso_states"])
    return client


def _safe_next(path: str) -> str:
    """Only same-site relative paths: no open redirect through sign-in."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


@router.get("/config")
async def config(c: Auth) -> dict[str, Any]:
    s = c.settings
    # the sign-in page's options: the SSO button, and whether to offer "Create an account"
    return {"enabled": s.sso_enabled, "provider": s.oidc_provider_name if s.sso_enabled else None,
            "registration": s.registration}


@router.get("/login")
async def login(request: Request, c: Auth, next: Annotated[str, Query(max_length=500)] = "/") -> RedirectResponse:
    return RedirectResponse(await _oidc(request, c).start(_safe_next(next)), status_code=302)


@router.get("/callback")
async def callback(request: Request, c: Auth, code: Annotated[str, Query(max_length=2000)],
                   state: Annotated[str, Query(max_length=200)]) -> RedirectResponse:
    claims, next_path = await _oidc(request, c).finish(code, state)
    _, pair = await sso.sso_sign_in(c, claims)
    response = RedirectResponse(next_path, status_code=302)
    set_session_cookies(response, pair, secure=c.settings.cookie_secure or request.url.scheme == "https")
    return response
