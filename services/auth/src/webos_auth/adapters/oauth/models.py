"""authlib's model mixins over the stored documents (see `store.py`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oidc.core import AuthorizationCodeMixin

from webos_auth.adapters.oauth.store import secret_matches

SCOPES = {"openid": "Know who you are (your WebOS account id)",
          "profile": "See your user name and display name",
          "email": "See your email address"}
GRANT_TYPES = ("authorization_code", "refresh_token")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class Person:
    """The signed-in person an app acts for."""

    def __init__(self, doc: dict[str, Any], sid: str | None = None, auth_time: int | None = None) -> None:
        self.doc, self.sid = doc, sid  # sid: the WebOS sign-in that consented, if known
        self.auth_time = auth_time  # when that sign-in happened (epoch seconds)

    def get_user_id(self) -> str:
        return str(self.doc["_id"])


class Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.client_id = str(doc["_id"])
        self.public = bool(doc.get("public"))
        self.client_metadata = {"post_logout_redirect_uris": list(doc.get("post_logout_redirect_uris", []))}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.doc.get("redirect_uris") or [None]
        return uris[0]  # type: ignore[no-any-return]

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.doc.get("scopes", []))
        return str(list_to_scope([s for s in scope_to_list(scope or "") if s in allowed]))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.doc.get("redirect_uris", [])

    def check_client_secret(self, client_secret: str) -> bool:
        return not self.public and secret_matches(self.doc, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.public:  # a public client has no secret: it proves itself with PKCE only
            return method == "none" and endpoint in ("token", "revocation")
        return method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def get_redirect_uri(self) -> str:
        return str(self.doc["redirect_uri"])

    def get_scope(self) -> str:
        return str(self.doc["scope"])

    def get_nonce(self) -> str | None:
        return self.doc.get("nonce")

    def get_auth_time(self) -> int | None:
        value = self.doc.get("auth_time")
        return int(value) if value else None


class Token(TokenMixin):  # type: ignore[misc]
    """An access or refresh token (`kind`) issued to an app."""

    def __init__(self, doc: dict[str, Any], kind: str, client: Client | None, user: Person | None) -> None:
        self.doc, self.kind, self.client, self.user = doc, kind, client, user
        self.scope = str(doc.get("scope", ""))

    def check_client(self, client: Client) -> bool:
        return bool(client.get_client_id() == self.doc["client_id"])

    def get_scope(self) -> str:
        return self.scope

    def _expires_at(self) -> float:
        field = "access_expires_at" if self.kind == "access_token" else "expires_at"
        return epoch(self.doc[field])

    def get_expires_in(self) -> int:
        return max(0, int(self._expires_at() - epoch(self.doc["issued_at"])))

    def is_expired(self) -> bool:
        return self._expires_at() <= time.time()

    def is_revoked(self) -> bool:
        return bool(self.doc.get("revoked"))

    def is_active(self) -> bool:
        return not self.is_expired() and not self.is_revoked() and self.user is not None

    def get_user(self) -> Person | None:
        return self.user

    def get_client(self) -> Client | None:
        return self.client
