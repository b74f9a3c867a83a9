"""Auth's use cases: sign-up, sign-in, sessions, profile and passwords.
Plain async functions over the adapters in `Container`; they raise domain
errors and emit events, the routers only parse and answer."""

from __future__ import annotations

import time
from typing import Any, Literal

from webos_auth.bootstrap import Container
from webos_auth.domain import twofactor
from webos_auth.domain.permissions import PRIVILEGED_ROLES, covered
from webos_auth.domain.tokens import RefreshReused, TokenPair
from webos_auth.domain.users import public
from webos_auth.events import USER_CREATED, USER_LOGGED_IN, USER_UPDATED
from webos_auth.ports import Mail
from webos_common.http.errors import BadRequest, Conflict, Forbidden, Unauthorized
from webos_common.identity import User
from webos_common.security.revocation import Revocation, user_revocation

GENERIC_LOGIN_ERROR = "Wrong email/username or password"
NOTIFY = "notification:send"


async def permissions_of(c: Container, user: dict[str, Any]) -> list[str]:
    return await c.roles.permissions_for(user.get("roles", []))


async def otp_setup_required(c: Container, user: dict[str, Any]) -> list[str]:
    """The person's roles that require two-factor sign-in, when they have not set it up."""
    return [] if twofactor.enabled(user) else await c.roles.requiring_2fa(user.get("roles", []))


async def issue_tokens(c: Container, user: dict[str, Any], *, family: str | None = None,
                       parent: str | None = None) -> TokenPair:
    """Tokens with the person's roles and permissions; none of either while a role requires a
    second factor they have not set up (they may only reach My account to set it up)."""
    if await otp_setup_required(c, user):
        return await c.tokens.issue({**user, "roles": []}, [], family=family, parent=parent)
    return await c.tokens.issue(user, await permissions_of(c, user), family=family, parent=parent)


async def send_verification(c: Container, user: dict[str, Any]) -> None:
    token = await c.actions.create("verify", c.settings.verify_token_ttl, user_id=user["_id"])
    await c.mailer.send(Mail(to=user["email"], subject="Confirm your WebOS email address", kind="verify",
                             link_token=token,
                             body=f"Confirm your address: {c.settings.base_url}/verify-email?token={token}\n"))


async def register(c: Container, *, email: str, username: str, password: str,
                   display_name: str | None, invite: str | None) -> dict[str, Any]:
    mode = c.settings.registration
    if mode == "closed":
        raise Forbidden("Sign-up is closed; ask an administrator for an account")
    if mode == "invite" and not invite:
        raise Forbidden("Sign-up is by invitation only", details={"field": "invite"})
    roles = ["user"]
    if invite:  # honoured in every open mode: its roles, its address verified, and used up
        doc = await c.actions.peek("invite", invite)
        if doc is None or doc.get("email") != email.lower():
            raise BadRequest("The invitation is invalid, used, expired or for another address",
                             details={"field": "invite"})
        roles = doc.get("roles") or roles
    c.passwords.check(password, username=username, email=email)
    used = await c.actions.consume("invite", invite, field="invite", email=email.lower()) if invite else None
    try:
        user = await c.users.create(email=email, username=username, password_hash=await c.passwords.ahash(password),
                                    roles=roles, profile={"display_name": display_name or username},
                                    verified=bool(invite))
    except BaseException:
        if used is not None:  # e.g. the user name is taken: the invitation stays usable
            await c.actions.restore(used)
        raise
    await c.events.emit(USER_CREATED, public(user))
    if not user["verified"]:
        await send_verification(c, user)
    return user


async def login(c: Container, *, login: str, password: str, address: str,
                otp: str | None = None) -> tuple[dict[str, Any], TokenPair]:
    user = await c.users.find_login(login)
    account = user["_id"] if user else f"name:{login.strip().lower()}"
    await c.throttle.check(account, address)
    ok = await c.passwords.averify(user.get("password_hash") if user else None, password)
    if not ok or user is None:
        await c.throttle.failed(account, address)
        raise Unauthorized(GENERIC_LOGIN_ERROR, code="invalid_credentials")
    if not user.get("active", True):
        raise Forbidden("This account is disabled", code="account_disabled")
    if twofactor.enabled(user):
        if not otp:
            raise Unauthorized("Enter the code from your authenticator app", code="otp_required",
                               details={"field": "otp"})
        if not await c.twofactor.check(user, otp):
            await c.throttle.failed(account, address)
            raise Unauthorized("That code is wrong or was already used", code="otp_invalid",
                               details={"field": "otp"})
    await c.throttle.succeeded(account)
    if c.passwords.needs_rehash(user["password_hash"]):
        await c.users.update(user["_id"], {"password_hash": await c.passwords.ahash(password)})
    await c.users.touch_login(user["_id"])
    await c.events.emit(USER_LOGGED_IN, {"id": user["_id"], "username": user["username"], "method": "password"})
    return user, await issue_tokens(c, user)


async def refresh(c: Container, refresh_token: str) -> TokenPair:
    try:
        user_id, family, parent = await c.tokens.consume(refresh_token)
    except RefreshReused as reused:  # the family's access tokens stop now, not at their expiry
        await c.events.revoke(Revocation(sid=reused.family, until=time.time() + c.settings.access_token_ttl))
        raise
    user = await c.users.collection.find_one({"_id": user_id})
    if user is None or not user.get("active", True):
        await c.tokens.revoke_family(family)
        raise Unauthorized("This account no longer exists or is disabled")
    return await issue_tokens(c, user, family=family, parent=parent)


