"""``superbrain migrate WS --to postgresql://…``: move a workspace into a centre's database.

Shows progress, stops cleanly on Ctrl+C (a rerun resumes) and ends with a per-table count on
both sides and the centre's audit chain check. The database password is best kept out of the
command line (``ps``, shell history): libpq reads ``PGPASSWORD`` or ``~/.pgpass``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def cmd_migrate(args: argparse.Namespace) -> int:
    from centre.migrate import migrate
    from core.cli_support import ProgressPrinter, cancel_on_sigint
    from core.workspace import Workspace

    ws = Workspace.open(args.source)
    printer = ProgressPrinter("migrate")
    token = cancel_on_sigint()
    try:
        report = migrate(ws, args.to, batch_size=args.batch_size, progress=printer, cancel=token)
    finally:
        printer.done()
        ws.close()
    for line in report.lines():
        print(line)
    if report.cancelled:
        print(
            "cancelled: the copied batches are kept; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    if not report.ok:
        print("the centre does not hold the whole workspace: see the lines above", file=sys.stderr)
        return 1
    print("done: every table arrived and the centre's audit chain verifies")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``migrate`` subcommand."""
    p = subparsers.add_parser(
        "migrate",
        help="move a workspace into a centre (PostgreSQL); resumable",
        description="Copy records, entities, links, ingest checkpoints, ops state, user "
        "accounts and the audit log of WORKSPACE into the centre database. Safe to "
        "rerun; Ctrl+C stops after the current batch and a rerun resumes. Needs "
        "the users.manage permission.",
    )
    p.add_argument("source", type=Path, metavar="WORKSPACE", help="the workspace folder")
    p.add_argument(
        "--to",
        required=True,
        metavar="postgresql://USER@HOST:PORT/DB",
        help="the centre database (password from PGPASSWORD or ~/.pgpass)",
    )
    p.add_argument("--batch-size", type=int, default=5000, help="rows per committed batch")
    p.set_defaults(func=cmd_migrate)
