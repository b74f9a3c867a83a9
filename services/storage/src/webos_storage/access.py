"""Where a URN points and who may touch it.

A URN names a source (`fs://s3/reports/x`) or a mount (`fs://reports/x`,
also written `/mnt/reports/x`); both resolve to a canonical location. Read
and write need the source's permissions and those of every mount covering
the location, however it was addressed. `fs://<home>/home/<user>/…` is that
user's alone (and admins'): anyone else gets a 404, as if it did not exist.
Outside the homes, folder ACLs narrow this further (`rights.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webos_common.files.afs import DataSource, FileMissing, Urn, from_mount_path, parse_urn, safe_path
from webos_common.http.errors import Forbidden, NotFound
from webos_common.identity import User
from webos_storage.domain.acl import strictest
from webos_storage.domain.model import Mount, SourceRules

HOME = "home"


@dataclass(frozen=True)
class Target:
    urn: Urn  # canonical: fs://<source>/<path>
    source: DataSource


class Access:
    def __init__(self, sources: Mapping[str, DataSource], mounts: Sequence[Mount],
                 rules: Mapping[str, SourceRules], home_source: str) -> None:
        self.sources = dict(sources)
        self.mounts = {m.name: m for m in mounts}
        self.rules = dict(rules)
        self.home_source = home_source

    def resolve(self, text: str) -> Target:
        urn = parse_urn(from_mount_path(text))
        if urn.source in self.sources:
            return Target(urn, self.sources[urn.source])
        mount = self.mounts.get(urn.source)
        if mount is None:
            raise NotFound(f"Unknown source or mount '{urn.source}'",
                           details={"field": "urn", "source": urn.source}, code="unknown_source")
        canonical = mount.resolve(urn.path)
        return Target(canonical, self.sources[canonical.source])

    def home_owner(self, urn: Urn) -> str | None:
        """The user whose home holds `urn`, if it is inside a home."""
        if urn.source != self.home_source:
            return None
        parts = urn.path.split("/")
        return parts[1] if len(parts) >= 2 and parts[0] == HOME else None

    def in_homes(self, urn: Urn) -> bool:
        """`urn` is the homes folder or inside it: no folder ACLs there."""
        return urn.source == self.home_source and (urn.path == HOME or urn.path.startswith(HOME + "/"))

    def default_access(self, urn: Urn) -> str:
        """What holders of the permissions may do where no folder ACL applies."""
        return strictest([r.default_access for r in self._rules(urn)])

    def can_see(self, user: User, urn: Urn) -> bool:
        owner = self.home_owner(urn)
        return owner is None or owner == user.id or user.is_admin

    def check(self, user: User, urn: Urn, *, write: bool) -> None:
        if not self.can_see(user, urn):
            raise FileMissing(f"No such file: {urn}", details={"urn": str(urn)})
        if self.home_owner(urn) is not None:
            return  # a home is its owner's, whatever the source's rules say
        if write and urn.source == self.home_source and urn.path == HOME and not user.is_admin:
            raise Forbidden("Only admins change the home folder itself", details={"urn": str(urn)})
        for permission in self._permissions(urn, write=write):
            if not user.has_permission(permission):
                raise Forbidden(f"Missing permission {permission}", details={"permission": permission})

    def _rules(self, urn: Urn) -> list[SourceRules | Mount]:
        rules: list[SourceRules | Mount] = [self.rules.get(urn.source, SourceRules())]
        return rules + [m for m in self.mounts.values() if m.covers(urn)]

    def _permissions(self, urn: Urn, *, write: bool) -> list[str]:
        rules = self._rules(urn)
        wanted = [r.write_permission if write else r.read_permission for r in rules]
        return [p for p in wanted if p]

    def home_of(self, user: User) -> Urn:
        return Urn(self.home_source, safe_path(f"{HOME}/{user.id}"))
