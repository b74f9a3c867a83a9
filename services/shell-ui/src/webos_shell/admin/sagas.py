"""Saga runs of every module that has sagas (its manifest's `sagas`), newest first, through the
gateway as the signed-in admin (`/api/<module>/admin/sagas`, served by each module's host): a
chip of each run's state, its steps with their timing in a dialog, and an admin's retry (a
compensated run, again from its first step) or compensate (a failed run's undo, once more),
each confirmed first. The shell knows the modules from the registry only; no module code."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_common.modules.manifest import ModuleManifest
from webos_shell import a11y, endpoints, local_time, runtime

STATES = ("running", "completed", "compensating", "compensated", "failed")
# chip colours with readable text (white on Quasar's warning yellow is not)
CHIP = {"completed": ("positive", "white"), "compensated": ("warning", "black"), "failed": ("negative", "white"),
        "running": ("primary", "white"), "compensating": ("primary", "white"), "done": ("positive", "white"),
        "compensation_failed": ("negative", "white"), "not_run": ("grey-4", "black")}
ACTIONS = {"retry": ("Retry", "Run every step again, from the first, as the person who started it?"),
           "compensate": ("Compensate", "Undo once more what this run could not undo?")}
LIMIT = 50


# -- pure parts ---------------------------------------------------------------
def saga_modules(manifests: list[ModuleManifest]) -> list[str]:
    """The modules whose hosts serve saga runs, by name."""
    return sorted({m.name for m in manifests if m.sagas})


def when(value: Any) -> list[local_time.Part]:
    """An instant as the API gives it (UTC), said by the browser in the admin's own time zone."""
    return local_time.moment(value, "—")


def took(ms: Any) -> str:
    if ms is None:
        return "—"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def words(state: str) -> str:
    return state.replace("_", " ")


