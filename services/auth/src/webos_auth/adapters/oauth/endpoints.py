"""The endpoints the provider registers with authlib besides the token endpoint: RFC 7662
introspection, RFC 7009 revocation, userinfo and RP-initiated logout; and `build_server`, which
puts grants and endpoints together."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest

from webos_auth.adapters.oauth.grants import (
    PUBLIC_OR_SECRET,
    CodeGrant,
    IdTokens,
    Pkce,
    RefreshGrant,
    load_token,
    server_of,
    user_info,
)
from webos_auth.adapters.oauth.models import Client, Person, Token
from webos_auth.adapters.oauth.server import OAuthServer, WebRequest


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return load_token(server_of(self), token_string, token_type_hint)

    def check_permission(self, token: Token, client: Client, request: WebRequest) -> bool:
        return token.check_client(client)  # an app learns about its own tokens only

    def introspect_token(self, token: Token) -> dict[str, Any]:
        if not token.is_active():
            return {"active": False}
        person = token.get_user()
        return {"active": True, "client_id": token.doc["client_id"], "token_type": "Bearer",
                "scope": token.get_scope(), "sub": person.get_user_id() if person else None,
                "username": person.doc["username"] if person else None, "iss": server_of(self).issuer,
                "exp": int(token._expires_at()), "iat": int(token._expires_at()) - token.get_expires_in()}


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = PUBLIC_OR_SECRET

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return load_token(server_of(self), token_string, token_type_hint)

    def revoke_token(self, token: Token, request: WebRequest) -> None:
        server_of(self).wait(server_of(self).store.revoke_token(token.doc["_id"]))


class BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, server: OAuthServer) -> None:
        super().__init__()
        self.server = server

    def authenticate_token(self, token_string: str) -> Token | None:
        token = load_token(self.server, token_string, "access_token")
        return token if token is not None and token.kind == "access_token" else None


class RequestProtector(ResourceProtector):  # type: ignore[misc]
    """A resource protector bound to one request (authlib's userinfo asks it without one)."""

    def __init__(self, server: OAuthServer, request: WebRequest) -> None:
        super().__init__()
        self.request = request
        self.register_token_validator(BearerValidator(server))

    def acquire_token(self, scopes: str) -> Token:
        token: Token = self.validate_request([scopes], self.request)
        if token.get_user() is None:
            raise InvalidTokenError()
        return token


class UserInfoCall(UserInfoEndpoint):  # type: ignore[misc]
    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return user_info(user, scope)

    def get_issuer(self) -> str:
        return server_of(self).issuer


class EndSession(EndSessionEndpoint):  # type: ignore[misc]
    """RP-initiated logout: the ID token names the person, the app and the WebOS sign-in (`sid`);
    what signing out does is the router's (`ends`), after the endpoint validated the request."""

    def get_server_jwks(self) -> dict[str, Any]:
        return server_of(self).keys.published()

    def get_algorithms(self) -> list[str]:
        return ["RS256"]

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Client | None:
        aud = id_token_claims.get("aud")
        if isinstance(aud, list) and len(aud) == 1:  # our ID tokens name their one app in a list
            aud = aud[0]
        return server_of(self).query_client(aud) if isinstance(aud, str) else None

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        return None


def build_server(server: OAuthServer) -> OAuthServer:
    server.register_grant(CodeGrant, [Pkce(required=True), IdTokens(server)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Introspection)
    server.register_endpoint(Revocation)
    server.register_endpoint(EndSession)
    return server


def userinfo(server: OAuthServer, request: WebRequest) -> Any:
    try:
        endpoint = UserInfoCall(server, RequestProtector(server, request))
        return server.handle_response(*endpoint(request))
    except OAuth2Error as error:
        return server.handle_error_response(request, error)
