"""Named slots of the layout. Shell code and module-shipped components
add renderers to a slot; the layout calls them in order of registration:
`header`, `sidebar`, `user_menu`, `dashboard`, `footer`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webos_common.identity import User

Renderer = Callable[[User], Any]
SLOTS = ("header", "sidebar", "user_menu", "dashboard", "footer")

_slots: dict[str, list[Renderer]] = {name: [] for name in SLOTS}


def add(slot: str, renderer: Renderer) -> Renderer:
    if slot not in _slots:
        raise ValueError(f"unknown slot {slot!r}; slots are {', '.join(SLOTS)}")
    if renderer not in _slots[slot]:
        _slots[slot].append(renderer)
    return renderer


def render(slot: str, user: User) -> None:
    for renderer in _slots[slot]:
        renderer(user)


def renderers(slot: str) -> list[Renderer]:
    return list(_slots[slot])
