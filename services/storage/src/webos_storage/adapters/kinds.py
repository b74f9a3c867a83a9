"""Which adapter serves which `kind` of configured source.

Local disk and S3 are built in `bootstrap`; the remote kinds are built here
from their `SourceConfig` (secrets read from its `SecretStr` fields). Each
library is imported only when a source of its kind is configured.
"""

from __future__ import annotations

from collections.abc import Callable

from webos_common.files.afs import DataSource
from webos_storage.settings import SourceConfig


def _ftp(c: SourceConfig) -> DataSource:
    from webos_storage.adapters.ftp import FtpDataSource

    return FtpDataSource(c.id, host=_host(c), port=c.port or 21, username=c.username or "anonymous",
                         password=c.secret("password"), root=c.root or "", tls=c.kind == "ftps", ca_file=c.ca_file)


def _sftp(c: SourceConfig) -> DataSource:
    from webos_storage.adapters.sftp import SftpDataSource

    return SftpDataSource(c.id, host=_host(c), port=c.port or 22, username=c.username or "", root=c.root or "",
                          password=c.secret("password"), private_key=c.secret("private_key"),
                          known_hosts=c.known_hosts)


def _smb(c: SourceConfig) -> DataSource:
    from webos_storage.adapters.smb import SmbDataSource

    return SmbDataSource(c.id, host=_host(c), port=c.port or 445, share=c.share or "", root=c.root or "",
                         username=c.username, password=c.secret("password"))


def _webdav(c: SourceConfig) -> DataSource:
    from webos_storage.adapters.webdav import WebDavDataSource

    return WebDavDataSource(c.id, url=c.endpoint_url or "", root=c.root or "", username=c.username,
                            password=c.secret("password"), ca_file=c.ca_file, timeout=c.timeout)


def _gdrive(c: SourceConfig) -> DataSource:
    from webos_storage.adapters.gdrive import DriveDataSource

    return DriveDataSource(c.id, root=c.root or "", client_id=c.client_id or "",
                           client_secret=c.secret("client_secret") or "", refresh_token=c.secret("refresh_token") or "",
                           api_url=c.endpoint_url, token_uri=c.token_uri, ca_file=c.ca_file, timeout=c.timeout)


def _host(c: SourceConfig) -> str:
    if not c.host:
        from webos_common.http.errors import ValidationFailed

        raise ValidationFailed(f"Source {c.id}: host is required for kind {c.kind}",
                               details=[{"field": f"sources.{c.id}.host", "message": "required"}])
    return c.host


REMOTE: dict[str, Callable[[SourceConfig], DataSource]] = {
    "ftp": _ftp, "ftps": _ftp, "sftp": _sftp, "smb": _smb, "webdav": _webdav, "gdrive": _gdrive,
}

