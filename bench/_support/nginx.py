"""A throwaway nginx on loopback with its own config and prefix: a reverse proxy (the
gateway bench's yardstick) or a static file server with WebDAV PUT (the storage bench's)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from webos_common.infra.process import ManagedProcess, wait_port

CONFIG = """
{user}
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
{server}
}}
"""

PROXY = """
    upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
"""

FILES = """
    sendfile on;
    tcp_nopush on;
    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{port};
        root {files};
        location /upload/ {{ dav_methods PUT; create_full_put_path on; }}
    }}
"""


def nginx_binary() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        raise SystemExit("nginx is missing: apt-get install -y nginx")
    return path


def start_nginx(root: Path, *, port: int, backend_port: int | None = None, files: Path | None = None
                ) -> ManagedProcess:
    """A proxy to `backend_port`, or a server of the folder `files` (GET, and PUT under /upload/)."""
    root.mkdir(parents=True, exist_ok=True)
    server = (PROXY.format(port=port, backend_port=backend_port) if files is None
              else FILES.format(port=port, files=files))
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read a temp folder root made
    conf = root / "nginx.conf"
    conf.write_text(CONFIG.format(user=user, root=root, server=server))
    proc = ManagedProcess("nginx", [nginx_binary(), "-p", str(root), "-c", str(conf)], log_path=root / "out.log")
    proc.start()
    wait_port(port, timeout=10, proc=proc.proc)
    return proc
