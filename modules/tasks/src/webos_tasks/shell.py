"""The tasks kanban board: this module's own shell component.

The module host draws `board(ctx)` in the shell's frame on `/m/tasks/board`. Everything goes through `ctx`, as the
signed-in person: `GET /api/tasks/tasks/board` for the columns,
`POST …/{id}/move` when a card is dropped on another column, `POST
/api/tasks/tasks` for the quick-add box. `?tag=x` shows one tag's cards.
A card takes the focus (Tab) and the arrow keys move it a column left or right; a click
(or Enter) opens its record page, where `record_actions` adds the workflow's buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from nicegui import ui

from webos_common.modules import local_time
from webos_common.modules.shell_sdk import ShellApiError, ShellContext, board_shift, focus_card
from webos_tasks.models import STATUS_TITLES, TaskStatus

TITLES = STATUS_TITLES  # the schema's names of the statuses (`x-enumNames`): the grid's labels too
# shades dark enough for small text on white (4.5:1)
PRIORITY_COLOURS = {"low": "grey-8", "medium": "blue-9", "high": "deep-orange-10", "urgent": "red-9"}


def columns(body: Any, *, tag: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The board endpoint's answer as `{status: cards}` in workflow order, filtered by tag."""
    board = body if isinstance(body, dict) else {}
    return {status.value: [card for card in board.get(status.value, []) or []
                           if not tag or tag in (card.get("tags") or [])]
            for status in TaskStatus}


def due_text(card: dict[str, Any], now: datetime | None = None) -> tuple[list[local_time.Part], bool]:
    """(["due ", its instant], overdue?) for a card; ([], False) without a due date. The person's
    browser says the instant in their own time zone (`local_time.MomentText`), as the shell's grid
    does; the card is overdue once that instant has passed (and it is not done), whatever the date
    in UTC or where the person is."""
    raw = card.get("due_date")
    if not raw:
        return [], False
    due = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    due = due if due.tzinfo else due.replace(tzinfo=UTC)  # the API's times without an offset are UTC
    overdue = card.get("status") != TaskStatus.done.value and due < (now or datetime.now(UTC))
    return local_time.text("due ", local_time.instant(raw)), overdue


def record_page(task_id: str) -> str:
    """The shell's page of one task."""
    return f"/m/tasks/tasks/{quote(str(task_id), safe='')}"


async def board(ctx: ShellContext) -> None:
    writable = ctx.user.has_permission("tasks.write")
    tag = ctx.params.get("tag") or None
    dragged: dict[str, Any] = {}

    with ui.row().classes("w-full items-center gap-2"):
        ui.label(f"Tag: {tag}" if tag else "All my tasks").classes("text-sm text-gray-500")
        ui.space()
        ui.button(icon="refresh", on_click=lambda: draw()).props(
            'flat round aria-label="Refresh the board" data-testid="board-refresh"')
    area = ui.row().classes("w-full gap-4 items-start no-wrap overflow-x-auto").props(
        'data-testid="kanban" data-component="webos_tasks.shell"')

    async def move(to: str) -> None:
        card = dragged.pop("card", None)
        if card is None or card.get("status") == to or not writable:
            return
        try:
            await ctx.send("POST", f"{ctx.endpoint}/{card['id']}/move", {"status": to})
            ctx.notify(f"“{card.get('title')}” → {TITLES[TaskStatus(to)]}", level="positive")
        except ShellApiError as exc:
            ctx.notify(exc.message, level="negative")
        await draw()

    async def shift(card: dict[str, Any], by: int) -> None:
        column = board_shift([status.value for status in TITLES], card.get("status"), by)
        if column is not None:
            dragged["card"] = card
            client = ui.context.client  # the card (this handler's slot) is gone once drawn again
            await move(column)
            client.run_javascript(focus_card(column, card["id"]))  # the moved card keeps the focus

    async def add(field: Any) -> None:
        title = str(field.value or "").strip()
        if not title:
            return
        body: dict[str, Any] = {"title": title, **({"tags": [tag]} if tag else {})}
        try:
            await ctx.send("POST", ctx.endpoint, body)
        except ShellApiError as exc:
            ctx.notify(exc.message, level="negative")
            return
        field.value = ""
        await draw()

    async def draw() -> None:
        try:
            grouped = columns(await ctx.get(f"{ctx.endpoint}/board"), tag=tag)
        except (ShellApiError, OSError) as exc:
            area.clear()
            with area:
                ui.label(f"The board is unavailable: {exc}").classes("text-negative")
            return
        area.clear()
        with area:
            for status, cards in grouped.items():
                with ui.column().classes("w-72 min-h-64 bg-gray-100 dark:bg-gray-800 rounded p-2 gap-2").props(
                        f'data-testid="kanban-column" data-column="{status}"') as column:
                    ui.label(f"{TITLES[TaskStatus(status)]} ({len(cards)})").classes("font-medium")
                    if status == TaskStatus.todo.value and writable:
                        field = ui.input(placeholder="Add a task…").props(
                            'dense outlined data-testid="board-add"').classes("w-full")
                        field.on("keydown.enter", lambda _, f=field: add(f))
                    for card in cards:
                        _card(card, dragged, shift, lambda c: ctx.navigate(record_page(c["id"])))
                column.on("dragover.prevent", lambda: None)
                column.on("drop", lambda _, s=status: move(s))

    await draw()


