"""Unit recommendation: nearest available units with the needed capabilities, vectorised.

A :class:`UnitSnapshot` holds the roster as numpy arrays (rebuilt only when a unit changed), so
one recommendation is a masked haversine over all units plus a partial sort, and a whole open
queue is a chunked incident × unit distance matrix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ops.config import OpsConfig
from ops.geo import haversine_many_m, haversine_matrix_m
from ops.model import Recommendation


@dataclass
class UnitSnapshot:
    """The roster as arrays. ``caps`` are bitmasks over :attr:`capability_bits`."""

    ids: list[str]
    names: list[str]
    types: list[str]
    districts: list[str]
    lat: np.ndarray
    lon: np.ndarray
    position_at: np.ndarray  # epoch seconds, NaN when never reported
    speed_ms: np.ndarray
    caps: np.ndarray  # uint64 bitmask
    recommendable: np.ndarray  # bool: status allows recommendation
    capability_bits: dict[str, int]

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[object]], config: OpsConfig) -> UnitSnapshot:
        """Rows of (id, name, type, capabilities JSON, district, status, lat, lon, position_at)."""
        states = set(config.unit_states.extra.get("recommendable", ["available"]))
        bits: dict[str, int] = {}
        ids, names, types, districts = [], [], [], []
        n = len(rows)
        lat = np.full(n, np.nan)
        lon = np.full(n, np.nan)
        pos_at = np.full(n, np.nan)
        speed = np.full(n, np.nan)
        caps = np.zeros(n, dtype=np.uint64)
        ok = np.zeros(n, dtype=bool)
        for i, (uid, name, utype, cap_json, district, status, la, lo, pat) in enumerate(rows):
            ids.append(str(uid))
            names.append(str(name))
            types.append(str(utype))
            districts.append(str(district))
            mask = 0
            for c in json.loads(str(cap_json)):
                if c not in bits:
                    if len(bits) >= 64:
                        raise ValueError("more than 64 distinct unit capabilities")
                    bits[c] = len(bits)
                mask |= 1 << bits[c]
            caps[i] = mask
            if la is not None and lo is not None:
                lat[i], lon[i] = float(la), float(lo)  # type: ignore[arg-type]
            if pat is not None:
                pos_at[i] = float(pat)  # type: ignore[arg-type]
            ut = config.unit_types.get(str(utype))
            speed[i] = (ut.speed_kmh if ut else 30.0) / 3.6
            ok[i] = status in states
        return cls(ids, names, types, districts, lat, lon, pos_at, speed, caps, ok, bits)

    def need_mask(self, capabilities: Iterable[str]) -> int | None:
        """Bitmask of the needed capabilities; ``None`` when no unit has one of them."""
        mask = 0
        for c in capabilities:
            if c not in self.capability_bits:
                return None
            mask |= 1 << self.capability_bits[c]
        return mask

    def candidates(self, capabilities: Iterable[str], exclude: Iterable[str] = ()) -> np.ndarray:
        """Indices of recommendable units with a position and every needed capability."""
        need = self.need_mask(capabilities)
        if need is None:
            return np.empty(0, dtype=np.int64)
        mask = self.recommendable & ~np.isnan(self.lat)
        if need:
            need_u = np.uint64(need)
            mask &= (self.caps & need_u) == need_u
        excluded = set(exclude)
        if excluded:
            mask &= ~np.isin(np.array(self.ids, dtype=object), list(excluded))
        return np.nonzero(mask)[0]


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest values, sorted (argpartition, then sort the k)."""
    if k <= 0 or values.size == 0:
        return np.empty(0, dtype=np.int64)
    if k < values.size:
        part = np.argpartition(values, k - 1)[:k]
        return part[np.argsort(values[part], kind="stable")]
    return np.argsort(values, kind="stable")


def recommend_at(
    snapshot: UnitSnapshot,
    lat: float,
    lon: float,
    *,
    capabilities: Iterable[str],
    now: float,
    road_factor: float,
    stale_minutes: float,
    limit: int,
    exclude: Iterable[str] = (),
) -> list[Recommendation]:
    """Best units for a point: by ETA (distance × road factor ÷ speed), then distance."""
    idx = snapshot.candidates(capabilities, exclude)
    if idx.size == 0:
        return []
    dist = haversine_many_m(lat, lon, snapshot.lat[idx], snapshot.lon[idx])
    eta = dist * road_factor / snapshot.speed_ms[idx]
    order = _top(eta, limit)
    out = []
    for j in order:
        i = int(idx[j])
        pat = snapshot.position_at[i]
        age = None if np.isnan(pat) else max(0.0, now - float(pat))
        out.append(
            Recommendation(
                unit_id=snapshot.ids[i],
                name=snapshot.names[i],
                type=snapshot.types[i],
                district=snapshot.districts[i],
                distance_m=round(float(dist[j]), 1),
                eta_s=round(float(eta[j]), 1),
                stale=age is None or age > stale_minutes * 60,
                position_age_s=None if age is None else round(age, 1),
                lat=float(snapshot.lat[i]),
                lon=float(snapshot.lon[i]),
            )
        )
    return out


def recommend_many(
    snapshot: UnitSnapshot,
    lats: np.ndarray,
    lons: np.ndarray,
    capabilities: Sequence[tuple[str, ...]],
    *,
    road_factor: float,
    limit: int,
    chunk: int = 1024,
) -> list[list[tuple[str, float, float]]]:
    """Best units for many points at once: per point a list of (unit id, eta_s, distance_m).

    Points are grouped by their needed capabilities, and each group is processed in chunks of
    ``chunk`` rows so the distance matrix stays small (chunk × units floats).
    """
    result: list[list[tuple[str, float, float]]] = [[] for _ in range(len(lats))]
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, caps in enumerate(capabilities):
        groups.setdefault(tuple(sorted(caps)), []).append(i)
    for caps, members in groups.items():
        idx = snapshot.candidates(caps)
        if idx.size == 0:
            continue
        speed = snapshot.speed_ms[idx]
        ulat, ulon = snapshot.lat[idx], snapshot.lon[idx]
        k = min(limit, idx.size)
        rows = np.array(members)
        for start in range(0, rows.size, chunk):
            part = rows[start : start + chunk]
            dist = haversine_matrix_m(lats[part], lons[part], ulat, ulon)
            eta = dist * road_factor / speed[None, :]
            if k < idx.size:
                top = np.argpartition(eta, k - 1, axis=1)[:, :k]
            else:
                top = np.tile(np.arange(idx.size), (part.size, 1))
            top_eta = np.take_along_axis(eta, top, axis=1)
            order = np.argsort(top_eta, axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            for r, row_i in enumerate(part):
                result[int(row_i)] = [
                    (
                        snapshot.ids[int(idx[c])],
                        round(float(eta[r, c]), 1),
                        round(float(dist[r, c]), 1),
                    )
                    for c in top[r]
                ]
    return result
