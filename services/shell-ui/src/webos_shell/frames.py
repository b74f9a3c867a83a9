"""Module views in the shell's frame, served by the module's own host
(`webos_common.modules.shell_frame`): an iframe per view, and `/_frame/…`, which
hands the person's (refreshed) token to the module's UI path as a cookie
and redirects there. The shell imports no module code."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import app, context, ui

from webos_common.bus.live import CHANGED
from webos_common.identity import User
from webos_common.modules import shell_frame
from webos_shell import runtime, session

SLOT_HEIGHT = {"header": 40, "sidebar": 48, "footer": 40, "dashboard": 160, "record": 96}


def frame(module: str, name: str, params: dict[str, str], *, slot: str | None = None) -> None:
    """An iframe showing the view `name` of `module`, sized by its content (its title names both)."""
    title = f"{module.capitalize()}: {name.replace('_', ' ')}"
    frame_id = f"{module}-{name}-{secrets.token_hex(4)}"
    src = shell_frame.frame_src(module, name, urlencode({**params, "_frame": frame_id}))
    height = SLOT_HEIGHT.get(slot or "", 480)
    ui.add_body_html(shell_frame.PARENT_SCRIPT)
    placed = f' data-slot="{slot}"' if slot else ""  # a layout piece: reloaded when its module's data changes
    ui.element("iframe").props(f'src="{src}" data-src="{src}" data-frame-id="{frame_id}" title="{title}" '
                               f'data-testid="module-frame" data-module="{module}" data-view="{name}"{placed}'
                               ).style(f"width: 100%; height: {height}px; border: 0; display: block"
                                       ).classes("module-frame")


def wrote(method: str, path: str) -> None:
    """After the person changed a module's data from this page (the grid, a form, an import, a
    board), its pieces in the layout are drawn again (`shell_frame.PARENT_SCRIPT`)."""
    module = shell_frame.module_of(path)
    if module is None:
        return
    try:
        ui.run_javascript(shell_frame.reload_pieces_js(module))
    except RuntimeError:  # not in a page's context (a background job): no page to tell
        return


def follow(user: User) -> None:
    """This page's pieces follow what others change too (another person, another tab, a job):
    when a record `user` may read changes, live push says which module (`webos_common.bus.live`,
    at most once a second per module) and its pieces are drawn again, as after `wrote`."""
    client = context.client

    def pushed(message: dict[str, Any]) -> None:
        if message.get("type") == CHANGED:
            client.run_javascript(shell_frame.reload_pieces_js(str(message["data"]["module"])))

    client.on_delete(runtime.get().live.listen(user, pushed))  # not on_disconnect: also called when it reconnects


FRESH_FOR = 10  # seconds: a token with less left is refreshed before a frame gets it (it may expire mid-load)


def register() -> None:
    @app.get(shell_frame.FRAME_PREFIX + "/{module}/{name}", include_in_schema=False)
    async def open_frame(request: Request, module: str, name: str) -> Response:
        if not shell_frame.valid(module, name):
            return Response("No such view", status_code=404)
        token = await session.fresh_access_token(FRESH_FOR)
        if not token:
            return Response("Your session ended: sign in again.", status_code=401)
        target = f"{shell_frame.ui_prefix(module)}/{name}" + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(target, status_code=303)
        secure = request.headers.get("x-forwarded-proto", request.url.scheme) == "https"
        response.set_cookie(shell_frame.COOKIE, token, max_age=session.seconds_left(token),
                            path=shell_frame.ui_prefix(module), httponly=True, samesite="strict", secure=secure)
        return response
