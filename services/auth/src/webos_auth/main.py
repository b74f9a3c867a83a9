"""The auth service's app factory."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import FastAPI
from loguru import logger

from webos_auth import service
from webos_auth.api import access_requests, directory, me, oauth, oauth_apps, public, roles, session, sso, token, users
from webos_auth.container import build
from webos_auth.declarations import Declarations
from webos_auth.mail import Mailer, SettingsMailer, SmtpSection
from webos_auth.oauth.endpoints import build_server
from webos_auth.oauth.server import Bridge, OAuthServer
from webos_auth.settings import AuthSettings
from webos_common.clients.auth import CONTACTS_SUBJECT
from webos_common.module_registry import ModuleRegistry
from webos_common.security import TokenVerifier
from webos_common.service import create_service_app
from webos_common.settings import SystemSettings


class LocalIntrospector:
    """Auth checks API keys in its own database, not over HTTP."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def introspect(self, key: str) -> dict[str, Any] | None:
        claims = await service.introspect(self.app.state.auth, key)
        return claims if claims.get("active") else None


async def answer_contacts(c: Any, msg: Any) -> None:
    """`webos.auth.users.contacts` `{"ids": [...]}` → `{"users": {id: {email, username, active}}}`: how the
    platform's services (the events service's mail digests) reach a person. NATS is internal."""
    try:
        ids = [str(i) for i in json.loads(msg.data or b"{}").get("ids", [])][:1000]
        found = {u["_id"]: {"email": u["email"], "username": u["username"], "active": u.get("active", True)}
                 async for u in c.users.collection.find({"_id": {"$in": ids}})}
        answer: dict[str, Any] = {"users": found}
    except (ValueError, AttributeError, TypeError) as exc:
        answer = {"error": {"code": "bad_request", "message": str(exc)}}
    with contextlib.suppress(Exception):
        await msg.respond(json.dumps(answer).encode())


def create_app(settings: AuthSettings | None = None, *, mailer: Mailer | None = None) -> FastAPI:
    settings = settings or AuthSettings()

    async def start(app: FastAPI) -> None:
        resources = app.state.resources
        container = build(settings, resources.db, resources, mailer=mailer)
        await container.ensure()
        app.state.auth = container
        container.oauth_server = build_server(OAuthServer(
            container.oauth_store, container.keys, container.users, issuer=settings.issuer,
            refresh_ttl=settings.refresh_token_ttl, bridge=Bridge(asyncio.get_running_loop())))
        resources.verifier = TokenVerifier(container.keys, issuer=settings.issuer,
                                           audience=(settings.jwt_audience, "auth"),
                                           introspector=LocalIntrospector(app), key_cache_ttl=0)
        registry = None
        if resources.nats is not None:
            registry = ModuleRegistry.of(resources.nats.jetstream(), resources.settings)
        app.state.declarations = Declarations(container.roles, container.audit, registry)
        await app.state.declarations.start()
        if resources.nats is not None:
            await resources.verifier.follow(resources.nats)

            async def on_contacts(msg: Any) -> None:
                await answer_contacts(container, msg)

            await resources.nats.subscribe(CONTACTS_SUBJECT, queue="auth", cb=on_contacts)
            if mailer is None:  # the admin's SMTP settings win over the environment's mailer
                smtp = SystemSettings(resources.nats, "smtp", SmtpSection, credentials=resources.credentials,
                                      settings_url=settings.settings_url)  # over HTTP with its own token
                await smtp.start()
                app.state.smtp_settings = smtp
                container.mailer = SettingsMailer(container.mailer, smtp)
        created = await service.ensure_superuser(container)
        if created is not None:
            logger.info("created superuser {} <{}>", created["username"], created["email"])

    async def stop(app: FastAPI) -> None:
        declarations = getattr(app.state, "declarations", None)
        if declarations is not None:
            await declarations.stop()
        smtp = getattr(app.state, "smtp_settings", None)
        if smtp is not None:
            await smtp.close()

    return create_service_app(
        "auth", settings=settings, use_mongo=True, on_startup=[start], on_shutdown=[stop],
        routers=[public.router, session.router, token.router, me.router, users.router, access_requests.router,
                 roles.router, sso.router, directory.router, oauth.router, oauth_apps.router],
    )
