"""The ports the use cases talk through, named by role; adapters implement them.

The use cases take the MongoDB database itself (`adapters.mongo` names its collections and
their indexes); a port is written here where they must not care which implementation they get."""

from __future__ import annotations

from typing import Any, Protocol

from webos_common.settings.mail import Mail, Mailer

__all__ = ["EventEmitter", "Mail", "Mailer"]


class EventEmitter(Protocol):
    """What announces an event: the platform bus (`webos_common.bus.EventBus`)."""

    async def emit(self, topic: str, payload: dict[str, Any]) -> Any: ...
