"""Revoked credentials, broadcast to every verifier at once.

Access tokens are verified locally and cached until they expire, so a
sign-out, a disabled account or a revoked API key would otherwise stay
good for up to the token's lifetime (or the key cache's). Auth publishes a
`Revocation` on the core NATS subject `webos.auth.revoked` (a broadcast:
every process of every service hears it) and each `TokenVerifier` that
follows it drops what it cached and refuses, from then on:

* `jti`: that one access token (sign-out);
* `user_id` + `before`: every access token of that user issued before that
  moment (account disabled or deleted, password or roles changed);
* `key_id`: that API key (introspected afresh next time);
* `sid`: every access token of one sign-in (the `sid` claim, the refresh-token
  family), when a refresh token was reused (RFC 6819 5.2.2.3: someone else
  holds a copy, so the whole family is signed out at once).

A process that was away when a revocation went out keeps the old rule: the
token ends at its expiry (15 minutes by default).
"""

from __future__ import annotations

import time

from nats.aio.client import Client as NATS
from pydantic import BaseModel, model_validator

SUBJECT = "webos.auth.revoked"


class Revocation(BaseModel):
    jti: str | None = None
    user_id: str | None = None
    before: float | None = None  # epoch seconds; with user_id
    key_id: str | None = None
    sid: str | None = None  # a sign-in: its refresh-token family
    until: float = 0.0  # epoch seconds after which remembering it is pointless (the tokens expired)

    @model_validator(mode="after")
    def _names_something(self) -> Revocation:
        if not (self.jti or self.key_id or self.sid or (self.user_id and self.before is not None)):
            raise ValueError("a revocation names a jti, a key_id, a sid, or a user_id with before")
        return self


async def publish_revocation(nc: NATS, revocation: Revocation) -> None:
    await nc.publish(SUBJECT, revocation.model_dump_json().encode())
    await nc.flush()


def user_revocation(user_id: str, *, max_token_age: float) -> Revocation:
    now = time.time()
    return Revocation(user_id=user_id, before=now, until=now + max_token_age)
