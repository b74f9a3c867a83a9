"""Notifications: the bell with the unread count, a toast for every
notification pushed live (see `live`), and the notification centre page
over the events service's notification API (each notification's title follows its link)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from nicegui import app, context, ui

from webos_common.clients.session import ApiError, SessionExpired
from webos_common.identity import User
from webos_shell import endpoints, runtime

Level = Literal["positive", "negative", "warning", "info"]
_LEVELS: dict[str, Level] = {"error": "negative", "warning": "warning", "success": "positive", "info": "info"}
_bells: dict[str, Callable[[], Awaitable[None]]] = {}  # a page (client id) → its bell's recount


def _items(body: Any) -> tuple[list[dict[str, Any]], int]:  # a page or a bare list
    if isinstance(body, dict):
        items = body.get("items", [])
        return items, int(body.get("total", len(items)))
    return list(body or []), len(body or [])


async def unread_count() -> int:
    body = await runtime.get().gateway.get(app.storage.user, endpoints.NOTIFICATIONS_UNREAD)
    return int(body.get("unread", 0)) if isinstance(body, dict) else 0


def toast(item: dict[str, Any]) -> None:
    text = item.get("title") or item.get("message") or "Notification"
    if item.get("title") and item.get("message"):
        text = f"{item['title']}: {item['message']}"
    ui.notify(text, type=_LEVELS.get(str(item.get("level", "info")), "info"), position="top-right",
              multi_line=True, timeout=6000)


def bell(user: User) -> None:
    """The header bell: the unread count, a toast for every notification
    pushed live to this person, and a slow poll that keeps the count true."""
    rt = runtime.get()
    with ui.button(icon="notifications", on_click=lambda: ui.navigate.to("/notifications")).props(
            'flat round color=white aria-label="Notifications" data-testid="bell"') as button:
        badge = ui.badge("", color="red").props('floating data-testid="bell-count"')
        badge.set_visibility(False)

    def show(count: int) -> None:
        badge.text = str(count)
        badge.set_visibility(count > 0)

    async def poll() -> None:
        try:
            show(await unread_count())
        except SessionExpired:
            timer.deactivate()
        except (ApiError, OSError):
            pass

    def pushed(message: dict[str, Any]) -> None:
        if message["type"] == "notification:created":
            with button:
                toast(message["data"])
            show(int(badge.text or 0) + 1)

    timer = ui.timer(rt.settings.shell_poll_interval, poll)
    ui.timer(0.05, poll, once=True)
    forget = rt.live.listen(user.id, pushed)
    page = context.client.id
    _bells[page] = poll
    # on_delete, not on_disconnect: NiceGUI 3 calls the latter also when the page's socket drops and
    # reconnects (a network blip, a proxy's idle timeout), and the bell would stop toasting for good
    context.client.on_delete(forget)
    context.client.on_delete(lambda: _bells.pop(page, None))


async def recount() -> None:
    """This page's bell counts again (after the person marked something read here)."""
    poll = _bells.get(context.client.id)
    if poll is not None:
        await poll()


async def centre() -> None:
    """The notification centre: every notification, newest first, mark read."""
    rt = runtime.get()
    store = app.storage.user

    @ui.refreshable
    async def listing() -> None:
        try:
            items, total = _items(await rt.gateway.get(store, endpoints.NOTIFICATIONS, limit=50))
        except (ApiError, OSError) as exc:
            ui.label(f"Notifications are unavailable: {exc}").classes("text-negative")
            return
        ui.label(f"{total} notification(s)").classes("text-sm text-gray-500")
        with ui.list().props("bordered separator").classes("w-full").props('data-testid="notification-list"'):
            for item in items:
                read = bool(item.get("read") or item.get("read_at"))
                with ui.item().classes("" if read else "bg-primary/5"):
                    with ui.item_section():
                        title = str(item.get("title") or item.get("type") or "Notification")
                        link = str(item.get("link") or "")
                        if link.startswith("/") and not link.startswith("//"):  # what it is about, one click away
                            with ui.item_label():
                                ui.link(title, link).props('data-testid="notification-link"')
                        else:
                            ui.item_label(title)
                        ui.item_label(str(item.get("message") or "")).props("caption")
                    if not read:
                        with ui.item_section().props("side"):
                            ui.button("Mark read", on_click=lambda i=item: mark(str(i.get("id")))).props("flat dense")

    async def mark(item_id: str) -> None:
        await rt.gateway.send(store, "POST", endpoints.NOTIFICATION_READ.format(id=item_id))
        listing.refresh()
        await recount()  # the badge followed only the slow poll: it stayed after "Mark read"

    async def mark_all() -> None:
        await rt.gateway.send(store, "POST", endpoints.NOTIFICATIONS_READ_ALL)
        listing.refresh()
        await recount()

    ui.button("Mark all read", icon="done_all", on_click=mark_all).props("flat")
    await listing()
