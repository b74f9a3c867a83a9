"""Auth's events and token revocations onto the platform bus (`resources.bus`, JetStream;
revocations on core NATS). A failure to publish is logged and never fails the request."""

from __future__ import annotations

from typing import Any

from loguru import logger

from webos_common.security.revocation import Revocation, publish_revocation


class Events:
    def __init__(self, resources: Any) -> None:
        self.resources = resources

    async def revoke(self, revocation: Revocation) -> None:
        """Tell every verifier (this process's at once, the others over NATS) to drop
        and refuse what `revocation` names. The stored state is already revoked: a lost
        broadcast only means the old rule (the token ends at its expiry)."""
        verifier = getattr(self.resources, "verifier", None)
        if verifier is not None and hasattr(verifier, "revoke"):
            verifier.revoke(revocation)
        nc = getattr(self.resources, "nats", None)
        if nc is None:
            return
        try:
            await publish_revocation(nc, revocation)
        except Exception:  # noqa: BLE001 - see above
            logger.exception("could not broadcast a token revocation")

    async def emit(self, topic: str, payload: dict[str, Any]) -> None:
        bus = getattr(self.resources, "bus", None)
        if bus is None:
            logger.debug("no bus; {} not published", topic)
            return
        payload = {k: v for k, v in payload.items() if k != "sso" and v is not None}
        try:
            await bus.emit(topic, payload)
        except Exception:  # noqa: BLE001 - an event lost is logged, the request still succeeds
            logger.exception("could not publish {}", topic)
