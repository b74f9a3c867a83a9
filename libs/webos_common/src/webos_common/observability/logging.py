"""Loguru, configured once per process: text or JSON, every line carrying
service, trace id, request id and user id from the context.

Standard-library logging (uvicorn, pymongo, nats) is routed into loguru.
Extra sinks (the NATS log stream of the live log viewer) are added with
`add_sink`.
"""

from __future__ import annotations

import json
import logging as std_logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from loguru import logger

from webos_common import context

_configured: dict[str, Any] = {}

TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
    "<cyan>{extra[service]}</cyan> trace={extra[trace_id]} user={extra[user_id]} | {message}"
)


def json_record(*, time: float, level: str, service: str, message: str, trace_id: str = "-",
                request_id: str = "-", user_id: str = "-", **fields: Any) -> dict[str, Any]:
    """The one JSON log line of every process (services' logs and the gateway's access log):
    flat, time in UTC ISO 8601, the trace, request and user ids, then the line's own fields."""
    stamp = datetime.fromtimestamp(time, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"time": stamp, "level": level, "service": service, "trace_id": trace_id, "request_id": request_id,
            "user_id": user_id, "message": message, **fields}


def _json_sink(message: Any) -> None:
    record = message.record
    extra = record["extra"]
    fields = {k: v for k, v in extra.items() if k not in ("service", "trace_id", "request_id", "user_id")}
    fields["logger"] = record["name"]
    if record["exception"] is not None:
        fields["exception"] = "".join(traceback.format_exception(*record["exception"]))[-8000:]
    line = json_record(time=record["time"].timestamp(), level=record["level"].name,
                       service=extra.get("service", "webos"), message=record["message"],
                       trace_id=extra.get("trace_id", "-"), request_id=extra.get("request_id", "-"),
                       user_id=extra.get("user_id", "-"), **fields)
    sys.stderr.write(json.dumps(line, default=str, separators=(",", ":")) + "\n")


def _patch(record: Any) -> None:
    extra = record["extra"]
    extra.setdefault("service", _configured.get("service", "webos"))
    user = context.current_user.get()
    extra["trace_id"] = context.trace_id.get() or "-"
    extra["request_id"] = context.request_id.get() or "-"
    extra["user_id"] = user.id if user else "-"


class _InterceptHandler(std_logging.Handler):
    def emit(self, record: std_logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(service: str, *, level: str = "INFO", fmt: str = "text") -> None:
    """Set up loguru for this process; calling it again reconfigures."""
    _configured["service"] = service
    logger.remove()
    logger.configure(patcher=_patch, extra={"service": service})
    if fmt == "json":
        logger.add(_json_sink, level=level, enqueue=False, diagnose=False, backtrace=False)
    else:
        logger.add(sys.stderr, level=level, format=TEXT_FORMAT, colorize=False, diagnose=False, backtrace=False)
    std_logging.basicConfig(handlers=[_InterceptHandler()], level=0, force=True)
    for noisy in ("pymongo", "nats", "asyncio", "httpx", "httpcore", "botocore", "aiobotocore"):
        std_logging.getLogger(noisy).setLevel(std_logging.WARNING)
    std_logging.getLogger("uvicorn.access").disabled = True


def add_sink(sink: Any, **options: Any) -> int:
    """Add another sink (a callable taking the formatted message). `diagnose` is off unless asked:
    it renders every local variable of every frame of a traceback (passwords, tokens, personal data)."""
    options.setdefault("diagnose", False)
    options.setdefault("backtrace", False)
    return logger.add(sink, **options)


def not_access(record: Any) -> bool:
    """A sink filter that leaves out the per-request access lines (the metrics already count them)."""
    return "access" not in record["extra"]
