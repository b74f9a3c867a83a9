"""The typed, cached client of the settings service.

    settings = SettingsClient.from_config(config, nats=resources.nats, token=service_token)
    await settings.start()                       # follow settings:changed
    tasks = await settings.module("tasks", TasksSettings)     # a TasksSettings
    smtp = await settings.system("smtp", SmtpSettings)
    prefs = await settings.user("shell", ShellPrefs)          # the caller's (`/me`)

Not to be confused with `webos_common.config` (a process's own environment
configuration). Answers are kept in memory (a read is a dict lookup) until
`settings:changed` names them: the client subscribes with core NATS to the
topic's subject `webos.events.settings.settings.changed` — the same subject the bus
uses, so it hears changes however the service emitted them, on every
replica (a broadcast, not a shared consumer). `ttl` bounds staleness should
an event be lost while NATS is away.

A module reads its own settings with `ModuleSettings` instead: over HTTP
from the settings service with its service token (audience `settings`,
principal = the module), which is the only token besides an operator's
that reveals the module's secrets; kept current by the same
`settings:changed` events (they carry no values, only what changed). The
module host starts one for a module whose `webos_register_settings` names a
model. Without a credential (tests, old deployments) it falls back to NATS
request/reply, where the secrets travel in clear to whoever may listen.

Secrets come back in clear only when the token holds `settings.secrets.read`
(or for the user's own user-layer secrets); otherwise the typed object
holds `********`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import BaseModel, ValidationError

from webos_common.config import WebOSSettings
from webos_common.http.errors import Forbidden, NotFound, Unauthorized, Unavailable, ValidationFailed, WebOSError
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.security.service_auth import ServiceCredentials

CHANGED_SUBJECT = "webos.events.settings.settings.changed"  # settings:changed, published by settings
MODULE_SUBJECT = "webos.settings.module"  # request `<MODULE_SUBJECT>.<module>` → {"values", "version", "explicit"}
SYSTEM_SUBJECT = "webos.settings.system"  # likewise for a system section (platform services only)
USER_SUBJECT = "webos.settings.user"  # request body {"module", "user_id"}: one person's values


async def user_values(nc: NATS, module: str, user_id: str, *, wait: float = 2.0) -> dict[str, Any]:
    """A person's effective settings of `module` (theirs over the module's over the schema's
    defaults), read over NATS by a platform service. Raises `Unavailable` without an answer."""
    try:
        msg = await nc.request(USER_SUBJECT, json.dumps({"module": module, "user_id": user_id}).encode(),
                               timeout=wait)
        answer = json.loads(msg.data)
    except Exception as exc:
        raise Unavailable(f"settings did not answer for {user_id}/{module}: {exc!r}") from exc
    if "error" in answer:
        raise Unavailable(str(answer["error"].get("message")))
    values: dict[str, Any] = answer.get("values") or {}
    return values
M = TypeVar("M", bound=BaseModel)
Token = str | Callable[[], str | Awaitable[str]] | None
_Key = tuple[str, str, str | None]  # layer, name, user id ("" for the caller's own)
_ERRORS: dict[int, type[WebOSError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound, 422: ValidationFailed}


@dataclass
class ClientStats:
    hits: int = 0
    misses: int = 0
    invalidations: int = 0


class SettingsClient:
    def __init__(self, base_url: str, *, token: Token = None, nats: NATS | None = None, ttl: float = 300.0,
                 reveal: bool = True, http: httpx.AsyncClient | None = None, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.nats = nats
        self.ttl = ttl
        self.reveal = reveal
        self._token = token
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._own_http = http is None
        self._values: dict[_Key, tuple[float, dict[str, Any]]] = {}
        self._typed: dict[tuple[_Key, type[BaseModel]], BaseModel] = {}
        self._generation = 0
        self._sub: Subscription | None = None
        self.stats = ClientStats()

    @classmethod
    def from_config(cls, config: WebOSSettings, **options: Any) -> SettingsClient:
        """Straight to the settings service (`WEBOS_SETTINGS_URL`)."""
        return cls(config.settings_url, **options)

    # -- typed reads ------------------------------------------------------------
    async def module(self, name: str, model: type[M]) -> M:
        """A module's settings: schema defaults under the module layer."""
        return await self._typed_read(("module", name, None), model)

    async def system(self, section: str, model: type[M]) -> M:
        return await self._typed_read(("system", section, None), model)

    async def user(self, module: str, model: type[M], *, user_id: str | None = None) -> M:
        """A user's settings for a module (the token's own user by default), module values beneath."""
        return await self._typed_read(("user", module, user_id or ""), model)

    async def values(self, layer: str, name: str, user_id: str | None = None) -> dict[str, Any]:
        """The effective values as a plain dict (cached like the typed reads)."""
        key: _Key = (layer, name, user_id if layer != "user" else user_id or "")
        cached = self._values.get(key)
        if cached is not None and cached[0] > time.monotonic():
            self.stats.hits += 1
            return cached[1]
        self.stats.misses += 1
        generation = self._generation
        values = await self._fetch(key)
        if generation == self._generation:  # no change arrived while fetching
            self._values[key] = (time.monotonic() + self.ttl, values)
        return values

    async def _typed_read(self, key: _Key, model: type[M]) -> M:
        cached = self._values.get(key)
        typed = self._typed.get((key, model))
        if cached is not None and typed is not None and cached[0] > time.monotonic():
            self.stats.hits += 1
            return typed  # type: ignore[return-value]
        generation = self._generation
        values = await self.values(*key)
        try:
            result = model.model_validate(values)
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc, message=f"{key[0]} settings {key[1]!r} do not fit "
                                                              f"{model.__name__}") from exc
        if generation == self._generation:
            self._typed[(key, model)] = result
        return result

    async def register(self, module: str, model: type[BaseModel], user_model: type[BaseModel] | None = None) -> bool:
        """Register a module's settings schema (what `webos_register_settings` returns) by API;
        True when it changed. Needs `settings.admin` or `<module>.settings.write`."""
        body = {"schema": model.model_json_schema(),
                "user_schema": user_model.model_json_schema() if user_model else None}
        answer = await self._request("PUT", f"/schemas/{module}", json=body)
        return bool(answer["changed"])

    async def read(self, layer: str, name: str, user_id: str | None = None) -> dict[str, Any]:
        """The service's whole answer for one scope (`values`, `explicit`, `version`,
        `secrets_revealed`), not cached."""
        path = {"system": f"/system/{name}", "module": f"/modules/{name}"}.get(layer) or (
            f"/users/{user_id}/{name}" if user_id else f"/me/{name}")
        return await self._request("GET", path, params={"reveal": "true" if self.reveal else "false"})

    async def _fetch(self, key: _Key) -> dict[str, Any]:
        values: dict[str, Any] = (await self.read(*key))["values"]
        return values

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {}
        token = await self._resolve_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self._http.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"settings service not reachable: {exc}") from exc
        if response.status_code != 200:
            error = response.json().get("error", {}) if "json" in response.headers.get("content-type", "") else {}
            cls = _ERRORS.get(response.status_code, Unavailable)
            raise cls(error.get("message") or f"settings service answered {response.status_code}",
                      details=error.get("details"))
        answer: dict[str, Any] = response.json()
        return answer

    async def _resolve_token(self) -> str | None:
        token = self._token
        if token is None or isinstance(token, str):
            return token
        value = token()
        return await value if inspect.isawaitable(value) else value

    # -- invalidation -----------------------------------------------------------
    def invalidate(self, layer: str | None = None, module: str | None = None, user: str | None = None) -> int:
        """Drop what a change of (layer, module, user) may affect; nothing named drops all."""
        self._generation += 1
        self.stats.invalidations += 1

        def hit(key: _Key) -> bool:
            k_layer, k_name, k_user = key
            if layer is None or module is None:
                return True
            if k_name != module:
                return False
            if layer == "system":
                return k_layer == "system"
            if layer == "module":  # user values sit on top of the module's
                return k_layer in ("module", "user")
            return k_layer == "user" and (user is None or k_user in (user, ""))

        gone = [k for k in self._values if hit(k)]
        for k in gone:
            del self._values[k]
        for typed_key in [t for t in self._typed if hit(t[0])]:
            del self._typed[typed_key]
        return len(gone)

    async def _on_changed(self, msg: Msg) -> None:
        try:
            body = json.loads(msg.data)
            payload = body.get("payload") or body.get("data") or body
            self.invalidate(payload.get("layer"), payload.get("module"), payload.get("user"))
        except (ValueError, AttributeError):
            logger.warning("settings client: unreadable settings:changed; dropping every cached value")
            self.invalidate()

    # -- lifecycle --------------------------------------------------------------
    async def start(self) -> None:
        if self.nats is not None and self._sub is None:
            self._sub = await self.nats.subscribe(CHANGED_SUBJECT, cb=self._on_changed)
            await self.nats.flush()

    async def close(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> SettingsClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()



class LiveSettings(Generic[M]):
    """One settings scope (a module's, or a system section) as a typed, always-available value.

        settings = ModuleSettings(nc, "tasks", TaskSettings)
        await settings.start()
        settings.get().remind_due_tomorrow          # a TaskSettings

    Read over HTTP from the settings service with the process's service token
    when it has `credentials` (secrets revealed only to a caller entitled to
    them: a module's own process, a kernel service named for a system
    section); without one (tests, tools) over NATS request/reply
    (`webos.settings.<layer>.<name>`), which a credentialed deployment
    closes to every caller. Until it answers
    (it may start later, or the schema may not be registered yet) `get()` is
    the model's defaults and `explicit` is empty, and a retry runs every
    `retry` seconds. A `settings:changed` for this scope (its values or its
    schema) reloads it; a value that no longer fits the model keeps the
    previous one and logs why. Each of `listeners` is awaited after every
    load (the first and each reload), to act on the new value."""

    layer = "module"

    def __init__(self, nc: NATS, name: str, model: type[M], *, credentials: ServiceCredentials | None = None,
                 settings_url: str = "http://127.0.0.1:8703", http: httpx.AsyncClient | None = None,
                 timeout: float = 2.0, retry: float = 5.0) -> None:
        self.nc, self.name, self.model = nc, name, model
        self.timeout, self.retry = timeout, retry
        self.http: SettingsClient | None = None
        if credentials is not None:
            async def token() -> str:
                return await credentials.token("settings")

            self.http = SettingsClient(settings_url, token=token, http=http, timeout=timeout)
        self.version: int | None = None
        self.explicit: dict[str, Any] = {}  # what an admin saved (the rest are defaults)
        self.loaded = False
        self._value: M = model()
        self.listeners: list[Callable[[M], Awaitable[None]]] = []
        self._sub: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def subject(self) -> str:
        return f"webos.settings.{self.layer}.{self.name}"

    def get(self) -> M:
        return self._value

    async def _ask(self) -> dict[str, Any]:
        """The settings service's answer: `{"values", "explicit", "version"}` or `{"error"}`."""
        if self.http is not None:
            return await self.http.read(self.layer, self.name)
        msg = await self.nc.request(self.subject, b"", timeout=self.timeout)
        answer: dict[str, Any] = json.loads(msg.data)
        return answer

    async def refresh(self) -> bool:
        """Ask the settings service now; True when a value was loaded."""
        try:
            answer = await self._ask()
        except WebOSError as exc:  # not registered yet (404), refused (401/403), unreachable
            logger.info("{} settings {}: not loaded ({})", self.layer, self.name, exc.message)
            return False
        except Exception as exc:  # noqa: BLE001 - no responder, timeout, garbage: keep what we have
            logger.debug("{} settings {}: not loaded yet ({!r})", self.layer, self.name, exc)
            return False
        if "error" in answer:
            logger.info("{} settings {}: {}", self.layer, self.name, answer["error"].get("message"))
            return False
        try:
            self._value = self.model.model_validate(answer.get("values") or {})
        except ValidationError as exc:
            logger.warning("{} settings {}: stored values do not fit {}: {}", self.layer, self.name,
                           self.model.__name__, exc)
            return False
        self.version, self.loaded = answer.get("version"), True
        self.explicit = dict(answer.get("explicit") or {})
        for listener in self.listeners:
            try:
                await listener(self._value)
            except Exception:  # noqa: BLE001 - one listener's failure is its own
                logger.exception("{} settings {}: a listener failed", self.layer, self.name)
        return True

    async def start(self) -> None:
        if self._sub is None:
            self._sub = await self.nc.subscribe(CHANGED_SUBJECT, cb=self._on_changed)
        if not await self.refresh():
            self._spawn(self._retry())

    async def _retry(self) -> None:
        while not self.loaded:
            await asyncio.sleep(self.retry)
            await self.refresh()

    async def _on_changed(self, msg: Msg) -> None:
        try:
            body = json.loads(msg.data)
            payload = body.get("payload") or body
            ours = payload.get("module") == self.name and payload.get("layer") == self.layer
        except (ValueError, AttributeError):
            ours = True
        if ours:
            self._spawn(self._reload())

    async def _reload(self) -> None:
        await self.refresh()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        await cancel_and_wait(list(self._tasks), what="live settings")
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        if self.http is not None:
            await self.http.close()


class ModuleSettings(LiveSettings[M]):
    """A module's own settings (the module host keeps one for its module), read over HTTP
    with the module's service token when the process has `credentials`: only the module's
    own token reveals its secrets."""

    layer = "module"

    @property
    def module(self) -> str:
        return self.name


class SystemSettings(LiveSettings[M]):
    """A system section (`smtp`, `storage`, …) for a platform service; with `credentials`, the
    settings service answers only the kernel services named for the section
    (`webos_settings.domain.scope.SYSTEM_READERS`)."""

    layer = "system"
