"""A throwaway nginx reverse proxy on loopback with its own config and prefix."""

from __future__ import annotations

import shutil
from pathlib import Path

from webos_common.infra.process import ManagedProcess, wait_port

CONFIG = """
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
    upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def nginx_binary() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        raise SystemExit("nginx is missing: apt-get install -y nginx")
    return path


def start_nginx(root: Path, *, port: int, backend_port: int) -> ManagedProcess:
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(CONFIG.format(root=root, port=port, backend_port=backend_port))
    proc = ManagedProcess("nginx", [nginx_binary(), "-p", str(root), "-c", str(conf)], log_path=root / "out.log")
    proc.start()
    wait_port(port, timeout=10, proc=proc.proc)
    return proc
