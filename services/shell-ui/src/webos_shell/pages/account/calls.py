"""What every section of My account shares: the paths it calls, and a call as the person whose
error messages go under the inputs they name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import runtime
from webos_shell.pages.auth import field_errors, set_errors

ME = "/api/auth/me"
ME_PASSWORD = "/api/auth/me/password"  # noqa: S105 - a path, not a secret
ME_API_KEYS = "/api/auth/me/api-keys"
ME_API_KEY = "/api/auth/me/api-keys/{key_id}"
SETTINGS_SCHEMAS = "/api/settings/schemas"
MY_SETTINGS = "/api/settings/me/{module}"


def place_errors(errors: dict[str, str], fields: Iterable[str]) -> tuple[dict[str, str], str]:
    """Server errors under the inputs they name (`profile.display_name` →
    `display_name`, `permissions.0` → `permissions`); the others as one line."""
    names = set(fields)
    placed: dict[str, str] = {}
    rest: list[str] = []
    for path, message in errors.items():
        name = next((part for part in path.split(".") if part in names), None)
        if name is None:
            rest.append(f"{path}: {message}" if path else message)
        else:
            placed.setdefault(name, message)
    return placed, "; ".join(rest)


def say(label: ui.label, text: str, ok: bool) -> None:
    label.text = text
    label.classes(replace="text-sm " + ("text-positive" if ok else "text-negative"))


FAILED = object()


async def send(inputs: dict[str, Any], result: ui.label, method: str, path: str, body: Any) -> Any:
    """A call as the person; on an error the messages go under the inputs they name (the rest
    into `result`) and `FAILED` comes back."""
    try:
        return await runtime.get().gateway.send(app.storage.user, method, path, body)
    except ApiError as exc:
        placed, rest = place_errors(field_errors(exc), inputs)
        set_errors(inputs, placed)
        say(result, rest or ("" if placed else exc.message), False)
    except OSError as exc:
        say(result, f"Unavailable: {exc}", False)
    return FAILED


async def fetch(path: str) -> tuple[Any, str | None]:
    try:
        return await runtime.get().gateway.get(app.storage.user, path), None
    except (ApiError, OSError) as exc:
        return None, str(exc)
