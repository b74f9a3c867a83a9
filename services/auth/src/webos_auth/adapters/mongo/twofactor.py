"""Two-factor sign-in: TOTP (RFC 6238, `pyotp`) with single-use recovery codes.

The secret is stored on the person's record once they prove their authenticator
works (`enable` with a code); until then it waits as `totp_pending`. A code is
accepted one time step either side of now and never twice (the step last used is
kept). Recovery codes are random, shown once, and stored as SHA-256 digests.

Secrets are sealed at rest with `webos_common.security.keyring` (AES-256-GCM under auth's
`key_encryption_secret`). `seal_stored` runs at every start: it seals secrets stored in the
clear before encryption existed, and re-seals those under an older key after a rotation."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pyotp

from webos_auth.adapters.mongo.users import Users
from webos_auth.domain.twofactor import ISSUER, enabled, new_recovery_codes, recovery_digest, step_of
from webos_common.http.errors import BadRequest, Conflict, Forbidden
from webos_common.security.keyring import Keyring, is_ciphertext


class TwoFactor:
    def __init__(self, users: Users, keyring: Keyring) -> None:
        self.users, self.keyring = users, keyring

    def _open(self, stored: str) -> str:
        """The clear secret (one stored before encryption existed reads as it is)."""
        return str(self.keyring.decrypt(stored)) if is_ciphertext(stored) else stored

    async def seal_stored(self) -> int:
        """Seal every clear secret, and re-seal those under an older key; how many changed. Each
        update is conditional on the value read, so replicas starting together do not clash."""
        changed = 0
        query = {"$or": [{"totp.secret": {"$type": "string"}}, {"totp_pending": {"$type": "string"}}]}
        async for doc in self.users.collection.find(query, {"totp.secret": 1, "totp_pending": 1}):
            for field, stored in (("totp.secret", (doc.get("totp") or {}).get("secret")),
                                  ("totp_pending", doc.get("totp_pending"))):
                if not isinstance(stored, str) or (is_ciphertext(stored) and not self.keyring.needs_rotation(stored)):
                    continue
                sealed = self.keyring.encrypt(self._open(stored))
                done = await self.users.collection.update_one({"_id": doc["_id"], field: stored},
                                                              {"$set": {field: sealed}})
                changed += done.modified_count
        return changed

    async def setup(self, user: dict[str, Any]) -> dict[str, str]:
        if enabled(user):
            raise Conflict("Two-factor sign-in is already on; turn it off first", details={"field": "totp"})
        secret = pyotp.random_base32()
        await self.users.update(user["_id"], {"totp_pending": self.keyring.encrypt(secret)})
        uri = pyotp.TOTP(secret).provisioning_uri(name=user["email"], issuer_name=ISSUER)
        return {"secret": secret, "otpauth_uri": uri}

    async def enable(self, user: dict[str, Any], code: str) -> list[str]:
        sealed = user.get("totp_pending")
        if not sealed:
            raise BadRequest("Start the set-up first", details={"field": "code"})
        step = step_of(self._open(sealed), code, time.time())
        if step is None:
            raise BadRequest("That code is wrong; check the time on your device", details={"field": "code"})
        codes, digests = new_recovery_codes()
        secret = self.keyring.encrypt(self._open(sealed))
        await self.users.update(user["_id"], {"totp": {"secret": secret, "enabled_at": datetime.now(UTC),
                                                       "last_step": step, "recovery": digests},
                                              "totp_pending": None})
        return codes

    async def disable(self, user: dict[str, Any], *, required: list[str]) -> None:
        if required:
            raise Forbidden(f"Your role(s) {', '.join(required)} require two-factor sign-in",
                            details={"field": "totp"})
        await self.users.update(user["_id"], {"totp": None, "totp_pending": None})

    async def regenerate(self, user: dict[str, Any], code: str) -> list[str]:
        if not await self.check(user, code):
            raise BadRequest("That code is wrong", details={"field": "code"})
        codes, digests = new_recovery_codes()
        await self.users.collection.update_one({"_id": user["_id"]}, {"$set": {"totp.recovery": digests}})
        return codes

    async def check(self, user: dict[str, Any], code: str) -> bool:
        """A current code (not used before) or an unused recovery code, which is then spent."""
        totp = user.get("totp") or {}
        if not totp.get("secret") or not code:
            return False
        step = step_of(self._open(totp["secret"]), code, time.time())
        if step is not None:
            used = await self.users.collection.update_one(  # atomically: a code replayed loses the race
                {"_id": user["_id"], "totp.last_step": {"$not": {"$gte": step}}}, {"$set": {"totp.last_step": step}})
            return bool(used.modified_count)
        spent = await self.users.collection.update_one({"_id": user["_id"], "totp.recovery": recovery_digest(code)},
                                                       {"$pull": {"totp.recovery": recovery_digest(code)}})
        return bool(spent.modified_count)