def _card(card: dict[str, Any], dragged: dict[str, Any], shift: Callable[[dict[str, Any], int], Awaitable[None]],
          opened: Callable[[dict[str, Any]], None]) -> None:
    """A card: dragged with a mouse, or focused (Tab) and moved a column left or right with the arrow keys."""
    due, overdue = due_text(card)
    title = str(card.get("title") or card.get("id")).replace('"', "'")
    with ui.card().classes("w-full cursor-grab p-2 gap-1").props(
            f'draggable tabindex=0 role=group aria-keyshortcuts="ArrowLeft ArrowRight" '
            f'aria-label="{title}: the arrow keys move it" '
            f'data-testid="kanban-card" data-id="{card.get("id")}"') as view:
        ui.label(str(card.get("title") or card.get("id"))).classes("font-medium")
        with ui.row().classes("gap-1 items-center"):
            priority = str(card.get("priority") or "medium")
            ui.badge(priority, color=PRIORITY_COLOURS.get(priority, "grey-8")).props("outline")
            for tag in card.get("tags") or []:
                ui.badge(tag, color="grey-8").props("outline")
            if due:
                shade = "text-negative" if overdue else "text-gray-500"
                local_time.MomentText(due).classes(f"text-xs {shade}").props(
                    f'data-testid="kanban-due" data-overdue="{str(overdue).lower()}"')
    view.on("click", lambda _, c=card: opened(c))  # a click, or Enter, opens the task's record page
    view.on("keydown.enter", lambda _, c=card: opened(c))
    view.on("dragstart", lambda _, c=card: dragged.update(card=c))
    view.on("keydown.left.prevent", lambda _, c=card: shift(c, -1))
    view.on("keydown.right.prevent", lambda _, c=card: shift(c, 1))


async def open_count(ctx: ShellContext) -> None:
    """The sidebar's line under the navigation: open tasks (and overdue ones), one click to the list."""
    try:
        stats = await ctx.get(f"{ctx.endpoint}/stats")
    except (ShellApiError, OSError):
        return  # the sidebar stays quiet when the module is away
    open_now = int(stats.get("todo", 0)) + int(stats.get("in_progress", 0))
    overdue = int(stats.get("overdue", 0))
    with ui.row().classes("w-full items-center gap-2 px-4 py-2 cursor-pointer text-sm").props(
            'data-testid="tasks-open-count"') as line:
        ui.icon("task_alt").classes("text-gray-500")
        ui.label(f"{open_now} open task{'s' if open_now != 1 else ''}")
        if overdue:
            ui.badge(f"{overdue} overdue", color="red-9").props("outline")
    line.on("click", lambda: ctx.navigate("/m/tasks?status=todo"))


NEXT = {TaskStatus.todo: [TaskStatus.in_progress, TaskStatus.done], TaskStatus.in_progress: [TaskStatus.done,
        TaskStatus.todo], TaskStatus.done: [TaskStatus.todo]}
VERBS = {TaskStatus.todo: "Reopen", TaskStatus.in_progress: "Start", TaskStatus.done: "Mark done"}


COPIED = ("description", "priority", "tags")  # what "Copy from…" takes from another task


def copied_from(other: dict[str, Any]) -> dict[str, Any]:
    """The PATCH that gives a task another's description, priority and tags (a template)."""
    return {key: other[key] for key in COPIED if key in other}


