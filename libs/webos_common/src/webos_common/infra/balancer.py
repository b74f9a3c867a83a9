"""nginx (Debian's package) as a load balancer on loopback: what a Kubernetes Service is
to a set of pods — one address per service, its replicas behind it.

A replica that refuses connections or breaks one is left out for `FAIL_TIMEOUT`
seconds and the request goes to the next (nginx passes a request with a body on
only while none of it was sent: a POST in flight when its replica dies is
answered 503). When no replica answers, the answer is the platform's 503 with
`Retry-After`, never nginx's 502 page. Bodies and answers stream both ways
unbuffered; WebSockets pass through.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

from webos_common.http.errors import RETRY_AFTER
from webos_common.infra.process import ManagedProcess, wait_port

FAIL_TIMEOUT = 2  # seconds a failed replica is left out before it is tried again
UNAVAILABLE = json.dumps({"error": {"code": "unavailable", "message": "no replica answered; retry later",
                                    "details": {"dependency": "an upstream service"}}})


@dataclass(frozen=True)
class Route:
    """One balanced address: nginx listens on `port` and spreads requests over `replicas`.

    `sticky`: an nginx variable whose value picks the replica (consistent hashing), so the
    same client lands on the same replica; `front`: the public entry (records the client's
    address in X-Forwarded-For; behind it the gateways' header is passed on untouched)."""

    name: str
    port: int
    replicas: tuple[int, ...]
    sticky: str | None = None
    front: bool = False

    def upstream(self) -> str:
        servers = "".join(f"  server 127.0.0.1:{p} max_fails=1 fail_timeout={FAIL_TIMEOUT}s;\n" for p in self.replicas)
        how = f"  hash {self.sticky} consistent;\n" if self.sticky else ""
        return f"upstream {self.name} {{\n{how}{servers}  keepalive 32;\n}}\n"

    def server(self) -> str:
        forwarded = ("    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                     "    proxy_set_header X-Forwarded-Proto $scheme;\n") if self.front else ""
        return (f"server {{\n  listen 127.0.0.1:{self.port};\n  error_page 502 504 =503 @unavailable;\n"
                f"  location / {{\n    proxy_pass http://{self.name};\n{_PROXY_HEADERS}{forwarded}  }}\n"
                f"  location @unavailable {{\n    default_type application/json;\n"
                f"    add_header Retry-After {RETRY_AFTER} always;\n    return 503 '{UNAVAILABLE}';\n  }}\n}}\n")


_PROXY_HEADERS = ("    proxy_set_header Host $http_host;\n"
                  "    proxy_set_header Upgrade $http_upgrade;\n"
                  "    proxy_set_header Connection $connection_upgrade;\n")

_HTTP = """  access_log off;
  client_max_body_size 0;
  proxy_http_version 1.1;
  proxy_buffering off;
  proxy_request_buffering off;
  proxy_connect_timeout 1s;
  proxy_read_timeout 3600s;
  proxy_send_timeout 3600s;
  proxy_next_upstream error timeout;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
"""


def nginx_binary() -> Path:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise RuntimeError("nginx not found: `make install` installs Debian's nginx-light (or apt-get install it)")
    return Path(found)


class NginxBalancer:
    def __init__(self, work_dir: Path, routes: list[Route], *, log_path: Path) -> None:
        self.work_dir = Path(work_dir)
        self.routes = routes
        self.log_path = log_path
        self.port = routes[0].port  # the first route's (the public entry's), which `up` records
        self.process: ManagedProcess | None = None

    @property
    def config_path(self) -> Path:
        return self.work_dir / "nginx.conf"

    @property
    def title(self) -> str:
        """How nginx's master names itself in /proc/<pid>/cmdline (its argv, after this title)."""
        return f"nginx: master process {nginx_binary()}"

    def argv(self) -> list[str]:
        return [str(nginx_binary()), "-e", str(self.log_path), "-p", str(self.work_dir), "-c", str(self.config_path),
                "-g", "daemon off;"]

    def config(self) -> str:
        temp = "".join(f"  {kind}_temp_path {self.work_dir / kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        user = ""
        if os.geteuid() == 0:  # nginx's workers would otherwise run as nobody, unable to use its temp dirs
            user = f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};\n"
        blocks = "".join(route.upstream() + route.server() for route in self.routes)
        return (f"{user}worker_processes 1;\npid {self.work_dir / 'nginx.pid'};\n"
                f"error_log {self.log_path} warn;\nevents {{ worker_connections 4096; }}\n"
                f"http {{\n{temp}{_HTTP}{blocks}}}\n")

    def start(self, timeout: float = 10.0) -> int:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config())
        self.process = ManagedProcess("balancer", self.argv(), log_path=self.log_path)
        pid = self.process.start()
        for route in self.routes:
            wait_port(route.port, timeout=timeout, proc=self.process.proc)
        return pid

    def stop(self) -> None:
        if self.process:
            self.process.stop()
