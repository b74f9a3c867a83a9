"""Stored ↔ clear values: secret leaves are ciphertext at rest, `********` on the wire."""

from __future__ import annotations

from typing import Any

from webos_common.http.errors import ValidationFailed
from webos_common.security.keyring import Keyring, is_ciphertext
from webos_settings.domain.schema import MASK, map_secrets


def decrypt_all(keyring: Keyring, stored: Any) -> Any:
    if is_ciphertext(stored):
        return keyring.decrypt(stored)
    if isinstance(stored, dict):
        return {k: decrypt_all(keyring, v) for k, v in stored.items()}
    if isinstance(stored, list):
        return [decrypt_all(keyring, v) for v in stored]
    return stored


def mask_ciphertext(stored: Any) -> Any:
    """Stored values as shown in history and exports: every ciphertext masked."""
    if is_ciphertext(stored):
        return MASK
    if isinstance(stored, dict):
        return {k: mask_ciphertext(v) for k, v in stored.items()}
    if isinstance(stored, list):
        return [mask_ciphertext(v) for v in stored]
    return stored


def encrypt_secrets(keyring: Keyring, schema: dict[str, Any], clear: dict[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = map_secrets(schema, clear, lambda value, _path: keyring.encrypt(value))
    return stored


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def restore_masked(schema: dict[str, Any], new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A secret sent back as `********` keeps its current value (read, edit, save works);
    a mask where no value exists is a 422 naming the field."""
    missing: list[str] = []

    def keep(value: Any, path: tuple[str, ...]) -> Any:
        if value != MASK:
            return value
        current = _at(old, path)
        if current is None:
            missing.append(".".join(path))
        return current

    restored: dict[str, Any] = map_secrets(schema, new, keep)
    if missing:
        raise ValidationFailed(f"Invalid settings: {', '.join(missing)}", details=[
            {"field": f, "message": "a masked secret has no stored value to keep; send the value", "type": "masked"}
            for f in missing])
    return restored
