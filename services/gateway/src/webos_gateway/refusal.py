"""`Refused`: the gateway answers the client itself, in the error shape."""

from __future__ import annotations

from typing import Any

import orjson


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or []

    def body(self) -> bytes:
        return orjson.dumps({"error": {"code": self.code, "message": self.message, "details": self.details}})
