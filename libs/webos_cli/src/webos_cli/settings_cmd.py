"""`webos settings export | apply`: settings as code through the settings service's
`/export` and `/apply` (a dry run with the diff first; `--yes` writes), as an admin."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from webos_cli.users import Admin, AdminHttp, BasePort, Token, local_url

settings_app = typer.Typer(help="Settings as code: export to YAML, apply YAML with a diff.", no_args_is_help=True)
Url = typer.Option(None, "--url", envvar="WEBOS_SETTINGS_URL", help="The settings service. Default: the local one.")
AuthUrl = typer.Option(None, "--auth-url", envvar="WEBOS_AUTH_URL", help="Where to sign in. Default: the local one.")


def _session(url: str | None, auth_url: str | None, token: str | None, admin: str, base_port: int) -> AdminHttp:
    return AdminHttp(url or local_url("settings", base_port), token, admin,
                     auth_url or local_url("auth", base_port))


@settings_app.command("export")
def export(output: Path | None = typer.Option(None, "-o", "--output", help="A file; standard output if omitted."),
           module: str | None = typer.Option(None, "--module", help="Only this module's settings."),
           reveal: bool = typer.Option(False, "--reveal", help="Secrets in clear (needs settings.secrets.read)."),
           users: bool = typer.Option(True, "--users/--no-users", help="People's own settings too."),
           url: str | None = Url, auth_url: str | None = AuthUrl, token: str | None = Token, admin: str = Admin,
           base_port: int = BasePort) -> None:
    """Every explicitly set value (and registered schema) as YAML."""
    params: dict[str, str] = {"reveal": str(reveal).lower(), "users": str(users).lower()}
    if module:
        params["module"] = module
    text = _session(url, auth_url, token, admin, base_port).call("GET", "/export", params=params, raw=True)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"exported to {output}")


@settings_app.command("apply")
def apply(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A YAML file from `export`."),
          yes: bool = typer.Option(False, "--yes", help="Write the changes (without it: only show them)."),
          url: str | None = Url, auth_url: str | None = AuthUrl, token: str | None = Token, admin: str = Admin,
          base_port: int = BasePort) -> None:
    """Show what applying the file changes; with --yes apply it (all or nothing)."""
    session = _session(url, auth_url, token, admin, base_port)
    body = file.read_bytes()
    result = session.call("POST", "/apply", params={"dry_run": str(not yes).lower()}, content=body,
                          headers={"content-type": "application/yaml"})
    for c in result.get("changes", []):
        where = c["layer"] + (f" {c['name']}" if c.get("name") else "")
        where += f" user {c['user_id']}" if c.get("user_id") else ""
        typer.echo(f"  {where}: {c['key']}: {json.dumps(c.get('old'))} -> {json.dumps(c.get('new'))}")
    for module in result.get("schemas", []):
        typer.echo(f"  schema of {module} changes")
    count = len(result.get("changes", [])) + len(result.get("schemas", []))
    if yes:
        typer.echo(f"applied {count} change(s)")
    else:
        typer.echo(f"{count} change(s); nothing written — run again with --yes to apply")
