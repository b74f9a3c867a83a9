"""What a sign-in is given (`TokenPair`), how opaque tokens are stored (`digest`: SHA-256
only), and the error a reused refresh token raises."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from webos_common.http.errors import Unauthorized


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int

    def as_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": "bearer", "expires_in": self.expires_in}


class RefreshReused(Unauthorized):
    """A rotated refresh token came back: its family (`sid`) is revoked."""

    def __init__(self, family: str) -> None:
        super().__init__("Refresh token reused; every session of this sign-in was revoked", code="refresh_reused")
        self.family = family
