"""``superbrain console [-w WORKSPACE]``: open the desktop console on a workspace.

Without ``-w`` it behaves as ``superbrain`` alone: the last workspace, else the default one,
else an offer to build the demo (:func:`console.app.run_default`). Imports no Qt until the
command runs, so the CLI works on machines without a display.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def cmd_console(args: argparse.Namespace) -> int:
    from core.cli import has_display, launch_console

    if args.server:
        if not has_display():
            print("no display: not opening the console", file=sys.stderr)
            return 0
        from console.remote_app import run_remote

        return run_remote(args.server, ca_certs=args.ca_certs or "")
    return launch_console(args.workspace)


def register(subparsers: Any) -> None:
    """Add the ``console`` subcommand to the ``superbrain`` parser."""
    p = subparsers.add_parser(
        "console",
        help="open the desktop console on a workspace",
        description="Open the console (search, link chart, faces, map, "
        "dashboards, dispatch board) on WORKSPACE.",
    )
    # no default: without -w the console picks the workspace as `superbrain` alone does
    p.add_argument(
        "-w",
        "--workspace",
        type=Path,
        default=None,
        help="workspace folder (default: the last one opened, else "
        "$SUPERBRAIN_WORKSPACE or ./workspace, else an offer to build the demo)",
    )
    p.add_argument(
        "--server",
        metavar="URL",
        help="work as a client of a centre server (https://host:port) instead of "
        "on a workspace folder: log in there; searches, expansions and "
        "dispatch run and are audited on the server",
    )
    p.add_argument(
        "--ca-certs", metavar="PEM", help="CA certificate that signed the server's TLS certificate"
    )
    p.set_defaults(func=cmd_console)
