"""Recommendation latency over 1,000 units and 10,000 open incidents (docs/PERFORMANCE.md).

Builds a throw-away workspace, loads units and open incidents through the real service and
intake path, then times, side by side in one run:

* ``recommend(incident)`` with the roster snapshot cached (nothing moved since the last call);
* the same right after a unit moved (snapshot rebuilt from SQLite on every call);
* a pure-Python loop (math.haversine per unit) doing the same work, for the ratio;
* ``recommend_open()``: best 3 units for every open incident at once (chunked matrix).

    python bench/ops/bench_recommend.py [--units 1000] [--incidents 10000] [--samples 2000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# Run from a checkout: import this tree's packages, whatever `pip install -e` points at.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.model import Record
from core.workspace import Workspace
from ops.geo import haversine_m
from ops.service import OpsService

CATEGORIES = ["入室盗窃", "电动车被盗", "纠纷", "交通事故", "火警", "燃气泄漏", "噪音扰民", "诈骗"]
TYPES = ["patrol_car", "patrol_car", "motorcycle", "foot", "community", "traffic", "special"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def row(label: str, ms: list[float]) -> str:
    return (
        f"{label:<44} {len(ms):>6} {statistics.fmean(ms):8.3f} {pct(ms, 50):8.3f} "
        f"{pct(ms, 95):8.3f} {pct(ms, 99):8.3f} {max(ms):8.3f}"
    )


def python_recommend(ops: OpsService, incident_id: int, limit: int = 5) -> list[str]:
    """The same recommendation written as a plain loop over the units (baseline)."""
    inc = ops.incidents.get(incident_id)
    need = set(inc.routing.get("capabilities", ()))
    speeds = {k: t.speed_kmh / 3.6 for k, t in ops.config.unit_types.items()}
    scored = []
    for u in ops.units.list(status="available"):
        if u.lat is None or not need <= set(u.capabilities):
            continue
        d = haversine_m(inc.lat, inc.lon, u.lat, u.lon)  # type: ignore[arg-type]
        scored.append((d * ops.config.road_factor / speeds[u.type], u.id))
    scored.sort()
    return [uid for _, uid in scored[:limit]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--incidents", type=int, default=10000)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--baseline-samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.environ.setdefault("SUPERBRAIN_USER", "bench")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        ops = OpsService(ws)
        t = time.perf_counter()
        with ops.ctx.tx() as tx:  # bulk roster load (the per-unit API audits each add)
            now = time.time()
            for i in range(args.units):
                lat, lon = 30.45 + rng.random() * 0.5, 120.5 + rng.random() * 0.6
                utype = rng.choice(TYPES)
                caps = ops.config.unit_types[utype].capabilities
                status = (
                    "available"
                    if rng.random() < 0.8
                    else rng.choice(["dispatched", "en_route", "on_scene", "off_duty"])
                )
                age = rng.random() * 20 * 60  # some positions are stale (> 10 min)
                tx.con.execute(
                    "INSERT INTO ops_units (id, name, type, capabilities, precinct, district, "
                    "status, lat, lon, position_at, status_at, version, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?)",
                    (
                        f"U{i:04d}",
                        f"unit {i}",
                        utype,
                        json.dumps(list(caps)),
                        "",
                        "",
                        status,
                        lat,
                        lon,
                        now - age,
                        now,
                        now,
                    ),
                )
        t_units = time.perf_counter() - t
        t = time.perf_counter()
        records = []
        base = datetime.now(UTC).timestamp()
        for i in range(args.incidents):
            records.append(
                Record(
                    source="incidents",
                    id=f"C{i:06d}",
                    type="incident_report",
                    time=datetime.fromtimestamp(base - rng.random() * 7200, tz=UTC),
                    geo=(30.45 + rng.random() * 0.5, 120.5 + rng.random() * 0.6),
                    fields={
                        "category": rng.choice(CATEGORIES),
                        "priority": rng.randint(1, 4),
                        "status": "待处置",
                    },
                )
            )
        for start in range(0, len(records), 2000):
            ops.intake.ingest_records(records[start : start + 2000])
        t_incidents = time.perf_counter() - t
        open_ids = [i.id for i in ops.incidents.list(open_only=True)]
        assert len(open_ids) == args.incidents, len(open_ids)
        sample = [rng.choice(open_ids) for _ in range(args.samples)]

        ops.dispatch.recommend(sample[0])  # build the snapshot once
        warm = []
        for iid in sample:
            t = time.perf_counter()
            ops.dispatch.recommend(iid)
            warm.append((time.perf_counter() - t) * 1000)

        cold = []
        for n, iid in enumerate(sample[: args.samples // 2]):
            ops.units.update_position(
                f"U{n % args.units:04d}", 30.45 + rng.random() * 0.5, 120.5 + rng.random() * 0.6
            )
            t = time.perf_counter()
            ops.dispatch.recommend(iid)
            cold.append((time.perf_counter() - t) * 1000)

        baseline = []
        vec = []
        for iid in sample[: args.baseline_samples]:
            t = time.perf_counter()
            slow = python_recommend(ops, iid)
            baseline.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            fast = [r.unit_id for r in ops.dispatch.recommend(iid)]
            vec.append((time.perf_counter() - t) * 1000)
            assert slow == fast, (iid, slow, fast)

        t = time.perf_counter()
        overview = ops.dispatch.recommend_open(limit=3)
        t_open = time.perf_counter() - t
        ws.close()

    print(
        f"superbrain ops recommendation benchmark: {args.units:,} units, "
        f"{args.incidents:,} open incidents, python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"setup: units {t_units:.2f} s, incidents via intake {t_incidents:.2f} s "
        f"({args.incidents / t_incidents:,.0f}/s)"
    )
    print(
        f"{'latency per recommendation (ms)':<44} {'n':>6} {'mean':>8} {'p50':>8} "
        f"{'p95':>8} {'p99':>8} {'max':>8}"
    )
    print(row("recommend(), snapshot cached", warm))
    print(row("recommend(), a unit moved just before", cold))
    print(row("recommend(), numpy (same sample as below)", vec))
    print(row("pure-Python loop over units (baseline)", baseline))
    print(
        f"ratio baseline / numpy: p50 {pct(baseline, 50) / pct(vec, 50):.1f}x, "
        f"p95 {pct(baseline, 95) / pct(vec, 95):.1f}x "
        f"(identical unit lists on all {len(vec)} samples)"
    )
    print(
        f"recommend_open(): best 3 units for {len(overview):,} open incidents in "
        f"{t_open * 1000:.0f} ms ({t_open / len(overview) * 1e6:.1f} µs per incident)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
