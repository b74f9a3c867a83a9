"""The module's own NiceGUI views, served by its host inside the shell's frame.

`mount` runs NiceGUI on the host's app at `/api/<module>/ui` (the gateway
routes it on the shell's origin, taking the person's token from the cookie
the shell set, `webos_common.modules.shell_frame`). `/api/<module>/ui/<name>` draws
the component `name` of `webos_register_shell_components` — a page, the
`admin` view, a layout slot's piece — with a `HostContext`: the person
(verified here from that token), the collection, the query parameters, and
calls through the gateway as that person. Every view's page has the shell's
`window.webosLocalTime` (`webos_common.modules.local_time`), so a view says a
time as the shell does, in the person's own time zone (`MomentText`). NiceGUI
is imported only when the module ships views.
"""

from __future__ import annotations

import importlib
import secrets
from typing import Any

import httpx
from fastapi import FastAPI, Request
from loguru import logger

from webos_common.clients.session import if_match
from webos_common.http.errors import WebOSError
from webos_common.identity import User
from webos_common.modules import shell_frame
from webos_common.modules.manifest import Collection
from webos_common.modules.shell_sdk import (
    Picked,
    PickedFile,
    PickedRecord,
    PickedUser,
    Render,
    ShellApiError,
    ShellComponent,
    picked,
)
from webos_common.security.permissions import READ_METHODS
from webos_modulehost.discovery import LoadedModule
from webos_modulehost.settings import ModuleHostSettings

ADMIN = "admin"  # the component the shell's admin panel shows: for admins only
FRAME_PARAM = "_frame"  # the iframe's id, for messages to the shell; not one of the view's parameters


class HostContext:
    """`webos_common.modules.shell_sdk.ShellContext` in the module's own host."""

    def __init__(self, user: User, token: str, module: str, collection: Collection | None, params: dict[str, str],
                 http: httpx.AsyncClient, frame: str) -> None:
        self.user, self.module, self.collection, self.params = user, module, collection, params
        self._token, self._http, self._frame = token, http, frame

    @property
    def endpoint(self) -> str:
        return self.collection.endpoint if self.collection else f"/api/{self.module}"

    async def get(self, path: str, **params: Any) -> Any:
        return await self._call("GET", path, params=params or None)

    async def send(self, method: str, path: str, body: Any = None, *, version: int | None = None) -> Any:
        return await self._call(method.upper(), path, json=body, headers=if_match(version))

    async def _call(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, headers={
            **(headers or {}), "Authorization": f"Bearer {self._token}"}, **kwargs)
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text[:300]}
        if response.status_code == 401:
            self._ui().run_javascript(shell_frame.expired_js(self._frame))  # the shell reloads us, fresh token
        if response.status_code >= 400:
            raise ShellApiError(response.status_code, body)
        if method not in READ_METHODS:  # the shell draws this module's other pieces on the page again
            self._ui().run_javascript(shell_frame.changed_js(self._frame))
        return body

    def notify(self, message: str, *, level: str = "info") -> None:
        self._ui().notify(message, type=level if level in {"info", "positive", "negative", "warning", "ongoing"}
                          else "info")

    def navigate(self, path: str) -> None:
        if not path.startswith("/") or path.startswith("//"):
            return  # only the platform's own pages
        self._ui().run_javascript(f"window.top.location.href = {_js(path)}")

    def static_url(self, name: str) -> str:
        return f"/api/{self.module}/static/{name.lstrip('/')}"

    async def pick_file(self, *, start: str | None = None, accept: list[str] | None = None) -> PickedFile | None:
        found = await self._pick("file", start=start, accept=list(accept or []))
        return found if isinstance(found, PickedFile) else None

    async def pick_user(self) -> PickedUser | None:
        found = await self._pick("user")
        return found if isinstance(found, PickedUser) else None

    async def pick_record(self, collection: str) -> PickedRecord | None:
        found = await self._pick("record", collection=collection)
        return found if isinstance(found, PickedRecord) else None

    async def _pick(self, kind: str, **options: Any) -> Picked | None:
        """Ask the shell (the frame's parent) for its picker and wait for the person: the page's
        Promise resolves on the shell's answer (`shell_frame.pick_js`). Awaiting it in the page's
        own handler (not an event sent back later) keeps no state here: a page that goes away
        answers None, as NiceGUI resolves a deleted client's call; the Promise gives up first
        (`PICK_WAIT`), so the server's wait, a little longer, never ends a pick still open."""
        request = shell_frame.pick_request({"request": secrets.token_hex(8), "kind": kind, "options": options})
        try:
            answer = await self._ui().run_javascript(shell_frame.pick_js(self._frame, request),
                                                     timeout=shell_frame.PICK_WAIT + 30)
        except TimeoutError:
            return None
        return picked(kind, answer)

    @staticmethod
    def _ui() -> Any:
        from nicegui import ui

        return ui


