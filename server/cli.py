"""``superbrain serve`` and ``superbrain centre`` (init, cert, users)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from core.errors import WorkspaceError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run a centre server process (HTTPS API for consoles)",
        description="Serve the centre described by --config to consoles. Run several "
        "processes (other --port, or other machines) on one PostgreSQL: they share "
        "everything. Stop with Ctrl+C or SIGTERM.",
    )
    p.add_argument("--config", type=Path, required=True, metavar="centre.toml")
    p.add_argument("--host", help="override [server] host")
    p.add_argument("--port", type=int, help="override [server] port")
    p.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("centre", help="prepare a centre: tables, first administrator, TLS")
    csub = p.add_subparsers(dest="centre_cmd", required=True)
    q = csub.add_parser(
        "init",
        help="create the tables and the first administrator",
        description="Create the centre's tables in PostgreSQL (idempotent) and, "
        "with --admin, the first administrator (password from "
        "$SUPERBRAIN_NEW_PASSWORD or asked for).",
    )
    q.add_argument("--config", type=Path, required=True, metavar="centre.toml")
    q.add_argument("--admin", metavar="NAME")
    q.set_defaults(func=cmd_init)
    q = csub.add_parser("cert", help="make a self-signed TLS certificate for trials")
    q.add_argument("--out", type=Path, required=True, help="folder for cert.pem and key.pem")
    q.add_argument(
        "--host",
        action="append",
        default=[],
        help="host name or IP address the consoles use (repeat; default 127.0.0.1 and localhost)",
    )
    q.add_argument("--days", type=int, default=90)
    q.set_defaults(func=cmd_cert)
    q = csub.add_parser("add-user", help="add an account (as the centre's administrator)")
    q.add_argument("--config", type=Path, required=True, metavar="centre.toml")
    q.add_argument("name")
    q.add_argument("--role", required=True)
    q.set_defaults(func=cmd_add_user)


def _new_password(name: str) -> str:
    password = os.environ.get("SUPERBRAIN_NEW_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise WorkspaceError(
            f"set SUPERBRAIN_NEW_PASSWORD to the password for {name!r}, or "
            "run on a terminal to be asked"
        )
    first = getpass.getpass(f"new password for {name}: ")
    if first != getpass.getpass("again: "):
        raise WorkspaceError("the two passwords differ")
    return first


def cmd_init(args: argparse.Namespace) -> int:
    from centre.workspace import open_centre
    from core.users import UserError

    ws = open_centre(args.config, application_name="superbrain-init")
    try:
        print(
            f"centre {ws.centre.name!r}: tables ready in PostgreSQL; data folder "
            f"{ws.centre.data_dir}"
        )
        if args.admin:
            if ws.accounts.has_users():
                raise UserError(
                    "the centre has accounts already; add more through a console "
                    "or `superbrain centre add-user` as an administrator"
                )
            ws.accounts.add(args.admin, "administrator", _new_password(args.admin))
            ws.audit.append(
                args.admin,
                "users.add",
                {"name": args.admin, "role": "administrator", "via": "centre init"},
            )
            print(f"administrator {args.admin!r} created")
    finally:
        ws.close()
    return 0


def cmd_add_user(args: argparse.Namespace) -> int:
    """Add an account as an administrator (SUPERBRAIN_USER / SUPERBRAIN_PASSWORD): through the
    guarded ``core.users.add_user``, so the check and the audit are the usual ones."""
    from centre.workspace import open_centre
    from core.users import add_user

    ws = open_centre(args.config, application_name="superbrain-cli")
    try:
        add_user(ws, args.name, args.role, _new_password(args.name))
        print(f"user {args.name!r} ({args.role}) added")
    finally:
        ws.close()
    return 0


def cmd_cert(args: argparse.Namespace) -> int:
    from server.tls import make_self_signed

    hosts = args.host or ["127.0.0.1", "localhost"]
    cert, key = make_self_signed(args.out, hosts, days=args.days)
    print(
        f"certificate {cert}\nprivate key {key} (mode 0600)\nfor {', '.join(hosts)}; set "
        "them as [server] certificate and private_key, and give consoles the certificate "
        "as their CA file"
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from centre.config import load_centre_config
    from centre.workspace import open_centre
    from server.app import build_app
    from server.config import load_server_config

    server_cfg = load_server_config(load_centre_config(args.config), host=args.host, port=args.port)
    ws = open_centre(args.config, application_name=f"superbrain-serve:{server_cfg.port}")
    app = build_app(ws, server_cfg)
    print(
        f"superbrain serve: centre {ws.centre.name!r} on {server_cfg.url} (pid {os.getpid()})",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.run(
            app,
            host=server_cfg.host,
            port=server_cfg.port,
            ssl_certfile=str(server_cfg.certificate) if server_cfg.tls else None,
            ssl_keyfile=str(server_cfg.private_key) if server_cfg.tls else None,
            log_level=args.log_level,
            timeout_graceful_shutdown=5,
            server_header=False,
            proxy_headers=False,
        )
    finally:
        ws.close()
    return 0
