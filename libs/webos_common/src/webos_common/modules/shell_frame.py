"""How a module's own views sit inside the shell: the contract both sides share.

A module's NiceGUI code runs in its own host, never in the shell (whose
image holds no module). The shell draws its frame — header, navigation,
sidebar — and, where a module view goes (a page, an admin page, a layout
slot), an iframe on its own origin:

    /_frame/<module>/<name>?…   the shell: checks the session (refreshing the
                                token), sets the access token as a cookie
                                scoped to the module's UI path, redirects to
    /api/<module>/ui/<name>?…   routed by the gateway (token from the cookie)
                                to the module host, which renders the view
                                with a `ShellContext` of its own.

The view's page tells its parent how tall it is, asks it to reload the
frame (through `/_frame`, for a fresh token) when its token has expired, and
says when it has changed the module's data: the shell then reloads that
module's other pieces on the page (a sidebar count, a dashboard widget, a
record's panel), as it does when the shell's own grid, form or import writes
to the module. What others change meanwhile (another person, another tab, a
background job) reloads the same pieces: live push says "module changed" to
each person who may read the changed record (`webos_common.bus.live`, at most
once a second per module) and the shell calls `webosPiecesChanged` for it; a
page's main view shows such changes when it is next drawn.
"""

from __future__ import annotations

import json
import re

FRAME_PREFIX = "/_frame"
COOKIE = "access_token"  # the name the gateway reads a token cookie by
_MODULE = re.compile(r"^[a-z][a-z0-9_-]{1,40}$")

HEIGHT, EXPIRED, CHANGED = "webos-frame-height", "webos-frame-expired", "webos-frame-changed"


def valid(module: str, name: str) -> bool:
    return bool(_MODULE.match(module)) and name.isidentifier()


def ui_prefix(module: str) -> str:
    """Where a module host serves its views (and the cookie's path)."""
    return f"/api/{module}/ui"


def frame_src(module: str, name: str, query: str = "") -> str:
    """The shell's address of a view, for an iframe's `src`."""
    return f"{FRAME_PREFIX}/{module}/{name}" + (f"?{query}" if query else "")


def child_script(frame_id: str) -> str:
    """In the module's page: report its height to the shell as it changes."""
    fid = json.dumps(frame_id)
    return (f"<script>(function(){{var send=function(){{parent.postMessage({{type:{json.dumps(HEIGHT)},"
            f"id:{fid},height:document.documentElement.scrollHeight}},location.origin)}};"
            f"new ResizeObserver(send).observe(document.documentElement);"
            f"window.addEventListener('load',send)}})();</script>")


def expired_js(frame_id: str) -> str:
    """In the module's page: ask the shell to reload this frame (fresh token)."""
    return f"parent.postMessage({{type:{json.dumps(EXPIRED)},id:{json.dumps(frame_id)}}},location.origin)"


def changed_js(frame_id: str) -> str:
    """In the module's page: tell the shell this view changed its module's data."""
    return f"parent.postMessage({{type:{json.dumps(CHANGED)},id:{json.dumps(frame_id)}}},location.origin)"


def module_of(path: str) -> str | None:
    """The module an API path belongs to (`/api/<module>/…`), for whose pieces to reload."""
    parts = path.split("?", 1)[0].split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "api" and _MODULE.match(parts[2]) else None


def reload_pieces_js(module: str) -> str:
    """In the shell's page: reload `module`'s pieces (see PARENT_SCRIPT)."""
    return f"window.webosPiecesChanged&&window.webosPiecesChanged({json.dumps(module)})"


PARENT_SCRIPT = (
    "<script>if(!window.webosPiecesChanged){"
    "window.webosPiecesChanged=function(module,except){"
    "document.querySelectorAll('iframe.module-frame[data-slot][data-module=\"'+CSS.escape(module)+'\"]')"
    ".forEach(function(f){if(f!==except)f.src=f.dataset.src;});};"
    "window.addEventListener('message',function(e){"
    "if(e.origin!==location.origin||!e.data||!e.data.id)return;"
    "var f=document.querySelector('iframe[data-frame-id=\"'+CSS.escape(e.data.id)+'\"]');if(!f)return;"
    f"if(e.data.type==={json.dumps(HEIGHT)})f.style.height=Math.max(24,e.data.height)+'px';"
    f"if(e.data.type==={json.dumps(EXPIRED)})f.src=f.dataset.src;"
    f"if(e.data.type==={json.dumps(CHANGED)})window.webosPiecesChanged(f.dataset.module,f);}});}}</script>"
)
"""In the shell's page (once, however many frames it has): size each frame to its content;
reload one whose token expired; when one says it changed its module's data, reload that module's
pieces in the layout's slots (`data-slot`), not the sender and not a page's main view, whose
state (a form being filled, a board's scroll) a reload would lose."""
