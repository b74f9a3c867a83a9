"""Auth's events (`user:created`, `user:updated`, `user:deleted`,
`user:logged_in`) go out on the platform bus (`resources.bus`) when the
service has one; a failure to publish never fails the request."""

from __future__ import annotations

from typing import Any

from loguru import logger

USER_CREATED = "user:created"
USER_UPDATED = "user:updated"
USER_DELETED = "user:deleted"
USER_LOGGED_IN = "user:logged_in"


class Events:
    def __init__(self, resources: Any) -> None:
        self.resources = resources

    async def emit(self, topic: str, payload: dict[str, Any]) -> None:
        bus = getattr(self.resources, "bus", None)
        if bus is None:
            logger.debug("no bus; {} not published", topic)
            return
        try:
            await bus.emit(topic, payload)
        except Exception:  # noqa: BLE001 - an event lost is logged, the request still succeeds
            logger.exception("could not publish {}", topic)
