"""Signed, expiring share links: `<payload>.<hmac-sha256>`, URL-safe.

The token carries the canonical URN and the expiry; nothing is stored, so a
link cannot be revoked before it expires (rotate the secret to revoke all).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from webos_common.errors import NotFound


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ShareSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("webos-storage-share:" + secret).encode()).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def sign(self, urn: str, expires_at: int) -> str:
        body = _b64(json.dumps({"u": urn, "e": expires_at}, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str) -> str:
        """The URN of a valid, unexpired token; anything else is a 404."""
        body, _, mac = token.partition(".")
        gone = NotFound("Share link is invalid or expired", code="share_not_found")
        if not mac or not hmac.compare_digest(mac, self._mac(body)):
            raise gone
        try:
            data = json.loads(_unb64(body))
        except ValueError:
            raise gone from None
        if int(data["e"]) < time.time():
            raise gone
        return str(data["u"])
