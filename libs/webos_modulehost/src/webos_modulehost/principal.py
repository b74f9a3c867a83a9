"""What a module declares on the bus: the input of its NATS credential.

    python -m webos_modulehost tasks --declare    # JSON, read by `webos up` and `webos creds`

The same declaration goes into the manifest the host announces, so what an
admin reads there is what the module's credential allows: it publishes its
own entities' events, the topics its package registers and the topics it
declares (`webos_declare_emitted_events`); it consumes exactly the topics of
its handlers, through one durable consumer each; it answers storage's calls
for the data sources it serves (`webos_register_data_sources`), no others.
"""

from __future__ import annotations

from typing import Any

from webos_common.bus import registered_events
from webos_common.bus.consumer import handler_name
from webos_common.bus.topics import safe_name
from webos_common.documents.service import NOTIFY_TOPIC
from webos_common.security.nats_permissions import TASK_TOPICS
from webos_modulehost.discovery import LoadedModule

STANDARD_ACTIONS = (  # what BaseService emits (tests/test_principal_events.py reads its source)
    "created", "updated", "deleted", "restored", "bulk_updated", "purged", "access_changed")


def uses_tasks(mod: LoadedModule) -> bool:
    """True when the module's `tasks.py` defines background task functions, or it announces
    collections (their imports and exports run as background tasks of the host)."""
    from webos_common import tasks

    if mod.collections:
        return True
    module = getattr(mod.package, "tasks", None)
    functions = vars(module).values() if module is not None else ()
    return any(getattr(fn, "broker", None) is tasks.broker for fn in functions)


def emitted(mod: LoadedModule) -> list[str]:
    topics = {f"{svc.entity}:{action}" for svc in mod.services for action in STANDARD_ACTIONS}
    package = mod.package.__name__
    topics |= {topic for topic, model in registered_events().items()
               if model.__module__ == package or model.__module__.startswith(f"{package}.")}
    topics |= set(mod.declared_events)
    if uses_tasks(mod):
        topics |= set(TASK_TOPICS)
    if mod.collections:  # the person who started an import or export is told when it ends
        topics.add(NOTIFY_TOPIC)
    return sorted(topics)


def consumers(mod: LoadedModule) -> list[str]:
    """The durable consumer names its handlers get (`<module>--<handler>`, as the bus names them)."""
    return sorted(safe_name(f"{mod.name}--{handler_name(handler)}") for handler in mod.handlers.values())


def declaration(mod: LoadedModule) -> dict[str, Any]:
    return {"name": mod.name, "kind": "module", "emits": emitted(mod), "consumes": sorted(mod.handlers),
            "consumers": consumers(mod), "data_sources": sorted(source.id for source in mod.data_sources)}
