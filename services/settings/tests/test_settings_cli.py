"""`webos settings export | apply` (run as a command) against a served settings service."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from webos_common.testing import serve_app
from webos_settings.main import create_app
from webos_settings.settings import SettingsSettings


async def _webos(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "webos_cli.main", "settings", *args,
                                                env=dict(os.environ), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_export_then_apply_with_a_diff_first(webos_env: Any, issuer: Any, ops: Any, tmp_path: Any) -> None:
    app = create_app(SettingsSettings(settings_watch_registry=False))
    app.state.resources.verifier = issuer.verifier("settings")
    token = ops["Authorization"].removeprefix("Bearer ")
    async with serve_app(app) as url:
        auth = ("--url", url, "--token", token)
        wanted = tmp_path / "settings.yaml"
        wanted.write_text("webos_settings: 1\nsystem:\n  smtp:\n    host: mail.example.com\n")
        code, out = await _webos("apply", str(wanted), *auth)
        assert code == 0, out
        assert 'system smtp: host: null -> "mail.example.com"' in out and "nothing written" in out
        code, out = await _webos("export", "--no-users", *auth)
        assert code == 0 and "mail.example.com" not in out, out  # the dry run wrote nothing
        code, out = await _webos("apply", str(wanted), "--yes", *auth)
        assert code == 0 and "applied 1 change(s)" in out, out
        exported = tmp_path / "exported.yaml"
        code, out = await _webos("export", "-o", str(exported), *auth)
        assert code == 0, out
        assert "host: mail.example.com" in exported.read_text()
        bad = tmp_path / "bad.yaml"
        bad.write_text("webos_settings: 1\nsystem:\n  smtp:\n    port: not-a-number\n")
        code, out = await _webos("apply", str(bad), *auth)
        assert code == 1 and "port" in out, out
