"""Router helpers: the container, the client address, cookies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from webos_auth.bootstrap import Container
from webos_auth.domain.tokens import TokenPair
from webos_common.http.errors import Forbidden
from webos_common.identity import User
from webos_common.security import CurrentUser


def container(request: Request) -> Container:
    c: Container = request.app.state.auth
    return c


Auth = Annotated[Container, Depends(container)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_user(user: CurrentUser) -> User:
    """The caller, signed in with a session token (not an API key): needed to
    manage keys and passwords, so a leaked key cannot mint more keys."""
    if user.extra.get("api_key"):
        raise Forbidden("Not allowed with an API key; sign in")
    return user


SessionUser = Annotated[User, Depends(session_user)]


def set_session_cookies(response: Response, pair: TokenPair, *, secure: bool) -> None:
    response.set_cookie("access_token", pair.access_token, max_age=pair.expires_in, httponly=True,
                        samesite="lax", secure=secure, path="/")
    response.set_cookie("refresh_token", pair.refresh_token, max_age=pair.refresh_expires_in, httponly=True,
                        samesite="lax", secure=secure, path="/")


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie("access_token", path="/")
    response.delete_cookie("refresh_token", path="/")
