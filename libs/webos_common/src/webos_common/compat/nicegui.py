"""NiceGUI: where `app.storage.user` keeps a person's storage (`Storage._create_persistent_dict`, private).

NiceGUI keeps each browser's `app.storage.user` in a file of the process's
own storage folder, or in Redis when `NICEGUI_REDIS_URL` is set; it has no
public way to choose another store. The shell runs several replicas and a
person must stay signed in on whichever one answers (issue #19), so the shell
keeps that storage in a NATS KV bucket (`webos_shell.sessions`): `user_storage`
makes NiceGUI's private factory hand out the shell's dict for every user
storage (ids `user-<session id>`) and its own dict for anything else
(`app.storage.general`). This is a patch for correctness, not speed: no
benchmark stands behind it.

On another NiceGUI release `user_storage` leaves NiceGUI's own storage in
place and says so: every replica then keeps its own sessions (a person whose
replica changes signs in again), as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loguru import logger
from nicegui import storage as nicegui_storage
from nicegui.persistence import PersistentDict
from nicegui.storage import Storage

from webos_common.compat import release_is

TESTED = "3.18"  # the NiceGUI release whose Storage._create_persistent_dict this wraps

original_create = Storage.__dict__.get("_create_persistent_dict")
USER_PREFIX: str | None = getattr(nicegui_storage, "USER_PREFIX", None)


def applies() -> bool:
    """The tested release, whose storage ids of users start with `USER_PREFIX` and are made by a static
    `_create_persistent_dict(id)`."""
    return release_is("nicegui", TESTED) and isinstance(original_create, staticmethod) and USER_PREFIX == "user-"


def user_storage(factory: Callable[[str], PersistentDict] | None) -> bool:
    """Make every user storage NiceGUI creates from now on `factory(<session id>)`; None restores NiceGUI's
    own. False (and a warning) on another NiceGUI release: its own storage is kept."""
    if not applies():
        logger.warning("nicegui is not {}: app.storage.user stays in this process's files "
                       "(see webos_common.compat.nicegui)", TESTED)
        return False
    assert isinstance(original_create, staticmethod) and USER_PREFIX is not None
    own = original_create.__func__
    if factory is None:
        Storage._create_persistent_dict = original_create  # type: ignore[method-assign]
        return True
    prefix, make = USER_PREFIX, factory

    def create(id: str) -> PersistentDict:  # NiceGUI's parameter name
        return make(id[len(prefix):]) if id.startswith(prefix) else own(id)

    Storage._create_persistent_dict = staticmethod(create)  # type: ignore[method-assign]
    return True


def user_storage_file(session_id: str) -> Path:
    """Where NiceGUI's own storage kept `session_id`'s user storage (a file of this process's folder)."""
    return Storage.path / f"storage-{USER_PREFIX or 'user-'}{session_id}.json"
