"""Links between documents by string name, without imports (seed 002 §5).

    class Comment(OwnedDocument):
        task: Link["tasks.Task"]          # stored as the target's id

    await comment.task.fetch()            # resolved through `documents`

The name is `<module>.<Class>` (or the bare class name when unique). A
module host registers only its own documents, so a link into another
module resolves only where that module's documents are registered; across
services, follow the id through the other module's API instead.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, GetCoreSchemaHandler, PlainSerializer
from pydantic_core import core_schema

from webos_common.documents.base import CoreDocument, module_of
from webos_common.http.errors import NotFound


class DocumentRegistry:
    """Document classes by `<module>.<Class>` and by bare class name."""

    def __init__(self) -> None:
        self._by_name: dict[str, type[CoreDocument]] = {}
        self._ambiguous: set[str] = set()

    def register(self, document: type[CoreDocument]) -> None:
        module = module_of(document)
        if module:
            self._by_name[f"{module}.{document.__name__}"] = document
        bare = document.__name__
        if bare in self._by_name and self._by_name[bare] is not document:
            self._ambiguous.add(bare)
        self._by_name.setdefault(bare, document)

    def resolve(self, name: str) -> type[CoreDocument]:
        if name in self._ambiguous:
            raise LookupError(f"document name {name!r} is ambiguous: use <module>.{name}")
        try:
            return self._by_name[name]
        except KeyError:
            raise LookupError(f"no document registered as {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._by_name)


documents = DocumentRegistry()


class LinkValue:
    """The id of a document named by a string; `fetch()` loads it (scoped)."""

    __slots__ = ("id", "target")

    def __init__(self, id: str, target: str) -> None:
        self.id, self.target = id, target

    async def fetch(self, registry: DocumentRegistry | None = None) -> Any:
        from webos_common.documents.beanie_repository import BeanieRepository

        document = (registry or documents).resolve(self.target)
        try:
            return await BeanieRepository(document).get(self.id)
        except NotFound:
            return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LinkValue):
            return (self.id, self.target) == (other.id, other.target)
        return self.id == other

    def __hash__(self) -> int:
        return hash((self.id, self.target))

    def __repr__(self) -> str:
        return f"Link[{self.target!r}]({self.id})"


class _LinkTarget:
    def __init__(self, target: str) -> None:
        self.target = target

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        target = self.target

        def to_link(value: Any) -> LinkValue:
            if isinstance(value, LinkValue):
                return value
            if isinstance(value, BaseModel) and getattr(value, "id", None) is not None:
                return LinkValue(str(getattr(value, "id")), target)  # noqa: B009
            if isinstance(value, dict) and "id" in value:
                return LinkValue(str(value["id"]), target)
            return LinkValue(str(value), target)

        return core_schema.no_info_before_validator_function(
            to_link, core_schema.any_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v.id),
            metadata={"pydantic_js_functions": [lambda _s, _h: {"type": "string", "x-link": target}]},
        )


class Link:
    """`Link["tasks.Task"]`: a field holding the id of a document named by a string."""

    def __class_getitem__(cls, target: str) -> Any:
        return Annotated[LinkValue, _LinkTarget(target), PlainSerializer(lambda v: v.id, return_type=str)]
