"""`webos user …` against a real auth service (uvicorn on loopback, real MongoDB and NATS)."""

import asyncio
import os
import sys

import httpx

from webos_auth.main import create_app
from webos_auth.testing import ADMIN_PASSWORD, auth_settings
from webos_common.testing import serve_app

NEW = "N3w-Passw0rd-Long!"


async def _webos(url: str, *args: str, password: str = ADMIN_PASSWORD) -> tuple[int, str]:
    env = {**os.environ, "WEBOS_ADMIN_PASSWORD": password}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "webos_cli.main", "user", *args, "--url", url,
                                                "--admin", "root", env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_create_admin_reset_password_and_unlock(webos_env) -> None:
    async with serve_app(create_app(auth_settings())) as url, httpx.AsyncClient(base_url=url) as client:
        code, out = await _webos(url, "create-admin", "ops1", "--email", "ops1@example.com", "--password", NEW)
        assert code == 0, out
        signed_in = await client.post("/login", json={"login": "ops1", "password": NEW})
        assert signed_in.status_code == 200 and "admin" in signed_in.json()["user"]["roles"]

        code, out = await _webos(url, "reset-password", "ops1", "--password", NEW + "2")
        assert code == 0, out
        assert (await client.post("/login", json={"login": "ops1", "password": NEW})).status_code == 401
        assert (await client.post("/login", json={"login": "ops1", "password": NEW + "2"})).status_code == 200

        code, out = await _webos(url, "unlock", "ops1")
        assert code == 0 and "unlocked" in out, out

        code, out = await _webos(url, "create-admin", "ops2", "--email", "not-an-email", "--password", NEW)
        assert code == 1 and "email" in out  # the field is named

        code, out = await _webos(url, "unlock", "ops1", password="wrong-password-here")
        assert code == 1, out
