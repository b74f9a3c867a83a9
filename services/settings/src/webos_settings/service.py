"""Use cases of the settings service: read, write, history, rollback,
schemas. Export/apply live in `as_code.py`; permissions in `domain.scope`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from webos_common.documents.transactions import backoff
from webos_common.http.errors import Conflict, NotFound
from webos_common.identity import User
from webos_common.security.keyring import Keyring
from webos_settings.adapters.mongo import MongoSettingsStore, Session
from webos_settings.domain import schema as schemas
from webos_settings.domain.builtin import CORE_MODULES, SYSTEM_SECTIONS
from webos_settings.domain.scope import (
    Scope,
    can_reveal,
    check_read,
    check_reveal,
    check_write,
    entitled,
    may_reveal,
    owns,
)
from webos_settings.domain.values import decrypt_all, encrypt_secrets, mask_ciphertext, restore_masked
from webos_settings.ports import Publisher

WRITE_ATTEMPTS = 8
SCHEMA_TTL = 5.0
LOCK_STRIPES = 64


@dataclass
class Pending:
    """A validated change not yet written."""

    scope: Scope
    version: int
    stored: dict[str, Any]
    changes: list[dict[str, Any]]


class SettingsService:
    def __init__(self, *, store: MongoSettingsStore, keyring: Keyring, publisher: Publisher,
                 schema_ttl: float = SCHEMA_TTL) -> None:
        self.store, self.keyring, self.publisher = store, keyring, publisher
        self.schema_ttl = schema_ttl
        self._schemas: dict[str, tuple[float, dict[str, Any] | None]] = {}
        # Writers of one scope queue in this process; only other replicas' writes can conflict.
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    def _lock(self, scope: Scope) -> asyncio.Lock:
        return self._locks[hash(scope.id) % LOCK_STRIPES]

    # -- schemas ----------------------------------------------------------------
    async def schema_for(self, scope: Scope, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        return (await self.resolve(scope, overrides))[0]

    async def resolve(self, scope: Scope, overrides: dict[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
        """The scope's schema, and whether the module's values lie under it (a user scope
        of a module without a separate user schema)."""
        if scope.layer == "system":
            if scope.name not in SYSTEM_SECTIONS:
                raise NotFound(f"No system settings section {scope.name!r}; known: {', '.join(SYSTEM_SECTIONS)}")
            return SYSTEM_SECTIONS[scope.name], False
        doc = (overrides or {}).get(scope.name) or await self.module_schemas(scope.name)
        if doc is None:
            raise NotFound(f"No settings schema registered for module {scope.name!r}")
        if scope.layer == "user" and doc.get("user_schema"):
            return dict(doc["user_schema"]), False
        return dict(doc["schema"]), scope.layer == "user"

    async def module_schemas(self, module: str) -> dict[str, Any] | None:
        """A module's schemas, kept briefly in memory (dropped at once on a schema change here
        or, through `settings:changed`, on another replica)."""
        if module in CORE_MODULES:
            return {**CORE_MODULES[module], "source": "core"}
        cached = self._schemas.get(module)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        doc = await self.store.get_schema(module)
        self._schemas[module] = (time.monotonic() + self.schema_ttl, doc)
        return doc

    def forget_schema(self, module: str | None = None) -> None:
        if module is None:
            self._schemas.clear()
        else:
            self._schemas.pop(module, None)

    async def register_schema(self, module: str, schema: dict[str, Any], user_schema: dict[str, Any] | None,
                              *, user: User, source: str = "api") -> bool:
        check_write(Scope("module", module), user)
        return await self.save_schema(module, schema, user_schema, source=source)

    async def save_schema(self, module: str, schema: dict[str, Any], user_schema: dict[str, Any] | None,
                          *, source: str, session: Session = None) -> bool:
        """Store a module's schemas (announced at once unless inside the caller's transaction)."""
        Scope("module", module)  # validates the name
        if module in CORE_MODULES:
            raise NotFound(f"{module!r} is a core settings module; its schema is built in")
        schemas.check_schema(schema)
        if user_schema is not None:
            schemas.check_schema(user_schema, field="user_schema")
        changed = await self.store.put_schema(module, schema, user_schema, source=source, session=session)
        if changed and session is None:
            await self.announce_schema(module)
        return changed

    async def announce_schema(self, module: str) -> None:
        self.forget_schema(module)
        await self.publisher.changed({"layer": "module", "module": module, "key": None, "keys": [],
                                      "user": None, "schema_changed": True})

    async def base_for(self, scope: Scope, schema: dict[str, Any], inherits: bool,
                       session: Session = None, *, decrypt: bool = True) -> dict[str, Any]:
        """What lies under a scope: schema defaults, and for a user the module's values."""
        base = schemas.defaults(schema)
        if inherits:
            module_values, _ = await self.store.load(Scope("module", scope.name), session)
            shown = decrypt_all(self.keyring, module_values) if decrypt else mask_ciphertext(module_values)
            base = schemas.deep_merge(base, shown)
        return base

    # -- reads ------------------------------------------------------------------
    async def read(self, scope: Scope, *, user: User, reveal: bool = False) -> dict[str, Any]:
        check_read(scope, user)
        if reveal:
            check_reveal(scope, user)
        schema, inherits = await self.resolve(scope)
        stored, version = await self.store.load(scope)
        reveal_all = reveal and (can_reveal(user) or owns(scope, user) or entitled(scope, user))  # nothing beneath
        reveal_own = reveal and not reveal_all and may_reveal(scope, user)  # never the module's beneath
        # Masked reads decrypt nothing: cheaper, and they work even without the old key mid-rotation.
        explicit = decrypt_all(self.keyring, stored) if reveal_all or reveal_own else mask_ciphertext(stored)
        base = await self.base_for(scope, schema, inherits, decrypt=reveal_all)
        if reveal_all or reveal_own:
            values = schemas.deep_merge(base if reveal_all else schemas.mask(schema, base), explicit)
        else:
            values, explicit = schemas.mask(schema, schemas.deep_merge(base, explicit)), schemas.mask(schema, explicit)
        return {"layer": scope.layer, "name": scope.name, "user_id": scope.user_id, "version": version,
                "values": values, "explicit": explicit, "secrets_revealed": reveal_all or reveal_own}

    async def history(self, scope: Scope, *, user: User, skip: int = 0, limit: int = 50) -> dict[str, Any]:
        check_read(scope, user)
        await self.schema_for(scope)
        items, total = await self.store.history(scope, skip=skip, limit=limit)
        for item in items:
            item["values"] = mask_ciphertext(item["values"])
            item["at"] = item["at"].isoformat()
        return {"items": items, "total": total, "skip": skip, "limit": limit, "has_more": skip + len(items) < total}

    # -- writes -----------------------------------------------------------------
    async def write(self, scope: Scope, values: dict[str, Any], *, user: User, merge: bool = False,
                    expected_version: int | None = None) -> dict[str, Any]:
        check_write(scope, user)
        async def work(session: Session) -> Pending:
            pending = await self.prepare(scope, values, merge=merge, session=session, expected=expected_version)
            if pending.changes:
                await self.commit(pending, by=user.id, action="merge" if merge else "replace", session=session)
            return pending

        attempts = 1 if expected_version is not None else WRITE_ATTEMPTS
        for attempt in range(attempts):  # a first write of a scope racing another (duplicate key) is redone
            try:
                async with self._lock(scope):
                    pending = await self.store.atomically(work)  # transient conflicts are retried inside
                break
            except Conflict:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(backoff(attempt))
        await self.announce([pending])
        return await self.read(scope, user=user)

    async def rollback(self, scope: Scope, version: int, *, user: User) -> dict[str, Any]:
        check_write(scope, user)
        entry = await self.store.history_entry(scope, version)
        if entry is None:
            raise NotFound(f"{scope.label()} has no version {version}")
        async def work(session: Session) -> Pending:
            pending = await self.prepare(scope, decrypt_all(self.keyring, entry["values"]), session=session)
            if pending.changes:
                await self.commit(pending, by=user.id, action=f"rollback:{version}", session=session)
            return pending

        pending = await self.store.atomically(work)
        await self.announce([pending])
        return await self.read(scope, user=user)

    async def prepare(self, scope: Scope, values: dict[str, Any], *, merge: bool = False,
                      session: Session = None, expected: int | None = None,
                      overrides: dict[str, Any] | None = None) -> Pending:
        """Validate a new value set against the schema and diff it; writes nothing."""
        schema, inherits = await self.resolve(scope, overrides)
        stored, version = await self.store.load(scope, session)
        if expected is not None and expected != version:
            raise Conflict(f"{scope.label()} is at version {version}, not {expected}")
        old = decrypt_all(self.keyring, stored)
        new = schemas.merge_patch(old, values) if merge else values
        new = restore_masked(schema, new, old)
        base = await self.base_for(scope, schema, inherits, session)
        schemas.validate(schema, schemas.deep_merge(base, new))
        changes = schemas.diff(schema, old, new)
        return Pending(scope, version, encrypt_secrets(self.keyring, schema, new), changes)

    async def commit(self, pending: Pending, *, by: str, action: str, session: Session) -> None:
        version = await self.store.save(pending.scope, pending.stored, expected=pending.version, by=by,
                                        session=session)
        await self.store.add_history(pending.scope, version=version, values=pending.stored,
                                     changes=pending.changes, by=by, action=action, session=session)
        pending.version = version

    async def announce(self, pendings: list[Pending]) -> None:
        for p in pendings:
            if p.changes:
                keys = [c["key"] for c in p.changes]
                await self.publisher.changed({
                    "layer": p.scope.layer, "module": p.scope.name, "key": keys[0] if len(keys) == 1 else None,
                    "keys": keys, "user": p.scope.user_id, "version": p.version})

    async def rotate_keys(self) -> int:
        return await self.store.reencrypt(self.keyring)
