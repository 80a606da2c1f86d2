"""How fast position retention deletes, and what it frees (ops/retention.py).

Builds a throw-away workspace (SQLite) holding ``--units`` units that reported every 10 s for
``--days`` days (rows written straight into ``ops_positions`` and ``ops_position_marks``, as
``ops.positions`` would have), then runs the prune with a retention of ``--keep`` days and
reports fixes deleted per second, the time the writers' lock was held per transaction, and the
file size before and after (after VACUUM).

    python bench/ops/bench_prune_positions.py [--units 50] [--days 3] [--keep 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# Run from a checkout: import this tree's packages, whatever `pip install -e` points at.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.workspace import Workspace
from ops.positions import MARK_S
from ops.retention import prune
from ops.service import OpsService

EVERY_S = 10
DAY = 86_400


def fill(ws: Workspace, units: int, days: int, now: float) -> int:
    """Fixes of ``units`` units every 10 s over ``days`` days up to ``now``; one mark per unit
    and hour (the first fix of an audit minute in that hour)."""
    con = ws.store.connection
    start = now - days * DAY
    rows = []
    n = 0
    t = start
    while t < now:
        for u in range(units):
            rows.append((f"U{u:03d}", 30.75, 120.76, t, t, "device-" + str(u), "device"))
        if len(rows) >= 50_000:
            con.executemany(
                "INSERT INTO ops_positions (unit_id, lat, lon, at, ts, account, via) "
                "VALUES (?,?,?,?,?,?,?)",
                rows,
            )
            n += len(rows)
            rows = []
        t += EVERY_S
    if rows:
        con.executemany(
            "INSERT INTO ops_positions (unit_id, lat, lon, at, ts, account, via) "
            "VALUES (?,?,?,?,?,?,?)",
            rows,
        )
        n += len(rows)
    con.execute(
        "INSERT OR IGNORE INTO ops_position_marks (account, unit_id, hour, fix_id) "
        "SELECT account, unit_id, CAST(ts / ? AS INTEGER), min(id) FROM ops_positions "
        "GROUP BY account, unit_id, CAST(ts / ? AS INTEGER)",
        (MARK_S, MARK_S),
    )
    con.commit()
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--keep", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-prune-") as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        ops = OpsService(ws)
        now = time.time()
        t0 = time.perf_counter()
        total = fill(ws, args.units, args.days, now)
        filled = time.perf_counter() - t0
        path = Path(ws.store.path)
        before = path.stat().st_size
        lock_holds: list[float] = []
        real_tx = ops.ctx.tx

        class TimedTx:
            def __init__(self) -> None:
                self.tx = real_tx()

            def __enter__(self) -> object:
                self.t = time.perf_counter()
                return self.tx.__enter__()

            def __exit__(self, *exc: object) -> None:
                self.tx.__exit__(*exc)
                lock_holds.append(time.perf_counter() - self.t)

        ops.ctx.tx = TimedTx  # type: ignore[method-assign,assignment]
        t0 = time.perf_counter()
        result = prune(ops.ctx, args.keep)
        took = time.perf_counter() - t0
        left = ws.store.connection.execute("SELECT count(*) FROM ops_positions").fetchone()[0]
        ws.store.connection.execute("VACUUM")
        after = path.stat().st_size
        ws.close()
    holds = sorted(lock_holds)
    print(
        json.dumps(
            {
                "units": args.units,
                "days": args.days,
                "keep_days": args.keep,
                "fixes": total,
                "fill_s": round(filled, 1),
                "deleted": result.deleted,
                "left": left,
                "prune_s": round(took, 2),
                "deleted_per_s": round(result.deleted / took) if took else None,
                "transactions": len(holds),
                "lock_hold_ms_p50": round(1000 * holds[len(holds) // 2], 1) if holds else None,
                "lock_hold_ms_max": round(1000 * holds[-1], 1) if holds else None,
                "file_mb_before": round(before / 1e6, 1),
                "file_mb_after_vacuum": round(after / 1e6, 1),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
