"""The saga runs of a module that declares sagas (`webos_register_sagas`), for its admins:
mounted by the host under `/api/<module>/admin/sagas` behind `<module>.admin`, as the module's
admin router is. The shell's admin panel ("Sagas") reads every module's through the gateway.

    GET  /api/<module>/admin/sagas?state=&saga=&limit=&cursor=&skip=&meta=total   newest first
    GET  /api/<module>/admin/sagas/{id}                  one run with its steps (state, timing, error, result)
    POST /api/<module>/admin/sagas/{id}/retry            a compensated run, again ({"attempt": the one seen})
    POST /api/<module>/admin/sagas/{id}/compensate       a failed run's compensations, once more

Both actions answer the run as it is after them; a second click changes nothing and answers
the run as it is; a state that does not allow the action is a 409 naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from bson import ObjectId
from fastapi import APIRouter, Body, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from webos_common import context
from webos_common.documents import ListView
from webos_common.http.errors import Conflict, NotFound
from webos_common.processes.saga import (
    COMPENSATED,
    FAILED,
    STATES,
    STEP_RUNNING,
    Saga,
    SagaRun,
    SagaStateError,
    SagaStore,
)

NOT_RUN = "not_run"  # a declared step this attempt never reached


class RetryIn(BaseModel):
    attempt: int | None = Field(default=None, ge=1, description="the attempt the person saw (a second click "
                                                                "after the run moved on changes nothing)")


def _plain(value: Any) -> Any:
    return jsonable_encoder(value, custom_encoder={ObjectId: str})


def _duration(entry: dict[str, Any]) -> int | None:
    start, end = entry.get("started_at"), entry.get("finished_at")
    return None if start is None or end is None else int((end - start).total_seconds() * 1000)


def steps_of(run: SagaRun, saga: Saga | None) -> list[dict[str, Any]]:
    """Every step of the run's latest attempt in order: the declared ones (those it never reached as
    `not_run`), with state, start, end, duration, error, result and the compensation's outcome."""
    names = [s.name for s in saga.steps] if saga is not None else []
    names += [e["name"] for e in run.steps if e.get("name") not in names]
    compensable = {s.name for s in saga.steps if s.compensate is not None} if saga is not None else set()
    out = []
    for name in names:
        entry = run.step_entry(name)
        if entry is None:  # a run stored before steps were recorded, or a step not reached
            state = "failed" if name == run.failed_step else "done" if name in run.done else NOT_RUN
            entry = {"name": name, "state": state, "started_at": None, "finished_at": None, "error": None}
        out.append({"name": name, "state": entry.get("state"), "started_at": entry.get("started_at"),
                    "finished_at": entry.get("finished_at"), "duration_ms": _duration(entry),
                    "error": entry.get("error"), "result": run.results.get(name),
                    "compensable": name in compensable, "compensated_at": entry.get("compensated_at"),
                    "compensation_error": entry.get("compensation_error") or run.compensation_errors.get(name)})
    return out


def allowed_actions(run: SagaRun, saga: Saga | None) -> list[str]:
    if saga is None:
        return []
    return [action for action, ok in (("retry", saga.retryable and run.state == COMPENSATED),
                                      ("compensate", run.state == FAILED)) if ok]


def view(run: SagaRun, saga: Saga | None, *, full: bool = True) -> dict[str, Any]:
    user = (run.context or {}).get("user") or {}
    out: dict[str, Any] = {
        "id": run.id, "saga": run.saga, "state": run.state, "attempt": run.attempt,
        "started_at": run.started_at, "updated_at": run.updated_at,
        "started_by": user.get("username") or user.get("id"), "trace_id": (run.context or {}).get("trace_id"),
        "failed_step": run.failed_step, "error": run.error, "compensation_errors": run.compensation_errors,
        "running_step": next((e["name"] for e in run.steps if e.get("state") == STEP_RUNNING), None),
        "steps": steps_of(run, saga), "actions_allowed": allowed_actions(run, saga),
        "retryable": bool(saga and saga.retryable),
    }
    if full:
        out |= {"data": run.data, "attempts": run.attempts, "actions": run.actions}
    return out


def router_for(module: str, sagas: list[Saga], stored: Callable[[], SagaStore]) -> APIRouter:
    """`stored()`: the module's saga store (made when the host starts)."""
    by_name = {saga.name: saga for saga in sagas}
    router = APIRouter(prefix=f"/api/{module}/admin/sagas", tags=[f"{module} admin"])

    async def run_of(run_id: str) -> SagaRun:
        run = await stored().get(run_id)
        if run is None:
            raise NotFound(f"no saga run {run_id}")
        return run

    def saga_for(run: SagaRun, action: str) -> Saga:
        saga = by_name.get(run.saga)
        if saga is None:
            raise Conflict(f"cannot {action} saga run {run.id}: it is {run.state}, and saga {run.saga} is not "
                           f"declared by module {module}", details={"state": run.state, "action": action})
        return saga

    def refused(exc: SagaStateError) -> Conflict:
        return Conflict(str(exc), details={"state": exc.state, "action": exc.action})

    @router.get("", name=f"{module}_saga_runs")
    async def list_runs(view_: ListView,
                        state: Annotated[str | None, Query(pattern="^(" + "|".join(STATES) + ")$")] = None,
                        saga: Annotated[str | None, Query(max_length=200)] = None) -> JSONResponse:
        """Saga runs newest first, of one state or saga when asked; the platform's page shape."""
        options = view_.options
        page = await stored().page(state=state, saga=saga, skip=options["skip"], limit=options["limit"],
                                cursor=options["cursor"],
                                total=options["total"] or options["estimate"] or bool(options["count_cap"]))
        page["items"] = [view(run, by_name.get(run.saga), full=False) for run in page["items"]]
        return JSONResponse(_plain(page))

    @router.get("/{run_id}", name=f"{module}_saga_run")
    async def get_run(run_id: str) -> JSONResponse:
        """One run: its steps with their state, timing, error and result; the attempts before a retry;
        who retried or compensated it; what may be done now (`actions_allowed`)."""
        run = await run_of(run_id)
        return JSONResponse(_plain(view(run, by_name.get(run.saga))))

    @router.post("/{run_id}/retry", name=f"{module}_saga_retry")
    async def retry(run_id: str, body: Annotated[RetryIn | None, Body()] = None) -> JSONResponse:
        """Run a compensated run again from its first step (sagas declared `retryable`)."""
        saga = saga_for(await run_of(run_id), "retry")
        try:
            run = await saga.retry(run_id, by=_who(), attempt=body.attempt if body else None)
        except SagaStateError as exc:
            raise refused(exc) from exc
        return JSONResponse(_plain(view(run, saga)))

    @router.post("/{run_id}/compensate", name=f"{module}_saga_compensate")
    async def compensate(run_id: str) -> JSONResponse:
        """Undo once more what a failed run could not."""
        saga = saga_for(await run_of(run_id), "compensate")
        try:
            run = await saga.compensate(run_id, by=_who())
        except SagaStateError as exc:
            raise refused(exc) from exc
        return JSONResponse(_plain(view(run, saga)))

    return router


def _who() -> str | None:
    user = context.current_user.get()
    return user.id if user else None
