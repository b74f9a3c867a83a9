"""Identity nobody can forge: who an event acts for, signed by auth.

An event emitted for a person carries, in the `ce-webosidentity` header (a CloudEvents extension), a
*bus token*: a short-lived JWT that auth signs (RS256, its JWKS) when the
emitting process exchanges the person's own credential for it
(`ServiceCredentials.exchange(credential, "webos-bus")`). It names the
person (`sub`, roles, permissions — never more than the person has), the
process it was issued to (`azp`) and carries `typ: bus`, so no HTTP service
takes it as a bearer token.

A consumer runs a handler for a person only when

* the token's signature, issuer, audience and type check out,
* its `sub` is the envelope's `user_id`, and
* its `azp` is the principal that published the event — which the subject
  proves, because NATS lets each principal publish only under its own name.

So a listener who copies a token cannot use it (it cannot publish as the
emitter), an emitter cannot act for someone whose credential it never held,
and nothing a header says about a user is believed. Verification is cached
per token: a cached event costs two dictionary look-ups, no signature
(asymmetric signatures per event would cost ~140 µs here; see
docs/security.md).

An event with no person (`user_id` empty) needs no token: the emitting
principal acts as itself, within its NATS permissions. A process that
cannot obtain a token (no credential of the person in its context: a
scheduled job, a sign-in before a token exists) emits as itself too, with
the person named only in the payload.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS

from webos_common import context
from webos_common.bus.envelope import EventEnvelope
from webos_common.http.errors import Unauthorized
from webos_common.identity import User
from webos_common.security.verifier import TokenVerifier, issued_at, user_from_claims

HEADER = "ce-webosidentity"  # a CloudEvents extension attribute (bus/wire.py)
AUDIENCE = "webos-bus"
TYPE = "bus"

Exchange = Callable[[str], Awaitable[str]]


# Seconds after its token's expiry that an event may still reach the stream. An event is written
# (with its token) inside its record's transaction and published by the outbox relay: a busy relay
# or a NATS outage delays it. With 5 s, events written near the end of a token's life (the e2e
# suite's tokens live 30 s) were refused and lost from the event log and notifications.
PUBLISH_LEEWAY = 120.0


class IdentityRefused(Exception):
    """A user-scoped event whose identity is missing, forged, expired or not the emitter's."""


class BusIdentity:
    """Obtains bus tokens for the events this process emits, and checks the ones it consumes.

    `exchange` turns the person's credential (an access token, an API key or an incoming bus
    token) into a bus token for this process; `verifier` trusts auth's keys. `required` decides
    what an unsigned user-scoped event is: refused (every process that has its own credential)
    or, in a process without one (tests, an operator's tools), run with the user it names."""

    def __init__(self, *, exchange: Exchange | None, verifier: TokenVerifier | None, required: bool,
                 grace: float = 24 * 3600.0, cache_size: int = 10_000,
                 revocations: TokenVerifier | None = None) -> None:
        self.exchange = exchange
        self.verifier = verifier
        self.required = required
        self.grace = grace
        self.cache_size = cache_size
        # who tells of revoked people (auth's `webos.auth.revoked`): the process's own verifier, which
        # follows them already, or this one's once `follow` is called
        self.revocations = revocations or verifier
        self._checked: OrderedDict[str, tuple[float, str, str | None, User, float]] = OrderedDict()

    async def follow(self, nc: NATS) -> None:
        """Hear auth's revocations (when no other verifier of this process does)."""
        if self.revocations is not None:
            await self.revocations.follow(nc)

    @classmethod
    def unchecked(cls) -> BusIdentity:
        """No tokens out, none required in: a process without its own credential (tests, tools)."""
        return cls(exchange=None, verifier=None, required=False)

    # -- emitting ---------------------------------------------------------------
    async def token(self, user: User | None) -> str | None:
        """A bus token for `user` from the context's credential, or None (emit as the process)."""
        credential = context.credential.get()
        if user is None or credential is None or self.exchange is None or user.id == "system":
            return None
        try:
            return await self.exchange(credential)
        except Exception as exc:  # noqa: BLE001 - the event still goes out, as the process's own
            logger.warning("bus: no identity token for {} ({}); the event goes out unsigned", user.id, exc)
            return None

    # -- consuming --------------------------------------------------------------
    async def check(self, envelope: EventEnvelope, headers: Mapping[str, str], publisher: str,
                    stored_at: float | None = None) -> User | None:
        """The verified person an event acts for; None for an event of no person, or (when not
        `required`) an unsigned one. `stored_at` is when the server stored the event (the
        envelope's own timestamp is the emitter's word, used only without it). Raises
        `IdentityRefused`."""
        if not envelope.user_id:
            return None
        sent_at = stored_at if stored_at is not None else envelope.timestamp.timestamp()
        return await self.verify(envelope.user_id, headers.get(HEADER), publisher, sent_at)

    async def verify(self, user_id: str, token: str | None, publisher: str, sent_at: float | None = None,
                     ) -> User | None:
        """The person `token` proves, when it names `user_id` and was issued to `publisher` (whom
        the NATS subject proves) before `sent_at`; None for no token when tokens are not
        `required`. The same check for events and for queued tasks. Raises `IdentityRefused`."""
        if not token:
            if self.required:
                raise IdentityRefused(f"no identity token for user {user_id}")
            return None
        exp, sub, azp, user, issued = await self._claims(token)
        if sub != user_id:
            raise IdentityRefused(f"the identity token names {sub}, the message {user_id}")
        if azp != publisher:
            raise IdentityRefused(f"the identity token was issued to {azp}, the message published by {publisher}")
        if sent_at is not None and sent_at > exp + PUBLISH_LEEWAY:
            raise IdentityRefused("the message was sent after its identity token expired")
        if self.revocations is not None:
            revoked = self.revocations.revoked_before(sub, issued)
            if revoked is not None and (sent_at is None or sent_at >= revoked):
                raise IdentityRefused(f"the tokens of {sub} were revoked before the message was sent")
        return user

    async def _claims(self, token: str) -> tuple[float, str, str | None, User, float]:
        hit = self._checked.get(token)
        if hit is not None:
            if hit[0] + self.grace > time.time():
                return hit
            del self._checked[token]
        if self.verifier is None:
            raise IdentityRefused("this process cannot verify identity tokens")
        try:
            claims: dict[str, Any] = await self.verifier.claims(token, typ=TYPE, audiences=[AUDIENCE])
        except Unauthorized as exc:
            raise IdentityRefused(f"identity token refused: {exc.message}") from exc
        entry = (float(claims["exp"]), str(claims["sub"]), claims.get("azp"), user_from_claims(claims),
                 issued_at(claims))
        self._checked[token] = entry
        if len(self._checked) > self.cache_size:
            self._checked.popitem(last=False)
        return entry
