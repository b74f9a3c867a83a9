"""Data sources served by a module host and used by storage over NATS.

A module's `webos_register_data_sources` hook runs in its own host (never
in storage's process): the host answers the `DataSource` operations on
`webos.afs.<module>.…` (`SourceServer`) and announces each source in its
manifest; storage, watching the registry, mounts a `RemoteDataSource` for
each — so a module's data source works although storage's image holds no
module code, and one added while the platform runs is mounted without a
restart. Only storage may ask (publish on `webos.afs.>`), only the module
may answer its own subjects (`nats_permissions`); replies go to storage's
own inbox.
"""

from webos_common.files.remote.client import RemoteDataSource
from webos_common.files.remote.server import SourceServer
from webos_common.files.remote.wire import CHUNK, subject_prefix

__all__ = ["CHUNK", "RemoteDataSource", "SourceServer", "subject_prefix"]
