"""Secrets at rest: AES-256-GCM under a master key, with key ids — the one mechanism every
service uses (secret settings in the settings service, TOTP secrets in auth).

A stored secret is one string, `enc:v1:<kid>:<base64url(nonce ‖ ciphertext)>`,
the JSON of the clear value encrypted with a fresh 96-bit nonce. `kid` names
the key (the first 8 hex digits of its SHA-256), so after a rotation the
keyring can still read values written under an old key until
they have been re-encrypted under the current one. `context` is bound to each ciphertext as
associated data, so a value sealed for one purpose does not open as another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from webos_common.http.errors import Unavailable

PREFIX = "enc:v1:"
_SALT = b"webos-settings"  # the HKDF salt (kept: it fixes the key and key id of every passphrase)


class SecretKeyMissing(Unavailable):
    """A value was encrypted under a key this keyring does not hold (or does not authenticate)."""


def derive_key(master: str) -> bytes:
    """32 key bytes: the value itself if it is base64 of 32 bytes, else HKDF-SHA256 of it."""
    try:
        raw = base64.urlsafe_b64decode(master + "=" * (-len(master) % 4))
        if len(raw) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=b"master-key").derive(master.encode())


def key_list(setting: Any) -> list[str]:
    """Earlier keys from one comma-separated secret setting (a `SecretStr`, a str, or None)."""
    raw = setting.get_secret_value() if hasattr(setting, "get_secret_value") else (setting or "")
    return [k.strip() for k in str(raw).split(",") if k.strip()]


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def is_ciphertext(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


class Keyring:
    """The current key (encrypts) and older keys (still decrypt)."""

    def __init__(self, current: str, old: Iterable[str] = (), *, context: bytes = b"webos-settings",
                 old_keys_setting: str = "WEBOS_SETTINGS_OLD_MASTER_KEYS") -> None:
        self.context, self.old_keys_setting = context, old_keys_setting
        key = derive_key(current)
        self.current_kid = key_id(key)
        self._keys = {key_id(k): AESGCM(k) for k in (derive_key(o) for o in old if o)}
        self._keys[self.current_kid] = AESGCM(key)

    def encrypt(self, value: Any) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.current_kid].encrypt(nonce, json.dumps(value).encode(), self.context)
        return f"{PREFIX}{self.current_kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> Any:
        kid, _, body = token[len(PREFIX):].partition(":")
        aes = self._keys.get(kid)
        if aes is None:
            raise SecretKeyMissing(f"no key {kid!r} in the keyring (set {self.old_keys_setting})")
        raw = base64.urlsafe_b64decode(body)
        try:
            return json.loads(aes.decrypt(raw[:12], raw[12:], self.context))
        except InvalidTag as exc:
            raise SecretKeyMissing(f"secret under key {kid!r} does not authenticate") from exc

    def needs_rotation(self, token: str) -> bool:
        return not token.startswith(f"{PREFIX}{self.current_kid}:")

    def reencrypt_all(self, stored: Any) -> tuple[Any, int]:
        """`stored` with every ciphertext not under the current key re-encrypted; and how many."""
        if is_ciphertext(stored):
            return (self.encrypt(self.decrypt(stored)), 1) if self.needs_rotation(stored) else (stored, 0)
        if isinstance(stored, dict):
            out, count = {}, 0
            for k, v in stored.items():
                out[k], n = self.reencrypt_all(v)
                count += n
            return out, count
        if isinstance(stored, list):
            items = [self.reencrypt_all(v) for v in stored]
            return [v for v, _ in items], sum(n for _, n in items)
        return stored, 0
