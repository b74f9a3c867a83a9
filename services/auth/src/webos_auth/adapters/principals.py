"""Service accounts: the principals of `principals.json` (public keys only), as OAuth clients.

The registry is re-read when the file's mtime changes (one `stat` per
token request), so adding, rotating or removing a principal takes effect
without restarting auth. How a principal proves who it is: `domain.assertions`."""

from __future__ import annotations

import os
from pathlib import Path

from loguru import logger

from webos_common.security.principals import CredentialError, Principal, PrincipalRegistry


class PrincipalDirectory:
    """`principals.json`, re-read when its mtime (or size) changes."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self._stamp: tuple[int, int] | None = None
        self._registry = PrincipalRegistry()

    def get(self, name: str) -> Principal | None:
        return self._current().principals.get(name)

    def _current(self) -> PrincipalRegistry:
        if self.path is None:
            return self._registry
        try:
            st = os.stat(self.path)
        except OSError:
            self._stamp, self._registry = None, PrincipalRegistry()
            return self._registry
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                self._registry = PrincipalRegistry.load(self.path)
            except CredentialError as exc:  # keep the last good registry; a half-written file is retried
                logger.warning("auth: {}", exc)
                return self._registry
            self._stamp = stamp
            logger.info("auth: {} principals from {}", len(self._registry.principals), self.path)
        return self._registry
