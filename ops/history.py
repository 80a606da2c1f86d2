"""The demo's operational history: 25 closed months of incidents, dispatch timings, unit
feedback, mediations, ratings and acknowledged alerts, so the evaluation dashboard shows a
13-month trend with a real year-on-year change for every month of it.

Deterministic (seeded) and shaped like a city's year: a summer peak and a Spring Festival dip;
an urban core with short response times and rural districts with longer ones; most districts a
little faster than the year before, one (海盐县) slower. Each month is filled up to the
monthly volume of the ingested 110 calls (at least a third of it from the history itself, so
months the ingest covers still have dispatch timings); the volume follows the demo's size.

It is written in one transaction straight into the ops tables (no event journal: consoles need
no change feed for the past) with one audit entry, ``ops.seed_history``; a second run does
nothing (``ops_meta`` key ``history_seeded``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ops.db import dumps
from ops.evaluation import month_of, month_start, shift_month

if TYPE_CHECKING:
    from ops.service import OpsService

MONTHS = 25
MIN_MONTHLY, MAX_MONTHLY = 150, 1200
#: Share of each month (Jan … Dec): Spring Festival in February, a summer peak.
SEASON = (0.95, 0.82, 0.93, 0.97, 1.02, 1.06, 1.14, 1.15, 1.04, 1.0, 0.97, 0.95)
#: (category, weight, priority, P1 share, dispute share)
CATEGORIES = (
    ("纠纷", 18, 3, 0.0, 1.0),
    ("盗窃", 12, 3, 0.0, 0.0),
    ("电动车被盗", 8, 3, 0.0, 0.0),
    ("入室盗窃", 5, 2, 0.0, 0.0),
    ("诈骗", 10, 3, 0.0, 0.0),
    ("交通事故", 14, 2, 0.15, 0.0),
    ("噪音扰民", 10, 4, 0.0, 0.3),
    ("可疑人员", 7, 2, 0.0, 0.0),
    ("打架斗殴", 6, 2, 0.2, 0.0),
    ("火警", 3, 1, 1.0, 0.0),
    ("求助", 7, 4, 0.0, 0.0),
)
FEEDBACK_PAYLOAD = dumps({"outcome": "resolved", "notes": ""})
MEDIATION_TEXT = "双方达成和解协议，当场履行。Both parties signed a settlement."


@dataclass(frozen=True)
class Profile:
    """How a district handles its incidents (minutes are medians)."""

    volume: float
    dispatch_min: float
    travel_min: float
    mediation_success: float
    rating: float
    feedback: float
    #: Times multiply by this per year (below 1: faster each year).
    yearly: float


PROFILES = {
    "nanhu": Profile(1.35, 2.0, 7.0, 0.93, 4.45, 0.95, 0.88),
    "xiuzhou": Profile(1.10, 2.4, 9.0, 0.90, 4.30, 0.92, 0.92),
    "jiashan": Profile(0.95, 2.8, 11.0, 0.91, 4.20, 0.90, 0.95),
    "pinghu": Profile(0.95, 2.6, 10.0, 0.94, 4.30, 0.93, 0.93),
    "haiyan": Profile(0.80, 3.2, 13.0, 0.87, 4.05, 0.86, 1.15),
    "haining": Profile(0.90, 2.7, 10.0, 0.95, 4.35, 0.94, 0.90),
    "tongxiang": Profile(0.90, 2.9, 11.0, 0.92, 4.20, 0.91, 0.96),
}
DEFAULT_PROFILE = Profile(1.0, 2.8, 10.0, 0.9, 4.2, 0.9, 0.95)


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class _Rows:
    """The rows to insert, with the ids they will get."""

    def __init__(self, next_incident: int) -> None:
        self.next_incident = next_incident
        self.incidents: list[tuple[Any, ...]] = []
        self.assignments: list[tuple[Any, ...]] = []
        self.feedback: list[tuple[Any, ...]] = []
        self.mediations: list[tuple[Any, ...]] = []
        self.reports: list[tuple[Any, ...]] = []
        self.alerts: list[tuple[Any, ...]] = []


def seed_history(
    ops: OpsService,
    *,
    now: float | None = None,
    seed: int = 7,
    months: int = MONTHS,
    user: str | None = None,
) -> dict[str, int]:
    """Write the demo's closed history for the ``months`` months before the current one.

    Returns how many rows of each kind were written (all zero on a second run). Units must
    exist (:func:`ops.seed.seed_demo_units`): history assignments name them.
    """
    ctx = ops.ctx
    zone = ctx.workspace.zone
    con = ctx.con
    if con.execute("SELECT 1 FROM ops_meta WHERE key='history_seeded'").fetchone():
        return {"incidents": 0}
    now = ctx.clock() if now is None else now
    rng = random.Random(seed)
    current = month_of(now, zone)
    first = shift_month(current, -months)
    existing: dict[tuple[str, str], int] = {}
    for received, district in con.execute(
        "SELECT received_at, district FROM ops_incidents WHERE received_at >= ?",
        (month_start(first, zone),),
    ).fetchall():
        key = (month_of(received, zone), district)
        existing[key] = existing.get(key, 0) + 1
    per_month: dict[str, int] = {}
    for (month, _d), n in existing.items():
        per_month[month] = per_month.get(month, 0) + n
    monthly = min(MAX_MONTHLY, max(MIN_MONTHLY, max(per_month.values(), default=0)))
    units: dict[str, list[str]] = {}
    for unit in ops.units.list():
        units.setdefault(unit.district, []).append(unit.id)
    districts = list(ctx.config.districts.values())
    weights = {
        d.code: max(d.population, 1) * PROFILES.get(d.code, DEFAULT_PROFILE).volume
        for d in districts
    }
    total_weight = sum(weights.values())
    max_id = con.execute("SELECT coalesce(max(id), 0) FROM ops_incidents").fetchone()[0]
    rows = _Rows(int(max_id) + 1)
    routes: dict[tuple[str, int, str], str] = {}
    cat_weights = [c[1] for c in CATEGORIES]
    for k in range(months):
        month = shift_month(first, k)
        t0, t1 = month_start(month, zone), month_start(shift_month(month, 1), zone)
        season = SEASON[int(month[5:]) - 1]
        years_back = (months - k) / 12.0
        for d in districts:
            prof = PROFILES.get(d.code, DEFAULT_PROFILE)
            target = monthly * season * weights[d.code] / total_weight
            have = existing.get((month, d.name), 0)
            n = _poisson(rng, max(target - have, target / 3))
            pace = prof.yearly**-years_back  # times of `years_back` years ago
            recent: list[tuple[float, str, float, float]] = []
            for _ in range(n):
                received = t0 + rng.random() * (t1 - t0)
                cat, _w, prio, p1, dispute_share = rng.choices(CATEGORIES, cat_weights)[0]
                if rng.random() < p1:
                    prio = 1
                if recent and rng.random() < 0.06:  # a second call about the same thing
                    _t, phone, lat, lon = rng.choice(recent[-30:])
                    lat += rng.gauss(0, 0.0003)
                    lon += rng.gauss(0, 0.0003)
                else:
                    phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
                    lat = d.center[0] + rng.gauss(0, 0.025)
                    lon = d.center[1] + rng.gauss(0, 0.03)
                recent.append((received, phone, lat, lon))
                route_key = (cat, prio, d.name)
                if route_key not in routes:
                    routes[route_key] = dumps(
                        ctx.config.router.route(cat, "", prio, d.name).as_dict()
                    )
                _incident(
                    rows,
                    rng,
                    prof,
                    pace,
                    units.get(d.name, []),
                    d.name,
                    d.code,
                    received=received,
                    category=cat,
                    priority=prio,
                    phone=phone,
                    lat=lat,
                    lon=lon,
                    dispute=rng.random() < dispute_share,
                    routing=routes[route_key],
                    now=now,
                )
            for _ in range(_poisson(rng, 2 + monthly / 60 * weights[d.code] / total_weight)):
                raised = t0 + rng.random() * (t1 - t0)
                acked = raised + 60 * _lognormal(rng, 3.0 * pace * prof.dispatch_min / 2.5, 0.8)
                rows.alerts.append(
                    (
                        raised,
                        "watchlist",
                        "history:watchlist",
                        rng.choice(("high", "medium")),
                        "布控对象出现 watchlist hit",
                        "",
                        dumps({"district": d.name, "history": True}),
                        f"history:{len(rows.alerts) + 1}",
                        "history",
                        min(acked, now),
                        "已核查 checked",
                    )
                )
    return _write(ops, rows, months=months, user=user)


def _incident(
    rows: _Rows,
    rng: random.Random,
    prof: Profile,
    pace: float,
    units: list[str],
    district: str,
    code: str,
    *,
    received: float,
    category: str,
    priority: int,
    phone: str,
    lat: float,
    lon: float,
    dispute: bool,
    routing: str,
    now: float,
) -> None:
    iid = rows.next_incident
    rows.next_incident += 1
    stamps = {"received": received, "accepted": received + 60 * rng.uniform(0.2, 1.2)}
    urgent = 0.6 if priority == 1 else 1.0
    unit = rng.choice(units) if units and rng.random() > 0.04 else None  # 4 %: by phone
    if unit is not None:
        stamps["dispatched"] = received + 60 * _lognormal(
            rng, prof.dispatch_min * pace * urgent, 0.6
        )
        stamps["on_scene"] = stamps["dispatched"] + 60 * _lognormal(
            rng, prof.travel_min * pace * (0.75 if priority == 1 else 1.0), 0.5
        )
        handling = _lognormal(rng, 50.0, 0.9) if rng.random() > 0.06 else rng.uniform(1500, 7000)
        stamps["resolved"] = stamps["on_scene"] + 60 * handling
    else:
        stamps["routed"] = stamps["accepted"] + 60
        stamps["resolved"] = stamps["routed"] + 60 * rng.uniform(20, 240)
    status = rng.choices(("resolved", "feedback", "assessed"), (30, 45, 25))[0]
    if status != "resolved":
        stamps["feedback"] = stamps["resolved"] + 86_400 * rng.uniform(0.5, 3)
    if status == "assessed":
        stamps["assessed"] = stamps["feedback"] + 86_400 * rng.uniform(0.5, 5)
    stamps = {k: min(v, now - 3600) for k, v in stamps.items()}
    mediation = None
    if dispute and rng.random() < 0.75:
        mediation = "success" if rng.random() < prof.mediation_success else "failed"
        opened = stamps["resolved"]
        rows.mediations.append(
            (
                iid,
                f"med.{code}.{rng.randint(1, 3)}",
                district,
                "history",
                opened,
                mediation,
                MEDIATION_TEXT if mediation == "success" else "",
                min(opened + 86_400 * rng.uniform(1, 10), now - 3600),
            )
        )
    rows.incidents.append(
        (
            iid,
            f"history:{iid}",
            category,
            priority,
            status,
            received,
            lat,
            lon,
            "",
            district,
            "",
            phone,
            "",
            routing,
            _stamps_json(stamps),
            int(dispute),
            mediation,
            "",
            "",
            "history",
            1,
            stamps["resolved"],
        )
    )
    if unit is not None:
        rows.assignments.append(
            (iid, unit, stamps["dispatched"], "history", stamps["resolved"], "history", "cleared")
        )
        if rng.random() < prof.feedback * (1.0 if pace <= 1 else 0.97):
            rows.feedback.append(
                (
                    stamps["resolved"] + 300,
                    unit,
                    iid,
                    "feedback",
                    f"history:{unit}",
                    FEEDBACK_PAYLOAD,
                )
            )
    if rng.random() < 0.2:
        rating = max(1, min(5, round(rng.gauss(prof.rating + 0.1 * (1 - pace), 0.8))))
        rows.reports.append(
            (
                f"HIST{iid:08d}",
                iid,
                received,
                "history",
                phone,
                0,
                rating,
                "",
                min(stamps["resolved"] + 86_400, now - 3600),
            )
        )


def _stamps_json(stamps: dict[str, float]) -> str:
    # json.dumps of 20k small dicts is a third of the generation time; these are plain floats
    return "{" + ",".join(f'"{k}":{v!r}' for k, v in stamps.items()) + "}"


def _write(ops: OpsService, rows: _Rows, *, months: int, user: str | None) -> dict[str, int]:
    counts = {
        "months": months,
        "incidents": len(rows.incidents),
        "assignments": len(rows.assignments),
        "feedback": len(rows.feedback),
        "mediations": len(rows.mediations),
        "ratings": len(rows.reports),
        "alerts": len(rows.alerts),
    }
    with ops.ctx.tx() as tx:
        con = tx.con
        con.executemany(
            "INSERT INTO ops_incidents (id, source_uid, category, priority, status, received_at, "
            "lat, lon, address, district, reporter, reporter_phone, text, routing, stamps, "
            "dispute, mediation, feedback, assessment, created_by, version, updated_at) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows.incidents,
        )
        con.executemany(
            "INSERT INTO ops_assignments (incident_id, unit_id, assigned_at, assigned_by, "
            "ended_at, ended_by, end_reason) VALUES (?,?,?,?,?,?,?)",
            rows.assignments,
        )
        con.executemany(
            "INSERT INTO ops_field_log (ts, unit_id, incident_id, kind, account, payload) "
            "VALUES (?,?,?,?,?,?)",
            rows.feedback,
        )
        con.executemany(
            "INSERT INTO ops_mediations (incident_id, mediator, district, assigned_by, "
            "assigned_at, outcome, agreement, closed_at) VALUES (?,?,?,?,?,?,?,?)",
            rows.mediations,
        )
        con.executemany(
            "INSERT INTO ops_reports (code, incident_id, ts, peer, phone, photos, rating, "
            "rating_note, rated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            rows.reports,
        )
        con.executemany(
            "INSERT INTO ops_alerts (ts, kind, rule, severity, title, subject, payload, "
            "dedup_key, acked_by, acked_at, ack_note) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows.alerts,
        )
        con.execute(
            "INSERT INTO ops_meta (key, value) VALUES ('history_seeded', ?)", (len(rows.incidents),)
        )
        tx.audit(ops.ctx.user(user), "ops.seed_history", counts)
    return counts
