"""A folder of credentials: issue, rotate and revoke principals.

    store = CredentialStore(Path(".webos/nats"))
    seed_file = store.issue("tasks", "module", emits=[...], consumes=[...], consumers=[...])
    store.rotate("tasks")     # a new key; the old one stops working at the server's next reload
    store.revoke("tasks")     # gone from NATS and from auth's service accounts

The folder holds one seed file per principal (0600), the public registry
`principals.json` and `auth.conf`, the NATS server's `authorization` block
rendered from the registry. `webos up`, the test fixtures and `webos creds`
all go through this class; a Kubernetes or compose deployment runs
`webos creds` once and mounts the seed files as secrets.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from webos_common.security import nats_permissions
from webos_common.security.principals import (
    REGISTRY_FILE,
    CredentialError,
    Kind,
    Principal,
    PrincipalRegistry,
    new_seed,
    public_key_of,
    read_seed,
    seed_path,
    write_seed,
)

AUTH_FILE = "auth.conf"


class CredentialStore:
    def __init__(self, directory: Path, *, extra_users: list[dict[str, object]] | None = None) -> None:
        self.directory = Path(directory)
        self.extra_users = extra_users or []  # written into auth.conf beside the principals (tests only)

    @property
    def registry_path(self) -> Path:
        return self.directory / REGISTRY_FILE

    @property
    def auth_path(self) -> Path:
        return self.directory / AUTH_FILE

    def registry(self) -> PrincipalRegistry:
        return PrincipalRegistry.load(self.registry_path)

    def seed_file(self, name: str) -> Path:
        return seed_path(self.directory, name)

    def issue(self, name: str, kind: Kind, *, emits: Iterable[str] = (), consumes: Iterable[str] = (),
              consumers: Iterable[str] = (), permissions: Iterable[str] = (), data_sources: Iterable[str] = (),
              rotate: bool = False) -> Path:
        """Make sure `name` has a credential and these declarations; return its seed file.

        An existing key is kept (declarations may change: the permissions follow)
        unless `rotate` asks for a new one."""
        path = self.seed_file(name)
        seed = None if rotate or not path.exists() else read_seed(path)
        if seed is None:
            seed = new_seed()
            write_seed(path, seed)
        registry = self.registry()
        registry.principals[name] = Principal(
            name=name, kind=kind, public_key=public_key_of(seed), emits=sorted(set(emits)),
            consumes=sorted(set(consumes)), consumers=sorted(set(consumers)), permissions=sorted(set(permissions)),
            data_sources=sorted(set(data_sources)))
        self._save(registry)
        return path

    def rotate(self, name: str) -> Path:
        """A new key for `name`, same declarations."""
        current = self._get(name)
        return self.issue(name, current.kind, emits=current.emits, consumes=current.consumes,
                          consumers=current.consumers, permissions=current.permissions,
                          data_sources=current.data_sources, rotate=True)

    def revoke(self, name: str) -> None:
        """Remove `name` from the registry and delete its seed file."""
        registry = self.registry()
        self._get(name)
        del registry.principals[name]
        self._save(registry)
        self.seed_file(name).unlink(missing_ok=True)

    def _get(self, name: str) -> Principal:
        principal = self.registry().principals.get(name)
        if principal is None:
            raise CredentialError(f"no principal called {name!r} in {self.registry_path}")
        return principal

    def _save(self, registry: PrincipalRegistry) -> None:
        registry.save(self.registry_path)
        self.render(registry)

    def render(self, registry: PrincipalRegistry | None = None) -> Path:
        """(Re)write `auth.conf` from the registry; a running server needs a reload to see it."""
        text = nats_permissions.render(registry or self.registry(), self.extra_users)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.auth_path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.auth_path)
        return self.auth_path
