"""Revocations reach a verifier's cache: one token (sign-out), every older token
of a user (disabled, roles changed), an API key; and they travel over real NATS."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from webos_common.http.errors import Unauthorized
from webos_common.security import TokenVerifier
from webos_common.security.jwks import StaticJWKS
from webos_common.security.revocation import Revocation, publish_revocation, user_revocation
from webos_common.security.testing import TestIssuer

ISSUER = TestIssuer()


async def test_a_signed_out_token_is_refused_and_others_are_not() -> None:
    verifier = ISSUER.verifier()
    mine, other = ISSUER.token("ann", jti="j-1"), ISSUER.token("ann", jti="j-2")
    assert (await verifier.verify(mine)).id == "ann"  # now cached
    assert verifier.revoke(Revocation(jti="j-1", until=time.time() + 60)) == 1
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(mine)
    assert (await verifier.verify(other)).id == "ann"


async def test_a_user_revocation_refuses_older_tokens_only() -> None:
    verifier = ISSUER.verifier()
    now = int(time.time())
    old = ISSUER.token("bob", jti="old", iat=now - 120)
    bystander = ISSUER.token("cy", jti="cy", iat=now - 120)
    await verifier.verify(old)
    verifier.revoke(user_revocation("bob", max_token_age=900))
    with pytest.raises(Unauthorized, match="sign in again"):
        await verifier.verify(old)
    assert (await verifier.verify(bystander)).id == "cy"
    fresh = ISSUER.token("bob", jti="fresh", iat=now + 1)  # signed in again after the change
    assert (await verifier.verify(fresh)).id == "bob"


async def test_a_sign_in_revocation_refuses_every_token_of_that_sign_in_only() -> None:
    """A reused refresh token revokes its family: the access tokens carrying its `sid`."""
    verifier = ISSUER.verifier()
    cached = ISSUER.token("fay", jti="a", sid="fam-1")
    later = ISSUER.token("fay", jti="b", sid="fam-1")
    elsewhere = ISSUER.token("fay", jti="c", sid="fam-2")
    await verifier.verify(cached)
    await verifier.verify(elsewhere)
    assert verifier.revoke(Revocation(sid="fam-1", until=time.time() + 60)) == 1
    for token in (cached, later):
        with pytest.raises(Unauthorized, match="reused"):
            await verifier.verify(token)
    assert (await verifier.verify(elsewhere)).id == "fay"


class CountingIntrospector:
    def __init__(self) -> None:
        self.calls = 0

    async def introspect(self, key: str) -> dict[str, Any] | None:
        self.calls += 1
        return {"sub": "dee", "key_id": "k1", "roles": [], "permissions": ["x.read"], "active": True}


async def test_a_revoked_api_key_is_introspected_afresh() -> None:
    introspector = CountingIntrospector()
    verifier = TokenVerifier(StaticJWKS(ISSUER.jwks), issuer=ISSUER.issuer, audience=ISSUER.audience,
                             introspector=introspector, key_cache_ttl=300)
    await verifier.verify("wos_k1_secret")
    await verifier.verify("wos_k1_secret")
    assert introspector.calls == 1  # cached
    assert verifier.revoke(Revocation(key_id="k1", until=time.time() + 60)) == 1
    await verifier.verify("wos_k1_secret")
    assert introspector.calls == 2  # auth is asked again (and would say revoked)


def test_a_revocation_must_name_something() -> None:
    with pytest.raises(ValueError, match="names a jti"):
        Revocation(user_id="x")


async def test_revocations_travel_over_nats(nc: NATS) -> None:
    verifier = ISSUER.verifier()
    await verifier.follow(nc)
    token = ISSUER.token("eve", jti="over-nats")
    await verifier.verify(token)
    await publish_revocation(nc, Revocation(jti="over-nats", until=time.time() + 60))
    await nc.publish("webos.auth.revoked", b"not json")  # ignored, and the verifier keeps following
    for _ in range(100):
        try:
            await verifier.verify(token)
        except Unauthorized:
            return
        await asyncio.sleep(0.02)
    pytest.fail("the revocation never arrived")
