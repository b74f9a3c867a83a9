"""`webos user create-admin | reset-password | unlock`: auth's admin API over HTTP, as an
admin — a token (`--token`, `WEBOS_ADMIN_TOKEN`) or a sign-in (`--admin NAME` with the
password in `WEBOS_ADMIN_PASSWORD`, else asked for). `--url` is auth's base URL: the local
stack's by default, `https://<host>/api/auth` through a remote gateway."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import typer

from webos_cli.plan import SERVICES, StackPlan

user_app = typer.Typer(help="People's accounts: create an admin, reset a password, unlock.", no_args_is_help=True)

Url = typer.Option(None, "--url", envvar="WEBOS_AUTH_URL", help="Auth's base URL. Default: the local stack's.")
Token = typer.Option(None, "--token", envvar="WEBOS_ADMIN_TOKEN", help="An admin's access token.")
Admin = typer.Option("admin", "--admin", help="Sign in as this admin (password: WEBOS_ADMIN_PASSWORD).")
BasePort = typer.Option(int(os.environ.get("WEBOS_BASE_PORT", "8700")), "--base-port")


def local_url(service: str, base_port: int) -> str:
    return f"http://127.0.0.1:{StackPlan(Path('.'), base_port).base_port + SERVICES[service][1]}"


class AdminHttp:
    """An admin's HTTP session with one service (`url`); signs in at auth (`auth_url`) unless a
    token is given."""

    def __init__(self, url: str, token: str | None, admin: str, auth_url: str) -> None:
        if token is None:
            password = os.environ.get("WEBOS_ADMIN_PASSWORD") or typer.prompt(f"password of {admin}", hide_input=True)
            self.client = httpx.Client(base_url=auth_url.rstrip("/"), timeout=15)
            token = self.call("POST", "/login", json={"login": admin, "password": password})["access_token"]
        self.client = httpx.Client(base_url=url.rstrip("/"), timeout=30,
                                   headers={"authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, *, raw: bool = False, **kwargs: Any) -> Any:
        try:
            resp = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            typer.echo(f"error: cannot reach {self.client.base_url}: {exc}", err=True)
            raise typer.Exit(3) from exc
        if resp.status_code >= 400:
            try:
                error = resp.json()["error"]
                text = error["message"] + "".join(f"\n  {d.get('field')}: {d.get('message')}"
                                                  for d in error.get("details") or [] if isinstance(d, dict))
            except (ValueError, KeyError, TypeError):
                text = resp.text[:500]
            typer.echo(f"error: {resp.status_code} {text}", err=True)
            raise typer.Exit(1)
        if raw:
            return resp.text
        return resp.json() if resp.content else None

    def user_id(self, login: str) -> str:
        found = self.call("GET", "/users", params={"q": login, "limit": 200})["items"]
        exact = [u for u in found if login in (u.get("username"), u.get("email"), u.get("id"))]
        if len(exact) != 1:
            typer.echo(f"error: no single user {login!r}", err=True)
            raise typer.Exit(1)
        return str(exact[0]["id"])


def _Auth(url: str | None, token: str | None, admin: str, base_port: int) -> AdminHttp:
    auth_url = url or local_url("auth", base_port)
    return AdminHttp(auth_url, token, admin, auth_url)


def _new_password(password: str | None) -> str:
    return password or os.environ.get("WEBOS_NEW_PASSWORD") or typer.prompt(
        "new password", hide_input=True, confirmation_prompt=True)


@user_app.command("create-admin")
def create_admin(username: str, email: str = typer.Option(..., "--email"),
                 password: str | None = typer.Option(None, "--password", envvar="WEBOS_NEW_PASSWORD"),
                 superadmin: bool = typer.Option(False, "--superadmin", help="May manage other admins."),
                 url: str | None = Url, token: str | None = Token, admin: str = Admin,
                 base_port: int = BasePort) -> None:
    """Create an administrator (a superadmin's session is needed to grant admin roles)."""
    auth = _Auth(url, token, admin, base_port)
    roles = ["admin", "superadmin"] if superadmin else ["admin"]
    user = auth.call("POST", "/users", json={"username": username, "email": email,
                                              "password": _new_password(password), "roles": roles})
    typer.echo(f"created {user['username']} ({user['id']}) with roles {', '.join(user['roles'])}")


@user_app.command("reset-password")
def reset_password(login: str = typer.Argument(..., help="Username, email or id."),
                   password: str | None = typer.Option(None, "--password", envvar="WEBOS_NEW_PASSWORD"),
                   url: str | None = Url, token: str | None = Token, admin: str = Admin,
                   base_port: int = BasePort) -> None:
    """Set a new password; the person's sessions and tokens end."""
    auth = _Auth(url, token, admin, base_port)
    user_id = auth.user_id(login)
    auth.call("PATCH", f"/users/{user_id}", json={"password": _new_password(password)})
    typer.echo(f"password of {login} reset; their sessions ended")


@user_app.command("unlock")
def unlock(login: str = typer.Argument(..., help="Username, email or id."), url: str | None = Url,
           token: str | None = Token, admin: str = Admin, base_port: int = BasePort) -> None:
    """Lift the lock that failed sign-ins put on an account."""
    auth = _Auth(url, token, admin, base_port)
    auth.call("POST", f"/users/{auth.user_id(login)}/unlock")
    typer.echo(f"{login} unlocked")
