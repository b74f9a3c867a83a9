"""`/api/gallery/photos`: what the views show, for the signed-in person."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from webos_common.context import current_user

router = APIRouter()


@router.get("/photos")
async def photos() -> dict[str, Any]:
    user = current_user.get()
    names = sorted(p.name for p in Path(os.environ["WEBOS_GALLERY_ROOT"]).iterdir() if p.is_file())
    return {"user": user.username if user else None, "count": len(names), "names": names}
