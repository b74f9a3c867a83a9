"""The shell's side of a module view's pickers (`webos_common.modules.shell_frame.PICK`):
a frame on this page asks for a file, a person or a record; the shell opens its own
dialog for it (the file dialog of the AutoForm, the directory's person picker, a search
of the collection), as the signed-in person, and answers that frame alone
(`PARENT_SCRIPT`'s `webosPickAnswer`) with what was picked, `null` when the person
cancelled, or an error it also tells the person (an unknown collection, one they may
not read, a malformed request). Every listing goes through the gateway with the
person's own token, so a module learns only what its viewer may see."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import app, ui
from nicegui.events import GenericEventArguments

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_common.modules import shell_frame
from webos_shell import collections_ui, file_picker, permissions, pickers, runtime
from webos_shell.collections_ui import CollectionRef

Answer = Callable[[dict[str, Any]], None]
RECORD_PAGE = 20  # records listed at first, and found per search


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def collection_for(user: User, module: str, name: str) -> CollectionRef:
    """The collection a record picker asked for: `name` of the asking module, or `<module>/<name>`;
    Refused (404 / 403) when there is none (or its module is off) or the person may not read it."""
    owner, _, collection = name.rpartition("/")
    ref = collections_ui.find(owner or module, collection)
    if ref is None:
        raise Refused(404, f"There is no collection {name!r} to pick from.")
    if not permissions.can_read(user, ref.collection):
        raise Refused(403, f"You may not read {ref.collection.label or name}.")
    return ref


async def _records(ref: CollectionRef, **params: Any) -> dict[str, str]:
    from webos_shell.record import title_of

    try:
        body = await runtime.get().gateway.get(app.storage.user, ref.collection.endpoint, limit=RECORD_PAGE,
                                               **params)
    except (ApiError, OSError):
        return {}
    rows = body.get("items", []) if isinstance(body, dict) else body or []
    return {str(r["id"]): title_of(r) for r in rows if isinstance(r, dict) and r.get("id") is not None}


async def open_dialog(user: User, module: str, request: shell_frame.PickRequest, answer: Answer) -> None:
    """The dialog `request` asks for; `answer` is called once, with `{value}` or `{error}`."""
    cancel = lambda: answer({"value": None})  # noqa: E731
    if request.kind == "file":
        await file_picker.open_picker(lambda urn, name: answer({"value": {"urn": urn, "name": name}}),
                                      start=request.start, accept=request.accept, on_cancel=cancel)
    elif request.kind == "user":
        await pickers.open_pick_dialog(
            "Pick a person", lambda: pickers.user_picker("Person"), testid="frame-user-picker",
            on_pick=lambda uid, name: answer({"value": {"id": uid, "display_name": name}}), on_cancel=cancel)
    else:
        ref = collection_for(user, module, request.collection or "")
        qualified = f"{ref.manifest.name}/{ref.collection.name}"
        label = ref.collection.label or ref.collection.name

        async def draw() -> ui.select:
            known = await _records(ref)
            return pickers.searchable_select(label, known, lambda text: _records(ref, q=text),
                                             testid="record-picker")

        await pickers.open_pick_dialog(
            f"Pick from {label}", draw, testid="frame-record-picker", on_cancel=cancel,
            on_pick=lambda rid, title: answer({"value": {"id": rid, "title": title, "collection": qualified}}))


def install(user: User) -> None:
    """On a signed-in page: answer its frames' pickers, one dialog at a time."""
    client = ui.context.client
    busy = {"key": ""}

    def answer_to(key: str) -> Answer:
        def answer(payload: dict[str, Any]) -> None:
            if busy["key"] == key:
                busy["key"] = ""
            client.run_javascript(f"window.webosPickAnswer&&window.webosPickAnswer({json.dumps(key)},"
                                  f"{json.dumps(payload)})")
        return answer

    def refuse(answer: Answer, status: int, message: str) -> None:
        ui.notify(message, type="negative")
        answer({"error": {"status": status, "message": message}})

    async def asked(event: GenericEventArguments) -> None:
        args = event.args if isinstance(event.args, dict) else {}
        key, module = args.get("key"), args.get("module")
        if not isinstance(key, str) or len(key) > 200:
            return  # nothing to answer to
        answer = answer_to(key)
        if not isinstance(module, str) or not shell_frame.valid(module, "view"):
            refuse(answer, 400, "A picker was asked for by no module's view.")
            return
        try:
            request = shell_frame.pick_request(args.get("message"))
        except ValueError as exc:
            refuse(answer, 400, f"The {module} module asked for a picker wrongly: {exc}")
            return
        if busy["key"]:
            answer({"error": {"status": 409, "message": "Another picker is open."}})
            return
        busy["key"] = key
        try:
            await open_dialog(user, module, request, answer)
        except Refused as exc:
            refuse(answer, exc.status, exc.message)
        except Exception:  # an answer whatever happens: the view must not wait for nothing
            answer({"error": {"status": 500, "message": "The picker failed."}})
            raise

    ui.on(shell_frame.PICK_EVENT, asked)
