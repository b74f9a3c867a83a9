"""Entry point of the loopback servers: `python -m webos_storage.testing.servers KIND …`.

Each runs as its own process so a test can stop it (a source going down)
and the benchmark measures it apart from the client:

* `ftp`    pyftpdlib (`--cert/--key`: FTPS, explicit TLS required on control and data)
* `sftp`   asyncssh's SSH server with its SFTP server, chrooted to `--root`
* `webdav` WsgiDAV on cheroot, basic auth
* `drive`  `drive_server.app` on uvicorn: the Drive v3 subset the adapter uses
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any


def ftp(args: argparse.Namespace) -> None:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
    from pyftpdlib.servers import FTPServer

    auth = DummyAuthorizer()
    auth.add_user(args.user, args.password, args.root, perm="elradfmwMT")
    handler = TLS_FTPHandler if args.cert else FTPHandler
    if args.cert:
        handler.certfile, handler.keyfile = args.cert, args.key
        handler.tls_control_required = handler.tls_data_required = True
    handler.authorizer = auth
    handler.banner = "webos loopback ftp"
    FTPServer(("127.0.0.1", args.port), handler).serve_forever(timeout=1)


def sftp(args: argparse.Namespace) -> None:
    import asyncssh

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return bool(username == args.user and password == args.password)

    async def main() -> None:
        key = asyncssh.generate_private_key("ssh-ed25519")
        await asyncssh.create_server(Server, "127.0.0.1", args.port, server_host_keys=[key],
                                     sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=args.root.encode()))
        await asyncio.Event().wait()

    asyncio.run(main())


def _destination_parse(url: str, scheme: str = "", allow_fragments: bool = True) -> Any:
    """WsgiDAV 4.4 percent-decodes `Destination` before splitting it, so a name
    with `?` is cut at it; this parse keeps everything after the host as the path."""
    from urllib.parse import ParseResult, urlsplit

    parts = urlsplit(url.replace("?", "\uf03f"), scheme, allow_fragments=False)
    return ParseResult(parts.scheme, parts.netloc, parts.path.replace("\uf03f", "?"), "", "", "")


def webdav(args: argparse.Namespace) -> None:
    from cheroot import wsgi
    from wsgidav import request_server
    from wsgidav.wsgidav_app import WsgiDAVApp

    request_server.urlparse = _destination_parse

    app = WsgiDAVApp({
        "provider_mapping": {"/": args.root},
        "simple_dc": {"user_mapping": {"*": {args.user: {"password": args.password}}}},
        "http_authenticator": {"accept_basic": True, "accept_digest": False, "default_to_digest": False},
        "verbose": 1, "logging": {"enable_loggers": []}, "property_manager": True, "lock_storage": True,
    })
    wsgi.Server(("127.0.0.1", args.port), app, numthreads=8).safe_start()


def drive(args: argparse.Namespace) -> None:
    import uvicorn

    from webos_storage.testing.drive_server import create_app

    app = create_app(Path(args.root), client_id=args.user, client_secret=args.password,
                     refresh_token=args.token)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["ftp", "sftp", "webdav", "drive"])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    {"ftp": ftp, "sftp": sftp, "webdav": webdav, "drive": drive}[args.kind](args)


if __name__ == "__main__":
    main()
