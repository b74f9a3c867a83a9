"""The module host: one WebOS module, run as its own service.

Its names are imported on first use (module-level `__getattr__`), so that
`python -m webos_modulehost NAME --declare` — which `webos up` runs once per
module before it starts anything — pays for the module's own imports only,
not for the whole host (FastAPI app, bus, outbox, scheduler, …).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webos_modulehost.app import create_app
    from webos_modulehost.discovery import LoadedModule, load

__all__ = ["LoadedModule", "create_app", "load"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from webos_modulehost.app import create_app

        return create_app
    if name in ("LoadedModule", "load"):
        from webos_modulehost import discovery

        return getattr(discovery, name)
    raise AttributeError(f"module 'webos_modulehost' has no attribute {name!r}")
