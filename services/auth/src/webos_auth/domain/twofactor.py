"""TOTP (RFC 6238, `pyotp`) codes and single-use recovery codes: a code is accepted one
time step either side of now; recovery codes are random, shown once, kept as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import pyotp

ISSUER = "WebOS"
RECOVERY_CODES = 10
STEP = 30


def recovery_digest(code: str) -> str:
    return hashlib.sha256(code.strip().replace("-", "").lower().encode()).hexdigest()


def step_of(secret: str, code: str, now: float) -> int | None:
    """The time step `code` belongs to (now, or one either side), or None."""
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    for offset in (0, -1, 1):
        at = now + offset * STEP
        if hmac.compare_digest(totp.at(int(at)), code):
            return int(at // STEP)
    return None


def new_recovery_codes() -> tuple[list[str], list[str]]:
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    return codes, [recovery_digest(c) for c in codes]


def enabled(user: dict[str, Any]) -> bool:
    return bool((user.get("totp") or {}).get("secret"))
