"""`BaseService`: CRUD over a repository with permission checks
(`<module>.read` / `<module>.write`), domain events `<entity>:created`,
`:updated`, `:deleted`, `:restored` through the publisher (the outbox in a
module host: each write and its event commit in one transaction), capped pagination, bulk update, trash and restore.

    class TaskService(BaseService[Task, TaskCreate, TaskUpdate, TaskRead]):
        module, entity = "tasks", "task"
        document, read_schema = Task, TaskRead
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from webos_common.documents.base import CoreDocument
from webos_common.documents.beanie_repository import BeanieRepository
from webos_common.documents.ports import EventPublisher, Filter, NullPublisher, Page, Repository, Sort
from webos_common.errors import Forbidden
from webos_common.security.permissions import check_permission

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
                 events: EventPublisher | None = None) -> None:
        self.repo: Repository[D] = repository or BeanieRepository(self.document)
        self.events: EventPublisher = events or NullPublisher()

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
    async def create(self, data_in: C) -> R:
        self.can_write()
        doc = self.document(**data_in.model_dump())
        async with self.events.transaction() as session:
            doc = await self.repo.insert(doc, session=session)
            await self.emit("created", doc, session=session)
        return self.read(doc)

    async def get(self, id: Any) -> R:
        self.can_read()
        return self.read(await self.repo.get(id))

    async def list(self, filters: Filter | None = None, *, skip: int = 0, limit: int | None = None,
                   sort: Sort | None = None) -> Page[R]:
        self.can_read()
        page = await self.repo.page(filters, skip=skip, limit=limit, sort=sort)
        return self._page(page)

    async def trash(self, *, skip: int = 0, limit: int | None = None) -> Page[R]:
        self.can_read()
        page = await self.repo.page(None, skip=skip, limit=limit, sort=[("deleted_at", -1)], deleted=True)
        return self._page(page)

    async def update(self, id: Any, data_in: U | Mapping[str, Any]) -> R:
        self.can_write()
        changes = data_in.model_dump(exclude_unset=True) if isinstance(data_in, BaseModel) else dict(data_in)
        async with self.events.transaction() as session:
            doc = await self.repo.update(id, changes, session=session)
            await self.emit("updated", doc, session=session, changed=sorted(changes))
        return self.read(doc)

    async def bulk_update(self, ids: Sequence[Any], data_in: U | Mapping[str, Any]) -> int:
        self.can_write()
        changes = data_in.model_dump(exclude_unset=True) if isinstance(data_in, BaseModel) else dict(data_in)
        async with self.events.transaction() as session:
            modified = await self.repo.update_many(ids, changes, session=session)
            await self.events.emit(f"{self.entity}:bulk_updated", {
                "ids": [str(i) for i in ids], "changed": sorted(changes), "modified": modified}, session=session)
        return modified

    async def delete(self, id: Any) -> R:
        self.can_write()
        async with self.events.transaction() as session:
            doc = await self.repo.delete(id, session=session)
            await self.emit("deleted", doc, session=session)
        return self.read(doc)

    async def restore(self, id: Any) -> R:
        self.can_write()
        async with self.events.transaction() as session:
            doc = await self.repo.restore(id, session=session)
            await self.emit("restored", doc, session=session)
        return self.read(doc)

    async def purge(self, id: Any) -> None:
        user = check_permission(f"{self.module}.write")
        if not user.is_admin:
            raise Forbidden("Only an admin may purge", details={"permission": "admin"})
        async with self.events.transaction() as session:
            await self.repo.purge(id, session=session)
            await self.events.emit(f"{self.entity}:purged", {"id": str(id)}, session=session)

    def _page(self, page: Page[D]) -> Page[R]:
        items = [self.read(doc) for doc in page.items]
        return Page[Any].of(items, total=page.total, skip=page.skip, limit=page.limit)
