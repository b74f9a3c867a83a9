"""Principals: the processes of a deployment, each with one credential.

Every kernel service, every module host (one per module name), the task
worker and the operator's own tools is a *principal*: a name, a kind and an
Ed25519 key pair in NATS's nkey encoding. The seed (private half) lives in
one file readable only by that process (`<dir>/<name>.nk`, mode 0600); the
public half is written to the principal registry (`principals.json`), which
is not secret. From the registry come both

* the NATS server's `authorization` block: each public key with the subject
  permissions its kind and its declarations allow (`nats_permissions.py`);
* auth's service accounts: a principal proves who it is by signing a client
  assertion with its seed, and receives a short-lived service token
  (`service_auth.py`).

So a process has one credential, rotating it is one command, and removing a
principal from the registry shuts it out of NATS and of auth together.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import nkeys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, Field

Kind = Literal["service", "module", "worker", "operator"]
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
REGISTRY_FILE = "principals.json"
SEED_SUFFIX = ".nk"


class CredentialError(RuntimeError):
    """A credential is missing, unreadable, malformed or unknown; the message names the file."""


class Principal(BaseModel):
    """One process kind's identity and what it declared (the input of its permissions)."""

    name: str = Field(pattern=NAME_PATTERN)
    kind: Kind
    public_key: str = Field(pattern=r"^U[A-Z2-7]{55}$")
    permissions: list[str] = Field(default_factory=list)  # carried by its service tokens (HTTP)
    emits: list[str] = Field(default_factory=list)  # event topics it may publish
    consumes: list[str] = Field(default_factory=list)  # event topic patterns its handlers subscribe to
    consumers: list[str] = Field(default_factory=list)  # its durable consumer names on the events stream
    data_sources: list[str] = Field(default_factory=list)  # ids of the data sources it serves to storage
    issued_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class PrincipalRegistry(BaseModel):
    """`principals.json`: every principal by name. Public data only."""

    version: int = 1
    principals: dict[str, Principal] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> PrincipalRegistry:
        try:
            return cls.model_validate_json(Path(path).read_bytes())
        except FileNotFoundError:
            return cls()
        except ValueError as exc:
            raise CredentialError(f"principal registry {path} is not valid: {exc}") from exc

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        tmp.write_text(json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True))
        tmp.replace(path)

    def by_public_key(self, public_key: str) -> Principal | None:
        return next((p for p in self.principals.values() if p.public_key == public_key), None)


# -- keys -----------------------------------------------------------------------
def new_seed() -> str:
    """A fresh nkey user seed (`SU…`)."""
    return str(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER).decode())


def public_key_of(seed: str) -> str:
    try:
        return bytes(nkeys.from_seed(bytearray(seed.strip().encode())).public_key).decode()
    except (nkeys.NkeysError, binascii.Error, ValueError) as exc:
        raise CredentialError("not an nkey seed") from exc


def sign(seed: str, data: bytes) -> bytes:
    """An Ed25519 signature of `data` by the seed's key."""
    return bytes(nkeys.from_seed(bytearray(seed.strip().encode())).sign(data))


def verify(public_key: str, data: bytes, signature: bytes) -> bool:
    """True when `signature` is the public key's signature of `data`."""
    try:
        raw = _decode_public_key(public_key)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _decode_public_key(public_key: str) -> bytes:
    try:
        decoded = base64.b32decode(public_key + "=" * (-len(public_key) % 8))
    except binascii.Error as exc:
        raise ValueError("not base32") from exc
    if len(decoded) != 35 or decoded[0] != nkeys.PREFIX_BYTE_USER:
        raise ValueError("not an nkey user public key")
    body, crc = decoded[:-2], decoded[-2:]
    if nkeys.crc16(bytearray(body)).to_bytes(2, "little") != crc:
        raise ValueError("bad checksum")
    return bytes(body[1:])


# -- seed files -------------------------------------------------------------------
def seed_path(directory: Path, name: str) -> Path:
    return Path(directory) / f"{name}{SEED_SUFFIX}"


def write_seed(path: Path, seed: str) -> None:
    """Write a seed readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(seed + "\n")
    tmp.replace(path)


def read_seed(path: Path | str) -> str:
    """The seed in a credential file; `CredentialError` naming the file otherwise."""
    path = Path(path)
    try:
        seed = path.read_text().strip()
    except OSError as exc:
        raise CredentialError(f"NATS credential {path} cannot be read: {exc.strerror or exc}") from exc
    try:
        public_key_of(seed)
    except CredentialError as exc:
        raise CredentialError(f"NATS credential {path} does not hold an nkey seed") from exc
    return seed
