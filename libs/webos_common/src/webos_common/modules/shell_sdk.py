"""What a module's own shell component is given (seed 002 §7, UI integration).

A module ships NiceGUI code for the shell by returning `ShellComponent`s from
the `webos_register_shell_components` hook. The module host announces each as
`"<name>=<package.module>:<function>"` in the manifest's `ui_components`; the
shell imports it by that name (the module host never imports UI code) and,
on `/m/<module>/<name>`, calls `await function(ctx)` inside its layout with a
`ShellContext`: who is looking, which collection, and calls to the platform
through the gateway with that person's token (refreshed silently).

    async def board(ctx: ShellContext) -> None:
        rows = await ctx.get(f"{ctx.endpoint}/board")
        ...
        await ctx.send("POST", f"{ctx.endpoint}/{task_id}/move", {"status": "done"})
        ctx.notify("Moved", level="positive")

A view asks the shell for its standard pickers, opened in the top page as the
signed-in person, and gets what was picked, or None when they cancelled:

        picked = await ctx.pick_file(accept=[".pdf"])     # PickedFile(urn, name)
        person = await ctx.pick_user()                      # PickedUser(id, display_name)
        order = await ctx.pick_record("orders/orders")      # PickedRecord(id, title)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from webos_common.identity import User
from webos_common.modules.manifest import Collection
from webos_common.modules.shell_frame import PICK_KINDS


class ShellApiError(Exception):
    """A call from a shell component answered with an error status; `message`
    is the platform's own text (`error.message`), `body` the whole answer."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        if message is None and isinstance(body, dict):
            message = body.get("detail")
        self.message = str(message or f"HTTP {status}")
        super().__init__(self.message)


@dataclass(frozen=True)
class PickedFile:
    urn: str  # fs://<source>/<path>
    name: str


@dataclass(frozen=True)
class PickedUser:
    id: str
    display_name: str


@dataclass(frozen=True)
class PickedRecord:
    id: str
    title: str
    collection: str  # `<module>/<collection>`, as the shell found it


Picked = PickedFile | PickedUser | PickedRecord


def picked(kind: str, answer: Any) -> Picked | None:
    """The shell's PICKED answer (`{value}` / `{error}` / `{timeout}`, or None when the page is
    gone) as what a view gets: the value, None when the person cancelled (or never answered),
    `ShellApiError` when the shell refused (an unknown collection, one the person may not read)."""
    if kind not in PICK_KINDS:
        raise ValueError(f"kind: one of {', '.join(PICK_KINDS)}")
    if not isinstance(answer, dict):
        return None
    error = answer.get("error")
    if isinstance(error, dict):
        status = error.get("status")
        raise ShellApiError(status if isinstance(status, int) and 400 <= status < 600 else 400,
                            {"error": {"message": str(error.get("message") or "the picker failed")}})
    value = answer.get("value")
    if not isinstance(value, dict):
        return None
    text = {key: str(item) for key, item in value.items() if isinstance(item, str | int) and str(item)}
    try:
        if kind == "file":
            return PickedFile(text["urn"], text.get("name") or text["urn"].rstrip("/").rsplit("/", 1)[-1])
        if kind == "user":
            return PickedUser(text["id"], text.get("display_name") or text["id"])
        return PickedRecord(text["id"], text.get("title") or text["id"], text.get("collection", ""))
    except KeyError as missing:
        raise ShellApiError(502, {"error": {"message": f"the shell's answer has no {missing.args[0]}"}}) from None


class ShellContext(Protocol):
    """The shell's side of a component call; one per page view. `params` are
    the page's query parameters (`/m/tasks/board?tag=x`)."""

    user: User
    module: str
    collection: Collection | None
    params: dict[str, str]

    @property
    def endpoint(self) -> str:
        """The gateway path of `collection` (`/api/<module>/<collection>`)."""
        ...

    async def get(self, path: str, **params: Any) -> Any:
        """GET a gateway path (`/api/...`) as the signed-in person; raises `ShellApiError`."""
        ...

    async def send(self, method: str, path: str, body: Any = None, *, version: int | None = None) -> Any:
        """POST/PATCH/PUT/DELETE as the signed-in person; raises `ShellApiError`. `version`: only
        over that version of the record (`If-Match`; a 412 `ShellApiError` when it changed since)."""
        ...

    def notify(self, message: str, *, level: str = "info") -> None:
        """A toast (level: info, positive, negative, warning)."""
        ...

    def navigate(self, path: str) -> None:
        """Open another shell page."""
        ...

    def static_url(self, name: str) -> str:
        """The browser's URL of a file in the module's `static/` folder (`logo.svg`)."""
        ...

    async def pick_file(self, *, start: str | None = None, accept: list[str] | None = None) -> PickedFile | None:
        """The shell's file dialog (from `start`, a folder's `fs://` URN, default the person's home;
        only names ending in one of `accept`, `.pdf`, when given): the file, or None (cancelled)."""
        ...

    async def pick_user(self) -> PickedUser | None:
        """The shell's person picker (the directory, searchable): the person, or None (cancelled)."""
        ...

    async def pick_record(self, collection: str) -> PickedRecord | None:
        """The shell's record picker over `collection` (this module's, `tasks`, or another's,
        `orders/orders`), searched as the person (what they may read): the record, or None
        (cancelled); `ShellApiError` for a collection there is none of, or they may not read."""
        ...


