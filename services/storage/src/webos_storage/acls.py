"""Folder ACLs and persons' quotas, as use cases: read and change them (the rules live in
`domain/acl.py`, their enforcement in `rights.py`). People and roles named are checked
against auth's directory; an unknown one is a 404, auth away a 503."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webos_common.documents.sharing import Directory, Share
from webos_common.files.afs import Urn
from webos_common.http.errors import BadRequest, NotFound, Unavailable
from webos_common.identity import User
from webos_common.security import check_permission
from webos_storage.domain.acl import Level, governing
from webos_storage.events import FILE_ACL_CHANGED, QUOTA_CHANGED
from webos_storage.service import StorageService, folder_entry


class Acls:
    def __init__(self, service: StorageService, directory: Directory | None) -> None:
        self.service, self.directory = service, directory

    async def get(self, user: User, urn: str) -> dict[str, Any]:
        """The folder's own ACL, the one that applies to it (maybe inherited) and the caller's access."""
        target = await self.service.target(user, urn, need=Level.READ)
        self._acl_place(target.urn)
        own, folders = await self.service.rights.path(target.urn)
        ruling = governing(folders)
        have = await self.service.rights.level(user, target.urn)
        return {"urn": str(target.urn), "owner": own.owner if own else None,
                "acl": own.acl if own and own.is_dir else None,
                "inherited_from": ruling.urn if ruling and ruling is not own else None,
                "effective": ruling.acl if ruling else None,
                "default_access": self.service.access.default_access(target.urn),
                "access": {Level.READ: "read", Level.WRITE: "write", Level.MANAGE: "manage"}.get(have, "none")}

    async def put(self, user: User, urn: str, entries: Sequence[Share] | None) -> dict[str, Any]:
        """Set the folder's ACL (None: drop it, the parent's applies again); owner or admin only."""
        target = await self.service.target(user, urn, need=Level.MANAGE)
        self._acl_place(target.urn)
        if not (await target.source.get_stat(target.urn.path)).is_dir:
            raise BadRequest("An ACL belongs to a folder; a file follows its folder's", details={"field": "urn"})
        acl = None if entries is None else list({(e.kind, e.id): e.model_dump() for e in entries}.values())
        await self._known(acl or [])
        entry = await self.service.index.set_acl(folder_entry(target.urn, owner=user.id), acl)
        await self.service.bus.emit(FILE_ACL_CHANGED, {"urn": entry.urn, "owner": entry.owner, "acl": acl,
                                                       "by": user.id})
        return await self.get(user, urn)

    def _acl_place(self, urn: Urn) -> None:
        if not urn.path or self.service.access.in_homes(urn):
            raise BadRequest("ACLs apply to folders of a source outside the homes (a home is its owner's)",
                             details={"field": "urn"})

    async def _known(self, acl: list[dict[str, str]]) -> None:
        await known(self.directory, [(e["kind"], e["id"]) for e in acl], field="entries")

    async def quota(self, user: User, person: str) -> dict[str, Any]:
        if person != user.id:
            check_permission("storage.admin", user)
        own = await self.service.quotas.get(person) if self.service.quotas is not None else None
        return {"person": person, "bytes": await self.service.quota_of(person), "own": own is not None,
                "default": self.service.user_quota, "used": await self.service.index.usage(person)}

    async def set_quota(self, user: User, person: str, limit: int | None) -> dict[str, Any]:
        """An admin sets one person's quota (bytes, 0: none), or None: the default again."""
        check_permission("storage.admin", user)
        if self.service.quotas is None:
            raise Unavailable("No quota store")
        await known(self.directory, [("user", person)], field="person")
        await self.service.quotas.set(person, limit)
        await self.service.bus.emit(QUOTA_CHANGED, {"person": person, "bytes": limit, "by": user.id})
        return await self.quota(user, person)


async def known(directory: Directory | None, targets: list[tuple[str, str]], *, field: str) -> None:
    """Every (kind, id) exists in auth's directory, else a 404 naming `field` and the id."""
    if not targets:
        return
    if directory is None:
        raise Unavailable("No directory to check people and roles against")
    for kind, id in dict.fromkeys(targets):
        if not await directory.exists(kind, id):  # type: ignore[arg-type]
            raise NotFound(f"No {'person' if kind == 'user' else 'role'} {id}", details={"field": field, "id": id})
