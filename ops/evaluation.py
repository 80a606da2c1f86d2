"""The evaluation dashboard: configurable indicators by district and month, with year-on-year
change (issue #15, the county scheme; the indicators are data, :mod:`ops.evaluation_spec`).

An incident belongs to the month (in the workspace's time zone) and district it was received
in; an alert to the month it was raised in and the district its payload names (else only to the
all-districts column). Cancelled incidents are left out, as in :func:`ops.metrics.metrics`.

    data = evaluate(con, config, spec, zone, month="2026-11", months=13)
    data["indicators"][0]["cells"]["南湖区"]   # value, n, previous, yoy_delta, yoy_pct, better
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from ops.config import OpsConfig
from ops.errors import OpsError
from ops.evaluation_spec import _DURATION, STAMPS, EvaluationConfig, Filter, Indicator

#: The key of the all-districts column.
ALL = "all"
CLOSED = ("resolved", "feedback", "assessed")
MAX_MONTHS = 60

Facts = dict[str, np.ndarray]


# -- months in the workspace's zone --------------------------------------------------------------
def parse_month(text: str) -> tuple[int, int]:
    """``"2026-11"`` → (2026, 11); anything else is an :class:`OpsError` naming it."""
    try:
        year, month = (int(p) for p in str(text).split("-"))
    except ValueError:
        raise OpsError(f"month: expected YYYY-MM, got {str(text)[:20]!r}") from None
    if not (1 <= month <= 12 and 1970 <= year <= 9999) or len(str(text)) != 7:
        raise OpsError(f"month: expected YYYY-MM, got {str(text)[:20]!r}")
    return year, month


def shift_month(text: str, by: int) -> str:
    """The month ``by`` months after (before, when negative) ``text``."""
    year, month = parse_month(text)
    index = year * 12 + month - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(text: str, zone: ZoneInfo) -> float:
    """Epoch seconds of the first instant of month ``text`` in ``zone``."""
    year, month = parse_month(text)
    return datetime(year, month, 1, tzinfo=zone).timestamp()


def month_of(epoch: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, zone).strftime("%Y-%m")


def months_of(epochs: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """The month (``YYYY-MM`` in ``zone``) of each epoch, by one search over month starts."""
    if epochs.size == 0:
        return np.array([], dtype=object)
    first, last = month_of(float(epochs.min()), zone), month_of(float(epochs.max()), zone)
    names = [first]
    while names[-1] != last:
        names.append(shift_month(names[-1], 1))
    starts = np.array([month_start(m, zone) for m in names])
    index = np.searchsorted(starts, epochs, side="right") - 1
    return np.array(names, dtype=object)[index]


def last_complete_month(now: float, zone: ZoneInfo) -> str:
    """The month before the one ``now`` falls in (in ``zone``): the newest complete month."""
    return shift_month(month_of(now, zone), -1)


# -- facts: one array per field, one row per incident or alert ----------------------------------
def _cells(lat: np.ndarray, lon: np.ndarray, metres: float) -> list[tuple[int, int] | None]:
    y = np.floor(lat * 111_320.0 / metres)
    x = np.floor(lon * 111_320.0 * np.cos(np.radians(np.nan_to_num(lat))) / metres)
    return [
        None if math.isnan(a) or math.isnan(b) else (int(a), int(b))
        for a, b in zip(y, x, strict=True)
    ]


def incident_facts(
    con: Any, start: float, end: float, zone: ZoneInfo, *, repeat_days: float, repeat_place_m: float
) -> Facts:
    """Every field and stamp of the incidents received in [start, end) (not cancelled).

    ``repeat`` looks back ``repeat_days`` before ``start`` too, so the first days of the range
    are judged like the others.
    """
    look_back = start - repeat_days * 86_400
    rows = con.execute(
        "SELECT id, category, priority, status, received_at, lat, lon, district, "
        "reporter_phone, stamps, dispute, mediation, feedback FROM ops_incidents "
        "WHERE status != 'cancelled' AND received_at >= ? AND received_at < ? "
        "ORDER BY received_at, id",
        (look_back, end),
    ).fetchall()
    ratings = dict(
        con.execute(
            "SELECT incident_id, avg(rating) FROM ops_reports WHERE rating "
            "IS NOT NULL GROUP BY incident_id"
        ).fetchall()
    )
    fed_back = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT incident_id FROM ops_field_log WHERE kind = 'feedback'"
        ).fetchall()
    }
    received = np.array([r[4] for r in rows], dtype=float)
    window = repeat_days * 86_400
    last_phone: dict[str, float] = {}
    last_place: dict[tuple[int, int], float] = {}
    lat = np.array([np.nan if r[5] is None else r[5] for r in rows], dtype=float)
    lon = np.array([np.nan if r[6] is None else r[6] for r in rows], dtype=float)
    repeat = np.zeros(len(rows), dtype=bool)
    for i, (row, cell) in enumerate(zip(rows, _cells(lat, lon, repeat_place_m), strict=True)):
        t, phone = received[i], row[8]
        if phone and t - last_phone.get(phone, -math.inf) <= window:
            repeat[i] = True
        if cell is not None and t - last_place.get(cell, -math.inf) <= window:
            repeat[i] = True
        if phone:
            last_phone[phone] = t
        if cell is not None:
            last_place[cell] = t
    stamps = [json.loads(r[9] or "{}") for r in rows]
    facts: Facts = {
        "month": months_of(received, zone),
        "district": np.array([r[7] or "" for r in rows], dtype=object),
        "category": np.array([r[1] for r in rows], dtype=object),
        "priority": np.array([r[2] for r in rows], dtype=float),
        "status": np.array([r[3] for r in rows], dtype=object),
        "dispute": np.array([bool(r[10]) for r in rows], dtype=bool),
        "mediation": np.array([r[11] or "" for r in rows], dtype=object),
        "closed": np.array([r[3] in CLOSED for r in rows], dtype=bool),
        "repeat": repeat,
        "rating": np.array([ratings.get(r[0], np.nan) for r in rows], dtype=float),
        "unit_feedback": np.array([r[0] in fed_back or bool(r[12]) for r in rows], dtype=bool),
    }
    for name in STAMPS["incidents"]:
        facts[name] = np.array(
            [
                received[i] if name == "received" else s.get(name, np.nan)
                for i, s in enumerate(stamps)
            ],
            dtype=float,
        )
    keep = received >= start
    return {k: v[keep] for k, v in facts.items()}


def alert_facts(con: Any, start: float, end: float, zone: ZoneInfo) -> Facts:
    """Every field and stamp of the alerts raised in [start, end)."""
    rows = con.execute(
        "SELECT ts, kind, severity, rule, payload, acked_at FROM ops_alerts "
        "WHERE ts >= ? AND ts < ?",
        (start, end),
    ).fetchall()
    payloads = [json.loads(r[4] or "{}") for r in rows]
    return {
        "month": months_of(np.array([r[0] for r in rows], dtype=float), zone),
        "district": np.array(
            [str(p.get("district") or "") if isinstance(p, dict) else "" for p in payloads],
            dtype=object,
        ),
        "kind": np.array([r[1] for r in rows], dtype=object),
        "severity": np.array([r[2] for r in rows], dtype=object),
        "rule": np.array([r[3] for r in rows], dtype=object),
        "acked": np.array([r[5] is not None for r in rows], dtype=bool),
        "raised": np.array([r[0] for r in rows], dtype=float),
        "acked_stamp": np.array([np.nan if r[5] is None else r[5] for r in rows], dtype=float),
    }


def _column(facts: Facts, name: str) -> np.ndarray:
    """A field, a stamp (``acked`` of alerts is its stamp in durations) or a duration."""
    m = _DURATION.match(name)
    if m:
        return (
            _column(facts, _stamp(facts, m.group(2))) - _column(facts, _stamp(facts, m.group(1)))
        ) / 60.0
    return facts[name]


def _stamp(facts: Facts, name: str) -> str:
    return "acked_stamp" if name == "acked" and "acked_stamp" in facts else name


def select(facts: Facts, conditions: Filter) -> np.ndarray:
    """Rows matching every condition of a filter (see evaluation.toml for the grammar)."""
    n = len(facts["month"])
    mask = np.ones(n, dtype=bool)
    for name, cond in conditions.items():
        if name == "has":
            for stamp in cond:
                mask &= ~np.isnan(facts[_stamp(facts, stamp)])
            continue
        col = _column(facts, name)
        if isinstance(cond, Mapping):
            with np.errstate(invalid="ignore"):
                if "min" in cond:
                    mask &= col >= cond["min"]
                if "max" in cond:
                    mask &= col <= cond["max"]
            mask &= ~np.isnan(col)
        elif isinstance(cond, list):
            mask &= np.isin(col, cond)
        else:
            mask &= col == cond
    return mask


class Formula:
    """One indicator prepared over a set of facts: its masks and measured values computed once,
    then :meth:`value` per district and month."""

    def __init__(self, ind: Indicator, facts: Facts) -> None:
        self.ind = ind
        self.base = select(facts, ind.where)
        n = len(self.base)
        self.numerator = select(facts, ind.numerator) if ind.kind == "rate" else np.zeros(n, bool)
        self.denominator = (
            select(facts, ind.denominator) if ind.kind == "ratio" else np.zeros(n, bool)
        )
        self.measure = np.full(n, np.nan)
        if ind.kind == "mean":
            self.measure = _column(facts, ind.measure).astype(float)
        elif ind.kind == "percentile":
            self.measure = (
                _column(facts, _stamp(facts, ind.end)) - _column(facts, _stamp(facts, ind.start))
            ) / 60.0

    def value(self, cell: np.ndarray, population: int | None) -> tuple[float | None, int]:
        """The value over the rows of ``cell`` (one district and month) and the sample it
        rests on; None when the sample is under ``min_count`` (or a per-10k count has no
        population)."""
        ind = self.ind
        rows = self.base & cell
        n = int(rows.sum())
        if ind.kind == "count":
            if not ind.per_10k:
                return float(n), n
            return (n * 10_000.0 / population if population else None), n
        if ind.kind in ("rate", "ratio"):
            if ind.kind == "rate":
                num, den = int((rows & self.numerator).sum()), n
            else:
                num, den = n, int((self.denominator & cell).sum())
            if den < ind.min_count or den == 0:
                return None, den
            return (100.0 * num / den if ind.kind == "rate" else ind.scale * num / den), den
        values = self.measure[rows]
        values = values[~np.isnan(values)]
        if ind.kind == "percentile":
            values = values[values >= 0]
        if values.size < ind.min_count or values.size == 0:
            return None, int(values.size)
        if ind.kind == "mean":
            return float(values.mean()), int(values.size)
        return float(np.percentile(values, ind.percentile)), int(values.size)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _yoy(value: float | None, previous: float | None, direction: str) -> dict[str, Any]:
    if value is None or previous is None:
        return {"previous": previous, "yoy_delta": None, "yoy_pct": None, "better": None}
    delta = value - previous
    pct = round(100.0 * delta / previous, 1) if previous else None
    better = None if abs(delta) < 1e-9 else (delta > 0) == (direction == "higher")
    return {
        "previous": round(previous, 4),
        "yoy_delta": round(delta, 4),
        "yoy_pct": pct,
        "better": better,
    }


def evaluate(
    con: Any,
    config: OpsConfig,
    spec: EvaluationConfig,
    zone: ZoneInfo,
    *,
    month: str,
    months: int = 13,
) -> dict[str, Any]:
    """Every indicator of ``spec`` by district for ``months`` months up to ``month``, each with
    the same month a year before.

    Returns
    -------
    dict with ``month``, ``months`` (the trend's months, oldest first), ``zone``, ``config``
    (the indicators file read), ``districts`` (configured district names, then :data:`ALL`),
    ``populations`` and ``indicators``: per indicator its spec (``id``, ``label``,
    ``label_zh``, ``unit``, ``direction``, …), ``cells`` (district → ``value``, ``n`` (the
    sample), ``previous`` (a year before), ``yoy_delta``, ``yoy_pct``, ``better`` (True /
    False / None for no change or no value)) and ``series`` (district → values per month of
    ``months``, None where there is none).
    """
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= MAX_MONTHS:
        raise OpsError(f"months: expected 1 to {MAX_MONTHS}, got {months!r}")
    parse_month(month)
    trend = [shift_month(month, k) for k in range(-(months - 1), 1)]
    wanted = [shift_month(trend[0], k) for k in range(-12, months)]
    first, end = month_start(wanted[0], zone), month_start(shift_month(month, 1), zone)
    facts = {
        "incidents": incident_facts(
            con, first, end, zone, repeat_days=spec.repeat_days, repeat_place_m=spec.repeat_place_m
        ),
        "alerts": alert_facts(con, first, end, zone),
    }
    districts = [d.name for d in config.districts.values()]
    population = {d.name: d.population for d in config.districts.values()}
    population[ALL] = sum(population.values())
    masks = {
        source: ({m: f["month"] == m for m in wanted}, {d: f["district"] == d for d in districts})
        for source, f in facts.items()
    }
    out = []
    for ind in spec.indicators:
        formula = Formula(ind, facts[ind.source])
        by_month, by_district = masks[ind.source]
        grid: dict[str, dict[str, tuple[float | None, int]]] = {}
        for d in [*districts, ALL]:
            grid[d] = {}
            for m in wanted:
                cell = by_month[m] if d == ALL else by_month[m] & by_district[d]
                grid[d][m] = formula.value(cell, population.get(d) or None)
        cells = {}
        for d, values in grid.items():
            value, n = values[month]
            previous = values[shift_month(month, -12)][0]
            cells[d] = {"value": _rounded(value), "n": n, **_yoy(value, previous, ind.direction)}
        series = {d: [_rounded(values[m][0]) for m in trend] for d, values in grid.items()}
        out.append({**ind.as_dict(), "cells": cells, "series": series})
    return {
        "month": month,
        "months": trend,
        "zone": zone.key,
        "config": str(spec.path),
        "districts": [*districts, ALL],
        "populations": population,
        "indicators": out,
    }


def months_covered(con: Any, zone: ZoneInfo) -> Sequence[str]:
    """The first and last month holding an incident (empty when there is none)."""
    row = con.execute("SELECT min(received_at), max(received_at) FROM ops_incidents").fetchone()
    if not row or row[0] is None:
        return ()
    return month_of(row[0], zone), month_of(row[1], zone)
