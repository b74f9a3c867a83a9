"""What `webos up` starts, on which ports, with which environment.

Every port derives from one base (default 8700) so a second stack — a test,
a benchmark — can run beside the first by picking another base.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

SERVICES = {  # name -> (python package, port offset)
    "gateway": ("webos_gateway", 0),
    "auth": ("webos_auth", 1),
    "storage": ("webos_storage", 2),
    "settings": ("webos_settings", 3),
    "events": ("webos_events", 4),
    "shell-ui": ("webos_shell", 5),
}
S3_OFFSET, MODULE_OFFSET, MONGO_OFFSET, NATS_OFFSET = 9, 10, 20, 21
WORKER_OFFSETS = (8, 7, 6)  # the workers' probe ports (no API): the free slots below S3


@dataclass
class Component:
    name: str
    kind: str  # "infra" | "service" | "module" | "worker"
    port: int | None
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port and self.kind != "infra" else None

    @property
    def principal(self) -> str:
        """Its name on NATS and at auth: the service, the module, or `<name>-worker`."""
        kind, _, name = self.name.partition(":")
        if kind == "worker":
            return f"{name}-worker"
        return name or self.name


@dataclass
class StackPlan:
    state_dir: Path
    base_port: int = 8700

    @property
    def mongo_port(self) -> int:
        return self.base_port + MONGO_OFFSET

    @property
    def nats_port(self) -> int:
        return self.base_port + NATS_OFFSET

    @property
    def s3_port(self) -> int:
        return self.base_port + S3_OFFSET

    @property
    def credentials_dir(self) -> Path:
        """One nkey seed per process (0600), principals.json and NATS's auth.conf."""
        return self.state_dir / "credentials"

    @property
    def tls_dir(self) -> Path:
        """NATS's TLS: the stack's own CA (`ca.pem`, trusted by every process) and server certificate."""
        return self.credentials_dir / "tls"

    def identity_env(self, principal: str) -> dict[str, str]:
        return {"WEBOS_CREDENTIAL_FILE": str(self.credentials_dir / f"{principal}.nk"), "WEBOS_PRINCIPAL": principal}

    def _extra_env(self, service: str) -> dict[str, str]:
        if service == "auth":  # service accounts: the principals' public keys
            return {"WEBOS_AUTH_PRINCIPALS_FILE": str(self.credentials_dir / "principals.json")}
        return {}

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    def shared_env(self) -> dict[str, str]:
        env = {
            "WEBOS_ENV": "development",
            "WEBOS_STATE_DIR": str(self.state_dir),
            "WEBOS_MONGO_URL": f"mongodb://127.0.0.1:{self.mongo_port}/?replicaSet=rs0&directConnection=true",
            "WEBOS_NATS_URL": f"nats://127.0.0.1:{self.nats_port}",
            "WEBOS_NATS_CA_FILE": str(self.tls_dir / "ca.pem"),  # TLS on every NATS connection
            "WEBOS_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "WEBOS_PUBLIC_URL": f"http://127.0.0.1:{self.base_port}",
        }
        for name, (_, offset) in SERVICES.items():
            key = "SHELL" if name == "shell-ui" else name.upper()
            env[f"WEBOS_{key}_URL"] = f"http://127.0.0.1:{self.base_port + offset}"
        return env

    def services(self) -> list[Component]:
        shared = self.shared_env()
        return [
            Component(name, "service", self.base_port + offset, [sys.executable, "-m", package],
                      {**shared, **self.identity_env(name), **self._extra_env(name),
                       "WEBOS_PORT": str(self.base_port + offset), "WEBOS_SERVICE_NAME": name})
            for name, (package, offset) in SERVICES.items()
        ]

    def modules(self) -> list[Component]:
        """One module host per installed module (entry-point group `webos.modules`)."""
        shared = self.shared_env()
        names = sorted({ep.name for ep in entry_points(group="webos.modules")})
        return [
            Component(f"module:{name}", "module", self.base_port + MODULE_OFFSET + i,
                      [sys.executable, "-m", "webos_modulehost", name],
                      {**shared, **self.identity_env(name), "WEBOS_PORT": str(self.base_port + MODULE_OFFSET + i),
                       "WEBOS_SERVICE_NAME": name})
            for i, name in enumerate(names)
        ]

    def workers(self) -> list[Component]:
        """Background processes with no API (the task worker): each serves only its probes
        (`/healthz`, `/readyz`, `/metrics` on `WEBOS_HEALTH_PORT`), which `up` and `status` read."""
        shared = self.shared_env()
        found = []
        for ep, offset in zip(entry_points(group="webos.workers"), WORKER_OFFSETS, strict=False):
            port = self.base_port + offset
            found.append(Component(f"worker:{ep.name}", "worker", port, [sys.executable, "-m", ep.value],
                                   {**shared, **self.identity_env(f"{ep.name}-worker"),
                                    "WEBOS_SERVICE_NAME": ep.name, "WEBOS_HEALTH_PORT": str(port)}))
        return found