Render = Callable[[ShellContext], Awaitable[None]]
# layout slots a module component may fill; `record` is a panel on its collection's record pages
# (`/m/<module>/<collection>/<id>`), given the record's id as `ctx.params["id"]`
SLOTS = ("header", "sidebar", "dashboard", "footer", "record")


@dataclass(frozen=True)
class ShellComponent:
    """A view a module adds to its shell page: `/m/<module>/<name>`; or, with
    `slot`, a piece of the layout drawn on every page (a sidebar counter, a
    header button, a dashboard card), or, with `slot="record"`, a panel or actions of
    each record page of `collection` (`ctx.params["id"]` is the record's id).

    `target` is `"package.module:function"` (or the function itself, whose
    import path is taken); `collection` names the collection it works on
    (default: the module's first); `permission` hides it from people without it."""

    name: str
    target: str | Render
    label: str = ""
    icon: str = "widgets"
    collection: str | None = None
    permission: str | None = None
    slot: str | None = None  # header, sidebar, dashboard, footer (every page) or record (its record pages)

    def __post_init__(self) -> None:
        if self.slot is not None and self.slot not in SLOTS:
            raise ValueError(f"shell component {self.name!r}: slot must be one of {', '.join(SLOTS)}")
        if not self.name.isidentifier():
            raise ValueError(f"shell component name {self.name!r} must be a plain word")
        if not self.path or ":" not in self.path:
            raise ValueError(f"shell component {self.name!r}: target must be 'package.module:function'")

    @property
    def path(self) -> str:
        if isinstance(self.target, str):
            return self.target
        return f"{self.target.__module__}:{self.target.__qualname__}"

    def entry(self) -> str:
        """The manifest form: `name=package.module:function`, options after `;`."""
        extra = {"label": self.label, "icon": self.icon, "collection": self.collection or "",
                 "permission": self.permission or "", "slot": self.slot or ""}
        options = ";".join(f"{key}={value}" for key, value in extra.items() if value)
        return f"{self.name}={self.path}" + (f";{options}" if options else "")

    @classmethod
    def from_entry(cls, entry: str) -> ShellComponent:
        """Read back what `entry()` wrote (the shell's side)."""
        head, *options = entry.split(";")
        name, _, target = head.partition("=")
        extra = dict(option.partition("=")[::2] for option in options)
        return cls(name=name.strip(), target=target.strip(), label=extra.get("label", ""),
                   icon=extra.get("icon", "widgets"), collection=extra.get("collection") or None,
                   permission=extra.get("permission") or None, slot=extra.get("slot") or None)


def focus_when_drawn(selector: str, within_ms: int = 2000) -> str:
    """JavaScript for `ui.run_javascript` that gives the focus to the element `selector` finds as soon as
    it is drawn (polled every 50 ms, for `within_ms` at most): after a redraw, such as a kanban card moved
    with the keyboard, the focus stays with what the person moved."""
    return (f"(() => {{ const sel = {json.dumps(selector)}; let left = {max(within_ms // 50, 1)};"
            " const poll = setInterval(() => { const el = document.querySelector(sel);"
            " if (el) { el.focus(); clearInterval(poll); } else if (--left <= 0) clearInterval(poll); }, 50); })()")


def board_shift(columns: list[str], current: Any, by: int) -> str | None:
    """The column a card in `current` lands in when moved `by` columns with the keyboard (None:
    off the board, or a card in no column)."""
    at = columns.index(current) + by if current in columns else -1
    return columns[at] if 0 <= at < len(columns) else None


def focus_card(column: str, card_id: Any) -> str:
    """`focus_when_drawn` for a board card (`data-column` / `data-id`), once it is drawn in `column`."""
    return focus_when_drawn(f'[data-column="{column}"] [data-id="{card_id}"]')
