"""My account (`/account`): the signed-in person's own profile, password,
API keys and preferences, over auth's `/api/auth/me…` and the settings
service's `/api/settings/me/…`, called with the person's own token.
`?tab=profile|password|twofactor|keys|preferences` opens a section."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from webos_shell import layout, session
from webos_shell.pages import my_apps, twofactor
from webos_shell.pages.account import keys, preferences, profile
from webos_shell.pages.account.calls import ME, MY_SETTINGS, SETTINGS_SCHEMAS, fetch

TABS = {"profile": ("Profile", "person"), "password": ("Password", "password"),
        "twofactor": ("Two-factor", "security"), "keys": ("API keys", "key"),
        "apps": ("Connected apps", "apps"), "preferences": ("Preferences", "tune")}


async def render(user: Any, tab: str) -> None:
    me_body, schemas, notifications, shell = await asyncio.gather(
        fetch(ME), fetch(SETTINGS_SCHEMAS), fetch(MY_SETTINGS.format(module="notifications")),
        fetch(MY_SETTINGS.format(module="shell")))
    async with layout.frame(user, "My account"):
        me, failure = me_body
        if failure is not None or not isinstance(me, dict):
            ui.label(f"Your account is unavailable: {failure}").classes("text-negative").props(
                'data-testid="account-unavailable"')
            return
        with ui.tabs().props('align=left outside-arrows mobile-arrows data-testid="account-tabs"').classes(
                "w-full") as tabs:
            for name, (label, icon) in TABS.items():
                ui.tab(name, label=label, icon=icon).props(f'data-testid="account-tab-{name}"')
        with ui.tab_panels(tabs, value=tab if tab in TABS else "profile").classes("w-full bg-transparent"):
            with ui.tab_panel("profile"):
                profile.profile_section(me)
            with ui.tab_panel("password"):
                profile.password_section()
            with ui.tab_panel("twofactor"):
                twofactor.section(me)
            with ui.tab_panel("keys"):
                await keys.section(me)
            with ui.tab_panel("apps"):
                await my_apps.section()
            with ui.tab_panel("preferences"):
                await preferences.section(schemas[0], notifications[0], shell[0], schemas[1] or notifications[1])


def register() -> None:
    @ui.page("/account")
    async def account_page(request: Request, tab: str = "profile") -> RedirectResponse | None:
        here = "/account" + (f"?tab={tab}" if tab in TABS and tab != "profile" else "")
        user = await session.require(here, request)
        if isinstance(user, RedirectResponse):
            return user
        await render(user, tab)
        return None
