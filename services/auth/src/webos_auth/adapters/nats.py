"""Auth's answers on core NATS (request/reply, internal to the platform)."""

from __future__ import annotations

import contextlib
import json
from typing import Any


async def answer_contacts(c: Any, msg: Any) -> None:
    """`webos.auth.users.contacts` `{"ids": [...]}` → `{"users": {id: {email, username, active}}}`: how the
    platform's services (the events service's mail digests) reach a person. NATS is internal."""
    try:
        ids = [str(i) for i in json.loads(msg.data or b"{}").get("ids", [])][:1000]
        found = {u["_id"]: {"email": u["email"], "username": u["username"], "active": u.get("active", True)}
                 async for u in c.users.collection.find({"_id": {"$in": ids}})}
        answer: dict[str, Any] = {"users": found}
    except (ValueError, AttributeError, TypeError) as exc:
        answer = {"error": {"code": "bad_request", "message": str(exc)}}
    with contextlib.suppress(Exception):
        await msg.respond(json.dumps(answer).encode())
