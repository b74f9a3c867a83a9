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

It may also ask the shell for one of its standard pickers (a file, a person,
a record: `ShellContext.pick_file` …): the page posts PICK with a request id;
the shell opens its own dialog in the top page (full size, themed, the same
as everywhere), as the signed-in person, and posts PICKED back to that frame
only, with the value picked, `null` (cancelled) or an error. The shell reads
nothing from a request it has not checked (`pick_request`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

FRAME_PREFIX = "/_frame"
COOKIE = "access_token"  # the name the gateway reads a token cookie by
_MODULE = re.compile(r"^[a-z][a-z0-9_-]{1,40}$")

HEIGHT, EXPIRED, CHANGED = "webos-frame-height", "webos-frame-expired", "webos-frame-changed"
PICK, PICKED = "webos-frame-pick", "webos-frame-picked"  # a picker asked for (module page), answered (shell)
PICK_KINDS = ("file", "user", "record")
PICK_WAIT = 30 * 60  # seconds a view waits for a picker's answer: a person may browse a long while
_REQUEST = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUFFIX = re.compile(r"^\.[a-z0-9][a-z0-9._-]{0,15}$")
_COLLECTION = re.compile(r"^(?:[a-z][a-z0-9_-]{1,40}/)?[A-Za-z_][A-Za-z0-9_-]{0,63}$")
MAX_ACCEPT = 20


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


@dataclass(frozen=True)
class PickRequest:
    """What a module view asks a picker for: `kind` (file, user, record); for a file, the folder
    to open (`start`, an `fs://` URN; default the person's home) and the name endings to offer
    (`accept`: `.pdf`; default any); for a record, the `collection`: one of the asking module's
    (`tasks`) or `<module>/<collection>` of another's."""

    request: str
    kind: str
    start: str | None = None
    accept: tuple[str, ...] = ()
    collection: str | None = None

    def message(self, frame_id: str) -> dict[str, Any]:
        """The PICK message the module's page posts."""
        return {"type": PICK, "id": frame_id, "request": self.request, "kind": self.kind,
                "options": {"start": self.start, "accept": list(self.accept), "collection": self.collection}}


def pick_request(message: Any) -> PickRequest:
    """A PICK message, checked field by field (it comes from a page): ValueError naming the
    field that is wrong. The module's side builds its requests through here too, so a view's
    mistake (`pick_file(accept="pdf")`) is said where it is made."""
    if not isinstance(message, dict):
        raise ValueError("message: not an object")
    request, kind = message.get("request"), message.get("kind")
    if not isinstance(request, str) or not _REQUEST.match(request):
        raise ValueError("request: 1-64 letters, digits, '-' or '_'")
    if kind not in PICK_KINDS:
        raise ValueError(f"kind: one of {', '.join(PICK_KINDS)}")
    options = message.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError("options: not an object")
    start, accept, collection = options.get("start"), options.get("accept") or [], options.get("collection")
    if start is not None and (kind != "file" or not isinstance(start, str) or not start.startswith("fs://")
                              or len(start) > 1000):
        raise ValueError("options.start: a folder's fs:// URN, for a file picker")
    if not isinstance(accept, list | tuple) or len(accept) > MAX_ACCEPT or (accept and kind != "file"):
        raise ValueError(f"options.accept: at most {MAX_ACCEPT} name endings, for a file picker")
    suffixes = tuple(str(a).lower() for a in accept)
    if not all(isinstance(a, str) and _SUFFIX.match(s) for a, s in zip(accept, suffixes, strict=True)):
        raise ValueError("options.accept: name endings such as '.pdf'")
    if kind == "record" and (not isinstance(collection, str) or not _COLLECTION.match(collection)):
        raise ValueError("options.collection: a collection's name ('tasks' or 'orders/orders')")
    if kind != "record" and collection is not None:
        raise ValueError("options.collection: for a record picker")
    return PickRequest(request, str(kind), start, suffixes, collection)


def pick_js(frame_id: str, request: PickRequest, wait: float = PICK_WAIT) -> str:
    """In the module's page, for `ui.run_javascript`: a Promise of the shell's PICKED answer to
    `request` (`{value}` or `{error}`), from the parent page only; `{error}` at once outside a
    shell's frame, `{timeout: true}` after `wait` seconds."""
    return (f"new Promise((resolve) => {{ const ask = {json.dumps(request.message(frame_id))};"
            " if (window.parent === window) { resolve({error: {status: 400, message: 'not in the shell'}}); return; }"
            " const done = (answer) => { clearTimeout(timer); window.removeEventListener('message', on);"
            " resolve(answer); };"
            f" const timer = setTimeout(() => done({{timeout: true}}), {int(wait * 1000)});"
            " const on = (e) => { if (e.origin !== location.origin || e.source !== window.parent || !e.data"
            f" || e.data.type !== {json.dumps(PICKED)} || e.data.request !== ask.request) return;"
            " done({value: e.data.value ?? null, error: e.data.error ?? null}); };"
            " window.addEventListener('message', on); window.parent.postMessage(ask, location.origin); })")


def module_of(path: str) -> str | None:
    """The module an API path belongs to (`/api/<module>/…`), for whose pieces to reload."""
    parts = path.split("?", 1)[0].split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "api" and _MODULE.match(parts[2]) else None


def reload_pieces_js(module: str) -> str:
    """In the shell's page: reload `module`'s pieces (see PARENT_SCRIPT)."""
    return f"window.webosPiecesChanged&&window.webosPiecesChanged({json.dumps(module)})"


PICK_EVENT = "webos_frame_pick"  # the shell page's NiceGUI event: a frame's checked-by-origin PICK

PARENT_SCRIPT = (
    "<script>if(!window.webosPiecesChanged){"
    "window.webosPiecesChanged=function(module,except){"
    "document.querySelectorAll('iframe.module-frame[data-slot][data-module=\"'+CSS.escape(module)+'\"]')"
    ".forEach(function(f){if(f!==except)f.src=f.dataset.src;});};"
    "var asked={};"
    "window.webosPickAnswer=function(key,answer){var a=asked[key];delete asked[key];"
    "if(a&&a.frame.isConnected&&a.frame.contentWindow)a.frame.contentWindow.postMessage("
    f"Object.assign({{type:{json.dumps(PICKED)},request:a.request}},answer),location.origin);}};"
    "window.addEventListener('message',function(e){"
    "if(e.origin!==location.origin||!e.data||!e.data.id)return;"
    "var f=document.querySelector('iframe[data-frame-id=\"'+CSS.escape(e.data.id)+'\"]');"
    "if(!f||f.contentWindow!==e.source)return;"
    f"if(e.data.type==={json.dumps(HEIGHT)})f.style.height=Math.max(24,e.data.height)+'px';"
    f"if(e.data.type==={json.dumps(EXPIRED)})f.src=f.dataset.src;"
    f"if(e.data.type==={json.dumps(CHANGED)})window.webosPiecesChanged(f.dataset.module,f);"
    f"if(e.data.type==={json.dumps(PICK)}&&typeof e.data.request==='string'){{"
    "var key=e.data.id+' '+e.data.request;asked[key]={frame:f,request:e.data.request};"
    f"emitEvent({json.dumps(PICK_EVENT)},{{key:key,module:f.dataset.module,message:e.data}});}}}});}}</script>"
)
"""In the shell's page (once, however many frames it has), for messages from a frame of its
own (the sender's window is the frame the id names): size each frame to its content; reload
one whose token expired; when one says it changed its module's data, reload that module's
pieces in the layout's slots (`data-slot`), not the sender and not a page's main view, whose
state (a form being filled, a board's scroll) a reload would lose. A PICK goes to the shell's
server (`PICK_EVENT`, with the module the frame shows, never one the message names), which
answers through `webosPickAnswer(key, answer)`: to the frame that asked, once."""
