"""The grants the provider registers with authlib: authorization code with PKCE (S256 only)
and OpenID Connect ID tokens, and refresh (rotating); the helpers the endpoints share.
Storage calls go through `OAuthServer.wait`."""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import RSAKey

from webos_auth.adapters.oauth.models import Client, Code, Person, Token
from webos_auth.adapters.oauth.server import OAuthServer, WebRequest

ID_TOKEN_TTL = 3600
PUBLIC_OR_SECRET = ["client_secret_basic", "client_secret_post", "none"]


def server_of(grant_or_endpoint: Any) -> OAuthServer:
    server: OAuthServer = grant_or_endpoint.server
    return server


def user_info(person: Person, scope: str) -> UserInfo:
    doc, scopes = person.doc, set(scope.split())
    info = UserInfo(sub=person.get_user_id())
    if "profile" in scopes:
        info["preferred_username"] = doc["username"]
        info["name"] = doc.get("profile", {}).get("display_name") or doc["username"]
    if "email" in scopes:
        info["email"], info["email_verified"] = doc["email"], bool(doc.get("verified"))
    return info


def load_token(server: OAuthServer, value: str, kind: str | None = None) -> Token | None:
    found = server.wait(server.store.find_token(value, kind))
    if found is None:
        return None
    doc, found_kind = found
    return Token(doc, found_kind, server.query_client(doc["client_id"]), server.person(doc["user_id"]))


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_OR_SECRET

    def save_authorization_code(self, code: str, request: WebRequest) -> None:
        data = request.payload.data
        fields = {"client_id": request.client.get_client_id(), "user_id": request.user.get_user_id(),
                  "redirect_uri": request.payload.redirect_uri, "scope": request.scope or "",
                  "nonce": data.get("nonce"), "code_challenge": data.get("code_challenge"),
                  "code_challenge_method": data.get("code_challenge_method"),
                  "auth_time": request.user.auth_time or int(time.time()), "sid": request.user.sid}
        server_of(self).wait(server_of(self).store.save_code(code, fields))

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        doc = server_of(self).wait(server_of(self).store.take_code(code, client.get_client_id()))
        return Code(doc) if doc else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        return None  # `take_code` used it up already

    def authenticate_user(self, authorization_code: Code) -> Person | None:
        return server_of(self).person(authorization_code.doc["user_id"])


class Pkce(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only ("plain", also the default when the method is left out,
    would hand the verifier to whoever saw the challenge)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send 'code_challenge' with method S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: Code) -> str | None:
        return authorization_code.doc.get("code_challenge")

    def get_authorization_code_challenge_method(self, authorization_code: Code) -> str | None:
        return authorization_code.doc.get("code_challenge_method")


class IdTokens(OpenIDCode):  # type: ignore[misc]
    """ID tokens signed with auth's own current key (published in its JWKS), `iss` the issuer."""

    def __init__(self, server: OAuthServer) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce: str, request: WebRequest) -> bool:
        return self.server.wait(self.server.store.nonce_seen(request.payload.client_id, nonce))

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.server.keys.signing_pem()[0]}

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return RSAKey.import_key(self.server.keys.signing_pem()[1])

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.server.issuer, "aud": [client.get_client_id()], "exp": int(time.time()) + ID_TOKEN_TTL}

    def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        if authorization_code.doc.get("sid"):
            claims["sid"] = authorization_code.doc["sid"]
        return claims

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return user_info(user, scope)


class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_OR_SECRET
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotated at every use

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        """A spent refresh token that comes back means two hold it: the whole lineage ends
        (RFC 9700 §4.14.2), so the thief's copy and the app's current one stop together."""
        token = load_token(server_of(self), refresh_token, "refresh_token")
        if token is None or token.kind != "refresh_token":
            return None
        if token.is_revoked() and token.doc.get("code"):
            server_of(self).wait(server_of(self).store.revoke_lineage(token.doc["code"]))
        return token if token.is_active() else None

    def authenticate_user(self, refresh_token: Token) -> Person | None:
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: Token) -> None:
        server_of(self).wait(server_of(self).store.revoke_token(refresh_token.doc["_id"]))
