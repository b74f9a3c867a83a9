"""authlib's `AuthorizationServer` adapted to FastAPI through its extension points: a request
is read into a `Call` (method, public URL, headers, query + form) on the event loop; authlib's
synchronous protocol code runs on a worker thread (`OAuthServer.run`), reaching MongoDB through
`Bridge`, which hands the store's coroutines back to the loop; its answer is an `Answer` the
router turns into a response."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from webos_auth.adapters.mongo.keys import KeyStore
from webos_auth.adapters.oauth.models import SCOPES, Client, Person
from webos_auth.adapters.oauth.store import OAuthStore

T = TypeVar("T")
ACCESS_TTL = 3600  # an app's access token: for userinfo (WebOS's own APIs do not accept it)


@dataclass
class Call:
    """One HTTP request as authlib reads it. `url` is the public one: its scheme is what the
    transport check sees (https in production, loopback http in development)."""

    method: str
    url: str
    headers: Mapping[str, str]  # case-insensitive (authlib reads `Authorization`)
    data: dict[str, str]


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


async def read_call(request: Request, public_base: str) -> Call:
    data = dict(request.query_params)
    if request.method == "POST" and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        data.update({k: v for k, v in form.items() if isinstance(v, str)})
    url = f"{public_base}{request.url.path.removeprefix(request.scope.get('root_path', ''))}"
    if request.url.query:
        url += f"?{request.url.query}"
    return Call(request.method, url, request.headers, data)


class WebRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, call: Call) -> None:
        super().__init__(call.method, call.url, headers=call.headers)
        self.payload = BasicOAuth2Payload(call.data)
        self.call = call

    @property
    def args(self) -> dict[str, str]:
        return self.call.data

    @property
    def form(self) -> dict[str, str]:
        return self.call.data


class Bridge:
    """Runs a coroutine on the service's event loop from authlib's worker thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float = 10.0) -> None:
        self.loop, self.timeout = loop, timeout

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)


class OAuthServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, store: OAuthStore, keys: KeyStore, users: Any, *, issuer: str, refresh_ttl: int,
                 bridge: Bridge) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.store, self.keys, self.users = store, keys, users
        self.issuer, self.refresh_ttl, self.bridge = issuer, refresh_ttl, bridge
        self.register_token_generator("default", BearerTokenGenerator(
            access_token_generator=lambda *a, **k: "wat_" + secrets.token_urlsafe(32),
            refresh_token_generator=lambda *a, **k: "wrt_" + secrets.token_urlsafe(32),
            expires_generator=ACCESS_TTL))

    async def run(self, work: Callable[[], T]) -> T:
        """authlib's synchronous code off the event loop (the signing key is loaded first)."""
        await self.keys.ready()
        return await run_in_threadpool(work)

    def wait(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.bridge.run(coro)

    def query_client(self, client_id: str) -> Client | None:
        doc = self.wait(self.store.client(str(client_id))) if client_id else None
        return Client(doc) if doc else None

    def person(self, user_id: str) -> Person | None:
        doc = self.wait(self.users.collection.find_one({"_id": user_id}))
        return Person(doc) if doc and doc.get("active", True) else None

    def save_token(self, token: dict[str, Any], request: WebRequest) -> None:
        code = getattr(request, "authorization_code", None)
        fields = {"client_id": request.client.get_client_id(), "user_id": request.user.get_user_id(),
                  **({"code": code.doc["_id"], "sid": code.doc.get("sid")} if code is not None else {})}
        previous = getattr(request, "refresh_token", None)
        if previous is not None:  # a refreshed pair descends from the same code and sign-in
            fields.update({k: previous.doc[k] for k in ("code", "sid") if previous.doc.get(k)})
        self.wait(self.store.save_token(token, fields, self.refresh_ttl))

    def create_oauth2_request(self, request: Call | WebRequest) -> WebRequest:
        return request if isinstance(request, WebRequest) else WebRequest(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("the provider takes form-encoded requests")

    def handle_response(self, status: int, body: Any, headers: Any) -> Answer:
        return Answer(status, body, dict(headers or []))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None
