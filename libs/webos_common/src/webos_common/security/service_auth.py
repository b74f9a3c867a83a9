"""A process calling another service's REST API as itself, or on behalf of
the person whose request or event it handles.

    credentials = resources.credentials                   # None without WEBOS_CREDENTIAL_FILE
    token = await credentials.token("storage")            # aud=storage, the principal's permissions
    token = await credentials.exchange(person_token, "storage", scope="storage.read")

The process proves who it is to auth's `POST /token` with a client
assertion (RFC 7523): a short JWT signed with its nkey seed — the same
credential that authenticates it to NATS, so there is one secret per
process. Tokens are kept until shortly before they expire; callers asking
for the same token at once share one request."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from typing import Any

import httpx

from webos_common.clients.base import raise_for_error
from webos_common.config import WebOSSettings
from webos_common.http.errors import Unavailable
from webos_common.security.principals import public_key_of, read_seed, sign

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_AUDIENCE = "webos-auth"
BUS_AUDIENCE = "webos-bus"  # exchanged for this: a person's identity for an event, no HTTP bearer
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN, not a secret
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN, not a secret
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 - a URN, not a secret
REFRESH_MARGIN = 30.0  # seconds before expiry a kept token is replaced
MAX_KEPT = 1000  # tokens kept before expired ones are swept

_Key = tuple[str, ...]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def client_assertion(principal: str, seed: str, *, lifetime: int = 60, now: float | None = None,
                     **claims: Any) -> str:
    """A compact EdDSA JWT saying "I am `principal`", for auth only, single use (`jti`)."""
    issued = int(time.time() if now is None else now)
    header = {"alg": "EdDSA", "typ": "JWT", "kid": public_key_of(seed)}
    body = {"iss": principal, "sub": principal, "aud": ASSERTION_AUDIENCE, "iat": issued,
            "exp": issued + lifetime, "jti": uuid.uuid4().hex, **claims}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
    return f"{signing_input}.{_b64(sign(seed, signing_input.encode()))}"


def _scope(scope: str | list[str] | None) -> str | None:
    names = scope.split() if isinstance(scope, str) else scope
    return " ".join(sorted(set(names))) if names else None


class ServiceCredentials:
    def __init__(self, principal: str, seed: str, auth_url: str, *, http: httpx.AsyncClient | None = None,
                 timeout: float = 5.0) -> None:
        self.principal = principal
        self._seed = seed
        public_key_of(seed)  # a bad seed fails here, not at the first call
        self.token_url = f"{auth_url.rstrip('/')}/token"
        self._http, self._own_http, self._timeout = http, http is None, timeout
        self._kept: dict[_Key, tuple[float, str]] = {}  # key → (replace after, token)
        self._pending: dict[_Key, asyncio.Task[str]] = {}

    @classmethod
    def from_settings(cls, settings: WebOSSettings, *, http: httpx.AsyncClient | None = None
                      ) -> ServiceCredentials | None:
        """This process's credentials (`WEBOS_CREDENTIAL_FILE`), or None when it has none."""
        if not settings.credential_file:
            return None
        return cls(settings.principal_name, read_seed(settings.credential_file), settings.auth_url, http=http)

    async def token(self, audience: str, scope: str | list[str] | None = None) -> str:
        """A service token for calls to `audience`, with the principal's permissions (∩ `scope`)."""
        scope = _scope(scope)
        form = {"grant_type": "client_credentials", "audience": audience}
        return await self._get(("token", audience, scope or ""), form, scope)

    async def exchange(self, subject_token: str, audience: str, scope: str | list[str] | None = None) -> str:
        """A token for `audience` acting for the person `subject_token` names (their access token,
        an API key, or a bus token), with their permissions (∩ `scope`), never outliving it."""
        scope = _scope(scope)
        digest = hashlib.sha256(subject_token.encode()).hexdigest()
        form = {"grant_type": TOKEN_EXCHANGE, "audience": audience, "subject_token": subject_token,
                "subject_token_type": JWT_TOKEN_TYPE if subject_token.count(".") == 2 else ACCESS_TOKEN_TYPE}
        return await self._get(("exchange", digest, audience, scope or ""), form, scope)

    async def _get(self, key: _Key, form: dict[str, str], scope: str | None) -> str:
        kept = self._kept.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key, {**form, **({"scope": scope} if scope else {})}))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)  # one caller giving up does not cancel the others' request

    async def _fetch(self, key: _Key, form: dict[str, str]) -> str:
        form = {**form, "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(self.principal, self._seed)}
        try:
            response = await self._client().post(self.token_url, data=form)
        except httpx.HTTPError as exc:
            raise Unavailable(f"auth could not be reached for a token: {exc!r}") from exc
        raise_for_error(response, service="auth")
        answer = response.json()
        token, expires_in = str(answer["access_token"]), float(answer["expires_in"])
        if len(self._kept) >= MAX_KEPT:
            now = time.monotonic()
            self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
        self._kept[key] = (time.monotonic() + expires_in - min(REFRESH_MARGIN, expires_in / 5), token)
        return token

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        return self._http

    async def aclose(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None
