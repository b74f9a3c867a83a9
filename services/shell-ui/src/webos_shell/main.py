"""The shell UI's app factory: a WebOS service with NiceGUI mounted on it."""

from fastapi import FastAPI
from nicegui import ui

from webos_common.service import create_service_app
from webos_shell.settings import ShellSettings


def _pages() -> None:
    @ui.page("/")
    def home() -> None:
        with ui.header().classes("items-center"):
            ui.label("WebOS").classes("text-h6")
        ui.label("Welcome to WebOS.").classes("text-lg p-4")


def create_app(settings: ShellSettings | None = None) -> FastAPI:
    settings = settings or ShellSettings()
    app = create_service_app("shell-ui", settings=settings, use_mongo=False)
    _pages()
    ui.run_with(
        app, title="WebOS", storage_secret=settings.shell_storage_secret.get_secret_value(),
        show_welcome_message=False, reconnect_timeout=10,
    )
    return app
