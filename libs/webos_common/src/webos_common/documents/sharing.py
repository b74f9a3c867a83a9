"""Sharing and assignment of owned records, and role record rules (after Frappe's Share and
Assign To and Odoo's record rules).

A person sees an `OwnedDocument` when they own it, it is assigned to them, it is shared with
them or with one of their roles, or a record rule of one of their roles covers it; they may
change it when they own it, it is assigned to them, it is shared with write access, or a
write rule covers it. The repository puts this filter on every query, so whatever is not
covered is simply not found (404). Sharing and assigning need write access; people and roles
are checked against auth's directory (`Directory`), an unknown one is a 404."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator

from webos_common.http.errors import Unavailable
from webos_common.identity import User

Access = Literal["read", "write"]
ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,200}$"  # what auth issues as ids: nothing to escape in a URL
PersonId = Field(pattern=ID_PATTERN)
# fields that name a person or a role: the shell's AutoForm offers the user or role picker
UserRef = Annotated[str, StringConstraints(pattern=ID_PATTERN),
                    WithJsonSchema({"type": "string", "format": "user-id", "title": "Person",
                                    "pattern": ID_PATTERN})]
RoleRef = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,39}$"),
                    WithJsonSchema({"type": "string", "format": "role-name", "title": "Role"})]


class Share(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["user", "role"] = "user"
    id: str = PersonId
    access: Access = "read"


class SharesIn(BaseModel):
    """The record's complete list of shares (what is left out is revoked at once)."""

    model_config = ConfigDict(extra="forbid")

    shares: list[Share] = Field(max_length=100)


class AssigneesIn(BaseModel):
    """The record's complete list of assignees (people ids)."""

    model_config = ConfigDict(extra="forbid")

    assignees: list[UserRef] = Field(max_length=50)

    @field_validator("assignees")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class RecordRule(BaseModel):
    """Holders of `role` may `access` every record whose fields equal `where` (no operators:
    plain values only, so a rule can widen what a role sees but never run a query).
    E.g. `{"role": "manager", "access": "read", "where": {"tags": "team-a"}}`."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")
    access: Access = "read"
    where: dict[str, str | int | bool] = Field(default_factory=dict, max_length=10)

    @field_validator("where")
    @classmethod
    def _plain_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in value if k.startswith("$") or k in {"shares", "assignees"} or not k]
        if bad:
            raise ValueError(f"a rule matches plain fields, not {bad}")
        return value


REACH_FIELD = "reach"  # on every owned row: who reaches it for reading (`row_reach`), one multikey index


def row_reach(owner_id: Any, assignees: Any, shares: Any) -> list[str]:
    """The people (`u:<id>`) and roles (`r:<name>`) that may read a row: its owner, its assignees,
    and whoever it is shared with at any access. The repository keeps it on the row, so a person's
    list is one indexed query (`reach` in `user_reach`), not one per way of reaching rows."""
    keys = [f"u:{owner_id}"] if owner_id else []
    keys += [f"u:{person}" for person in assignees or ()]
    keys += [f"{'r' if share.get('kind') == 'role' else 'u'}:{share.get('id')}" for share in shares or ()]
    return list(dict.fromkeys(keys))


def user_reach(user: User) -> list[str]:
    """The `reach` keys of the rows `user` may read (as owner, assignee, or by a share)."""
    return [f"u:{user.id}", *(f"r:{role}" for role in user.roles)]


# a record's events (`BaseService.emit`): their payload is the record's read shape (`bulk_updated`: its ids)
RECORD_ACTIONS = ("created", "updated", "deleted", "restored", "access_changed", "bulk_updated")


def may_see(user: User, source: str, snapshot: dict[str, Any]) -> bool:
    """Whether `user` may read the record `snapshot` (its read shape in one of its events) is of,
    decided from the event alone (a record's history, live "module changed" signals): the rule
    above for an owned record (owner, assignee, shared with them or one of their roles; record
    rules live in the module and are not known here), else `<source>.read`."""
    if user.is_admin:
        return True
    if "owner_id" not in snapshot:
        return user.has_permission(f"{source}.read")
    shares = snapshot.get("shares") or []
    return (snapshot.get("owner_id") == user.id or user.id in (snapshot.get("assignees") or [])
            or any(s.get("id") == user.id or (s.get("kind") == "role" and s.get("id") in user.roles)
                   for s in shares if isinstance(s, dict)))


def rule_clauses(user: User, *, write: bool, rules: Sequence[RecordRule] = ()) -> list[dict[str, Any]]:
    """The record rules of `user`'s roles, as filters (for reading, or `write=True` changing)."""
    return [dict(rule.where) for rule in rules if rule.role in user.roles and (rule.access == "write" or not write)]


def access_clauses(user: User, *, write: bool, rules: Sequence[RecordRule] = ()) -> list[dict[str, Any]]:
    """The `$or` clauses of what `user` may read (or, `write=True`, change)."""
    share: dict[str, Any] = {"kind": "user", "id": user.id}
    by_role: dict[str, Any] = {"kind": "role", "id": {"$in": list(user.roles)}}
    if write:
        share["access"] = by_role["access"] = "write"
    # one clause for every share (one query on the partial `shares.id` index, which the
    # `shares.id` beside the `$elemMatch` lets the planner use)
    ids = [user.id, *user.roles]
    clauses: list[dict[str, Any]] = [{"owner_id": user.id}, {"assignees": user.id}, {
        "shares.id": ids[0] if len(ids) == 1 else {"$in": ids},
        "shares": {"$elemMatch": {"$or": [share, by_role]} if user.roles else share}}]
    return clauses + rule_clauses(user, write=write, rules=rules)


class Directory(Protocol):
    """Who and which roles exist (auth's directory)."""

    async def exists(self, kind: Literal["user", "role"], id: str) -> bool: ...


class TokenSource(Protocol):
    async def token(self, audience: str, scope: str | list[str] | None = None) -> str: ...


class AuthDirectory:
    """Auth's `/directory`, asked with this process's service token."""

    def __init__(self, auth_url: str, credentials: TokenSource, *, timeout: float = 5.0) -> None:
        self.base = auth_url.rstrip("/") + "/directory"
        self.credentials, self.timeout = credentials, timeout

    async def exists(self, kind: Literal["user", "role"], id: str) -> bool:
        path = "people" if kind == "user" else "roles"
        try:
            token = await self.credentials.token("auth")
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                answer = await http.get(f"{self.base}/{path}/{quote(id, safe='')}",
                                        headers={"Authorization": f"Bearer {token}"})
        except Exception as exc:  # auth away: a fast 503, never a guess
            raise Unavailable(f"auth's directory did not answer: {exc!r}") from exc
        if answer.status_code == 404:
            return False
        if answer.status_code != 200:
            raise Unavailable(f"auth's directory answered {answer.status_code}")
        return True


class RecordRules:
    """The record rules in force, read at each query from the module's settings (a
    `record_rules: list[RecordRule]` field), so an admin edits them where the module's other
    settings live and they apply at once on every replica."""

    def __init__(self, settings: Any | None = None) -> None:
        self.settings = settings  # a `ModuleSettings` (its `.get()` is the current value), or None

    def __call__(self) -> list[RecordRule]:
        if self.settings is None:
            return []
        value = getattr(self.settings.get(), "record_rules", None) or []
        return [r if isinstance(r, RecordRule) else RecordRule.model_validate(r) for r in value]