def _js(text: str) -> str:
    import json

    return json.dumps(text)


def load_render(component: ShellComponent) -> Render | None:
    if not isinstance(component.target, str):
        return component.target
    module_name, _, attr = component.target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        logger.exception("shell component {} cannot be loaded", component.target)
        return None
    return found if callable(found) else None


async def _person(app: FastAPI, request: Request) -> tuple[User, str] | None:
    token = request.cookies.get(shell_frame.COOKIE)
    verifier = app.state.resources.verifier
    if not token or verifier is None:
        return None
    try:
        return await verifier.verify(token), token
    except WebOSError:
        return None


def _collection(app: FastAPI, component: ShellComponent) -> Collection | None:
    manifest = getattr(app.state, "manifest", None)
    collections = list(manifest.collections) if manifest else []
    wanted = component.collection
    return next((c for c in collections if c.name == wanted), collections[0] if collections and not wanted else None)


def mount(app: FastAPI, mod: LoadedModule, settings: ModuleHostSettings) -> None:
    from nicegui import ui

    from webos_common.modules import local_time

    components = {c.name: c for c in mod.shell_components}
    http = httpx.AsyncClient(base_url=settings.gateway_url.rstrip("/"), timeout=settings.ui_api_timeout)

    @ui.page("/{name}")
    async def view(request: Request, name: str) -> None:
        params = {k: v for k, v in request.query_params.items() if k != FRAME_PARAM}
        frame = request.query_params.get(FRAME_PARAM, name)
        ui.add_body_html(shell_frame.child_script(frame))
        ui.add_body_html(f"<script>{local_time.SCRIPT}</script>")  # times in the person's zone, as the shell's
        ui.query(".nicegui-content").classes("p-0")
        ui.query("body").style("background: transparent")
        component, person = components.get(name), await _person(app, request)
        if person is None:
            ui.label("Your session ended: sign in again.").props('data-testid="frame-signed-out"')
            ui.run_javascript(shell_frame.expired_js(frame))
            return
        user, token = person
        if component is None or (component.permission and not user.has_permission(component.permission)) or (
                name == ADMIN and not user.is_admin):
            ui.label(f"No view {name!r} here for you.").classes("text-negative").props('data-testid="frame-missing"')
            return
        render = load_render(component)
        if render is None:
            ui.label(f"The view {name!r} cannot be loaded.").classes("text-negative")
            return
        ctx = HostContext(user, token, mod.name, _collection(app, component), params, http, frame)
        try:
            await render(ctx)
        except Exception as exc:  # noqa: BLE001 - the view's bug: named on the page, logged here
            logger.exception("shell component {} failed", component.path)
            ui.label(f"The {mod.name} module's view {name!r} failed: {type(exc).__name__}").classes(
                "text-negative").props('data-testid="component-failed"')

    app.state.ui_http = http
    ui.run_with(app, mount_path=shell_frame.ui_prefix(mod.name), title=mod.name, show_welcome_message=False,
                reconnect_timeout=10, language="en-US")
