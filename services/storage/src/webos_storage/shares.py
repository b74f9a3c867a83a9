"""Signed, expiring share links: `<payload>.<hmac-sha256>`, URL-safe.

The token carries the canonical URN, when it was made and the expiry; nothing is
stored. A link stops opening when it expires, when a folder's ACL above the file
changes after the link was made (`StorageService.shared_target`), or when the secret
is rotated (all links).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from webos_common.http.errors import NotFound


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ShareSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("webos-storage-share:" + secret).encode()).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def sign(self, urn: str, expires_at: int, *, made_at: float | None = None) -> str:
        made = time.time() if made_at is None else made_at
        body = _b64(json.dumps({"u": urn, "e": expires_at, "m": made}, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str) -> tuple[str, float]:
        """The URN of a valid, unexpired token and when it was made; anything else is a 404."""
        body, _, mac = token.partition(".")
        gone = NotFound("Share link is invalid or expired", code="share_not_found")
        if not mac or not hmac.compare_digest(mac, self._mac(body)):
            raise gone
        try:
            data = json.loads(_unb64(body))
            urn, expires_at, made_at = str(data["u"]), int(data["e"]), float(data.get("m", 0))
        except (ValueError, KeyError, TypeError):
            raise gone from None
        if expires_at < time.time():
            raise gone
        return urn, made_at
