"""The system pickers: a person (searchable over auth's directory, by name; the value is the
person's id) and a role (among the roles that exist). Never free text: a value is one of
the options the directory gave."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import runtime

PEOPLE, ROLES = "/api/auth/directory/people", "/api/auth/directory/roles"


async def _items(path: str, **params: Any) -> list[dict[str, Any]]:
    try:
        body = await runtime.get().gateway.get(app.storage.user, path, **params)
    except (ApiError, OSError):
        return []
    return list(body.get("items", [])) if isinstance(body, dict) else []


async def display_names(ids: list[str]) -> dict[str, str]:
    """id -> display name of the people the directory knows among `ids`."""
    if not ids:
        return {}
    return {p["id"]: p.get("display_name") or p["id"] for p in await _items(PEOPLE, ids=ids, limit=100)}


async def user_picker(label: str, value: list[str] | str | None = None, *, multiple: bool = False,
                      testid: str = "user-picker") -> ui.select:
    """People by display name; typing searches the directory (beyond the first 100)."""
    chosen = value if isinstance(value, list) else [value] if value else []
    known = {p["id"]: p["display_name"] for p in await _items(PEOPLE, limit=100)}
    if chosen:
        known |= {p["id"]: p["display_name"] for p in await _items(PEOPLE, ids=chosen, limit=100)}
    select = ui.select(known, label=label, value=chosen if multiple else (chosen[0] if chosen else None),
                       multiple=multiple, with_input=True, clearable=True).props(
        f'use-chips input-debounce=250 data-testid="{testid}"').classes("w-full")

    async def search(event: Any) -> None:
        text = str(event.args or "").strip()
        if text:
            found = {p["id"]: p["display_name"] for p in await _items(PEOPLE, q=text, limit=20)}
            if found.keys() - select.options.keys():  # type: ignore[union-attr]
                select.options = {**select.options, **found}  # type: ignore[dict-item]
                select.update()

    select.on("input-value", search)
    return select


def role_select(names: list[str], value: list[str] | str | None = None, *, label: str = "Roles",
                multiple: bool = True, testid: str = "role-picker") -> ui.select:
    """The one role picker: a choice among `names` (roles that exist), searchable."""
    chosen = sorted(value) if isinstance(value, list) else [value] if value else []
    return ui.select(names, label=label, value=chosen if multiple else (chosen[0] if chosen else None),
                     multiple=multiple, with_input=True, clearable=True).props(
        f'use-chips data-testid="{testid}"').classes("w-full")


async def role_picker(label: str, value: list[str] | str | None = None, *, multiple: bool = True,
                      testid: str = "role-picker") -> ui.select:
    """`role_select` over the directory's roles."""
    names = [r["name"] for r in await _items(ROLES)]
    return role_select(names, value, label=label, multiple=multiple, testid=testid)
