"""A token issuer for tests: a fresh RSA key, tokens for any user, its JWKS,
and a verifier that trusts it — so a service's tests need no auth service."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

from webos_common.identity import PERSON_PERMISSIONS
from webos_common.security.jwks import StaticJWKS
from webos_common.security.verifier import TokenVerifier


class TestIssuer:
    __test__ = False  # not a pytest class

    def __init__(self, *, issuer: str = "webos", audience: str = "webos") -> None:
        self.issuer, self.audience = issuer, audience
        self.kid = uuid.uuid4().hex[:12]
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        # parsing a private PEM runs cryptography's key checks (slow): do it once
        self._signing_key = jwk.construct(self.private_pem, "RS256")
        public = jwk.construct(public_pem, "RS256").to_dict()
        self.public_jwk = {**{k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()},
                           "kid": self.kid, "use": "sig", "alg": "RS256"}

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}

    def token(self, user_id: str = "u1", *, roles: tuple[str, ...] = ("user",),
              permissions: tuple[str, ...] = (), expires_in: int = 300, **claims: Any) -> str:
        """Like auth's tokens, a person's (`roles` holding `user`) also carries that role's
        permissions; pass `roles=()` for a credential holding only `permissions` (an API key)."""
        if "user" in roles:
            permissions = (*PERSON_PERMISSIONS, *permissions)
        now = int(time.time())
        body = {"sub": user_id, "iss": self.issuer, "aud": self.audience, "iat": now, "nbf": now,
                "exp": now + expires_in, "roles": list(roles), "permissions": list(permissions),
                "preferred_username": user_id, "typ": "access", **claims}
        return str(jwt.encode(body, self._signing_key, algorithm="RS256", headers={"kid": self.kid}))

    def headers(self, user_id: str = "u1", **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, **kwargs)}"}

    def verifier(self, *services: str) -> TokenVerifier:
        """A verifier trusting this issuer, for the people's audience and `services`' own."""
        return TokenVerifier(StaticJWKS(self.jwks), issuer=self.issuer, audience=(self.audience, *services))


class JwksServer(threading.Thread):
    """A JWKS document on loopback, served from a thread, as auth serves it to a service that
    runs as its own process (`port`: a fixed one, to bring it up after the service)."""

    def __init__(self, jwks: dict[str, Any], *, port: int = 0) -> None:
        super().__init__(daemon=True)
        body = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def run(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
