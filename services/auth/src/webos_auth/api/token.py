"""`POST /token`: OAuth's token endpoint for the platform's own processes
(form-encoded): client credentials with a signed client assertion (RFC 6749
§4.4, RFC 7523) and token exchange (RFC 8693). People sign in at `/login`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response

from webos_auth.api.deps import Auth
from webos_auth.services import grants
from webos_common.http.errors import ValidationFailed
from webos_common.security.service_auth import TOKEN_EXCHANGE

router = APIRouter(tags=["service accounts"])

GrantType = Literal["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
AssertionType = Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
SubjectType = Literal["urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:jwt"]


def _missing(field: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid input: {field}", details=[
        {"field": field, "location": "body", "message": "Field required", "type": "missing"}])


@router.post("/token")
async def token(
    request: Request, response: Response, c: Auth,
    grant_type: Annotated[GrantType, Form()],
    client_assertion_type: Annotated[AssertionType, Form()],
    client_assertion: Annotated[str, Form(min_length=1, max_length=4096)],
    audience: Annotated[str, Form(min_length=1, max_length=100)],
    scope: Annotated[str | None, Form(max_length=4096)] = None,
    subject_token: Annotated[str | None, Form(min_length=1, max_length=8192)] = None,
    subject_token_type: Annotated[SubjectType | None, Form()] = None,
) -> dict[str, Any]:
    exchange = grant_type == TOKEN_EXCHANGE
    if exchange and subject_token is None:
        raise _missing("subject_token")
    if exchange and subject_token_type is None:
        raise _missing("subject_token_type")
    principal = await grants.authenticate(c, client_assertion)
    response.headers["Cache-Control"] = "no-store"
    if not exchange:
        issued = await grants.service_token(c, principal=principal, audience=audience, scope=scope)
    else:
        assert subject_token is not None
        issued = await grants.exchange(c, request.app.state.resources.verifier, principal=principal,
                                       subject_token=subject_token, audience=audience, scope=scope)
    return issued.as_dict()
