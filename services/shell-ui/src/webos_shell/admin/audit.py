"""The audit trail of roles and permissions: who changed what, when (auth's `/audit`)."""

from __future__ import annotations

import json

from nicegui import ui

from webos_common.identity import User
from webos_shell.admin.calls import load

AUDIT = "/api/auth/audit"


async def render(user: User) -> None:
    rows = [{"at": e["at"][:19].replace("T", " "), "who": e["actor"]["username"], "action": e["action"],
             "target": e["target"], "what": json.dumps(e.get("details") or {}, default=str)}
            for e in await load(AUDIT, limit=200)]
    ui.aggrid({"columnDefs": [{"field": "at", "headerName": "When"}, {"field": "who"}, {"field": "action"},
                              {"field": "target"}, {"field": "what", "flex": 1}],
               "rowData": rows}, theme="quartz").classes("w-full h-[32rem]").props('data-testid="audit-grid"')
