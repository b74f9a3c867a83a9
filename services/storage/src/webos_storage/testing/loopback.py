"""Start and stop the loopback servers, and the `SourceConfig` that reaches each.

`Loopback(kind, dir)` runs one server process on a free port with a fresh
user and password; `.source(id, folder)` is a source of that kind rooted at
`folder` on it. Samba's `smbd` (Debian's `samba` package) runs from a
config of its own on a high port, as whichever user runs the tests: as root
it maps the share to root, otherwise to that user.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from webos_common.infra.process import ManagedProcess, free_port, wait_port
from webos_storage.settings import SourceConfig

KINDS = ("ftp", "ftps", "sftp", "smb", "webdav", "gdrive")

SMB_CONF = """[global]
  smb ports = {port}
  bind interfaces only = yes
  interfaces = 127.0.0.1
  private dir = {d}/private
  lock directory = {d}/lock
  state directory = {d}/state
  cache directory = {d}/cache
  pid directory = {d}/pid
  ncalrpc dir = {d}/ncalrpc
  log file = {d}/smbd.log
  passdb backend = smbpasswd:{d}/private/smbpasswd
  server role = standalone server
  server services = smb
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
  map to guest = never
  server min protocol = SMB2_10
  kernel oplocks = no
  strict sync = no
[share]
  path = {share}
  read only = no
  force user = {user}
"""


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), for FTPS."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Loopback:
    def __init__(self, kind: str, folder: Path) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind}")
        self.kind, self.dir = kind, folder
        self.root = folder / "data"  # what the server serves
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.user = getpass.getuser() if kind == "smb" else "webos"  # smbd serves as whoever runs it
        self.password = secrets.token_urlsafe(12)
        self.token = secrets.token_urlsafe(16)
        self.cert: Path | None = None
        self.proc = ManagedProcess(f"{kind}-server", self._argv(), log_path=folder / "server.log",
                                    die_with_parent=True)

    def _argv(self) -> list[str]:
        if self.kind == "smb":
            return self._smb_argv()
        kind = {"ftps": "ftp", "gdrive": "drive"}.get(self.kind, self.kind)
        argv = [sys.executable, "-m", "webos_storage.testing.servers", kind, "--root", str(self.root),
                f"--port={self.port}", f"--user={self.user}", f"--password={self.password}", f"--token={self.token}"]
        if self.kind == "ftps":
            self.cert, key = self_signed(self.dir)
            argv += ["--cert", str(self.cert), "--key", str(key)]
        return argv

    def _smb_argv(self) -> list[str]:
        smbd = shutil.which("smbd") or "/usr/sbin/smbd"
        if not Path(smbd).exists():
            raise RuntimeError("smbd missing: scripts/bootstrap.sh installs Debian's samba (as root)")
        state = self.dir / "smb"
        for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        conf = state / "smb.conf"
        conf.write_text(SMB_CONF.format(port=self.port, d=state, share=self.root, user=self.user))
        # The passdb as a file written here: `smbpasswd -a` works only as root, this works as anyone.
        from spnego._ntlm_raw.crypto import ntowfv1  # the NT hash (MD4, which hashlib may lack)

        passdb = state / "private" / "smbpasswd"
        passdb.write_text(f"{self.user}:{os.getuid()}:{'X' * 32}:{ntowfv1(self.password).hex().upper()}:"
                          f"[U          ]:LCT-{int(time.time()):08X}:\n")
        passdb.chmod(0o600)
        return [smbd, "--foreground", "--no-process-group", "--debug-stdout", "-s", str(conf)]

    def start(self) -> Loopback:
        self.proc.start()
        wait_port(self.port, timeout=30, proc=self.proc.proc)
        return self

    def stop(self) -> None:
        self.proc.stop()

    def source(self, source_id: str, folder: str, **extra: Any) -> SourceConfig:
        """A source of this kind rooted at `folder` (made on first use) on this server."""
        common: dict[str, Any] = {"id": source_id, "kind": self.kind, "root": folder, **extra}
        if self.kind in ("ftp", "ftps", "sftp", "smb"):
            common.update(host="127.0.0.1", port=self.port, username=self.user, password=self.password)
        if self.kind == "ftps":
            common["ca_file"] = str(self.cert)
        if self.kind == "smb":
            common["share"] = "share"
        if self.kind == "webdav":
            common.update(endpoint_url=f"http://127.0.0.1:{self.port}/", username=self.user, password=self.password)
        if self.kind == "gdrive":
            common.update(endpoint_url=f"http://127.0.0.1:{self.port}", token_uri=f"http://127.0.0.1:{self.port}/token",
                          client_id=self.user, client_secret=self.password, refresh_token=self.token)
        return SourceConfig.model_validate(common)


def revealed(config: SourceConfig) -> dict[str, Any]:
    """A source config as JSON for `WEBOS_STORAGE_SOURCES`, secrets included."""
    data: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    for name in ("password", "private_key", "client_secret", "refresh_token"):
        if getattr(config, name) is not None:
            data[name] = config.secret(name)
    return data
