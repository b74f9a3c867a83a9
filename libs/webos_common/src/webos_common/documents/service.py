"""`BaseService`: CRUD over a repository with permission checks
(`<module>.read` / `<module>.write`), domain events `<entity>:created`,
`:updated`, `:deleted`, `:restored` through the publisher (the outbox in a
module host: each write and its event commit in one transaction), capped pagination, bulk update, trash and restore.

    class TaskService(BaseService[Task, TaskCreate, TaskUpdate, TaskRead]):
        module, entity = "tasks", "task"
        document, read_schema = Task, TaskRead
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel

from webos_common import context
from webos_common.documents.base import CoreDocument
from webos_common.documents.beanie_repository import BeanieRepository
from webos_common.documents.idempotency import Claim, IdempotencyStore
from webos_common.documents.ports import EventPublisher, Filter, NullPublisher, Page, Repository, Sort
from webos_common.documents.sharing import AssigneesIn, Directory, RecordRule, SharesIn
from webos_common.http.errors import Forbidden, NotFound, Unavailable, ValidationFailed
from webos_common.security.permissions import check_permission

NOTIFY_TOPIC = "notification:send"
Target = tuple[Literal["user", "role"], str]
D = TypeVar("D", bound=CoreDocument)
C = TypeVar("C", bound=BaseModel)
U = TypeVar("U", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


class BaseService(Generic[D, C, U, R]):
    module: ClassVar[str]
    entity: ClassVar[str]
    document: ClassVar[type[Any]]
    read_schema: ClassVar[type[Any]]

    def __init__(self, repository: Repository[D] | None = None, *,
                 events: EventPublisher | None = None, directory: Directory | None = None,
                 rules: Callable[[], Sequence[RecordRule]] | None = None,
                 idempotency: IdempotencyStore | None = None) -> None:
        self.repo: Repository[D] = repository or BeanieRepository(self.document, rules=rules)
        self.events: EventPublisher = events or NullPublisher()
        self.directory = directory
        self._idempotency = idempotency

    @property
    def idempotency(self) -> IdempotencyStore | None:
        """Where `Idempotency-Key`s are kept: `<module>_idempotency` beside the documents."""
        if self._idempotency is None and isinstance(self.repo, BeanieRepository):
            self._idempotency = IdempotencyStore(self.repo.collection.database[f"{self.module}_idempotency"])
        return self._idempotency

    # -- permissions and events --------------------------------------------
    def can_read(self) -> None:
        check_permission(f"{self.module}.read")

    def can_write(self) -> None:
        check_permission(f"{self.module}.write")

    def read(self, doc: D) -> R:
        result: R = self.read_schema.model_validate(doc, from_attributes=True)
        return result

    async def emit(self, action: str, doc: D | None = None, *, session: Any = None, **extra: Any) -> None:
        """Emit `<entity>:<action>` with the read shape of `doc` (in `session`'s transaction)."""
        payload: dict[str, Any] = {}
        if doc is not None:
            payload = self.read(doc).model_dump(mode="json")
        payload.update(extra)
        await self.events.emit(f"{self.entity}:{action}", payload, session=session)

    # -- use cases ----------------------------------------------------------
    async def create(self, data_in: C, *, idempotency_key: str | None = None) -> R:
        """A new row and its `created` event; with `idempotency_key`, once per key (see `idempotency`)."""
        self.can_write()
        claim = None
        if idempotency_key is not None and self.idempotency is not None:
            user = context.current_user.get()
            found = await self.idempotency.claim(f"{user.id if user else '-'}:{self.entity}:{idempotency_key}",
                                                 data_in.model_dump_json())
            if not isinstance(found, Claim):
                replay: R = self.read_schema.model_validate(found)
                return replay
            claim = found

        async def work(session: Any) -> R:
            doc = await self.repo.insert(built.model_copy(), session=session)  # a fresh copy per attempt
            await self.emit("created", doc, session=session)
            read = self.read(doc)
            if claim is not None:
                assert self.idempotency is not None
                await self.idempotency.complete(claim, read.model_dump(mode="json"), session=session)
            return read

        try:
            built = await self.new_document(data_in)
            return await self.events.atomically(work, what=f"The {self.entity}")
        except BaseException:
            if claim is not None:
                assert self.idempotency is not None
                await self.idempotency.release(claim)
            raise

    async def new_document(self, data_in: C) -> D:
        """The row `create` inserts, checked before the transaction (after a repeated
        `Idempotency-Key` is answered): a service that checks or derives fields overrides it."""
        doc: D = self.document(**data_in.model_dump())
        return doc

    async def get(self, id: Any) -> R:
        self.can_read()
        return self.read(await self.repo.get(id))

    async def list(self, filters: Filter | None = None, *, skip: int = 0, limit: int | None = None,
                   sort: Sort | None = None, total: bool = False, fields: Sequence[str] | None = None,
                   cursor: str | None = None, estimate: bool = False, count_cap: int | None = None) -> Page[R]:
        """A page of the rows one may read; `cursor` (a page's `next_cursor`) for the rows after it."""
        self.can_read()
        page = await self.repo.page(filters, skip=skip, limit=limit, sort=sort, total=total,
                                    fields=self.projection(fields), cursor=cursor, estimate=estimate,
                                    count_cap=count_cap)
        return self._page(page)

    def projection(self, fields: Sequence[str] | None) -> Sequence[str] | None:
        """The read fields asked for, and the id (422 naming an unknown one); the rows come back unvalidated."""
        if not fields:
            return None
        known = self.read_schema.model_fields
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise ValidationFailed(f"Invalid input: fields (unknown {', '.join(unknown)})", details=[
                {"field": "fields", "location": "query", "type": "enum",
                 "message": f"unknown field(s) {unknown}; one of {sorted(known)}"}])
        return sorted({*fields, "id"})

    async def trash(self, *, skip: int = 0, limit: int | None = None) -> Page[R]:
        self.can_read()
        page = await self.repo.page(None, skip=skip, limit=limit, sort=[("deleted_at", -1)], deleted=True)
        return self._page(page)

    async def update(self, id: Any, data_in: U | Mapping[str, Any], *, version: int | None = None) -> R:
        """Apply the change (only when the row is at `version`, if given: 412 otherwise)."""
        self.can_write()
        changes = data_in.model_dump(exclude_unset=True) if isinstance(data_in, BaseModel) else dict(data_in)

        async def work(session: Any) -> D:
            doc = await self.repo.update(id, changes, version=version, session=session)
            await self.emit("updated", doc, session=session, changed=sorted(changes))
            return doc

        return self.read(await self.events.atomically(work, what=f"The {self.entity}"))

    async def bulk_update(self, ids: Sequence[Any], data_in: U | Mapping[str, Any], *,
                          versions: Mapping[str, int] | None = None) -> int:
        """The same change on many rows; with `versions` (id -> version) on all of them or none (412)."""
        self.can_write()
        changes = data_in.model_dump(exclude_unset=True) if isinstance(data_in, BaseModel) else dict(data_in)

        async def work(session: Any) -> int:
            modified = await self.repo.update_many(ids, changes, versions=versions, session=session)
            await self.events.emit(f"{self.entity}:bulk_updated", {
                "ids": [str(i) for i in ids], "changed": sorted(changes), "modified": modified}, session=session)
            return modified

        return await self.events.atomically(work, what=f"A {self.entity}")

    async def delete(self, id: Any, *, version: int | None = None) -> R:
        self.can_write()
        return self.read(await self._change("deleted", self.repo.delete, id, version))

    async def restore(self, id: Any, *, version: int | None = None) -> R:
        self.can_write()
        return self.read(await self._change("restored", self.repo.restore, id, version))

    async def _change(self, action: str, write: Any, id: Any, version: int | None) -> D:
        async def work(session: Any) -> D:
            doc: D = await write(id, version=version, session=session)
            await self.emit(action, doc, session=session)
            return doc

        return await self.events.atomically(work, what=f"The {self.entity}")

    async def purge(self, id: Any) -> None:
        user = check_permission(f"{self.module}.write")
        if not user.is_admin:
            raise Forbidden("Only an admin may purge", details={"permission": "admin"})

        async def work(session: Any) -> None:
            await self.repo.purge(id, session=session)
            await self.events.emit(f"{self.entity}:purged", {"id": str(id)}, session=session)

        await self.events.atomically(work, what=f"The {self.entity}")

    # -- sharing and assignment (owned documents) ------------------------------
    async def share(self, id: Any, shares_in: SharesIn, *, version: int | None = None) -> R:
        """Replace the record's shares (only at `version`, when given: 412 otherwise); new people it
        is shared with are notified."""
        user = check_permission(f"{self.module}.write")
        await self._check_known([(s.kind, s.id) for s in shares_in.shares], "shares")
        shares = [s.model_dump() for s in shares_in.shares]
        before, doc = await self._set_access(id, version, shares=shares)
        old = {s.get("id") for s in getattr(before, "shares", []) if s.get("kind") == "user"}
        new = [s["id"] for s in shares if s["kind"] == "user" and s["id"] not in old and s["id"] != user.id]
        await self._notify(doc, new, "shared", f"{user.username or 'Someone'} shared a {self.entity} with you")
        return self.read(doc)

    async def assign(self, id: Any, assignees_in: AssigneesIn, *, version: int | None = None) -> R:
        """Replace the record's assignees (only at `version`, when given: 412 otherwise); each new
        one is notified."""
        user = check_permission(f"{self.module}.write")
        await self._check_known([("user", a) for a in assignees_in.assignees], "assignees")
        before, doc = await self._set_access(id, version, assignees=assignees_in.assignees)
        old = set(getattr(before, "assignees", []))
        new = [a for a in assignees_in.assignees if a not in old and a != user.id]
        await self._notify(doc, new, "assigned", f"{user.username or 'Someone'} assigned a {self.entity} to you")
        return self.read(doc)

    async def _check_known(self, targets: Sequence[Target], field: str) -> None:
        if not targets:
            return
        if self.directory is None:
            raise Unavailable("No directory to check people and roles against")
        for kind, target in dict.fromkeys(targets):
            if not await self.directory.exists(kind, target):
                raise NotFound(f"No {'person' if kind == 'user' else 'role'} {target}",
                               details={"field": field, "id": target})

    async def _set_access(self, id: Any, version: int | None, **changes: Any) -> tuple[D, D]:
        """(before, after), both read in the write's transaction, so two people changing the lists
        at once are not both told who is new; a record one may read but not write is a 403, an
        unseen one a 404."""

        async def work(session: Any) -> tuple[D, D]:
            before: D = await self.repo.get(id, session=session)
            try:
                doc: D = await self.repo.set_access(id, version=version, session=session, **changes)
            except NotFound:
                raise Forbidden(f"You cannot share or assign a {self.entity} you cannot change") from None
            await self.emit("access_changed", doc, session=session, changed=sorted(changes))
            return before, doc

        return await self.events.atomically(work, what=f"The {self.entity}")

    async def _notify(self, doc: D, people: Sequence[str], action: str, title: str) -> None:
        label = str(getattr(doc, "title", None) or getattr(doc, "name", None) or doc.id)
        for person in people:
            await self.events.emit(NOTIFY_TOPIC, {
                "user_id": person, "type": f"{self.entity}_{action}", "title": title, "message": label,
                "level": "info", "link": f"/m/{self.module}?id={doc.id}",
                "metadata": {"module": self.module, "id": str(doc.id)}})


    def _page(self, page: Page[Any]) -> Page[R]:
        page.items = [item if isinstance(item, dict) else self.read(item) for item in page.items]
        return page
