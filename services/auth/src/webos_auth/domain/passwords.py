"""Passwords: argon2id hashes and a policy whose messages say what to fix."""

from __future__ import annotations

import asyncio
import string

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from webos_common.http.errors import ValidationFailed

MAX_LENGTH = 128  # argon2 is costly; refuse megabyte passwords before hashing


class Passwords:
    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4,
                 min_length: int = 10) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                     parallelism=parallelism, type=Type.ID)
        self.min_length = min_length
        self._dummy = self.hasher.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, hashed: str | None, password: str) -> bool:
        """Constant work whether or not the account exists (hashed=None)."""
        try:
            return self.hasher.verify(hashed or self._dummy, password) and hashed is not None
        except (VerificationError, InvalidHashError):
            return False

    async def ahash(self, password: str) -> str:
        """Hash off the event loop (argon2 releases the GIL)."""
        return await asyncio.to_thread(self.hash, password)

    async def averify(self, hashed: str | None, password: str) -> bool:
        return await asyncio.to_thread(self.verify, hashed, password)

    def needs_rehash(self, hashed: str) -> bool:
        return self.hasher.check_needs_rehash(hashed)

    def problems(self, password: str, *, username: str = "", email: str = "") -> list[str]:
        found: list[str] = []
        if len(password) < self.min_length:
            found.append(f"must be at least {self.min_length} characters long")
        if len(password) > MAX_LENGTH:
            found.append(f"must be at most {MAX_LENGTH} characters long")
        classes = [
            any(c in string.ascii_lowercase for c in password),
            any(c in string.ascii_uppercase for c in password),
            any(c in string.digits for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            found.append("must mix at least three of: lower-case letters, upper-case letters, digits, symbols")
        lowered = password.lower()
        for name in (username, email.split("@")[0] if email else ""):
            if len(name) >= 3 and name.lower() in lowered:
                found.append("must not contain your username or email name")
                break
        return found

    def check(self, password: str, *, field: str = "password", username: str = "", email: str = "") -> None:
        problems = self.problems(password, username=username, email=email)
        if problems:
            details = [{"field": field, "location": "body", "message": f"Password {p}", "type": "password_policy"}
                       for p in problems]
            raise ValidationFailed(f"Password rejected: {'; '.join(problems)}", details=details)