def newest_first(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(runs, key=lambda r: str(r.get("started_at") or ""), reverse=True)


# -- the page -----------------------------------------------------------------
async def _runs(module: str, state: str | None) -> list[dict[str, Any]] | str:
    """The module's runs (each with its `module`), or why they could not be read."""
    params: dict[str, Any] = {"limit": LIMIT, **({"state": state} if state else {})}
    try:
        body = await runtime.get().gateway.get(app.storage.user, endpoints.MODULE_SAGAS.format(module=module),
                                               **params)
    except ApiError as exc:
        return exc.message
    except (httpx.HTTPError, OSError) as exc:
        return f"the gateway could not be reached ({type(exc).__name__})"
    return [{**run, "module": module} for run in (body.get("items", []) if isinstance(body, dict) else [])]


def chip(state: str, **props: str) -> ui.chip:
    color, text = CHIP.get(state, ("grey-4", "black"))
    extra = " ".join(f'{k}="{v}"' for k, v in props.items())
    return ui.chip(words(state), color=color, text_color=text).props(f'dense square {extra}'.strip())


async def render(user: User) -> None:
    registry = runtime.get().registry
    modules = saga_modules(registry.modules() if registry else [])
    shown: dict[str, Any] = {"state": None}
    a11y.heading("Saga runs")
    ui.label("Workflows across modules (an order's payment and fulfilment, …): each run's steps, where one "
             "failed, and what was undone.").classes("text-sm text-gray-500")
    with ui.row().classes("items-center gap-2"):
        ui.select({None: "Every state", **{s: words(s) for s in STATES}}, value=None, label="State",
                  on_change=lambda e: (shown.update(state=e.value), runs.refresh())).props(
            'dense outlined data-testid="saga-state-filter"').classes("w-48")
        ui.button("Refresh", icon="refresh", on_click=lambda: runs.refresh()).props(
            'flat dense data-testid="saga-refresh"')

    @ui.refreshable
    async def runs() -> None:
        if not modules:
            ui.label("No running module has sagas").classes("text-gray-500").props('data-testid="sagas-none"')
            return
        found = await asyncio.gather(*(_runs(m, shown["state"]) for m in modules))
        rows: list[dict[str, Any]] = []
        for module, answer in zip(modules, found, strict=True):
            if isinstance(answer, str):
                ui.label(f"{module}: unavailable: {answer}").classes("text-negative")
            else:
                rows += answer
        if not rows:  # outside the list: a list holds list items only
            ui.label("No saga run yet" if not shown["state"] else f"No {words(shown['state'])} run").classes(
                "text-gray-500").props('data-testid="saga-runs-none"')
            return
        with ui.column().classes("w-full gap-0").props('data-testid="saga-runs" role="list"'):
            for run in newest_first(rows):
                _row(run)

    def _row(run: dict[str, Any]) -> None:
        with ui.row().classes("w-full items-center gap-3 border-b py-1 flex-nowrap").props(
                f'role="listitem" data-testid="saga-run" data-run="{run["id"]}" data-state="{run["state"]}" '
                f'data-module="{run["module"]}"'):
            chip(run["state"])
            with ui.column().classes("gap-0 flex-1 min-w-0"):
                ui.label(f"{run['module']} · {run['saga']}").classes("font-medium")
                ui.label(run["id"]).classes("text-xs text-gray-500 font-mono truncate")
            local_time.MomentText(when(run.get("started_at"))).classes("text-sm w-48")
            ui.label(run.get("started_by") or "—").classes("text-sm w-24 truncate")
            steps = run.get("steps") or []
            done = sum(1 for s in steps if s.get("state") == "done")
            ui.label(f"{done}/{len(steps)} steps done" + (f" · failed at {run['failed_step']}"
                                                          if run.get("failed_step") else "")).classes("text-sm w-56")
            ui.button("Steps", icon="list", on_click=lambda r=run: _open(r["module"], r["id"])).props(
                f'flat dense no-caps data-testid="saga-open" aria-label="Steps of run {run["id"]}"')

    async def _open(module: str, run_id: str) -> None:
        try:
            run = await runtime.get().gateway.get(
                app.storage.user, f"{endpoints.MODULE_SAGAS.format(module=module)}/{run_id}")
        except (ApiError, OSError, httpx.HTTPError) as exc:
            ui.notify(f"{run_id}: unavailable: {exc}", type="negative")
            return
        with ui.dialog().props(f'aria-label="Saga run {run_id}"') as dialog, ui.card().classes(
                "w-[52rem] max-w-full").props(f'data-testid="saga-dialog" data-run="{run_id}"'):
            with ui.row().classes("w-full items-center gap-2"):
                a11y.heading(f"{module} · {run['saga']}", level=3)
                chip(run["state"], **{"data-testid": "saga-dialog-state"})
                ui.label(f"attempt {run.get('attempt', 1)}").classes("text-sm text-gray-500")
            local_time.MomentText(local_time.text(
                "Started ", when(run.get("started_at")), f" by {run.get('started_by') or '—'} · last change ",
                when(run.get("updated_at")), f" · trace {run.get('trace_id') or '—'}")).classes("text-sm")
            if run.get("error"):
                ui.label(f"Failed at {run.get('failed_step')}: {run['error']}").classes("text-sm text-negative")
            with ui.column().classes("w-full gap-0").props('role="list" aria-label="Steps"'):
                for step in run.get("steps", []):
                    _step(step)
            for entry in run.get("actions", []):
                local_time.MomentText(local_time.text(
                    f"{entry.get('action')} by {entry.get('by') or '—'} at ", when(entry.get("at")),
                    f" (attempt {entry.get('attempt')})")).classes("text-xs text-gray-500")
            with ui.row().classes("w-full justify-end gap-2"):
                for action in run.get("actions_allowed", []):
                    label, _ = ACTIONS[action]
                    ui.button(label, icon="replay" if action == "retry" else "undo",
                              on_click=lambda a=action: _confirm(dialog, module, run, a)).props(
                        f'color=negative data-testid="saga-{action}"')
                ui.button("Close", on_click=dialog.close).props('flat data-testid="saga-close"')
        dialog.open()

    def _step(step: dict[str, Any]) -> None:
        with ui.row().classes("w-full items-start gap-3 border-b py-1 flex-nowrap").props(
                f'role="listitem" data-testid="saga-step" data-step="{step["name"]}" data-state="{step["state"]}"'):
            ui.label(step["name"]).classes("font-medium w-32")
            chip(step["state"])
            with ui.column().classes("gap-0 flex-1 min-w-0"):
                took_ms = f" · {took(step.get('duration_ms'))}"
                timing = local_time.text("not reached") if not step.get("started_at") else local_time.text(
                    when(step["started_at"]), " → ", when(step.get("finished_at")), took_ms)
                local_time.MomentText(timing).classes("text-sm").props('data-testid="saga-step-time"')
                if step.get("error"):
                    ui.label(step["error"]).classes("text-sm text-negative")
                if step.get("result") is not None:
                    ui.label(f"result: {step['result']}").classes("text-xs font-mono text-gray-500 truncate")
                if step.get("compensated_at"):
                    local_time.MomentText(local_time.text("undone ", when(step["compensated_at"]))).classes("text-xs")
                if step.get("compensation_error"):
                    ui.label(f"undo failed: {step['compensation_error']}").classes("text-xs text-negative")

    def _confirm(details: ui.dialog, module: str, run: dict[str, Any], action: str) -> None:
        label, question = ACTIONS[action]
        with ui.dialog().props(f'aria-label="{label} run {run["id"]}"') as dialog, ui.card().props(
                'data-testid="saga-confirm"'):
            ui.label(f"{label} run {run['id']}? {question}")
            with ui.row():
                ui.button(label, on_click=lambda: _act(dialog, details, module, run, action)).props(
                    'color=negative data-testid="saga-confirm-yes"')
                ui.button("Cancel", on_click=dialog.close).props('flat data-testid="saga-confirm-no"')
        dialog.open()

    async def _act(dialog: ui.dialog, details: ui.dialog, module: str, run: dict[str, Any], action: str) -> None:
        path = f"{endpoints.MODULE_SAGAS.format(module=module)}/{run['id']}/{action}"
        body = {"attempt": run.get("attempt", 1)} if action == "retry" else None
        try:  # the attempt seen: a second click finds the run moved on and changes nothing
            after = await runtime.get().gateway.send(app.storage.user, "POST", path, body)
        except ApiError as exc:
            ui.notify(exc.message, type="negative", multi_line=True)
            return
        dialog.close()
        details.close()
        state = after.get("state") if isinstance(after, dict) else None
        ui.notify(f"{ACTIONS[action][0]}: the run is {words(str(state))}", type="positive")
        runs.refresh()

    await runs()
