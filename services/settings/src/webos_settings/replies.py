"""What the settings service answers on NATS (a driving adapter, as `api.py` is for HTTP):
the platform's own reads of a layer, and other replicas' schema changes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping

from loguru import logger
from nats.aio.msg import Msg

from webos_common.bus.wire import envelope_of
from webos_common.http.errors import NotFound, ValidationFailed, WebOSError
from webos_common.identity import User
from webos_settings.domain.scope import Scope
from webos_settings.service import SettingsService


def forget_changed(service: SettingsService, data: bytes, headers: Mapping[str, str] | None = None) -> None:
    try:
        payload = envelope_of(headers, data).payload
    except ValidationFailed:
        service.forget_schema()
        return
    if payload.get("schema_changed"):
        service.forget_schema(payload.get("module"))


# the platform's own processes reading over NATS: a module its module layer, a service a
# system section (both with secrets in clear)
_PLATFORM_READER = User(id="system", username="platform-settings",
                        permissions=("settings.admin", "settings.secrets.read"))


async def answer_read(service: SettingsService, msg: Msg) -> None:
    """`webos.settings.module.<module>` / `webos.settings.system.<section>` / `webos.settings.user`
    (body `{"module", "user_id"}`: the person's values over the module's) →
    `{"values", "explicit", "version"}` or `{"error"}` (a 404 before a module's schema
    is registered)."""
    _, _, layer, name = [*msg.subject.split("."), "", "", "", ""][:4]
    try:
        user_id = None
        if layer == "user":  # `webos.settings.user` {"module", "user_id"}: user ids may hold dots
            body = json.loads(msg.data or b"{}")
            name, user_id = str(body.get("module", "")), str(body.get("user_id", ""))
        elif layer not in ("module", "system"):
            raise NotFound(f"no settings layer {layer!r}")
        scope = Scope(layer, name, user_id)  # type: ignore[arg-type]
        read = await service.read(scope, user=_PLATFORM_READER, reveal=True)
        answer: dict[str, object] = {"values": read["values"], "explicit": read["explicit"],
                                     "version": read["version"]}
    except WebOSError as exc:
        answer = {"error": {"code": exc.code, "message": exc.message}}
    except ValueError as exc:  # an unreadable request body
        answer = {"error": {"code": "bad_request", "message": str(exc)}}
    except Exception as exc:  # noqa: BLE001 - the asker must hear something, not time out
        logger.exception("settings: platform read of {} {} failed", layer, name)
        answer = {"error": {"code": "internal", "message": type(exc).__name__}}
    with contextlib.suppress(Exception):
        await msg.respond(json.dumps(answer, default=str).encode())