async def change_password(c: Container, user_id: str, *, current: str, new: str) -> None:
    user = await c.users.get(user_id)
    if not await c.passwords.averify(user.get("password_hash"), current):
        raise BadRequest("The current password is wrong", details={"field": "current_password"})
    c.passwords.check(new, field="new_password", username=user["username"], email=user["email"])
    await c.users.update(user_id, {"password_hash": await c.passwords.ahash(new)})
    await c.tokens.revoke_user(user_id)
    await c.events.revoke(user_revocation(user_id, max_token_age=c.settings.access_token_ttl))


async def forgot_password(c: Container, email: str) -> None:
    """Same answer and nearly the same work whether or not the account exists."""
    user = await c.users.find_email(email)
    if user is None or not user.get("active", True):
        return
    token = await c.actions.create("reset", c.settings.reset_token_ttl, user_id=user["_id"])
    await c.mailer.send(Mail(to=user["email"], subject="Reset your WebOS password", kind="reset", link_token=token,
                             body=f"Choose a new password: {c.settings.base_url}/password/reset?token={token}\n"
                                  "If you did not ask for this, ignore this message.\n"))


async def reset_password(c: Container, *, token: str, new: str) -> None:
    doc = await c.actions.peek("reset", token)
    if doc is None:
        raise BadRequest("The reset link is invalid, used or expired", details={"field": "token"})
    user = await c.users.get(doc["user_id"])
    c.passwords.check(new, field="new_password", username=user["username"], email=user["email"])
    await c.actions.consume("reset", token)
    await c.users.update(user["_id"], {"password_hash": await c.passwords.ahash(new)})
    await c.tokens.revoke_user(user["_id"])
    await c.events.revoke(user_revocation(user["_id"], max_token_age=c.settings.access_token_ttl))
    await c.throttle.unlock(user["_id"])


async def verify_email(c: Container, token: str) -> dict[str, Any]:
    doc = await c.actions.consume("verify", token)
    user = await c.users.update(doc["user_id"], {"verified": True})
    await c.events.emit(USER_UPDATED, public(user))
    return user


async def invite(c: Container, *, email: str, roles: list[str]) -> None:
    token = await c.actions.create("invite", c.settings.invite_token_ttl, email=email.lower(), roles=roles)
    await c.mailer.send(Mail(to=email, subject="You are invited to WebOS", kind="invite", link_token=token,
                             body=f"Create your account: {c.settings.base_url}/register?invite={token}\n"))


async def request_access(c: Container, user_id: str, *, message: str, permissions: list[str]) -> int:
    """Keep the request (pending until an admin approves or denies it) and notify every
    active admin; how many were told."""
    who = await c.users.get(user_id)
    await c.access_requests.open(user_id=user_id, username=who["username"], message=message,
                                 permissions=permissions)
    asked = f" ({', '.join(permissions)})" if permissions else ""
    told = 0
    async for admin in c.users.collection.find({"roles": {"$in": sorted(PRIVILEGED_ROLES)}, "active": True},
                                               {"_id": 1}):
        await c.events.emit(NOTIFY, {
            "user_id": admin["_id"], "type": "access_request", "title": f"{who['username']} asks for access",
            "message": (message or "No message") + asked, "level": "info",
            "link": f"/admin/users?q={who['username']}",
            "metadata": {"user_id": user_id, "permissions": permissions}})
        told += 1
    await c.audit.record(None, "user.access_requested", f"user:{user_id}", username=who["username"],
                         permissions=permissions, message=message)
    return told


async def answer_access_request(c: Container, request: dict[str, Any], *, approved: bool,
                                roles: list[str], by: User) -> dict[str, Any]:
    """Close a pending request and tell the person what was decided."""
    status: Literal["approved", "denied"] = "approved" if approved else "denied"
    doc = await c.access_requests.close(request["_id"], status=status, by=by, roles=roles)
    message = f"You now have: {', '.join(roles)}" if approved else "Ask an administrator if you need more"
    await c.events.emit(NOTIFY, {
        "user_id": request["user_id"], "type": f"access_{status}", "title": f"Your access request was {status}",
        "message": message, "level": "success" if approved else "warning", "link": "/"})
    await c.audit.record(by, f"user.access_{status}", f"user:{request['user_id']}", username=request["username"],
                         after=roles)
    return doc


async def introspect(c: Container, key: str) -> dict[str, Any]:
    """RFC 7662-style answer for an API key: its owner and its effective scope."""
    doc = await c.apikeys.lookup(key)
    if doc is None:
        return {"active": False}
    user = await c.users.collection.find_one({"_id": doc["user_id"]})
    if user is None or not user.get("active", True):
        return {"active": False}
    granted = await permissions_of(c, user)
    scope = [p for p in doc["permissions"] if covered(p, granted)]
    exp = int(doc["expires_at"].timestamp()) if doc["expires_at"] else None
    return {"active": True, "sub": user["_id"], "preferred_username": user["username"], "email": user["email"],
            "roles": [], "permissions": scope, "key_id": doc["_id"], "exp": exp, "token_type": "api_key"}


async def ensure_superuser(c: Container) -> dict[str, Any] | None:
    """The configured superuser, created on first start when no superadmin exists."""
    if await c.users.count_with_role("superadmin"):
        return None
    s = c.settings
    existing = await c.users.find_email(s.admin_email)
    if existing is not None:
        return await c.users.update(existing["_id"], {"roles": sorted({*existing["roles"], "superadmin"})})
    try:
        user = await c.users.create(email=s.admin_email, username=s.admin_username,
                                    password_hash=await c.passwords.ahash(s.admin_password.get_secret_value()),
                                    roles=["user", "superadmin"], verified=True)
    except Conflict:  # another replica starting at the same time created it
        return None
    await c.events.emit(USER_CREATED, public(user))
    return user
