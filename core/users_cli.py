"""``superbrain users``: add, passwd, list, disable, enable, role, es-credentials, whoami.

Passwords never go on the command line (shell history, ``ps``): they are read from an
environment variable or asked for on a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from core.users import UserError

if TYPE_CHECKING:
    from core.workspace import Workspace

NEW_PASSWORD_ENV = "SUPERBRAIN_NEW_PASSWORD"
ES_SECRET_ENV = "SUPERBRAIN_ES_SECRET"


def _secret(env: str, prompt: str, *, confirm: bool) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UserError(f"no terminal to ask for the {prompt}: set {env}")
    first = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass(f"{prompt} (again): ") != first:
        raise UserError(f"the two {prompt}s differ")
    return first


def bootstrap_admin(workspace: Workspace, name: str) -> None:
    """Create the first administrator of a workspace that has no accounts yet."""
    from core import users
    from core.services import call, local_context

    if users.UserStore(workspace.root / users.USERS_FILE).has_users():
        raise UserError(
            f"workspace {str(workspace.root)!r} already has accounts: an "
            "administrator adds more with `superbrain users add`"
        )
    password = _secret(NEW_PASSWORD_ENV, f"password for {name}", confirm=True)
    call("users.add", local_context(workspace), name=name, role="administrator", password=password)
    print(
        f"administrator {name} created; from now on everybody logs in "
        "(SUPERBRAIN_USER / SUPERBRAIN_PASSWORD or a prompt)"
    )


def cmd_users(args: argparse.Namespace) -> int:
    """Each subcommand calls one ``users.*`` service with the authenticated session."""
    from core.cli_support import Column, emit, service_context, table
    from core.services import call

    ctx = service_context(args)
    cmd = args.users_cmd
    if cmd == "add":
        password = _secret(NEW_PASSWORD_ENV, f"password for {args.name}", confirm=True)
        record = call("users.add", ctx, name=args.name, role=args.role, password=password)
        print(f"user {record['name']} added with role {record['role']}")
    elif cmd == "passwd":
        password = _secret(NEW_PASSWORD_ENV, f"new password for {args.name}", confirm=True)
        call("users.passwd", ctx, name=args.name, password=password)
        print(f"password of {args.name} changed")
    elif cmd in ("disable", "enable"):
        call("users.enable", ctx, name=args.name, enabled=cmd == "enable")
        print(f"user {args.name} {cmd}d")
    elif cmd == "role":
        call("users.role", ctx, name=args.name, role=args.role)
        print(f"user {args.name} now has role {args.role}")
    elif cmd == "es-credentials":
        secret = _secret(
            ES_SECRET_ENV,
            "Elasticsearch " + ("password" if args.username else "API key"),
            confirm=False,
        )
        if args.username:
            call(
                "users.es_credentials", ctx, name=args.name, username=args.username, password=secret
            )
        else:
            call("users.es_credentials", ctx, name=args.name, api_key=secret)
        print(f"Elasticsearch credentials of {args.name} stored")
    elif cmd == "whoami":
        s = call("users.whoami", ctx)
        print(f"{s['user']} ({s['role']}, via {s['via']}): {', '.join(s['permissions'])}")
    else:  # list
        rows = call("users.list", ctx)
        emit(
            args,
            rows,
            [
                *table(
                    rows,
                    [
                        Column("name", lambda r: r["name"], 20),
                        Column("role", lambda r: r["role"], 14),
                        Column("state", lambda r: "DISABLED" if r["disabled"] else "active", 9),
                        Column("since", lambda r: r["created"], time=True),
                    ],
                    ctx.workspace.zone,
                ),
                f"{len(rows)} accounts",
            ],
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``superbrain users`` to the command line."""
    from core.cli_support import add_json_arg, add_workspace_arg
    from core.security import default_roles

    roles = list(default_roles().grants)

    p = subparsers.add_parser(
        "users",
        help="manage user accounts and roles (administrators)",
        description="User accounts of the workspace. Until the first account exists, whoever "
        "runs superbrain acts as administrator; the first account must be an "
        "administrator. Passwords are read from $" + NEW_PASSWORD_ENV + " or asked "
        "for on a terminal, never taken from the command line.",
    )
    add_workspace_arg(p)
    sub = p.add_subparsers(dest="users_cmd", required=True)
    q = sub.add_parser("add", help="create an account")
    q.add_argument("name")
    q.add_argument("--role", required=True, choices=roles)
    q = sub.add_parser("passwd", help="set a new password (your own, or anyone's as admin)")
    q.add_argument("name")
    q = sub.add_parser("list", help="list accounts")
    add_json_arg(q)
    for name in ("disable", "enable"):
        sub.add_parser(name, help=f"{name} an account").add_argument("name")
    q = sub.add_parser("role", help="change an account's role")
    q.add_argument("name")
    q.add_argument("role", choices=roles)
    q = sub.add_parser(
        "es-credentials",
        help="store per-user Elasticsearch credentials (API key by default)",
        description="The API key (or, with --username, the password) is read "
        f"from ${ES_SECRET_ENV} or asked for on a terminal.",
    )
    q.add_argument("name")
    q.add_argument("--username", help="use basic authentication with this Elasticsearch user")
    sub.add_parser("whoami", help="show the acting user, role and permissions")
    p.set_defaults(func=cmd_users)
