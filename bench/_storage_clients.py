"""The protocols' own clients, straight to a loopback server: the baseline of
bench/storage.py's remote-source rows. Each reads and writes in 1 MiB (or
the library's own larger) blocks, in memory, and returns MB/s."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from webos_storage.testing.loopback import Loopback

MB = 1024 * 1024


def _drained(response: httpx.Response) -> int:
    """Read a streamed body to its end; its size."""
    return sum(len(block) for block in response.iter_raw(MB))


def _timed(fn: Callable[[], int]) -> float:
    start = time.perf_counter()
    size = fn()
    return size / MB / (time.perf_counter() - start)


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(MB):
            yield block


class Ftp:
    def __init__(self, server: Loopback, folder: str) -> None:
        self.server, self.folder = server, folder

    async def _client(self) -> Any:
        import aioftp

        client = aioftp.Client()
        await client.connect("127.0.0.1", self.server.port)
        if self.server.cert:
            await client.upgrade_to_tls(ssl.create_default_context(cafile=str(self.server.cert)))
        await client.login(self.server.user, self.server.password)
        await client.make_directory(self.folder)
        return client

    def upload(self, local: Path, name: str) -> float:
        async def go() -> int:
            client = await self._client()
            async with client.upload_stream(f"{self.folder}/{name}") as stream:
                for block in _blocks(local):
                    await stream.write(block)
            client.close()
            return local.stat().st_size
        return _timed(lambda: asyncio.run(go()))

    def download(self, name: str) -> float:
        async def go() -> int:
            client, size = await self._client(), 0
            async with client.download_stream(f"{self.folder}/{name}") as stream:
                async for block in stream.iter_by_block(MB):
                    size += len(block)
            client.close()
            return size
        return _timed(lambda: asyncio.run(go()))


class Sftp(Ftp):
    async def _sftp(self) -> Any:
        import asyncssh

        conn = await asyncssh.connect("127.0.0.1", self.server.port, username=self.server.user,
                                      password=self.server.password, known_hosts=None)
        sftp = await conn.start_sftp_client()
        await sftp.makedirs(self.folder, exist_ok=True)
        return conn, sftp

    def upload(self, local: Path, name: str) -> float:
        async def go() -> int:
            conn, sftp = await self._sftp()
            await sftp.put(str(local), f"{self.folder}/{name}")
            conn.close()
            return local.stat().st_size
        return _timed(lambda: asyncio.run(go()))

    def download(self, name: str) -> float:
        async def go() -> int:
            conn, sftp = await self._sftp()
            size = 0
            async with sftp.open(f"{self.folder}/{name}", "rb") as handle:
                while block := await handle.read(4 * MB):
                    size += len(block)
            conn.close()
            return size
        return _timed(lambda: asyncio.run(go()))


class Smb(Ftp):
    def _path(self, name: str) -> str:
        import smbclient

        kw = {"username": self.server.user, "password": self.server.password, "port": self.server.port}
        smbclient.makedirs(f"\\\\127.0.0.1\\share\\{self.folder}", exist_ok=True, **kw)
        return f"\\\\127.0.0.1\\share\\{self.folder}\\{name}"

    def upload(self, local: Path, name: str) -> float:
        import smbclient

        def go() -> int:
            with smbclient.open_file(self._path(name), mode="wb", port=self.server.port) as handle:
                for block in _blocks(local):
                    handle.write(block)
            return local.stat().st_size
        return _timed(go)

    def download(self, name: str) -> float:
        import smbclient

        def go() -> int:
            size = 0
            with smbclient.open_file(self._path(name), mode="rb", port=self.server.port) as handle:
                while block := handle.read(MB):
                    size += len(block)
            return size
        return _timed(go)


class WebDav(Ftp):
    def _client(self) -> httpx.Client:  # type: ignore[override]
        client = httpx.Client(base_url=f"http://127.0.0.1:{self.server.port}/", timeout=120,
                              auth=(self.server.user, self.server.password))
        client.request("MKCOL", f"{self.folder}/")
        return client

    def upload(self, local: Path, name: str) -> float:
        def go() -> int:
            client = self._client()
            try:
                client.put(f"{self.folder}/{name}", content=_blocks(local)).raise_for_status()
            finally:
                client.close()
            return local.stat().st_size
        return _timed(go)

    def download(self, name: str) -> float:
        def go() -> int:
            size, client = 0, self._client()
            try:
                with client.stream("GET", f"{self.folder}/{name}") as response:
                    size = _drained(response)
            finally:
                client.close()
            return size
        return _timed(go)


class Drive(Ftp):
    def _client(self) -> tuple[httpx.Client, str]:  # type: ignore[override]
        base = f"http://127.0.0.1:{self.server.port}"
        client = httpx.Client(base_url=base, timeout=120)
        token = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": self.server.token,
                                            "client_id": self.server.user,
                                            "client_secret": self.server.password}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        return client, self._folder_id(client)

    def _folder_id(self, client: httpx.Client) -> str:
        found = client.get("/drive/v3/files", params={"q": f"'root' in parents and name = '{self.folder}'"}).json()
        if found["files"]:
            return str(found["files"][0]["id"])
        made = client.post("/drive/v3/files", json={"name": self.folder, "parents": ["root"],
                                                    "mimeType": "application/vnd.google-apps.folder"})
        return str(made.json()["id"])

    def upload(self, local: Path, name: str) -> float:
        size = local.stat().st_size

        def go() -> int:
            client, folder = self._client()
            try:
                session = client.post("/upload/drive/v3/files", params={"uploadType": "resumable"},
                                      json={"name": name, "parents": [folder]})
                client.put(session.headers["location"], content=_blocks(local),
                           headers={"Content-Range": f"bytes 0-{size - 1}/{size}"}).raise_for_status()
            finally:
                client.close()
            return size
        return _timed(go)

    def download(self, name: str) -> float:
        def go() -> int:
            client, folder = self._client()
            size = 0
            try:
                found = client.get("/drive/v3/files", params={"q": f"'{folder}' in parents and name = '{name}'"})
                file_id = found.json()["files"][0]["id"]
                with client.stream("GET", f"/drive/v3/files/{file_id}", params={"alt": "media"}) as response:
                    size = _drained(response)
            finally:
                client.close()
            return size
        return _timed(go)


CLIENTS: dict[str, type[Ftp]] = {"ftp": Ftp, "ftps": Ftp, "sftp": Sftp, "smb": Smb, "webdav": WebDav,
                                 "gdrive": Drive}
