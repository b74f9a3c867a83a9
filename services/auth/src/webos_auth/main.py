"""The auth service's app factory: start wires what `bootstrap` built to the running app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from loguru import logger

from webos_auth import bootstrap
from webos_auth.adapters.mail import Mailer
from webos_auth.adapters.nats import answer_contacts
from webos_auth.api import access_requests, directory, me, oauth, oauth_apps, public, roles, session, sso, token, users
from webos_auth.services import accounts
from webos_auth.services.declarations import Declarations
from webos_auth.settings import AuthSettings
from webos_common.clients.auth import CONTACTS_SUBJECT
from webos_common.http.service import create_service_app
from webos_common.modules.registry import ModuleRegistry
from webos_common.security import TokenVerifier

ROUTERS = [public.router, session.router, token.router, me.router, users.router, access_requests.router,
           roles.router, sso.router, directory.router, oauth.router, oauth_apps.router]


class LocalIntrospector:
    """Auth checks API keys in its own database, not over HTTP."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def introspect(self, key: str) -> dict[str, Any] | None:
        claims = await accounts.introspect(self.app.state.auth, key)
        return claims if claims.get("active") else None


def create_app(settings: AuthSettings | None = None, *, mailer: Mailer | None = None) -> FastAPI:
    settings = settings or AuthSettings()

    async def start(app: FastAPI) -> None:
        resources = app.state.resources
        container = bootstrap.build(settings, resources.db, resources, mailer=mailer)
        await container.ensure()
        app.state.auth = container
        container.oauth_server = bootstrap.oauth_server(container)
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
                app.state.smtp_settings = await bootstrap.admin_mailer(container, resources)
        created = await accounts.ensure_superuser(container)
        if created is not None:
            logger.info("created superuser {} <{}>", created["username"], created["email"])

    async def stop(app: FastAPI) -> None:
        declarations = getattr(app.state, "declarations", None)
        if declarations is not None:
            await declarations.stop()
        smtp = getattr(app.state, "smtp_settings", None)
        if smtp is not None:
            await smtp.close()

    return create_service_app("auth", settings=settings, use_mongo=True, on_startup=[start], on_shutdown=[stop],
                              routers=ROUTERS)
