"""Settings as code: export to YAML, apply YAML (dry-run diff first).

    webos_settings: 1
    schemas:  {tasks: {schema: {...}, user_schema: null}}   # registered module schemas
    system:   {smtp: {host: mail.example.com, password: "********"}}
    modules:  {tasks: {page_size: 50}}
    users:    {alice: {tasks: {default_view: kanban}}}

Only explicitly set values are exported (defaults come from the schemas).
Secrets are `********` unless the caller asks to reveal them and holds
`settings.secrets.read`; applying a `********` keeps the target's current
secret (and is a 422 naming the field where there is none). Applying
replaces the explicit values of every scope the file names, leaves the
others alone, and is all-or-nothing: every scope is validated first and
all writes share one transaction.
"""

from __future__ import annotations

from typing import Any

import yaml

from webos_common.http.errors import Forbidden, NotFound, ValidationFailed
from webos_common.identity import User
from webos_settings.domain.schema import check_schema
from webos_settings.domain.scope import ADMIN, Scope, can_reveal
from webos_settings.domain.values import decrypt_all, mask_ciphertext
from webos_settings.service import Pending, SettingsService

FORMAT = 1
SECTIONS = ("webos_settings", "schemas", "system", "modules", "users")


def _require_admin(user: User) -> None:
    if not user.has_permission(ADMIN):
        raise Forbidden(f"Settings as code needs {ADMIN!r}")


async def export(service: SettingsService, *, user: User, module: str | None = None, reveal: bool = False,
                 users: bool = True) -> dict[str, Any]:
    _require_admin(user)
    clear = reveal and can_reveal(user)
    doc: dict[str, Any] = {"webos_settings": FORMAT, "schemas": {}, "system": {}, "modules": {}, "users": {}}
    for schema_doc in await service.store.list_schemas():
        if module is None or schema_doc["_id"] == module:
            doc["schemas"][schema_doc["_id"]] = {"schema": schema_doc["schema"],
                                                 "user_schema": schema_doc.get("user_schema")}
    async for scope, stored, _ in service.store.scopes(name=module, users=users):
        if module is not None and scope.layer == "system":
            continue
        values = decrypt_all(service.keyring, stored) if clear else mask_ciphertext(stored)
        if scope.layer == "user":
            doc["users"].setdefault(scope.user_id, {})[scope.name] = values
        else:
            doc["system" if scope.layer == "system" else "modules"][scope.name] = values
    return {k: v for k, v in doc.items() if v or k == "webos_settings"}


def to_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, default_flow_style=False)


def parse_yaml(text: str | bytes) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"Not valid YAML: {exc}", details=[{"field": "body", "message": str(exc)}]) from exc
    if not isinstance(doc, dict):
        raise ValidationFailed("The settings file must be a mapping",
                               details=[{"field": "body", "message": "expected a mapping"}])
    return doc


def _scopes(doc: dict[str, Any]) -> list[tuple[str, Scope, Any]]:
    """(field, scope, values) for every scope the file names; 422 on a malformed file."""
    bad = [k for k in doc if k not in SECTIONS]
    if bad or doc.get("webos_settings", FORMAT) != FORMAT:
        fields = bad or ["webos_settings"]
        raise ValidationFailed(f"Invalid settings file: {', '.join(fields)}",
                               details=[{"field": f, "message": f"unknown section or version (expected {SECTIONS})"}
                                        for f in fields])
    found: list[tuple[str, Scope, Any]] = []
    for section, layer in (("system", "system"), ("modules", "module")):
        for name, values in _mapping(doc, section).items():
            found.append((f"{section}.{name}", Scope(layer, str(name)), values))  # type: ignore[arg-type]
    for user_id, modules in _mapping(doc, "users").items():
        for name, values in _mapping({"x": modules}, "x", f"users.{user_id}").items():
            found.append((f"users.{user_id}.{name}", Scope("user", str(name), str(user_id)), values))
    for field, _, values in found:
        if not isinstance(values, dict):
            raise ValidationFailed(f"Invalid settings file: {field}",
                                   details=[{"field": field, "message": "expected a mapping"}])
    return found


def _mapping(doc: dict[str, Any], key: str, field: str | None = None) -> dict[str, Any]:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise ValidationFailed(f"Invalid settings file: {field or key}",
                               details=[{"field": field or key, "message": "expected a mapping"}])
    return value


async def apply(service: SettingsService, doc: dict[str, Any], *, user: User, dry_run: bool = True) -> dict[str, Any]:
    _require_admin(user)
    scopes = _scopes(doc)
    overrides = {str(m): _schema_entry(m, s) for m, s in _mapping(doc, "schemas").items()}

    async def work(session: Any) -> tuple[list[str], list[Any]]:
        changed_schemas = []
        for module, entry in overrides.items():
            current = await service.store.get_schema(module, session)
            wanted = (entry["schema"], entry["user_schema"])
            if not current or (current["schema"], current.get("user_schema")) != wanted:
                changed_schemas.append(module)
        pendings, problems = [], []
        for field, scope, values in scopes:
            try:
                pendings.append(await service.prepare(scope, values, session=session, overrides=overrides))
            except ValidationFailed as exc:
                problems += [{**d, "field": f"{field}.{d['field']}"} for d in exc.details or []]
            except NotFound as exc:
                problems.append({"field": field, "message": exc.message, "type": "not_found"})
        if problems:
            names = ", ".join(dict.fromkeys(p["field"] for p in problems))
            raise ValidationFailed(f"Invalid settings file: {names}", details=problems)
        if not dry_run:
            for module in changed_schemas:
                entry = overrides[module]
                await service.save_schema(module, entry["schema"], entry["user_schema"], source="apply",
                                          session=session)
            for pending in pendings:
                if pending.changes:
                    await service.commit(pending, by=user.id, action="apply", session=session)
        return changed_schemas, pendings

    changed_schemas, pendings = await service.store.atomically(work)
    if not dry_run:
        for module in changed_schemas:
            await service.announce_schema(module)
        await service.announce(pendings)
    return {"dry_run": dry_run, "applied": not dry_run, "schemas": changed_schemas,
            "changes": [_change(p, c) for p in pendings for c in p.changes]}


def _schema_entry(module: Any, entry: Any) -> dict[str, Any]:
    field = f"schemas.{module}"
    if not isinstance(entry, dict) or not isinstance(entry.get("schema"), dict):
        raise ValidationFailed(f"Invalid settings file: {field}",
                               details=[{"field": field, "message": "expected {schema, user_schema}"}])
    Scope("module", str(module))
    check_schema(entry["schema"], field=f"{field}.schema")
    if entry.get("user_schema") is not None:
        check_schema(entry["user_schema"], field=f"{field}.user_schema")
    return {"schema": entry["schema"], "user_schema": entry.get("user_schema")}


def _change(pending: Pending, change: dict[str, Any]) -> dict[str, Any]:
    scope = pending.scope
    return {"layer": scope.layer, "name": scope.name, "user_id": scope.user_id, **change}
