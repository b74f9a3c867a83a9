"""`/api/orders/public/...` — open to everyone, no sign-in."""

from __future__ import annotations

from fastapi import APIRouter

from webos_orders import __version__

router = APIRouter()


@router.get("/info")
async def info() -> dict[str, str]:
    return {"module": "orders", "version": __version__}
