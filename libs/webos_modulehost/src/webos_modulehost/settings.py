"""Module host settings (env prefix `WEBOS_`)."""

from __future__ import annotations

from webos_common.config import WebOSSettings
from webos_common.modules.registry import DEFAULT_TTL


class ModuleHostSettings(WebOSSettings):
    module: str = ""
    advertise_url: str | None = None  # the address announced to the registry (default: see manifest.base_url)
    modules_dir: str = "modules"  # where modules not installed as packages are found
    heartbeat_ttl: float = DEFAULT_TTL  # seconds a manifest outlives its last heartbeat
    scheduler: bool = True  # run the module's scheduled jobs in this host
    job_poll: float = 15.0  # longest sleep between scheduler checks, seconds
    module_ui: bool = True  # serve the module's own shell views (NiceGUI) at /api/<module>/ui
    ui_api_timeout: float = 10.0  # seconds a view's call through the gateway may take
