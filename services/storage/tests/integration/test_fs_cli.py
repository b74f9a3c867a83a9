"""`webos fs ls | cp | rm` (run as a command) against a served storage service."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys


async def _webos(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "webos_cli.main", "fs", *args,
                                                env=dict(os.environ), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_upload_list_copy_download_and_remove(storage_app, tmp_path) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    local = tmp_path / "report.bin"
    local.write_bytes(payload)
    async with storage_app("local", served=True) as h:
        token = h.as_user("alice", roles=("admin",))["Authorization"]
        auth = ("--url", h.base_url, "--token", token.removeprefix("Bearer "))
        code, out = await _webos("cp", str(local), "fs://main/docs/report.bin", *auth)
        assert code == 0, out
        code, out = await _webos("cp", "fs://main/docs/report.bin", "fs://main/docs/copy.bin", *auth)
        assert code == 0, out
        code, out = await _webos("ls", "fs://main/docs/", *auth)
        assert code == 0 and "report.bin" in out and "copy.bin" in out and str(len(payload)) in out, out
        back = tmp_path / "back"
        back.mkdir()
        code, out = await _webos("cp", "fs://main/docs/copy.bin", str(back), *auth)
        assert code == 0, out
        assert hashlib.sha256((back / "copy.bin").read_bytes()).digest() == hashlib.sha256(payload).digest()
        code, out = await _webos("rm", "fs://main/docs/copy.bin", *auth)
        assert code == 0, out
        assert (await h.get("fs://main/docs/copy.bin")).status_code == 404
        code, out = await _webos("cp", "fs://main/nothing-here", str(back), *auth)
        assert code == 1 and "404" in out
