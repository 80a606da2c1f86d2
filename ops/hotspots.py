"""Hotspots: incident density by grid cell and by district for a period, against the period
before it (same length), as data the map (cell polygons / centres) and dashboards draw."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from ops.config import OpsConfig
from ops.geo import Grid


def _change(now: int, before: int) -> dict[str, Any]:
    return {
        "count": now,
        "previous": before,
        "change": now - before,
        "change_pct": round(100.0 * (now - before) / before, 1) if before else None,
    }


def hotspots(
    con: Any,
    config: OpsConfig,
    *,
    start: datetime,
    end: datetime,
    cell_m: float | None = None,
    category: str | None = None,
) -> dict[str, Any]:
    """Incident counts per cell and district in [start, end) and in the period before.

    Returns
    -------
    dict with ``period`` and ``previous`` ({start, end} ISO), ``cell_m``, ``total``,
    ``previous_total``, ``cells`` (each: ``id``, ``row``, ``col``, ``center`` [lat, lon],
    ``polygon`` closed [lat, lon] ring, ``count``, ``previous``, ``change``, ``change_pct``;
    busiest first; cells empty in both periods are left out) and ``districts`` (each:
    ``district``, ``count``, ``previous``, ``change``, ``change_pct``), and ``unlocated``
    (incidents in the period with no position: counted by district only).
    """
    if end <= start:
        raise ValueError(f"hotspot period ends ({end}) before it starts ({start})")
    t0, t1 = start.timestamp(), end.timestamp()
    prev0 = t0 - (t1 - t0)
    sql = (
        "SELECT received_at, lat, lon, district FROM ops_incidents WHERE received_at >= ? "
        "AND received_at < ? AND status != 'cancelled'"
    )
    args: list[Any] = [prev0, t1]
    if category:
        sql += " AND category=?"
        args.append(category)
    rows = con.execute(sql, args).fetchall()
    grid = Grid(cell_m or config.cell_m, config.grid_origin)
    times = np.array([r[0] for r in rows], dtype=float)
    current = times >= t0
    located = np.array([r[1] is not None and r[2] is not None for r in rows], dtype=bool)
    cells: list[dict[str, Any]] = []
    if located.any():
        lats = np.array([r[1] for r in rows], dtype=object)[located].astype(float)
        lons = np.array([r[2] for r in rows], dtype=object)[located].astype(float)
        rr, cc = grid.cells(lats, lons)
        cur = current[located]
        keys = np.stack([rr, cc], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        n_now = np.bincount(inverse, weights=cur.astype(float), minlength=len(uniq))
        n_before = np.bincount(inverse, weights=(~cur).astype(float), minlength=len(uniq))
        for (r, c), a, b in zip(uniq.tolist(), n_now.tolist(), n_before.tolist(), strict=True):
            lat, lon = grid.center(r, c)
            cells.append(
                {
                    "id": grid.cell_id(r, c),
                    "row": r,
                    "col": c,
                    "center": [round(lat, 6), round(lon, 6)],
                    "polygon": [[round(y, 6), round(x, 6)] for y, x in grid.polygon(r, c)],
                    **_change(int(a), int(b)),
                }
            )
        cells.sort(key=lambda d: (-d["count"], -d["change"], d["id"]))
    districts: dict[str, list[int]] = {}
    for (_, _, _, district), is_now in zip(rows, current.tolist(), strict=True):
        districts.setdefault(district or "(unknown)", [0, 0])[0 if is_now else 1] += 1
    by_district = [{"district": d, **_change(a, b)} for d, (a, b) in districts.items()]
    by_district.sort(key=lambda d: (-d["count"], d["district"]))
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "previous": {
            "start": datetime.fromtimestamp(prev0, tz=start.tzinfo).isoformat(),
            "end": start.isoformat(),
        },
        "cell_m": grid.cell_m,
        "total": int(current.sum()),
        "previous_total": int((~current).sum()),
        "unlocated": int((current & ~located).sum()),
        "cells": cells,
        "districts": by_district,
    }


def cells_geojson(result: dict[str, Any]) -> dict[str, Any]:
    """The cells of a :func:`hotspots` result as a GeoJSON FeatureCollection (lon, lat order)."""
    features = []
    for cell in result["cells"]:
        ring = [[lon, lat] for lat, lon in cell["polygon"]]
        props = {k: v for k, v in cell.items() if k not in ("polygon",)}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}
