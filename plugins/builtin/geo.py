"""District outlines of the synthetic 嘉兴市 and sampling of points inside them.

The outlines are *approximate*: a Voronoi partition of a rough city boundary around the seven
district seats, good enough for an offline basemap and for placing generated records, and not
to be mistaken for official boundaries. ``resources/geo/districts.geojson`` is the shipped copy;
rebuild it with ``python -m plugins.builtin.geo`` after changing the seats or the boundary.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from plugins.builtin.lexicon import DISTRICTS

GEOJSON_PATH = (
    Path(__file__).resolve().parent.parent.parent / "resources" / "geo" / "districts.geojson"
)

#: District seats (lat, lon), roughly where the real ones are.
SEATS: dict[str, tuple[float, float]] = {
    "南湖区": (30.760, 120.800),
    "秀洲区": (30.785, 120.680),
    "嘉善县": (30.870, 120.930),
    "海盐县": (30.530, 120.940),
    "海宁市": (30.500, 120.660),
    "平湖市": (30.700, 121.040),
    "桐乡市": (30.640, 120.530),
}

#: A rough convex outline of the city (lon, lat), counter-clockwise.
CITY_BOUNDARY: tuple[tuple[float, float], ...] = (
    (120.30, 30.62),
    (120.42, 30.45),
    (120.60, 30.36),
    (120.85, 30.38),
    (121.05, 30.52),
    (121.25, 30.66),
    (121.20, 30.80),
    (121.00, 31.00),
    (120.80, 31.03),
    (120.60, 30.92),
    (120.38, 30.78),
)

_LON_SCALE = math.cos(math.radians(30.7))  # metres per degree of longitude vs latitude here

Point = tuple[float, float]  # (lon, lat), GeoJSON order


@dataclass(frozen=True)
class District:
    """One district: its names, administrative code, seat and outline ring (lon, lat)."""

    name: str
    name_en: str
    code: str
    seat: tuple[float, float]  # (lat, lon)
    ring: tuple[Point, ...]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        lons = [p[0] for p in self.ring]
        lats = [p[1] for p in self.ring]
        return min(lons), min(lats), max(lons), max(lats)

    def contains(self, lat: float, lon: float) -> bool:
        """True when (lat, lon) lies inside the outline (ray casting)."""
        return point_in_ring(lon, lat, self.ring)

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        """A uniformly random (lat, lon) inside the outline, rounded to 6 decimals."""
        x0, y0, x1, y1 = self.bbox
        while True:
            lon, lat = round(rng.uniform(x0, x1), 6), round(rng.uniform(y0, y1), 6)
            if self.contains(lat, lon):
                return lat, lon


def point_in_ring(x: float, y: float, ring: tuple[Point, ...]) -> bool:
    inside = False
    n = len(ring)
    for i in range(n):
        (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _clip(poly: list[Point], a: float, b: float, c: float) -> list[Point]:
    """Keep the part of ``poly`` where a*x' + b*y <= c (x' = scaled lon): Sutherland–Hodgman."""

    def side(p: Point) -> float:
        return a * p[0] * _LON_SCALE + b * p[1] - c

    out: list[Point] = []
    for i, cur in enumerate(poly):
        prev = poly[i - 1]
        sc, sp = side(cur), side(prev)
        if sc <= 0:
            if sp > 0:
                t = sp / (sp - sc)
                out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
            out.append(cur)
        elif sp <= 0:
            t = sp / (sp - sc)
            out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
    return out


def build_districts() -> list[District]:
    """Compute the outlines: each district is the part of the city nearer its seat than others."""
    result = []
    for name, (lat, lon) in SEATS.items():
        poly = list(CITY_BOUNDARY)
        sx, sy = lon * _LON_SCALE, lat
        for other, (olat, olon) in SEATS.items():
            if other == name:
                continue
            tx, ty = olon * _LON_SCALE, olat
            poly = _clip(poly, tx - sx, ty - sy, (tx * tx + ty * ty - sx * sx - sy * sy) / 2)
        ring = tuple((round(x, 5), round(y, 5)) for x, y in poly)
        code, name_en = DISTRICTS[name]
        result.append(District(name, name_en, code, (lat, lon), ring))
    return result


def to_geojson(districts: list[District]) -> dict[str, object]:
    features = []
    for d in districts:
        ring = [list(p) for p in d.ring] + [list(d.ring[0])]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": d.name,
                    "name_en": d.name_en,
                    "code": d.code,
                    "seat_lat": d.seat[0],
                    "seat_lon": d.seat[1],
                    "approximate": True,
                    "note": (
                        "synthetic outline (Voronoi of district seats), not an official boundary"
                    ),
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {
        "type": "FeatureCollection",
        "name": "嘉兴市 districts (approximate)",
        "properties": {
            "approximate": True,
            "crs": "WGS-84",
            "generator": "python -m plugins.builtin.geo",
        },
        "features": features,
    }


@cache
def districts() -> dict[str, District]:
    """The shipped outlines, by district name (read once from the GeoJSON resource)."""
    data = json.loads(GEOJSON_PATH.read_text(encoding="utf-8"))
    out: dict[str, District] = {}
    for feature in data["features"]:
        props = feature["properties"]
        ring = tuple((float(x), float(y)) for x, y in feature["geometry"]["coordinates"][0][:-1])
        out[props["name"]] = District(
            props["name"],
            props["name_en"],
            props["code"],
            (props["seat_lat"], props["seat_lon"]),
            ring,
        )
    return out


def main() -> None:
    GEOJSON_PATH.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_geojson(build_districts()), ensure_ascii=False, indent=1)
    GEOJSON_PATH.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {GEOJSON_PATH}")


if __name__ == "__main__":
    main()
