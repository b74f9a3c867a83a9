"""Module manager: every known module, its instances, health and version,
and the enable/disable switch (the registry's `enabled.<module>` flag, which
the settings service writes for the signed-in admin: the shell itself may
not write it on NATS)."""

from __future__ import annotations

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_shell import endpoints, runtime


async def render(user: User) -> None:
    registry = runtime.get().registry
    if registry is None:
        ui.label("The module registry is unavailable").classes("text-negative")
        return

    @ui.refreshable
    def table() -> None:
        with ui.column().classes("w-full gap-2").props('data-testid="module-manager"'):
            if not registry.known():
                ui.label("No module has announced itself").classes("text-gray-500")
            for name in registry.known():
                manifest = registry.manifest(name)
                instances = len(registry.instances.get(name, {}))
                with ui.card().classes("w-full").props(f'data-testid="module-{name}"'):
                    with ui.row().classes("w-full items-center"):
                        ui.label(name).classes("text-lg font-medium w-40")
                        ui.label(f"v{manifest.version}" if manifest else "not running").classes("w-24")
                        ui.badge(f"{instances} live" if instances else "down",
                                 color="positive" if instances else "grey")
                        ui.label(manifest.description if manifest else "").classes("text-sm text-gray-500 flex-1")
                        enabled = registry.is_enabled(name)
                        ui.switch(_state(enabled), value=enabled,
                                  on_change=lambda e, n=name: toggle(e.sender, n, e.value)).props(
                                      f'data-testid="enable-{name}"')

    async def toggle(switch: ui.switch, name: str, enabled: bool) -> None:
        switch.set_text(_state(enabled))
        before = registry.version
        try:
            await runtime.get().gateway.send(app.storage.user, "PUT", endpoints.MODULE_ENABLED.format(module=name),
                                             {"enabled": enabled})
        except ApiError as exc:
            ui.notify(f"{name}: {exc}", type="negative")
            table.refresh()  # the switch goes back to what the registry says
            return
        registry.note_enabled(name, enabled)
        if seen["version"] == before:  # the switch already shows it: no redraw under the pointer
            seen["version"] = registry.version
        ui.notify(f"{name} {'enabled' if enabled else 'disabled'}", type="positive")

    table()
    seen = {"version": registry.version}

    def follow() -> None:
        if registry.version != seen["version"]:
            seen["version"] = registry.version
            table.refresh()

    ui.timer(1.0, follow)


def _state(enabled: bool) -> str:
    """The switch's label says the state it shows (it read "Enabled" when off)."""
    return "Enabled" if enabled else "Disabled"
