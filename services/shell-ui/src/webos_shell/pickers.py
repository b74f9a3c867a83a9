"""The system pickers: a person (searchable over auth's directory, by name; the value is the
person's id) and a role (among the roles that exist). Never free text: a value is one of
the options the directory gave. `open_pick_dialog` shows one such searchable choice on its
own, in a dialog (a module view's `ctx.pick_user` / `ctx.pick_record`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


Search = Callable[[str], Awaitable[dict[str, str]]]  # typed text -> {value: what a person reads}


def searchable_select(label: str, known: dict[str, str], search: Search, value: list[str] | str | None = None, *,
                      multiple: bool = False, testid: str) -> ui.select:
    """A choice among `known`; typing asks `search` for more (beyond the first page) and adds them."""
    chosen = value if isinstance(value, list) else [value] if value else []
    select = ui.select(known, label=label, value=chosen if multiple else (chosen[0] if chosen else None),
                       multiple=multiple, with_input=True, clearable=True).props(
        f'use-chips input-debounce=250 data-testid="{testid}"').classes("w-full")

    async def more(event: Any) -> None:
        text = str(event.args or "").strip()
        if text:
            found = await search(text)
            if found.keys() - select.options.keys():  # type: ignore[union-attr]
                select.options = {**select.options, **found}  # type: ignore[dict-item]
                select.update()

    select.on("input-value", more)
    return select


async def _people(**params: Any) -> dict[str, str]:
    return {p["id"]: p.get("display_name") or p["id"] for p in await _items(PEOPLE, **params)}


async def user_picker(label: str, value: list[str] | str | None = None, *, multiple: bool = False,
                      testid: str = "user-picker") -> ui.select:
    """People by display name; typing searches the directory (beyond the first 100)."""
    chosen = value if isinstance(value, list) else [value] if value else []
    known = await _people(limit=100)
    if chosen:
        known |= await _people(ids=chosen, limit=100)
    return searchable_select(label, known, lambda text: _people(q=text, limit=20), value, multiple=multiple,
                             testid=testid)


async def open_pick_dialog(title: str, draw: Callable[[], Awaitable[ui.select]], *,
                           on_pick: Callable[[str, str], Any], on_cancel: Callable[[], Any],
                           testid: str) -> None:
    """One searchable choice in a dialog (`draw` makes its select): choosing an option picks it
    (`on_pick(value, label)`) and closes the dialog; closing it otherwise (Cancel, Escape, a
    click beside it) is `on_cancel()`. The input has the focus: type, arrows, Enter."""
    done = {"yes": False}
    with ui.dialog() as dialog, ui.card().classes("w-[36rem] max-w-full").props(f'data-testid="{testid}"'):
        ui.label(title).classes("font-medium")
        select = (await draw()).props("autofocus")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props('flat data-testid="picker-cancel"')

    def chosen(value: Any) -> None:
        if done["yes"] or value in (None, "", []):
            return
        done["yes"] = True
        dialog.close()
        on_pick(str(value), str(select.options.get(value, value)) if isinstance(select.options, dict) else str(value))

    def closed(open_: bool) -> None:
        if not open_ and not done["yes"]:
            done["yes"] = True
            on_cancel()

    select.on_value_change(lambda e: chosen(e.value))
    dialog.on_value_change(lambda e: closed(bool(e.value)))
    dialog.open()


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
