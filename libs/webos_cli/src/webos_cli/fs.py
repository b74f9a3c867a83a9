"""`webos fs ls | cp | rm`: the AFS through the storage service, as an admin (or anyone with a
token). A path starting `fs://` is on the platform; anything else is on this machine, so
`cp` uploads, downloads, or copies inside the platform."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import typer

from webos_cli.users import Admin, AdminHttp, BasePort, Token, local_url

fs_app = typer.Typer(help="Files on the platform (fs://<source>/<path>).", no_args_is_help=True)
Url = typer.Option(None, "--url", envvar="WEBOS_STORAGE_URL", help="The storage service. Default: the local one.")
AuthUrl = typer.Option(None, "--auth-url", envvar="WEBOS_AUTH_URL", help="Where to sign in. Default: the local one.")
CHUNK = 1024 * 1024


def _session(url: str | None, auth_url: str | None, token: str | None, admin: str, base_port: int) -> AdminHttp:
    return AdminHttp(url or local_url("storage", base_port), token, admin, auth_url or local_url("auth", base_port))


def _remote(path: str) -> bool:
    return path.startswith("fs://")


@fs_app.command("ls")
def ls(urn: str = typer.Argument(..., help="A folder, fs://<source>/<path>/"), url: str | None = Url,
       auth_url: str | None = AuthUrl, token: str | None = Token, admin: str = Admin,
       base_port: int = BasePort) -> None:
    """A folder's entries: size, modified, name."""
    session = _session(url, auth_url, token, admin, base_port)
    skip = 0
    while True:
        page = session.call("GET", "/files", params={"urn": urn, "skip": skip, "limit": 1000})
        for item in page["items"]:
            size = "-" if item["is_dir"] else str(item["size"])
            name = item["name"] + ("/" if item["is_dir"] else "")
            typer.echo(f"{size:>12}  {(item.get('modified') or '-')[:19]:<19}  {name}")
        skip += len(page["items"])
        if not page.get("has_more") or not page["items"]:
            return


@fs_app.command("cp")
def cp(src: str, dst: str, url: str | None = Url, auth_url: str | None = AuthUrl, token: str | None = Token,
       admin: str = Admin, base_port: int = BasePort) -> None:
    """Copy a file: local → fs:// (upload), fs:// → local (download), fs:// → fs://."""
    session = _session(url, auth_url, token, admin, base_port)
    if _remote(src) and _remote(dst):
        result = session.call("POST", "/files/copy", json={"src": src, "dst": dst})
        typer.echo(f"copied {src} -> {dst}" + (" (in the background)" if result.get("background") else ""))
    elif _remote(dst):
        local = Path(src)
        if not local.is_file():
            raise typer.BadParameter(f"{src}: no such file", param_hint="SRC")

        def chunks() -> Iterator[bytes]:
            with local.open("rb") as f:
                while block := f.read(CHUNK):
                    yield block

        session.call("PUT", "/files/content", params={"urn": dst}, content=chunks(),
                     headers={"content-length": str(local.stat().st_size)})
        typer.echo(f"uploaded {src} -> {dst}")
    elif _remote(src):
        target = Path(dst) / src.rstrip("/").rsplit("/", 1)[-1] if Path(dst).is_dir() else Path(dst)
        try:
            with session.client.stream("GET", "/files/content", params={"urn": src}) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    typer.echo(f"error: {resp.status_code} {resp.text[:500]}", err=True)
                    raise typer.Exit(1)
                with target.open("wb") as f:
                    for block in resp.iter_bytes(CHUNK):
                        f.write(block)
        except httpx.HTTPError as exc:
            typer.echo(f"error: cannot reach {session.client.base_url}: {exc}", err=True)
            raise typer.Exit(3) from exc
        typer.echo(f"downloaded {src} -> {target}")
    else:
        raise typer.BadParameter("one of SRC and DST must be fs://…", param_hint="SRC")


@fs_app.command("rm")
def rm(urn: str, url: str | None = Url, auth_url: str | None = AuthUrl, token: str | None = Token,
       admin: str = Admin, base_port: int = BasePort) -> None:
    """Move a file or folder to the trash."""
    _session(url, auth_url, token, admin, base_port).call("DELETE", "/files", params={"urn": urn})
    typer.echo(f"removed {urn} (restorable from the trash)")
