"""``superbrain console [-w WORKSPACE]``: open the desktop console on a workspace.

Imports no Qt until the command runs, so the CLI works on machines without a display.
"""

from __future__ import annotations

import argparse
from typing import Any


def cmd_console(args: argparse.Namespace) -> int:
    from core.cli import launch_console

    return launch_console(args.workspace)


def register(subparsers: Any) -> None:
    """Add the ``console`` subcommand to the ``superbrain`` parser."""
    from core.cli import add_workspace_arg

    p = subparsers.add_parser("console", help="open the desktop console on a workspace",
                              description="Open the console (search, link chart, faces, map, "
                                          "dashboards, dispatch board) on WORKSPACE.")
    add_workspace_arg(p)
    p.set_defaults(func=cmd_console)
