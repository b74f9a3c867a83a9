"""FastAPI dependencies: the bearer token (header, or `access_token`
cookie for the browser) verified by the app's `TokenVerifier`; the user is
also put into the context so services, events and tasks see it.

A request a process sends to its own app in-process (an ASGI call, never the
network) may carry the already verified person in the ASGI scope under
`IN_PROCESS_USER`: the module host's import job creates rows through the
collection's own routes that way, long after the person's token expired. Such a
request has no credential: the events it emits go out as the host's own (their
rows still name who created them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from webos_common import context
from webos_common.http.errors import Unauthorized
from webos_common.identity import User
from webos_common.security.verifier import TokenVerifier

IN_PROCESS_USER = "webos.in_process_user"  # an ASGI scope key: only in-process callers can set it


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.cookies.get("access_token")


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier | None = getattr(request.app.state.resources, "verifier", None)
    if verifier is None:
        raise Unauthorized("This service does not accept tokens")
    return verifier


async def optional_user(request: Request) -> User | None:
    inner = request.scope.get(IN_PROCESS_USER)
    if isinstance(inner, User):
        context.current_user.set(inner)
        context.credential.set(None)  # none to exchange (the person's may have expired): events are the host's own
        return inner
    token = bearer_token(request)
    if token is None:
        return None
    user = await _verifier(request).verify(token)
    context.current_user.set(user)
    context.credential.set(token)  # what the bus exchanges for the person's signed identity
    return user


async def current_user(request: Request) -> User:
    user = await optional_user(request)
    if user is None:
        raise Unauthorized("Sign-in required")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
