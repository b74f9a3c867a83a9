"""Folder ACLs enforced: what a person may do to a path, read from the index (`domain/acl.py`
holds the rules). Every route asks through `StorageService.target`, listings and searches
through `levels`, so nothing a person may not read is shown to them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from webos_common.files.afs import FileMissing, Urn, parent
from webos_common.http.errors import Forbidden
from webos_common.identity import User
from webos_storage.access import Access
from webos_storage.domain.acl import WHAT, Level, level
from webos_storage.domain.model import IndexEntry
from webos_storage.ports import FileIndex


def folders_up(path: str) -> list[str]:
    """`a/b/c` → `a/b/c`, `a/b`, `a` (the source's root carries no ACL)."""
    out = []
    while path:
        out.append(path)
        path = parent(path)
    return out


def _folders(known: Mapping[str, IndexEntry], urn: Urn) -> list[IndexEntry]:
    chain = [known.get(str(Urn(urn.source, p))) for p in folders_up(urn.path)]
    return [e for e in chain if e is not None and e.is_dir]


class Rights:
    def __init__(self, access: Access, index: FileIndex) -> None:
        self.access, self.index = access, index

    async def levels(self, user: User, urns: Sequence[Urn]) -> dict[Urn, Level]:
        """Each path's level for `user`, in one look-up of the index."""
        out: dict[Urn, Level] = {}
        ruled: list[Urn] = []
        for urn in urns:
            if self.access.in_homes(urn):  # a home is its owner's (Access.can_see)
                out[urn] = Level.MANAGE if self.access.can_see(user, urn) else Level.NONE
            elif user.is_admin:
                out[urn] = Level.MANAGE
            else:
                ruled.append(urn)
        if not ruled:
            return out
        wanted = {str(Urn(u.source, p)) for u in ruled for p in folders_up(u.path)}
        known = await self.index.get_many(sorted(wanted))
        for urn in ruled:
            out[urn] = level(user, item=known.get(str(urn)), folders=_folders(known, urn),
                             default=self.access.default_access(urn))
        return out

    async def path(self, urn: Urn) -> tuple[IndexEntry | None, list[IndexEntry]]:
        """`urn`'s own index entry, and the indexed folders from it upwards (nearest first)."""
        known = await self.index.get_many([str(Urn(urn.source, p)) for p in folders_up(urn.path)])
        return known.get(str(urn)), _folders(known, urn)

    async def level(self, user: User, urn: Urn) -> Level:
        return (await self.levels(user, [urn]))[urn]

    async def require(self, user: User, urn: Urn, need: Level) -> Level:
        """`user`'s level on `urn`, at least `need`: else 404 when they may not even read it,
        403 naming the access missing when they may."""
        have = await self.level(user, urn)
        if have < Level.READ:
            raise FileMissing(f"No such file: {urn}", details={"urn": str(urn)})
        if have < need:
            raise Forbidden(f"You need {WHAT[need]} access to {urn}",
                            details={"urn": str(urn), "access": WHAT[need]})
        return have
