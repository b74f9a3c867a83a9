"""The shell UI's app factory: a WebOS service with NiceGUI mounted on it.

At start it connects the registry view (NATS KV, watched), the live
feed (NATS) and the people's sessions (NATS KV, sealed: `webos_shell.sessions`,
so every replica knows every signed-in person); pages are registered once per process."""

from __future__ import annotations

from fastapi import FastAPI
from nicegui import ui

from webos_common.clients.session import SessionClient
from webos_common.compat import nicegui as nicegui_compat
from webos_common.http.service import create_service_app
from webos_common.modules.registry import ModuleRegistry
from webos_common.modules.registry_view import RegistryView
from webos_common.security.keyring import Keyring, key_list
from webos_shell import a11y, admin, frames, local_time, runtime, theming
from webos_shell.pages import account, auth, consent, dashboard, files, modules, record
from webos_shell.sessions import CONTEXT, SharedSessions
from webos_shell.settings import ShellSettings

_registered = False


def _pages() -> None:
    global _registered
    if _registered:
        return
    auth.register()
    dashboard.register()
    modules.register()
    record.register()
    account.register()
    consent.register()
    files.register()
    admin.register()
    frames.register()
    a11y.install()
    local_time.install()
    _registered = True


def session_keyring(settings: ShellSettings) -> Keyring:
    """What seals people's sessions: the platform's keyring under the shell's session key."""
    key = settings.shell_session_key or settings.shell_storage_secret
    return Keyring(key.get_secret_value(), key_list(settings.shell_session_old_keys), context=CONTEXT,
                   old_keys_setting="WEBOS_SHELL_SESSION_OLD_KEYS")


def create_app(settings: ShellSettings | None = None) -> FastAPI:
    settings = settings or ShellSettings()
    platform = SessionClient(settings.gateway_url, timeout=settings.shell_api_timeout)
    platform.wrote = frames.wrote  # a module's pieces on the page follow what the person changes
    rt = runtime.Runtime(settings=settings, gateway=platform)
    runtime.install(rt)
    async def startup(app: FastAPI) -> None:
        resources = app.state.resources
        rt.verifier, rt.nats = resources.verifier, resources.nats
        rt.sessions = await SharedSessions.open(resources.nats.jetstream(), session_keyring(settings),
                                                legacy=nicegui_compat.user_storage_file)
        nicegui_compat.user_storage(rt.sessions.session)
        rt.registry = RegistryView(ModuleRegistry.of(resources.nats.jetstream(), resources.settings))
        await rt.registry.start()
        await rt.live.start(resources.nats, resources.bus.identity if resources.bus else None)
        await theming.follow_brand_changes(resources.nats)

    async def shutdown(app: FastAPI) -> None:
        await rt.live.stop()
        if rt.sessions:
            nicegui_compat.user_storage(None)
            await rt.sessions.close()
        if rt.registry:
            await rt.registry.stop()
        await rt.gateway.aclose()

    app = create_service_app("shell-ui", settings=settings, use_mongo=False,
                             on_startup=[startup], on_shutdown=[shutdown])
    _pages()
    ui.run_with(
        app, title="WebOS", storage_secret=settings.shell_storage_secret.get_secret_value(),
        show_welcome_message=False, reconnect_timeout=10, language="en-US",
    )
    return app
