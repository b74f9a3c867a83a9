"""Configuration of the storage service (env prefix `WEBOS_`).

Sources and mounts come from `WEBOS_STORAGE_SOURCES` / `WEBOS_STORAGE_MOUNTS`
(JSON) or a YAML file named by `WEBOS_STORAGE_CONFIG`. Without either, the
service serves `local` (`<state_dir>/files`) and, when
`WEBOS_S3_ENDPOINT_URL` is set, `s3` (bucket `WEBOS_S3_BUCKET`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, SecretStr

from webos_common.config import WebOSSettings

# what holders of a source's (and its mounts') permissions may do where no folder ACL applies:
# `full` read, write and delete anything (as before ACLs); `write` read and write, delete only
# their own; `read` only read; `none` nothing — owners and admins always may (domain/acl.py)
DefaultAccess = Literal["none", "read", "write", "full"]
SourceKind = Literal["local", "s3", "ftp", "ftps", "sftp", "smb", "webdav", "gdrive"]


class SourceConfig(BaseModel):
    """One source. Secrets (`password`, `private_key`, `client_secret`,
    `refresh_token`) are `SecretStr`: never logged, never listed by `/sources`."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: SourceKind
    root: str | None = None  # local: folder; ftp/sftp/smb/webdav/gdrive: folder on the server ("" = its root)
    bucket: str | None = None  # s3
    prefix: str = ""  # s3: key prefix inside the bucket
    endpoint_url: str | None = None  # s3; webdav: the collection's URL; gdrive: API base (default Google's)
    region: str = "us-east-1"
    host: str | None = None  # ftp, ftps, sftp, smb
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    private_key: SecretStr | None = None  # sftp: an OpenSSH private key (instead of or beside the password)
    known_hosts: str | None = None  # sftp: a known_hosts file; none = the server's key is not checked
    share: str | None = None  # smb: the share name
    token_uri: str | None = None  # gdrive: OAuth token endpoint (default Google's)
    client_id: str | None = None  # gdrive
    client_secret: SecretStr | None = None  # gdrive
    refresh_token: SecretStr | None = None  # gdrive: the account's offline grant
    ca_file: str | None = None  # ftps/webdav/gdrive: a CA bundle to trust (self-signed servers)
    read_only: bool = False  # changes answer 405 not_supported
    timeout: float = Field(default=15.0, gt=0, le=300)  # one call to the source; slower is a 503
    retry_seconds: float = Field(default=5.0, ge=0, le=3600)  # an unavailable source is tried again after this
    read_permission: str | None = None
    write_permission: str | None = None
    default_access: DefaultAccess = "full"  # where no folder ACL applies (webos_storage.domain.acl)

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None


class MountConfig(BaseModel):
    path: str = Field(pattern=r"^/mnt/[a-z0-9][a-z0-9_-]{0,62}$")  # /mnt/reports
    target: str  # fs://s3/reports/
    read_permission: str | None = None
    write_permission: str | None = None
    default_access: DefaultAccess = "full"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]


class StorageSettings(WebOSSettings):
    service_name: str = "storage"
    port: int = 8702

    storage_config: str | None = None
    storage_sources: list[SourceConfig] = Field(default_factory=list)
    storage_mounts: list[MountConfig] = Field(default_factory=list)
    storage_home_source: str = "local"
    storage_background_bytes: int = 64 * 1024 * 1024
    storage_share_secret: SecretStr = SecretStr("changeme")
    storage_share_max_seconds: int = 7 * 24 * 3600
    storage_module_source_timeout: float = 15.0  # seconds a module's data source may take per call
    # Cleanup: upload leftovers (local temp files, open S3 multipart uploads) untouched this long
    # are removed at start and every `storage_sweep_interval` seconds; a live upload writes
    # constantly, so another replica's is never taken.
    storage_stale_upload_seconds: float = 600.0
    storage_sweep_interval: float = 3600.0
    # Uploads announcing more bytes than this (Content-Length) are refused with 413 before the
    # body is read — a client sending `Expect: 100-continue` never sends it. 0: no limit.
    storage_max_upload_bytes: int = 0
    # Bytes each person may own across every source (the index's sizes); an upload past it is
    # refused with 507 and nothing of it is kept. 0: no quota.
    storage_user_quota_bytes: int = Field(0, ge=0)

    s3_endpoint_url: str | None = None
    s3_bucket: str = "webos"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None

    def sources(self) -> list[SourceConfig]:
        file_sources, _ = self._file_config()
        configured = [*self.storage_sources, *file_sources]
        if configured:
            return configured
        defaults = [SourceConfig(id="local", kind="local", root=str(Path(self.state_dir) / "files"))]
        if self.s3_endpoint_url:
            defaults.append(SourceConfig(id="s3", kind="s3", bucket=self.s3_bucket, endpoint_url=self.s3_endpoint_url))
        return defaults

    def mounts(self) -> list[MountConfig]:
        _, file_mounts = self._file_config()
        return [*self.storage_mounts, *file_mounts]

    def s3_credentials(self) -> tuple[str | None, str | None]:
        if self.s3_access_key and self.s3_secret_key:
            return self.s3_access_key.get_secret_value(), self.s3_secret_key.get_secret_value()
        if self.is_development:  # moto accepts anything; AWS would use its own chain
            return "webos", "webos"
        return None, None

    def _file_config(self) -> tuple[list[SourceConfig], list[MountConfig]]:
        if not self.storage_config:
            return [], []
        data = yaml.safe_load(Path(self.storage_config).read_text()) or {}
        return (
            [SourceConfig.model_validate(s) for s in data.get("sources", [])],
            [MountConfig.model_validate(m) for m in data.get("mounts", [])],
        )


class SourcesSection(BaseModel):
    """The `storage` system section of the settings service, as far as storage reads it: sources an
    admin defines there, their credentials kept as encrypted secrets (`SettingsSources`)."""

    sources: list[SourceConfig] = Field(default_factory=list)
