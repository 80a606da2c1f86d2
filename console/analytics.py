"""Read-only aggregations over the operational store for the map and dashboards.

Plain SQL over :class:`core.store.Store` tables (no Qt): located records, an entity's located
sightings (tracks), counts by a keyword field per period, year-over-year change and top places.
Timelines and the day × hour matrix are the graph engine's (``graph.timeline``). Each function
is cheap enough for a worker thread and returns plain data.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from core.store import Store

#: Counts are grouped in UTC quarter hours first (every zone's offset is a multiple of 15
#: minutes), then each quarter hour is named by its local period in the workspace's zone.
_QUARTER_HOUR = 900


def _title(text_json: str, rtype: str, rid: str) -> str:
    try:
        text = json.loads(text_json)
    except ValueError:
        text = {}
    for value in text.values():
        if value:
            return value if len(value) <= 80 else value[:79] + "…"
    return f"{rtype} {rid}"


def located_records(
    store: Store, *, uids: Sequence[str] = (), limit: int = 3000, exclude_types: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Records with a point: the given ``uids``, else the most recent ``limit``."""
    con = store.connection
    cols = "uid, type, id, lat, lon, text, time"
    if uids:
        rows = []
        for i in range(0, len(uids), 500):
            chunk = list(uids[i : i + 500])
            rows += con.execute(
                f"SELECT {cols} FROM records WHERE lat IS NOT NULL AND uid IN "
                f"({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
    else:
        excluded = list(exclude_types)
        where = "lat IS NOT NULL"
        if excluded:
            where += f" AND type NOT IN ({','.join('?' * len(excluded))})"
        rows = con.execute(
            f"SELECT {cols} FROM records WHERE {where} ORDER BY time DESC LIMIT ?",
            (*excluded, limit),
        ).fetchall()
    return [
        {
            "id": uid,
            "type": rtype,
            "lat": lat,
            "lon": lon,
            "label": _title(text, rtype, rid),
            "time": t,
        }
        for uid, rtype, rid, lat, lon, text, t in rows
    ]


def entity_track(store: Store, entity_id: str, limit: int = 5000) -> list[list[Any]]:
    """The located, timed records of an entity in time order: ``[lat, lon, epoch, uid]``."""
    rows = store.connection.execute(
        "SELECT r.lat, r.lon, r.time, r.uid FROM record_entities re "
        "JOIN records r ON r.uid = re.record_uid WHERE re.entity_id = ? "
        "AND r.lat IS NOT NULL AND r.time IS NOT NULL ORDER BY r.time LIMIT ?",
        (entity_id, limit),
    ).fetchall()
    return [list(r) for r in rows]


def keyword_fields(store: Store, sample: int = 2000) -> list[str]:
    """Field names present in recent records whose values repeat (usable as categories)."""
    seen: dict[str, Counter[str]] = {}
    for (fields,) in store.connection.execute(
        "SELECT fields FROM records ORDER BY rowid DESC LIMIT ?", (sample,)
    ):
        for key, value in json.loads(fields).items():
            if isinstance(value, str) and value and len(value) <= 24:
                seen.setdefault(key, Counter())[value] += 1
    good = [k for k, c in seen.items() if 1 < len(c) <= 40 and sum(c.values()) >= 10]
    return sorted(good)


@dataclass(frozen=True)
class Series:
    """Counts per period for each category (``periods`` are ``YYYY-MM`` or ``YYYY-MM-DD``)."""

    periods: list[str]
    counts: dict[str, list[int]]


def counts_over_time(
    store: Store,
    field: str,
    *,
    by: str = "month",
    top: int = 8,
    source: str | None = None,
    zone: tzinfo = UTC,
) -> Series:
    """How many records of each ``field`` value per month (or day) of the workspace's time
    zone ``zone``; the ``top`` values."""
    fmt = "%Y-%m" if by == "month" else "%Y-%m-%d"
    sql = (
        "SELECT CAST(time / ? AS INTEGER) AS q, json_extract(fields, ?) AS v, count(*) "
        "FROM records WHERE time IS NOT NULL AND v IS NOT NULL"
    )
    args: list[Any] = [_QUARTER_HOUR, f"$.{field}"]
    if source:
        sql += " AND source = ?"
        args.append(source)
    per_quarter = store.connection.execute(sql + " GROUP BY q, v", args).fetchall()
    names: dict[int, str] = {}
    grouped: Counter[tuple[str, str]] = Counter()
    for q, v, n in per_quarter:
        if q not in names:
            start = datetime.fromtimestamp(q * _QUARTER_HOUR, tz=UTC)
            names[q] = start.astimezone(zone).strftime(fmt)
        grouped[(names[q], str(v))] += n
    totals: Counter[str] = Counter()
    for (_p, v), n in grouped.items():
        totals[v] += n
    keep = [v for v, _ in totals.most_common(top)]
    periods = sorted({p for p, _v in grouped})
    index = {p: i for i, p in enumerate(periods)}
    counts = {v: [0] * len(periods) for v in keep}
    for (p, v), n in grouped.items():
        if v in counts:
            counts[v][index[p]] += n
    return Series(periods, counts)


@dataclass(frozen=True)
class Change:
    """One indicator this period against the same period a year before."""

    indicator: str
    current: int
    previous: int

    @property
    def percent(self) -> float | None:
        if self.previous == 0:
            return None
        return 100.0 * (self.current - self.previous) / self.previous


def year_over_year(
    store: Store, field: str, *, days: int = 30, end: datetime | None = None, top: int = 10
) -> list[Change]:
    """Counts per ``field`` value in the last ``days`` days against the same days a year ago.

    ``end`` defaults to the newest record's time (demo data is not dated today).
    """
    con = store.connection
    if end is None:
        newest = con.execute("SELECT max(time) FROM records").fetchone()[0]
        end = datetime.fromtimestamp(newest, tz=UTC) if newest else datetime.now(UTC)
    start = end - timedelta(days=days)
    year = timedelta(days=365)

    def window(a: datetime, b: datetime) -> Counter[str]:
        rows = con.execute(
            "SELECT json_extract(fields, ?) AS v, count(*) FROM records "
            "WHERE time > ? AND time <= ? AND v IS NOT NULL GROUP BY v",
            (f"$.{field}", a.timestamp(), b.timestamp()),
        ).fetchall()
        return Counter({str(v): n for v, n in rows})

    now, before = window(start, end), window(start - year, end - year)
    names = [v for v, _ in (now + before).most_common(top)]
    return [Change(v, now.get(v, 0), before.get(v, 0)) for v in names]


def top_values(store: Store, field: str, n: int = 10) -> list[tuple[str, int]]:
    """The ``n`` most frequent values of ``field`` (e.g. district or address: top places)."""
    rows = store.connection.execute(
        "SELECT json_extract(fields, ?) AS v, count(*) AS c FROM records WHERE v IS NOT NULL "
        "GROUP BY v ORDER BY c DESC LIMIT ?",
        (f"$.{field}", n),
    ).fetchall()
    return [(str(v), c) for v, c in rows]


def record_counts(store: Store) -> dict[str, int]:
    """Records per source (for the dashboard header)."""
    return store.sources()


def dense_span(
    times: Sequence[float], tail: float = 0.02, reach: float = 1.0
) -> tuple[float, float, int, int]:
    """The span a timeline should show: ``(lo, hi, n_before, n_after)``.

    The middle ``1 - 2 * tail`` of the times, widened by ``reach`` times its own length on each
    side; times beyond are outliers (one 2001 record among 2026's) counted, to be drawn at the
    edges rather than squash the rest into a line. Without outliers: the full range.
    """
    if not times:
        return 0.0, 1.0, 0, 0
    ts = sorted(times)
    n = len(ts)
    a, b = ts[int(tail * (n - 1))], ts[round((1 - tail) * (n - 1))]
    width = max(b - a, 3600.0)
    lo_bound, hi_bound = a - reach * width, b + reach * width
    inside = [t for t in ts if lo_bound <= t <= hi_bound]
    lo, hi = inside[0], inside[-1]
    if hi <= lo:
        hi = lo + 3600.0
    return lo, hi, sum(1 for t in ts if t < lo_bound), sum(1 for t in ts if t > hi_bound)


def assessment_summary(metrics: dict[str, Any]) -> str:
    """The assess step in one plain-text line (``ops.metrics``): mediation success rate by
    district and by mediator, and the public reporters' satisfaction."""

    def rate(d: dict[str, Any]) -> str:
        decided = d.get("success", 0) + d.get("failed", 0)
        if not decided:
            return "–"
        return f"{100 * d['success'] / decided:.0f}% ({d['success']}/{decided})"

    parts = []
    districts = metrics.get("mediation") or {}
    if districts:
        parts.append(
            "调解成功率 mediation success by district: "
            + " · ".join(f"{name} {rate(d)}" for name, d in districts.items())
        )
    mediators = metrics.get("mediation_by_mediator") or {}
    if mediators:
        parts.append(
            "by mediator: " + " · ".join(f"{name} {rate(d)}" for name, d in mediators.items())
        )
    sat = metrics.get("satisfaction") or {}
    if sat.get("ratings"):
        parts.append(
            f"群众评价 satisfaction {sat['mean']}/5 from {sat['ratings']} ratings "
            f"({100 * (sat['satisfied_rate'] or 0):.0f}% rated 4–5)"
        )
    return "; ".join(parts) or "no mediation outcomes or ratings yet"
