"""The dialog a save that lost a race opens (the module answered 412: the
record changed since this page read it). It says who changed it and when,
and offers: reload (take theirs), review the differences (yours beside
theirs), or overwrite (save yours over the version now current). Times are said in the
person's local time (`local_time.MomentText`), values as the grid says them (`tabular.shown`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from nicegui import ui

from webos_shell import local_time, tabular
from webos_shell.schema_fields import FieldSpec


def differences(mine: dict[str, Any], current: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, my value, current value) for every field I changed that now differs."""
    return [(name, value, current.get(name)) for name, value in mine.items() if current.get(name) != value]


def changed_by(details: Any) -> list[local_time.Part]:
    details = details if isinstance(details, dict) else {}
    who, when = details.get("updated_by") or "someone", details.get("updated_at")
    return local_time.text(f"{who} changed this record", [" at ", local_time.instant(when)] if when else [])


def difference(name: str, yours: Any, theirs: Any, specs: Iterable[FieldSpec] = ()) -> list[local_time.Part]:
    """One of `differences` as the dialog says it: "Due date: yours <time> — saved <time>"."""
    spec = next((s for s in specs if s.name == name), None)
    return local_time.text(f"{spec.label if spec else name}: yours ", tabular.shown(spec, yours), " — saved ",
                           tabular.shown(spec, theirs))


def open_conflict(details: Any, mine: dict[str, Any], *, current: Callable[[], Awaitable[dict[str, Any] | None]],
                  reload: Callable[[], Awaitable[None]], overwrite: Callable[[int], Awaitable[None]],
                  specs: Iterable[FieldSpec] = ()) -> None:
    """`details` is the 412's error details (version, updated_by, updated_at); `mine` the fields being
    saved; `specs` the record's fields (their labels and kinds)."""
    specs = list(specs)
    version = int(details.get("version", 0)) if isinstance(details, dict) else 0
    with ui.dialog() as dialog, ui.card().classes("w-[32rem]").props('data-testid="conflict-dialog"'):
        ui.label("This record changed while you were editing it").classes("text-lg font-semibold")
        local_time.MomentText(changed_by(details)).props('data-testid="conflict-who"')
        review = ui.column().classes("w-full gap-0")

        async def do_reload() -> None:
            dialog.close()
            await reload()

        async def do_review() -> None:
            now = await current() or {}
            review.clear()
            with review:
                rows = differences(mine, now)
                if not rows:
                    ui.label("Your change matches what is saved now.").classes("text-sm")
                for name, yours, theirs in rows:
                    local_time.MomentText(difference(name, yours, theirs, specs)).classes("text-sm").props(
                        'data-testid="conflict-diff"')

        async def do_overwrite() -> None:
            dialog.close()
            await overwrite(version)

        with ui.row().classes("w-full justify-end"):
            ui.button("Reload", on_click=do_reload).props('flat data-testid="conflict-reload"')
            ui.button("Review differences", on_click=do_review).props('flat data-testid="conflict-review"')
            ui.button("Overwrite", on_click=do_overwrite).props('color=negative data-testid="conflict-overwrite"')
    dialog.open()
