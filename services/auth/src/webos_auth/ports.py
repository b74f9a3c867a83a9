"""The ports the use cases talk through, named by role; adapters implement them.

Auth's stores each have one implementation, MongoDB's (`adapters/mongo/`), and
`bootstrap.Container` names them by it; a port is written here where the use cases
must not care which implementation they get."""

from __future__ import annotations

from typing import Any, Protocol

from webos_auth.domain.assertions import PrincipalLookup
from webos_common.security.revocation import Revocation
from webos_common.settings.mail import Mail, Mailer

__all__ = ["EventBus", "Mail", "Mailer", "PrincipalLookup"]


class EventBus(Protocol):
    """Events to the platform bus and token revocations to every verifier (`adapters.bus.Events`)."""

    async def emit(self, topic: str, payload: dict[str, Any]) -> None: ...
    async def revoke(self, revocation: Revocation) -> None: ...
