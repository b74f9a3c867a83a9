"""Shell components a module can turn on from its manifest's `ui_components`.

An entry is either a built-in name (`kanban`, `kanban:<field>`) or a
module-shipped NiceGUI component `"<label>=<package.module>:<function>"`,
imported by name (never by the shell's code), called as
`await function(ref, user, option)`."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from loguru import logger

from webos_common.identity import User
from webos_shell.collections_ui import CollectionRef

Component = Callable[[CollectionRef, User, str | None], Awaitable[None]]


def parse(entry: str) -> tuple[str, str, str | None]:
    """(view name, target, option): "kanban:status" → ("kanban", "kanban", "status");
    "board=webos_tasks.shell:board" → ("board", "webos_tasks.shell:board", None)."""
    if "=" in entry:
        name, target = entry.split("=", 1)
        return name.strip(), target.strip(), None
    name, _, option = entry.partition(":")
    return name, name, option or None


def load(target: str) -> Component | None:
    if target == "kanban":
        from webos_shell.components import kanban

        return kanban.render
    module_name, _, attr = target.partition(":")
    try:
        found: Any = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        logger.exception("module component {} cannot be loaded", target)
        return None
    return found  # type: ignore[no-any-return]
