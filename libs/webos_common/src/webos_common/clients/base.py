"""What every service client shares: the base URL (the service itself, or
`<gateway>/api/<service>`), the bearer token, the context's `traceparent` and
request id on every call, and error answers raised as the matching
`WebOSError` (a 422 as `ValidationFailed` with the server's field details); a service
out of reach, or one that died mid-request, as `Unavailable` naming it."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import httpx

from webos_common import context
from webos_common.http.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
    ValidationFailed,
    WebOSError,
)

_ERRORS: dict[int, type[WebOSError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
    413: PayloadTooLarge, 422: ValidationFailed, 503: Unavailable,
}
C = TypeVar("C", bound="ServiceClient")


def raise_for_error(response: httpx.Response, body: bytes | None = None, *, service: str = "the service") -> None:
    if response.status_code < 400:
        return
    try:
        error = json.loads(body if body is not None else response.content)["error"]
        assert isinstance(error, dict)
    except (AssertionError, ValueError, KeyError, TypeError):
        error = {"code": None, "message": f"{service} answered {response.status_code}", "details": None}
    cls = _ERRORS.get(response.status_code, WebOSError)
    raise cls(str(error.get("message")), details=error.get("details"), code=error.get("code"))


class ServiceClient:
    service = "the service"

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.token = token
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = context.outgoing()
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}

    def _gone(self, exc: httpx.TransportError) -> Exception:
        """The service could not be reached, or went away mid-request (a crash or restart): an
        outage to retry, said as one — not a raw socket error."""
        return Unavailable(f"{self.service} did not answer ({type(exc).__name__}: {exc or 'connection lost'}); "
                           "the request may not have taken effect: retry it",
                           details={"dependency": self.service, "cause": type(exc).__name__})

    async def _send(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                    content: Any = None, **kwargs: Any) -> httpx.Response:
        """One request with the client's headers; `content` may be a zero-argument callable giving
        a fresh body (a stream can be sent again on a retry). Out of reach: `_gone`."""
        body = content() if callable(content) else content
        try:
            return await self._http.request(method, url, headers=self._headers(headers), content=body, **kwargs)
        except httpx.TransportError as exc:
            raise self._gone(exc) from exc

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self._send(method, url, **kwargs)
        raise_for_error(response, service=self.service)
        return response.json() if response.content else None


def params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left at None."""
    return {key: value for key, value in values.items() if value is not None}
