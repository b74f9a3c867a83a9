"""Admin dashboard: Plotly charts of active users, request and error
rates and event throughput, from the services' data through the gateway."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_shell import a11y, endpoints, runtime
from webos_shell.admin import rates, visible_pages

_last: dict[str, rates.Totals] = {}  # the previous gateway sample, for rates between two visits


# Charts follow the theme: no background of their own (the page's shows through), text and grid
# lines in a grey that reads on light and dark alike — they stayed white in dark mode.
_INK = "#8b93a1"
_GRID = "rgba(139, 147, 161, 0.25)"
_AXIS = {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID}


def _figure(kind: str, x: list[Any], y: list[Any], title: str) -> dict[str, Any]:
    return {"data": [{"type": kind, "x": x, "y": y}],
            "layout": {"title": {"text": title, "font": {"size": 14}}, "margin": {"l": 40, "r": 10, "t": 40, "b": 40},
                       "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                       "font": {"color": _INK}, "xaxis": _AXIS, "yaxis": _AXIS}}


async def _events(limit: int = 500) -> list[dict[str, Any]]:
    try:
        body = await runtime.get().gateway.get(app.storage.user, endpoints.EVENT_LOG, limit=limit)
    except (ApiError, OSError):
        return []
    return body.get("items", []) if isinstance(body, dict) else body or []


async def _traffic() -> tuple[rates.Totals | None, tuple[float, float] | None]:
    """The gateway's request counters now, and the rates since the previous sample."""
    try:
        response = await runtime.get().gateway.answer({}, "GET", "/metrics")
        response.raise_for_status()
    except (ApiError, httpx.HTTPError, OSError):  # a dashboard tile fails, never the page
        return None, None
    now = rates.parse(response.text)
    before, _last["gateway"] = _last.get("gateway"), now
    return now, rates.rates(before, now)


async def render(user: User) -> None:
    rt = runtime.get()
    events = await _events()
    traffic, per_second = await _traffic()
    topics = Counter(str(e.get("topic")) for e in events)
    minutes = Counter(str(e.get("timestamp", ""))[:16] for e in events)
    users = {e.get("user_id") for e in events if e.get("user_id")}
    modules = rt.registry.known() if rt.registry else []
    with ui.row().classes("w-full gap-4"):
        rate = f"{per_second[0]:.1f} req/s · {per_second[1]:.2f} 5xx/s" if per_second else "reload to measure"
        error_share = f"{100 * traffic.errors / traffic.total:.1f} %" if traffic and traffic.total else "-"
        for label, value in (("Active users (recent events)", len(users)), ("Modules", len(modules)),
                             ("Events (last 500)", len(events)), ("Requests (since last visit)", rate),
                             ("5xx share (since gateway start)", error_share)):
            with ui.card().classes("w-56"):
                ui.label(label).classes("text-sm text-gray-500")
                ui.label(str(value)).classes("text-3xl font-semibold")
    with ui.row().classes("w-full gap-4"):
        ui.plotly(_figure("bar", list(topics), list(topics.values()), "Events by topic")).classes("w-[32rem] h-72")
        ordered = sorted(minutes)
        ui.plotly(_figure("scatter", ordered, [minutes[m] for m in ordered], "Event throughput / minute")).classes(
            "w-[32rem] h-72")
        if traffic is not None:
            classes = sorted(traffic.by_class)
            ui.plotly(_figure("bar", classes, [traffic.by_class[c] for c in classes],
                              "Gateway requests by status")).classes("w-[32rem] h-72")
    pages = visible_pages(user, rt.registry.modules() if rt.registry else [])
    if pages:
        a11y.heading("Module admin pages")
        with ui.row().classes("w-full gap-2").props('data-testid="admin-module-pages"'):
            for module, page in pages:
                ui.button(f"{page.label} ({module})", icon="extension",
                          on_click=lambda p=page.path: ui.navigate.to(p)).props("outline no-caps")
