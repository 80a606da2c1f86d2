"""Distances and shapes on the WGS-84 sphere: haversine (scalar and numpy), polygons, grid cells."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = 111_320.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_many_m(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Distances in metres from one point to many (vectorised)."""
    p1 = math.radians(lat)
    p2 = np.radians(lats)
    dp = p2 - p1
    dl = np.radians(lons) - math.radians(lon)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def haversine_matrix_m(
    lats_a: np.ndarray, lons_a: np.ndarray, lats_b: np.ndarray, lons_b: np.ndarray
) -> np.ndarray:
    """Distances in metres between every point of A (rows) and every point of B (columns)."""
    pa = np.radians(lats_a)[:, None]
    pb = np.radians(lats_b)[None, :]
    dl = np.radians(lons_b)[None, :] - np.radians(lons_a)[:, None]
    a = np.sin((pb - pa) / 2) ** 2 + np.cos(pa) * np.cos(pb) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def point_in_polygon(lat: float, lon: float, polygon: Sequence[Sequence[float]]) -> bool:
    """Ray casting on a [lat, lon] ring (closed or not); points on an edge count as inside."""
    inside = False
    n = len(polygon)
    j = n - 1
    for i in range(n):
        yi, xi = polygon[i][0], polygon[i][1]
        yj, xj = polygon[j][0], polygon[j][1]
        if (yi > lat) != (yj > lat):
            x_cross = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lon <= x_cross:
                inside = not inside
        j = i
    return inside


class Grid:
    """Square cells of ``cell_m`` metres laid from a fixed origin (stable ids across periods).

    Cell sizes in degrees are fixed at the origin's latitude, so a cell is ``cell_m`` wide to
    within a fraction of a percent across a city.
    """

    def __init__(self, cell_m: float, origin: tuple[float, float]) -> None:
        if cell_m <= 0:
            raise ValueError(f"grid cell size must be positive, got {cell_m}")
        self.cell_m = float(cell_m)
        self.origin = (float(origin[0]), float(origin[1]))
        self.dlat = self.cell_m / M_PER_DEG_LAT
        self.dlon = self.cell_m / (M_PER_DEG_LAT * math.cos(math.radians(self.origin[0])))

    def cells(self, lats: np.ndarray, lons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column index of each point."""
        rows = np.floor((np.asarray(lats, dtype=float) - self.origin[0]) / self.dlat)
        cols = np.floor((np.asarray(lons, dtype=float) - self.origin[1]) / self.dlon)
        return rows.astype(np.int64), cols.astype(np.int64)

    def cell_id(self, row: int, col: int) -> str:
        return f"{self.cell_m:g}m:{row}:{col}"

    def bounds(self, row: int, col: int) -> tuple[float, float, float, float]:
        """(south, west, north, east) of a cell."""
        s = self.origin[0] + row * self.dlat
        w = self.origin[1] + col * self.dlon
        return s, w, s + self.dlat, w + self.dlon

    def polygon(self, row: int, col: int) -> list[list[float]]:
        """The cell as a closed [lat, lon] ring (Leaflet order)."""
        s, w, n, e = self.bounds(row, col)
        return [[s, w], [n, w], [n, e], [s, e], [s, w]]

    def center(self, row: int, col: int) -> tuple[float, float]:
        s, w, n, e = self.bounds(row, col)
        return (s + n) / 2, (w + e) / 2
