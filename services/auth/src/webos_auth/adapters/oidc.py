"""OpenID Connect sign-in against a configurable provider (authorization
code flow with PKCE, via authlib). State, nonce and PKCE verifier live in
`auth_sso_states` (single use, 10 minutes), so any replica can finish a
sign-in another one started. The ID token is verified against the
provider's JWKS (signature, iss, aud, exp, nonce, at_hash)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from jose import jwt
from jose.exceptions import JOSEError

from webos_auth.settings import AuthSettings
from webos_common.http.errors import BadRequest, NotFound, Unauthorized, Unavailable

STATE_TTL = 600
METADATA_TTL = 3600.0


class OidcClient:
    def __init__(self, settings: AuthSettings, states: Any) -> None:
        self.settings, self.states = settings, states
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: dict[str, dict[str, Any]] = {}

    @property
    def redirect_uri(self) -> str:
        return self.settings.oidc_redirect_url or f"{self.settings.base_url}/sso/callback"

    def _client(self) -> AsyncOAuth2Client:
        if not self.settings.sso_enabled:
            raise NotFound("Single sign-on is not configured")
        secret = self.settings.oidc_client_secret
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id, client_secret=secret.get_secret_value() if secret else None,
            scope=self.settings.oidc_scopes, redirect_uri=self.redirect_uri, code_challenge_method="S256",
            timeout=10.0)

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL:
            issuer = str(self.settings.oidc_issuer).rstrip("/")
            self._metadata = await self._get_json(f"{issuer}/.well-known/openid-configuration")
            self._metadata_at = time.monotonic()
        return self._metadata

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                resp = await http.get(url)
                resp.raise_for_status()
                body: dict[str, Any] = resp.json()
                return body
        except (httpx.HTTPError, ValueError) as exc:
            raise Unavailable("The sign-in provider did not answer") from exc

    async def _key(self, kid: str | None) -> dict[str, Any]:
        if kid not in self._jwks:  # unknown kid: refetch once
            keys = (await self._get_json((await self.metadata())["jwks_uri"])).get("keys", [])
            self._jwks = {k.get("kid"): k for k in keys}
        if kid not in self._jwks:
            raise Unauthorized("The provider's ID token is signed by an unknown key")
        return self._jwks[kid]

    async def start(self, next_path: str) -> str:
        """The provider URL to send the browser to."""
        if not self.settings.sso_enabled:
            raise NotFound("Single sign-on is not configured")
        meta = await self.metadata()
        state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
        await self.states.insert_one({"_id": state, "nonce": nonce, "verifier": verifier, "next": next_path,
                                      "expires_at": datetime.now(UTC) + timedelta(seconds=STATE_TTL)})
        async with self._client() as client:
            url, _ = client.create_authorization_url(meta["authorization_endpoint"], state=state,
                                                     code_verifier=verifier, nonce=nonce)
        return str(url)

    async def finish(self, code: str, state: str) -> tuple[dict[str, Any], str]:
        """Exchange the code; return the verified ID-token claims and the next path."""
        saved = await self.states.find_one_and_delete({"_id": state, "expires_at": {"$gt": datetime.now(UTC)}})
        if saved is None:
            raise BadRequest("Unknown or expired sign-in attempt; start again", details={"field": "state"})
        meta = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(meta["token_endpoint"], code=code, code_verifier=saved["verifier"],
                                                 grant_type="authorization_code")
        except Exception as exc:
            raise Unauthorized(f"The provider refused the sign-in: {exc}") from exc
        id_token = token.get("id_token")
        if not id_token:
            raise Unauthorized("The provider sent no ID token")
        claims = await self._verify(id_token, token.get("access_token"))
        if claims.get("nonce") != saved["nonce"]:
            raise Unauthorized("ID token nonce mismatch")
        return claims, saved["next"]

    async def _verify(self, id_token: str, access_token: str | None) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            key = await self._key(header.get("kid"))
            claims: dict[str, Any] = jwt.decode(
                id_token, key, algorithms=["RS256", "ES256"], audience=self.settings.oidc_client_id,
                issuer=(await self.metadata())["issuer"], access_token=access_token)
        except JOSEError as exc:
            raise Unauthorized(f"Invalid ID token: {exc}") from exc
        return claims
