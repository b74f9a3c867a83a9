"""The ports the use cases talk through, named by role; adapters implement them.

The store has one implementation, MongoDB's (`adapters.mongo.MongoSettingsStore`), and the
service names it by it; the publisher of changes is a port (`adapters.events.ChangePublisher`)."""

from __future__ import annotations

from typing import Any, Protocol


class Publisher(Protocol):
    async def changed(self, payload: dict[str, Any]) -> None: ...
