"""Operational metrics: response-time distribution, SLA breaches by priority, mediation success
rate by area. Response time is received → first unit on scene."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np

from ops.config import OpsConfig

PERCENTILES = (50, 75, 90, 95, 99)
HISTOGRAM_MIN = (0, 5, 10, 15, 20, 30, 45, 60, 120)


def distribution(minutes: np.ndarray) -> dict[str, Any]:
    """count, mean, max and percentiles of a set of durations in minutes, plus a histogram."""
    if minutes.size == 0:
        return {
            "count": 0,
            "mean": None,
            "max": None,
            **{f"p{p}": None for p in PERCENTILES},
            "histogram": [],
        }
    edges = [*HISTOGRAM_MIN, np.inf]
    counts, _ = np.histogram(minutes, bins=edges)
    hist = [
        {"from_min": lo, "to_min": None if np.isinf(hi) else hi, "count": int(n)}
        for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
    pct = np.percentile(minutes, PERCENTILES)
    return {
        "count": int(minutes.size),
        "mean": round(float(minutes.mean()), 2),
        "max": round(float(minutes.max()), 2),
        **{f"p{p}": round(float(v), 2) for p, v in zip(PERCENTILES, pct, strict=True)},
        "histogram": hist,
    }


def metrics(
    con: Any,
    config: OpsConfig,
    *,
    now: float,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """Metrics over incidents received in [start, end) (all when not given).

    Returns
    -------
    dict with ``incidents``; ``response`` (distribution of minutes received → on scene);
    ``dispatch`` (minutes received → first unit dispatched);
    ``by_priority`` (per priority: ``label``, ``incidents``, ``response`` distribution,
    ``respond_target_min``, ``respond_breaches``, ``resolve_target_min``,
    ``resolve_breaches``, ``breach_rate``); ``mediation`` (per district: ``cases`` (disputes
    with an outcome), ``success``, ``failed``, ``pending``, ``success_rate`` = success ÷
    (success + failed) or None) and ``mediation_total``; ``satisfaction`` (public reporters'
    ratings, :func:`ops.reports.satisfaction`) and ``mediation_by_mediator``
    (:func:`ops.mediation.by_mediator`). A breach counts closed incidents
    that took longer than the target and open ones already past it.
    """
    sql = (
        "SELECT priority, status, received_at, stamps, district, dispute, mediation "
        "FROM ops_incidents WHERE status != 'cancelled'"
    )
    args: list[Any] = []
    if start is not None:
        sql += " AND received_at >= ?"
        args.append(start.timestamp())
    if end is not None:
        sql += " AND received_at < ?"
        args.append(end.timestamp())
    rows = con.execute(sql, args).fetchall()
    n = len(rows)
    priority = np.array([r[0] for r in rows], dtype=int)
    received = np.array([r[2] for r in rows], dtype=float)
    stamps = [json.loads(r[3]) for r in rows]
    on_scene = np.array([s.get("on_scene", np.nan) for s in stamps], dtype=float)
    dispatched = np.array([s.get("dispatched", np.nan) for s in stamps], dtype=float)
    dispatch_min = (dispatched - received) / 60.0
    resolved = np.array([s.get("resolved", np.nan) for s in stamps], dtype=float)
    respond_min = (on_scene - received) / 60.0
    resolve_min = (resolved - received) / 60.0
    waited_min = (now - received) / 60.0
    has_scene = ~np.isnan(respond_min)
    has_resolved = ~np.isnan(resolve_min)
    by_priority = {}
    for p, target in sorted(config.sla.items()):
        sel = priority == p
        late_respond = sel & (
            (has_scene & (respond_min > target.respond_min))
            | (~has_scene & (waited_min > target.respond_min))
        )
        late_resolve = sel & (
            (has_resolved & (resolve_min > target.resolve_min))
            | (~has_resolved & (waited_min > target.resolve_min))
        )
        count = int(sel.sum())
        by_priority[str(p)] = {
            "label": target.label,
            "incidents": count,
            "response": distribution(respond_min[sel & has_scene]),
            "respond_target_min": target.respond_min,
            "respond_breaches": int(late_respond.sum()),
            "resolve_target_min": target.resolve_min,
            "resolve_breaches": int(late_resolve.sum()),
            "breach_rate": round(float(late_respond.sum()) / count, 4) if count else None,
        }
    mediation: dict[str, dict[str, Any]] = {}
    for r in rows:
        if not r[5] or r[6] is None:
            continue
        d = mediation.setdefault(
            r[4] or "(unknown)", {"cases": 0, "success": 0, "failed": 0, "pending": 0}
        )
        d["cases"] += 1
        d[r[6]] += 1
    totals = {"cases": 0, "success": 0, "failed": 0, "pending": 0}
    for d in mediation.values():
        for k in totals:
            totals[k] += d[k]
    for d in (*mediation.values(), totals):
        decided = d["success"] + d["failed"]
        d["success_rate"] = round(d["success"] / decided, 4) if decided else None
    from ops.mediation import by_mediator
    from ops.reports import satisfaction

    t0, t1 = (start.timestamp() if start else None), (end.timestamp() if end else None)
    return {
        "incidents": n,
        "response": distribution(respond_min[has_scene]),
        "satisfaction": satisfaction(con, t0, t1),
        "mediation_by_mediator": by_mediator(con, t0, t1),
        "dispatch": distribution(dispatch_min[~np.isnan(dispatch_min)]),
        "by_priority": by_priority,
        "mediation": dict(sorted(mediation.items())),
        "mediation_total": totals,
    }
