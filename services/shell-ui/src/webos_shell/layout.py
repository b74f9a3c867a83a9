"""The frame of every signed-in page: header (brand, palette, bell, user
menu), sidebar (navigation from the registry, redrawn when it changes)
and the content column. Each part is a named slot (see `slots`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nicegui import ui

from webos_common.identity import User
from webos_shell import (
    a11y,
    components,
    frame_pickers,
    frames,
    notifications,
    palette,
    permissions,
    runtime,
    slots,
    theming,
)

PHONE_BREAKPOINT = 768  # px: narrower screens get the drawer closed


def _sidebar(user: User) -> None:
    rt = runtime.get()

    @ui.refreshable
    def nav() -> None:
        with ui.list().props('dense aria-label="Navigation" data-testid="nav"').classes("w-full"):
            ui.item("Dashboard", on_click=lambda: ui.navigate.to("/")).props("clickable dense")
            for entry in permissions.navigation(user, rt.registry.modules() if rt.registry else []):
                with ui.item(on_click=lambda p=entry.path: ui.navigate.to(p)).props("clickable dense"):
                    with ui.item_section().props("avatar"):
                        ui.icon(entry.icon)
                    ui.item_section(entry.label)
            ui.item("Notifications", on_click=lambda: ui.navigate.to("/notifications")).props("clickable dense")
            ui.item("Files", on_click=lambda: ui.navigate.to("/files")).props('clickable dense data-testid="nav-files"')
            if user.is_admin:
                ui.separator().props("role=none aria-hidden=true")
                ui.item("Admin", on_click=lambda: ui.navigate.to("/admin")).props("clickable dense")
            slots.render("sidebar", user)

    nav()
    seen = {"version": rt.registry.version if rt.registry else 0}

    def follow() -> None:
        current = rt.registry.version if rt.registry else 0
        if current != seen["version"]:
            seen["version"] = current
            nav.refresh()

    ui.timer(1.0, follow)


def _user_menu(user: User) -> None:
    with ui.button(icon="account_circle").props('flat round color=white aria-label="Account menu" '
                                                'data-testid="user-menu"'):
        with ui.menu():
            ui.menu_item(user.username or user.id).props("disable")
            ui.menu_item("My account", on_click=lambda: ui.navigate.to("/account")).props('data-testid="menu-account"')
            ui.menu_item("Light / dark", on_click=theming.toggle_dark)
            slots.render("user_menu", user)
            ui.menu_item("Sign out", on_click=lambda: ui.navigate.to("/logout"))


@asynccontextmanager
async def frame(user: User, title: str) -> AsyncIterator[None]:
    await theming.apply()
    theme = runtime.get().theme
    ui.page_title(f"{title} · {theme.brand_name}")
    drawer: ui.left_drawer  # made below the header, whose menu button toggles it
    with ui.header().classes(theme.header_classes()):
        ui.button(icon="menu", on_click=lambda: drawer.toggle()).props(
            'flat round color=white aria-label="Show or hide the navigation" data-testid="menu-button"')
        ui.link(theme.brand_name, "/").classes("text-lg font-semibold text-white no-underline")
        ui.space()
        slots.render("header", user)
        await components.render_slot("header", user)
        palette.install(user)
        frame_pickers.install(user)  # the pickers a module view's frame asks for
        with ui.button(icon="search").props('flat no-caps color=white aria-label="Search (Ctrl+K)" '
                                            'data-testid="palette-button"').on("click", js_handler=palette.OPEN):
            ui.label("Search  Ctrl+K").classes("ml-2 max-sm:hidden")  # a phone shows the icon alone
        notifications.bell(user)
        frames.follow(user)
        _user_menu(user)
    # Open beside the content on a wide screen; closed (and over the content when opened) below PHONE_BREAKPOINT.
    with ui.left_drawer(value=None).props(f'breakpoint={PHONE_BREAKPOINT} data-testid="drawer"').classes(
            "bg-gray-50 dark:bg-gray-900") as drawer:
        _sidebar(user)
        await components.render_slot("sidebar", user)
    with ui.column().classes("w-full p-4 gap-4"):
        a11y.heading(title, 1).props('data-testid="page-title"')
        yield
    slots.render("footer", user)
    await components.render_slot("footer", user)


async def refused(user: User, what: str = "this page") -> None:
    async with frame(user, "Not allowed"):
        ui.label(f"Access refused: you are not allowed to open {what}.").classes(
            "text-negative text-lg").props('data-testid="refused"')
