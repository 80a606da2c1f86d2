"""An example third-party CLI command: ``superbrain gridlog-check FILE…``.

Declared in this package's ``superbrain.commands`` entry-point group; superbrain finds it the
way it finds its own commands (``core.extensions``). It reads patrol logs with the same source
the ingest uses and says, per file, how many lines are good and which are not, writing nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import RowError
from superbrain_example_plugin import GridLogSource


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``gridlog-check`` to superbrain's command line."""
    p = sub.add_parser("gridlog-check", help="check grid-worker patrol logs before an ingest")
    p.add_argument("files", nargs="+", type=Path)
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    """Print ``FILE: N rows, M bad`` and each bad line; exit 1 when a file has bad lines."""
    source = GridLogSource()
    status = 0
    for path in args.files:
        good = bad = 0
        for item in source.read(path):
            if isinstance(item, RowError):
                bad += 1
                print(f"  {path.name}: {item}")
            else:
                good += 1
        print(f"{path}: {good} rows, {bad} bad")
        status = status or int(bad > 0)
    return status
