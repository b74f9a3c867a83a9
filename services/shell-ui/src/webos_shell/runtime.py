"""The shell's process-wide pieces, set up once by `create_app` and its
startup hook; NiceGUI pages are module-level, so they reach them here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client as NATS

from webos_common.clients.session import SessionClient
from webos_common.modules.registry_view import RegistryView
from webos_common.security import TokenVerifier
from webos_shell.live import LiveFeed
from webos_shell.sessions import SharedSessions
from webos_shell.settings import ShellSettings
from webos_shell.theme import Theme


@dataclass
class Runtime:
    settings: ShellSettings
    gateway: SessionClient
    verifier: TokenVerifier | None = None
    registry: RegistryView | None = None
    nats: NATS | None = None
    sessions: SharedSessions | None = None  # people's sessions, shared by the replicas
    live: LiveFeed = field(default_factory=LiveFeed)
    theme: Theme = field(default_factory=Theme)
    extras: dict[str, Any] = field(default_factory=dict)


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def get() -> Runtime:
    if _current is None:
        raise RuntimeError("the shell runtime is not installed (create_app not called)")
    return _current
