"""`/api/inventory/public/...` — open to everyone, no sign-in."""

from __future__ import annotations

from fastapi import APIRouter

from webos_inventory import __version__

router = APIRouter()


@router.get("/info")
async def info() -> dict[str, str]:
    return {"module": "inventory", "version": __version__}
