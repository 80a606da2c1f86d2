"""Build a large demo workspace one source at a time, so each step fits a short benchmark slot.

``superbrain demo --size N`` generates and ingests every built-in source in one go; at a million
records that is well over half an hour on two cores. This script does the same work per source
(the same generators, the same :func:`core.cli.run_ingest`), so a build can be spread over
several runs, each under the shared benchmark lock::

    for s in $(python bench/console/build_workspace.py --list); do
        flock /work/bench.lock python bench/console/build_workspace.py -w /tmp/console-1m \\
            --records 1000000 --source "$s"
    done
    python bench/console/build_workspace.py -w /tmp/console-1m --records 1000000 --finish

``--records`` is the total wanted; rows per source follow the demo's own proportions (the
watchlist is 2 % of a full source). A source already ingested is skipped (the ingest journal
knows its file), so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def rows_per_source(plugins: list, total: int) -> int:
    """Rows of a full-size source so that the demo totals ``total`` records."""
    weight = sum(min(1.0, p.demo_fraction) for p in plugins)
    return max(1, round(total / weight))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-w", "--workspace", type=Path)
    parser.add_argument("--records", type=int, default=1_000_000, help="total records wanted")
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        help="build only this source (repeatable; default: all, unless --finish)",
    )
    parser.add_argument("--list", action="store_true", help="print the source names and exit")
    parser.add_argument(
        "--finish",
        action="store_true",
        help="after the sources: let the engines prepare their demo part (ops seeds units)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from core.cli import prepare_demo, run_ingest
    from core.workspace import Workspace

    if args.workspace is None and not args.list:
        parser.error("-w/--workspace is required")
    if args.list:  # the installed sources (entry points), no workspace needed
        from plugins.registry import discover

        print(" ".join(p.name for p in discover([]).plugins() if p.can_generate))
        return 0
    ws = Workspace.init(args.workspace)
    plugins = [p for p in ws.discover_sources().plugins() if p.can_generate]
    full = rows_per_source(plugins, args.records)
    for plugin in plugins:
        if (args.source and plugin.name not in args.source) or (args.finish and not args.source):
            continue  # --finish alone only does the engines' part
        rows = full if plugin.demo_fraction >= 1 else max(10, round(full * plugin.demo_fraction))
        out = ws.data_dir / plugin.name
        started = time.perf_counter()
        files = plugin.generate(out, rows, seed=args.seed)
        print(
            f"{plugin.name}: {rows:,} rows generated in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        rc = run_ingest(ws, plugin.name, files, quiet=True)
        print(
            f"{plugin.name}: ingest finished {time.perf_counter() - started:.0f} s after the "
            f"start (rc {rc})",
            file=sys.stderr,
        )
        if rc:
            return rc
    if args.finish:
        prepare_demo(ws)
    print(
        f"workspace {ws.root}: {ws.store.count():,} records, "
        f"{ws.store.count('entities'):,} entities, {ws.store.count('links'):,} links"
    )
    ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
