"""Auth tests run the real app in-process against the real MongoDB and NATS
(fixtures of the webos pytest plugin), with cheap argon2 parameters."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from jose import jwk, jwt

from webos_auth.main import create_app
from webos_auth.settings import AuthSettings
from webos_auth.testing import Accounts, auth_settings
from webos_common.testing import lifespan_client, serve_app


@pytest.fixture
def settings(webos_env: dict[str, str]) -> AuthSettings:
    return auth_settings()


@pytest.fixture
async def client(settings: AuthSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan_client(create_app(settings)) as c:
        yield c


@pytest.fixture
def accounts(webos_env: dict[str, str], tmp_path: Path) -> Accounts:
    """Service accounts: a module `tasks` (storage.files.read/write), services `storage`, `settings`
    and `auth`, and the task `worker`."""
    found = Accounts(tmp_path / "credentials")
    found.add("tasks", "module", ["storage.files.read", "storage.files.write"])
    for service in ("storage", "settings", "auth"):
        found.add(service, "service")
    found.add("worker", "worker", ["storage.files.read"])
    return found


# --- a real OpenID Connect provider on loopback, for the SSO tests ----------


class OidcProvider:
    """A small but real OIDC provider (code flow + PKCE, RS256 ID tokens with
    nonce and at_hash), built on authlib's PKCE and hash helpers and served
    by uvicorn. `next_claims` is the person who "signs in" at /authorize."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        public = jwk.construct(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(), "RS256").to_dict()
        self.public_jwk = {**public, "kid": "prov-1", "use": "sig", "alg": "RS256"}
        self.url = ""
        self.next_claims: dict[str, object] = {}
        self.audience_override: str | None = None
        self.codes: dict[str, dict[str, object]] = {}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, object]:
            return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                    "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"]}

        @app.get("/jwks")
        async def jwks() -> dict[str, object]:
            return {"keys": [self.public_jwk]}

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            if q.get("client_id") != self.client_id or q.get("response_type") != "code":
                raise HTTPException(400, "bad client or response type")
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                raise HTTPException(400, "PKCE required")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": q["code_challenge"], "nonce": q.get("nonce"),
                                "redirect_uri": q["redirect_uri"], "claims": dict(self.next_claims)}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

        @app.post("/token")
        async def token(request: Request, grant_type: str = Form(), code: str = Form(),
                        redirect_uri: str = Form(), code_verifier: str = Form()) -> dict[str, object]:
            basic = request.headers.get("authorization", "")
            if basic.lower().startswith("basic "):
                cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            else:
                form = await request.form()
                cid, secret = str(form.get("client_id")), str(form.get("client_secret"))
            if (cid, secret) != (self.client_id, self.client_secret):
                raise HTTPException(401, "invalid_client")
            grant = self.codes.pop(code, None)
            if grant is None or grant_type != "authorization_code" or grant["redirect_uri"] != redirect_uri:
                raise HTTPException(400, "invalid_grant")
            if create_s256_code_challenge(code_verifier) != grant["challenge"]:
                raise HTTPException(400, "invalid_grant: PKCE")
            access = secrets.token_urlsafe(24)
            now = int(time.time())
            claims = {"iss": self.url, "aud": self.audience_override or self.client_id, "iat": now,
                      "exp": now + 300, "nonce": grant["nonce"], "at_hash": create_half_hash(access, "RS256").decode(),
                      **grant["claims"]}  # type: ignore[dict-item]
            id_token = jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": "prov-1"})
            return {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}

        return app


@pytest.fixture
async def oidc_provider() -> AsyncIterator[OidcProvider]:
    provider = OidcProvider("webos-test", "provider-secret-123")
    async with serve_app(provider.app()) as url:
        provider.url = url
        yield provider
