"""What auditing unit positions costs on a centre: audit entries and bytes per fix and per day,
the positions table, and the time of one ``field.position`` call with its audit append.

``--units`` unit devices each send ``--rounds`` fixes through the real ``field.position``
service on a centre (PostgreSQL, its hash-chained audit table), in process: the devices'
sessions are made directly (no HTTP, no password hashing) and the operations clock advances
``--interval`` seconds per round, so ten minutes of a shift take a minute or two to replay.
The figures per day are for ``--units`` devices reporting every ``--interval`` s (a fix count
per day of units × 86400 / interval) at the measured entries and bytes per fix. One audit
append of a typical position entry is timed on its own (``--appends``).

``--repo DIR`` runs another checkout's code (the service, the engine, the audit log): the
before/after of docs/SECURITY.md ("Position fixes and the audit log") is::

    python bench/server/bench_position_audit.py --repo /work/main   # before: one entry a fix
    python bench/server/bench_position_audit.py                     # after: one a unit-minute

Needs a PostgreSQL (``SUPERBRAIN_PG_URL``); creates and drops its own database.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from centre_harness import REPO, scratch_centre, summary

ADMIN_PASSWORD = "Bz4-bench-leader-2026"


def table_figures(db_url: str, after_seq: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(db_url) as con:
        entries, line_bytes, row_bytes = con.execute(
            "SELECT count(*), coalesce(sum(octet_length(line)), 0), "
            "coalesce(sum(pg_column_size(a.*)), 0) FROM audit_log a WHERE seq > %s "
            "AND action = 'field.position'",
            (after_seq,),
        ).fetchone()
        out = {
            "audit_entries": int(entries),
            "audit_line_bytes": int(line_bytes),
            "audit_row_bytes": int(row_bytes),
        }
        if con.execute("SELECT to_regclass('ops_positions')").fetchone()[0] is not None:
            rows, pbytes = con.execute(
                "SELECT count(*), coalesce(sum(pg_column_size(p.*)), 0) FROM ops_positions p "
                "WHERE via = 'device'"
            ).fetchone()
            out |= {"position_rows": int(rows), "position_row_bytes": int(pbytes)}
    return out


def run(config: Path, db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    from centre.workspace import open_centre
    from core.security import Session
    from core.services import ServiceContext, call
    from ops.service import ops_for

    ws = open_centre(config, application_name="bench-position-audit")
    try:
        admin = ServiceContext(ws, Session("chief", "administrator"))
        units = [
            u["id"] if isinstance(u, dict) else u.id
            for u in call("ops.seed_units", admin, count=args.units)
        ]
        ops = ops_for(ws)
        with ops.ctx.tx() as tx:  # setup, not measured: one device account per unit
            for n, unit in enumerate(units):
                tx.con.execute(
                    "INSERT INTO ops_unit_devices (account, unit_id, bound_by, "
                    "bound_at) VALUES (?,?,?,?)",
                    (f"dev-{n:04d}", unit, "chief", tx.now),
                )
        devices = [ServiceContext(ws, Session(f"dev-{n:04d}", "unit")) for n in range(len(units))]
        now = [time.time()]
        ops.ctx.clock = lambda: now[0]  # simulated shift time: --interval per round
        seq0 = int(
            ws.db.connection.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
        )
        times: list[float] = []
        wall0 = time.perf_counter()
        for r in range(args.rounds):
            for n, device in enumerate(devices):
                t0 = time.perf_counter()
                call(
                    "field.position",
                    device,
                    lat=30.7 + n * 1e-4 + r * 1e-5,
                    lon=120.7 + r * 1e-5,
                    accuracy_m=12,
                )
                times.append(time.perf_counter() - t0)
            now[0] += args.interval
        wall = time.perf_counter() - wall0
        figures = table_figures(db_url, seq0)
        appends = []
        for i in range(args.appends):
            t0 = time.perf_counter()
            ws.audit.append(
                "bench-device",
                "bench.position_append",
                {"lat": 30.7 + i * 1e-5, "lon": 120.7, "accuracy_m": 12},
            )
            appends.append(time.perf_counter() - t0)
    finally:
        ws.close()
    fixes = len(times)
    per_day = args.units * 86400 / args.interval
    per_fix = figures["audit_entries"] / fixes
    out: dict[str, Any] = {
        "fixes": fixes,
        "simulated_minutes": round(args.rounds * args.interval / 60, 1),
        "field_position_call": summary(times),
        "fixes_per_s_replayed": round(fixes / wall, 1),
        "audit_entries": figures["audit_entries"],
        "audit_entries_per_fix": round(per_fix, 4),
        "audit_bytes_per_entry": round(
            figures["audit_line_bytes"] / max(1, figures["audit_entries"])
        ),
        "per_day": {
            "fixes": round(per_day),
            "audit_entries": round(per_fix * per_day),
            "audit_line_mb": round(figures["audit_line_bytes"] / fixes * per_day / 1e6, 1),
            "audit_table_mb": round(figures["audit_row_bytes"] / fixes * per_day / 1e6, 1),
        },
        "audit_append_alone": summary(appends),
    }
    if "position_rows" in figures:
        out["position_rows"] = figures["position_rows"]
        out["per_day"]["position_table_mb"] = round(
            figures["position_row_bytes"] / max(1, figures["position_rows"]) * per_day / 1e6, 1
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=36, help="fixes per unit")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="the checkout whose code runs (default: this one)"
    )
    args = parser.parse_args()
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo))
    with scratch_centre(
        "bench_posaudit", admin="chief", password=ADMIN_PASSWORD, repo=repo
    ) as centre:
        result = run(centre.config, centre.database_url, args)
    print(json.dumps({"args": {**vars(args), "repo": str(repo)}, **result}, indent=1))


if __name__ == "__main__":
    main()
