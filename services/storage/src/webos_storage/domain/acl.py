"""Who may do what to a file or folder outside the homes.

A folder may carry an ACL: entries `{"kind": "user"|"role", "id", "access": "read"|"write"}`.
The ACL that applies to a path is the one of its nearest folder (itself included) that has
one; with none on the path, the source's and mounts' `default_access` applies to everyone who
holds their permissions: `full` (the default: read, write and delete, what the AFS always did),
`write` (read and write; delete only one's own), `read` or `none`.

Levels, each including the ones before: `READ` (list, stat, download, copy from, share),
`WRITE` (upload, overwrite, mkdir, tag), `MANAGE` (delete, move away, change the ACL).
MANAGE belongs to admins, to the owner of the item and to the owner of the folder whose ACL
applies (without an ACL: of the nearest indexed folder above); an ACL's `write` does not
give it, so a writer deletes and moves only what they own ("owner and admins delete").
Without an ACL, `default_access: full` gives everyone MANAGE, as before ACLs existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

from webos_common.identity import User
from webos_storage.domain.model import IndexEntry


class Level(IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2
    MANAGE = 3


_DEFAULTS = {"none": Level.NONE, "read": Level.READ, "write": Level.WRITE, "full": Level.MANAGE}
_GRANTS = {"read": Level.READ, "write": Level.WRITE}
WHAT = {Level.READ: "read", Level.WRITE: "write", Level.MANAGE: "owner or admin"}


def strictest(defaults: Sequence[str]) -> str:
    """The default of a path covered by a source and mounts: the least any of them allows."""
    return min(defaults, key=lambda d: _DEFAULTS[d], default="full")


def governing(folders: Sequence[IndexEntry]) -> IndexEntry | None:
    """The folder whose ACL applies, from the indexed folders on the path, nearest first."""
    return next((f for f in folders if f.acl is not None), None)


def level(user: User, *, item: IndexEntry | None, folders: Sequence[IndexEntry], default: str) -> Level:
    """What `user` may do to a path; `item` is its own index entry, `folders` the indexed
    folders from it upwards (nearest first, the item itself first when it is a folder)."""
    if user.is_admin or (item is not None and item.owner == user.id):
        return Level.MANAGE
    ruling = governing(folders)
    if ruling is None:
        above = next((f for f in folders if f.owner), None)
        if above is not None and above.owner == user.id:
            return Level.MANAGE
        return _DEFAULTS[default]
    if ruling.owner == user.id:
        return Level.MANAGE
    granted = [_GRANTS[e["access"]] for e in ruling.acl or []
               if (e["kind"] == "user" and e["id"] == user.id) or (e["kind"] == "role" and e["id"] in user.roles)]
    return max(granted, default=Level.NONE)
