"""What `webos up` starts, on which ports, with which environment.

Every port derives from one base (default 8700) so a second stack — a test,
a benchmark — can run beside the first by picking another base.

Cluster mode (`webos up --cluster`) keeps every URL a process is given: the
balancer (nginx) listens on the single-node ports of the gateway and the kernel
services (base+0 … base+5), and replica k (1 or 2) of a service, module host or
worker listens at base + 30·k + its single-node offset. MongoDB's members are at
base+20, +22, +23; NATS's client ports at base+21, +24, +25 and its routes at
base+26, +27, +28. The whole range is base … base+89.
"""

from __future__ import annotations

import json
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
# cluster mode (see the module's docstring)
REPLICAS, REPLICA_STRIDE = 2, 30
MONGO_OFFSETS, NATS_OFFSETS, ROUTE_OFFSETS = (20, 22, 23), (21, 24, 25), (26, 27, 28)
CLUSTER_SPAN = REPLICA_STRIDE * (REPLICAS + 1)


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
        """Its name on NATS and at auth: the service, the module, or `<name>-worker` (replicas
        `<name>.<k>` share their component's)."""
        base = self.name.partition(".")[0]
        kind, _, name = base.partition(":")
        if kind == "worker":
            return f"{name}-worker"
        return name or base


@dataclass
class StackPlan:
    state_dir: Path
    base_port: int = 8700
    cluster: bool = False  # replicas of everything behind a balancer (module docstring)

    @classmethod
    def recorded(cls, state_dir: Path, base_port: int) -> StackPlan:
        """The plan of the stack running from `state_dir`: in cluster mode if it was started so."""
        try:
            cluster = bool(json.loads((state_dir / "state.json").read_text()).get("cluster"))
        except (OSError, ValueError):
            cluster = False
        return cls(state_dir=state_dir, base_port=base_port, cluster=cluster)

    def replicas(self, offset: int) -> list[tuple[str, int]]:
        """(name suffix, port) of each replica of the component at `offset`."""
        if not self.cluster:
            return [("", self.base_port + offset)]
        return [(f".{k}", self.base_port + REPLICA_STRIDE * k + offset) for k in range(1, REPLICAS + 1)]

    @property
    def mongo_ports(self) -> list[int]:
        return [self.base_port + o for o in (MONGO_OFFSETS if self.cluster else MONGO_OFFSETS[:1])]

    @property
    def nats_ports(self) -> list[int]:
        return [self.base_port + o for o in (NATS_OFFSETS if self.cluster else NATS_OFFSETS[:1])]

    @property
    def route_ports(self) -> list[int]:
        return [self.base_port + o for o in ROUTE_OFFSETS] if self.cluster else []

    @property
    def infra_names(self) -> set[str]:
        """What `up` starts before anything else, and without which nothing runs."""
        if not self.cluster:
            return {"mongodb", "nats", "s3"}
        return {"s3", "balancer", *(f"mongodb.{k}" for k in (1, 2, 3)), *(f"nats.{k}" for k in (1, 2, 3))}

    @property
    def nats_url(self) -> str:
        """Every NATS node, comma-separated (`webos_common.bus.connection.nats_servers` splits them)."""
        return ",".join(f"nats://127.0.0.1:{port}" for port in self.nats_ports)

    @property
    def mongo_url(self) -> str:
        if not self.cluster:
            return f"mongodb://127.0.0.1:{self.mongo_port}/?replicaSet=rs0&directConnection=true"
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.mongo_ports)
        return f"mongodb://{hosts}/?replicaSet=rs0&w=majority&retryWrites=true&retryReads=true"

    def balanced(self) -> dict[str, tuple[int, list[int]]]:
        """Cluster mode: each balanced service's (port the balancer listens on, its replicas' ports)."""
        return {name: (self.base_port + offset, [port for _, port in self.replicas(offset)])
                for name, (_, offset) in SERVICES.items()}

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

    def _replica_env(self, service: str, suffix: str) -> dict[str, str]:
        """Each shell replica keeps NiceGUI's files in a folder of its own, as each container has
        its own disk: a person's session must come from the shared bucket, never from a folder
        the replicas happen to share on one machine (the cluster test kills each in turn)."""
        if service == "shell-ui":
            return {"NICEGUI_STORAGE_PATH": str(self.state_dir / f"shell-storage{suffix}")}
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
            "WEBOS_MONGO_URL": self.mongo_url,
            "WEBOS_NATS_URL": self.nats_url,
            "WEBOS_NATS_CA_FILE": str(self.tls_dir / "ca.pem"),  # TLS on every NATS connection
            "WEBOS_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "WEBOS_PUBLIC_URL": f"http://127.0.0.1:{self.base_port}",
        }
        for name, (_, offset) in SERVICES.items():
            key = "SHELL" if name == "shell-ui" else name.upper()
            env[f"WEBOS_{key}_URL"] = f"http://127.0.0.1:{self.base_port + offset}"
        if self.cluster:  # streams and buckets R3 (provisioning), the rate limits shared by the gateways
            env |= {"WEBOS_BUS_REPLICAS": str(len(self.nats_ports)), "WEBOS_RATE_LIMIT_STORE": "nats"}
        return env

    def services(self) -> list[Component]:
        shared = self.shared_env()
        return [
            Component(name + suffix, "service", port, [sys.executable, "-m", package],
                      {**shared, **self.identity_env(name), **self._extra_env(name), **self._replica_env(name, suffix),
                       "WEBOS_PORT": str(port), "WEBOS_SERVICE_NAME": name})
            for name, (package, offset) in SERVICES.items() for suffix, port in self.replicas(offset)
        ]

    def modules(self) -> list[Component]:
        """One module host per installed module (entry-point group `webos.modules`)."""
        shared = self.shared_env()
        names = sorted({ep.name for ep in entry_points(group="webos.modules")})
        return [
            Component(f"module:{name}{suffix}", "module", port, [sys.executable, "-m", "webos_modulehost", name],
                      {**shared, **self.identity_env(name), "WEBOS_PORT": str(port), "WEBOS_SERVICE_NAME": name})
            for i, name in enumerate(names) for suffix, port in self.replicas(MODULE_OFFSET + i)
        ]

    def workers(self) -> list[Component]:
        """Background processes with no API (the task worker): each serves only its probes
        (`/healthz`, `/readyz`, `/metrics` on `WEBOS_HEALTH_PORT`), which `up` and `status` read."""
        shared = self.shared_env()
        found = []
        for ep, offset in zip(entry_points(group="webos.workers"), WORKER_OFFSETS, strict=False):
            for suffix, port in self.replicas(offset):
                found.append(Component(f"worker:{ep.name}{suffix}", "worker", port, [sys.executable, "-m", ep.value],
                                       {**shared, **self.identity_env(f"{ep.name}-worker"),
                                        "WEBOS_SERVICE_NAME": ep.name, "WEBOS_HEALTH_PORT": str(port)}))
        return found