async def record_actions(ctx: ShellContext) -> None:
    """A panel on each task's record page (`slot="record"`): its status, attachment and assignees;
    buttons to move it on (`POST …/{id}/move`), to attach a file (the shell's file dialog,
    `ctx.pick_file`), to assign someone (its person picker, `ctx.pick_user`), and to copy the
    description, priority and tags of another task (its record picker, `ctx.pick_record`); the
    page is then drawn again."""
    task_id = ctx.params.get("id", "")
    here = f"{ctx.endpoint}/{quote(task_id, safe='')}"
    try:
        task = await ctx.get(here)
    except (ShellApiError, OSError):
        return
    status = TaskStatus(task.get("status", TaskStatus.todo.value))

    async def change(method: str, path: str, body: dict[str, Any], version: int | None = None) -> None:
        try:
            await ctx.send(method, path, body, version=version)
        except ShellApiError as exc:
            ctx.notify(exc.message, level="negative")
            return
        ctx.navigate(record_page(task_id))

    async def attach() -> None:
        try:
            picked = await ctx.pick_file()
        except ShellApiError as exc:
            ctx.notify(exc.message, level="negative")
            return
        if picked is None:
            note.text = "No file attached: the picker was closed."
            return
        await change("PATCH", here, {"attachment": picked.urn})

    async def assign() -> None:
        try:
            person = await ctx.pick_user()
        except ShellApiError as exc:
            ctx.notify(exc.message, level="negative")
            return
        if person is None:
            return
        try:  # the list as it is now (the panel may be minutes old): the route replaces the whole list,
            now = await ctx.get(here)  # over this version only (someone assigning meanwhile: a 412)
        except ShellApiError as exc:
            ctx.notify(exc.message, level="negative")
            return
        assignees = list(now.get("assignees") or [])
        if person.id not in assignees:
            await change("PUT", f"{here}/assignees", {"assignees": [*assignees, person.id]}, now.get("version"))

    async def copy() -> None:
        try:
            other = await ctx.pick_record(ctx.collection.name if ctx.collection else "tasks")
            if other is not None:
                await change("PATCH", here, copied_from(await ctx.get(f"{ctx.endpoint}/{quote(other.id, safe='')}")))
        except ShellApiError as exc:
            ctx.notify(exc.message, level="negative")

    with ui.column().classes("w-full gap-2 p-3").props('data-testid="task-workflow"'):
        ui.label(f"Status: {TITLES[status]}").classes("font-medium").props('data-testid="task-status"')
        attachment = str(task.get("attachment") or "")
        ui.label(f"Attachment: {attachment.rstrip('/').rsplit('/', 1)[-1] if attachment else 'none'}").props(
            f'data-testid="task-attachment" data-urn="{attachment}"')
        ui.label(f"Assigned to: {await _people(ctx, task.get('assignees') or []) or 'nobody'}").props(
            'data-testid="task-assignees"')
        note = ui.label("").classes("text-sm text-gray-600").props('data-testid="task-note"')
        if ctx.user.has_permission("tasks.write"):
            with ui.row().classes("gap-2"):
                for to in NEXT[status]:
                    ui.button(VERBS[to], on_click=lambda _, t=to: change(
                        "POST", f"{here}/move", {"status": t.value})).props(
                        f'outline dense color=blue-9 data-testid="task-move" data-to="{to.value}"')
                ui.button("Attach file", icon="attach_file", on_click=attach).props(
                    'outline dense color=blue-9 data-testid="task-attach"')
                ui.button("Assign…", icon="person_add", on_click=assign).props(
                    'outline dense color=blue-9 data-testid="task-assign"')
                ui.button("Copy from…", icon="content_copy", on_click=copy).props(
                    'outline dense color=blue-9 data-testid="task-copy-from"')


async def _people(ctx: ShellContext, ids: list[str]) -> str:
    """The display names of `ids`, from the directory (their ids when it is away)."""
    if not ids:
        return ""
    try:
        found = {p["id"]: p.get("display_name") or p["id"]
                 for p in (await ctx.get("/api/auth/directory/people", ids=ids, limit=100)).get("items", [])}
    except (ShellApiError, OSError, AttributeError):
        found = {}
    return ", ".join(found.get(i, i) for i in ids)
