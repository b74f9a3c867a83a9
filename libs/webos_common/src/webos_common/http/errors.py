"""Domain errors, and the one handler set that turns them into HTTP answers.

Every error leaves a service as `{"error": {"code", "message", "details"}}`.
Bad input is a 422 that names each bad field; an unexpected exception is a
500 that carries the request id and nothing of the internals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from bson.errors import InvalidDocument
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from loguru import logger
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webos_common import context

_LOCATIONS = {"body", "query", "path", "header", "cookie"}
RETRY_AFTER = 5  # seconds a client should wait after a 503 for a dependency outage


class WebOSError(Exception):
    """Base of every domain error: a stable code, a message, optional details."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code  # type: ignore[misc]

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(WebOSError):
    status, code = 400, "bad_request"


class Unauthorized(WebOSError):
    status, code = 401, "unauthorized"


class Forbidden(WebOSError):
    status, code = 403, "forbidden"


class NotFound(WebOSError):
    status, code = 404, "not_found"


class Conflict(WebOSError):
    status, code = 409, "conflict"


class PreconditionFailed(WebOSError):
    """`If-Match` named a version that is no longer current (RFC 9110 §13.1.1): nothing was written."""

    status, code = 412, "precondition_failed"

    def __init__(self, message: str, *, etag: str | None = None, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.etag = etag


class NotModified(WebOSError):
    """`If-None-Match` names the current version: 304, no body (RFC 9110 §15.4.5)."""

    status, code = 304, "not_modified"

    def __init__(self, etag: str) -> None:
        super().__init__("Not modified")
        self.etag = etag


class PayloadTooLarge(WebOSError):
    status, code = 413, "payload_too_large"


class InsufficientStorage(WebOSError):
    """507 (RFC 4918): the request would exceed a storage quota."""

    status, code = 507, "insufficient_storage"


class ValidationFailed(WebOSError):
    status, code = 422, "validation_failed"

    @classmethod
    def from_errors(
        cls, errors: Iterable[dict[str, Any]], *, message: str = "Invalid input"
    ) -> ValidationFailed:
        details = [field_error(err) for err in errors]
        names = ", ".join(d["field"] for d in details)
        return cls(f"{message}: {names}" if names else message, details=details)

    @classmethod
    def from_pydantic(cls, exc: ValidationError, *, message: str = "Invalid input") -> ValidationFailed:
        return cls.from_errors([dict(e) for e in exc.errors()], message=message)


class RateLimited(WebOSError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class Unavailable(WebOSError):
    """A dependency is down: clients and retries can tell it from a bug (`Retry-After`)."""

    status, code = 503, "unavailable"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None,
                 retry_after: int = RETRY_AFTER) -> None:
        super().__init__(message, details=details, code=code)
        self.retry_after = retry_after


def _dependency_errors() -> tuple[tuple[tuple[type[Exception], ...], str], ...]:
    """Which exception classes mean a dependency is out of reach (not a bug): one mapping."""
    import httpx
    from nats import errors as nats_errors
    from nats.js import errors as js_errors
    from pymongo import errors as mongo_errors

    return (
        ((mongo_errors.ConnectionFailure,), "MongoDB"),  # selection/network timeouts, AutoReconnect
        ((nats_errors.NoRespondersError, nats_errors.TimeoutError, nats_errors.ConnectionClosedError,
          nats_errors.NoServersError, nats_errors.StaleConnectionError, js_errors.ServiceUnavailableError),
         "NATS"),
        ((httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout), "an upstream service"),
    )


DEPENDENCY_ERRORS = _dependency_errors()


def dependency_of(exc: BaseException) -> str | None:
    """The dependency an exception says is unreachable, or None when it is something else."""
    for classes, name in DEPENDENCY_ERRORS:
        if isinstance(exc, classes):
            return name
    return None


def field_error(err: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error as `{field, location, message, type}`."""
    loc: Sequence[Any] = err.get("loc", ())
    location = None
    if loc and loc[0] in _LOCATIONS:
        location, loc = loc[0], loc[1:]
    field = ".".join(str(part) for part in loc) or (location or "input")
    return {"field": field, "location": location, "message": err.get("msg", "invalid"), "type": err.get("type")}


_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 412: "precondition_failed", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "rate_limited",
    503: "unavailable",
}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _webos_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebOSError)
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    if isinstance(exc, NotModified):
        return Response(status_code=304, headers={"ETag": exc.etag})
    if isinstance(exc, PreconditionFailed) and exc.etag:
        headers = {"ETag": exc.etag}
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


async def _dependency_down(_: Request, exc: Exception) -> JSONResponse:
    name = dependency_of(exc) or "a dependency"
    rid = context.request_id.get()
    logger.warning("{} unavailable (request {}): {}: {}", name, rid, type(exc).__name__, str(exc)[:200])
    return error_response(503, Unavailable.code, f"{name} is unavailable; retry later",
                          {"dependency": name, "request_id": rid}, {"Retry-After": str(RETRY_AFTER)})


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    failed = ValidationFailed.from_errors(exc.errors())
    return error_response(422, failed.code, failed.message, failed.details)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), None, dict(exc.headers or {}) or None)


def log_unexpected(exc: BaseException) -> None:
    """One line per unexpected error: its type, where it was raised, the request and trace ids. Never the
    message (it may quote input) nor the frames' local variables (they hold tokens and personal data)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
    logger.error("unhandled {} at {} (request {})", type(exc).__name__, where, context.request_id.get())


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if dependency_of(exc) is not None:  # raised through middleware or wrapped in a group
        return await _dependency_down(request, exc)
    log_unexpected(exc)
    return error_response(500, "internal_error", "Internal server error", {"request_id": context.request_id.get()})


class UnexpectedErrors:
    """Answers an unexpected exception with the 500 shape and logs it once. Starlette's own handler
    re-raises after answering, so the server logged every error a second time with its traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:  # noqa: BLE001 - the last stop: answered and logged here
            if started:
                log_unexpected(exc)
                return
            response = await _unexpected(Request(scope), exc)  # a dependency's outage stays a 503
            await response(scope, receive, send)


async def _unstorable(_: Request, exc: Exception) -> JSONResponse:
    """Input MongoDB cannot store (a NUL or `$` in a field name, an integer beyond 64 bits) that
    got past a model: the caller's fault, so a 422, never a 500."""
    logger.warning("input MongoDB cannot store: {}", exc)
    return error_response(422, "validation_failed", f"Invalid input: {str(exc)[:200]}",
                          [{"field": "input", "location": "body", "message": str(exc)[:200], "type": "unstorable"}])


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(InvalidDocument, _unstorable)
    app.add_exception_handler(OverflowError, _unstorable)
    app.add_exception_handler(WebOSError, _webos_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for classes, _ in DEPENDENCY_ERRORS:
        for cls in classes:
            app.add_exception_handler(cls, _dependency_down)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(UnexpectedErrors)
