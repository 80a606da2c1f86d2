"""Streets and named places of the synthetic 嘉兴市: the readable part of its offline basemap.

Like the district outlines (:mod:`plugins.builtin.geo`) this is *invented geography*, generated
deterministically for the synthetic city and not to be mistaken for the real one. Each district
seat has a small grid of named streets (two primary and two secondary streets each way, two
residential lanes), motorways cross the city and a trunk road links every seat to the city
centre. The world's checkpoint cameras stand on the crossings of this grid, so a checkpoint
named "中山路与禾兴路交叉口卡口" is drawn where 中山路 meets 禾兴路.

``resources/geo/basemap.geojson`` is the shipped copy, read by the console's map and the field
pages; rebuild it with ``python -m plugins.builtin.streets`` after changing anything here.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from plugins.builtin.geo import SEATS
from plugins.builtin.lexicon import COMMUNITIES, DISTRICTS, ROADS

BASEMAP_PATH = (
    Path(__file__).resolve().parent.parent.parent / "resources" / "geo" / "basemap.geojson"
)

#: Street classes, most important first, with the zoom from which a line is drawn and the
#: zoom from which its name is written (the console's map and the field pages both use them).
CLASSES: dict[str, tuple[int, int]] = {
    "motorway": (8, 11),
    "trunk": (10, 12),
    "primary": (12, 14),
    "secondary": (13, 15),
    "residential": (14, 16),
}
#: Kinds of named place, with the zoom from which their names are written.
PLACE_ZOOM: dict[str, int] = {"district": 9, "landmark": 12, "community": 14}

_CENTRE = "南湖区"
#: Motorways across the city: name → (lat, lon) vertices.
_MOTORWAYS: dict[str, tuple[tuple[float, float], ...]] = {
    "沪杭高速": (
        (30.975, 121.120),
        (30.900, 121.010),
        (30.815, 120.880),
        (30.745, 120.740),
        (30.660, 120.560),
        (30.585, 120.400),
    ),
    "乍嘉苏高速": (
        (30.585, 121.080),
        (30.665, 120.985),
        (30.735, 120.880),
        (30.850, 120.830),
        (30.990, 120.790),
    ),
    "申嘉湖高速": (
        (30.820, 121.190),
        (30.830, 121.040),
        (30.815, 120.870),
        (30.835, 120.720),
        (30.790, 120.560),
        (30.730, 120.410),
    ),
}
#: The trunk road from each district seat to the city centre.
_TRUNKS: dict[str, str] = {
    "秀洲区": "中环西路",
    "嘉善县": "07省道",
    "海盐县": "嘉盐公路",
    "海宁市": "嘉海公路",
    "平湖市": "嘉平公路",
    "桐乡市": "320国道",
}
#: Landmarks near the centre: name → (lat, lon) offset from the centre's seat.
_LANDMARKS: dict[str, tuple[float, float]] = {
    "南湖": (-0.012, 0.022),
    "嘉兴站": (0.016, -0.004),
    "月河历史街区": (0.006, -0.016),
    "嘉兴南站": (-0.042, 0.046),
}

_GRID_LAT = (-0.030, -0.010, 0.010, 0.030)  # east–west streets, offsets from the seat
_GRID_LON = (-0.036, -0.012, 0.012, 0.036)  # north–south streets
_GRID_CLASS = ("secondary", "primary", "primary", "secondary")
_HALF_LON, _HALF_LAT = 0.052, 0.044  # how far the grid's streets run from the seat

Point = tuple[float, float]  # (lat, lon)


@dataclass(frozen=True)
class Street:
    """A named street: its class (a key of :data:`CLASSES`), district ("" when it crosses
    districts) and (lat, lon) vertices."""

    name: str
    cls: str
    district: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Crossing:
    """Where east–west street ``a`` meets north–south street ``b`` in ``district``."""

    a: str
    b: str
    district: str
    lat: float
    lon: float


@dataclass(frozen=True)
class NamedPlace:
    """A named point: a district seat, a landmark or a residential community."""

    name: str
    kind: str
    district: str
    lat: float
    lon: float


def _rng(district: str, salt: int) -> random.Random:
    return random.Random(int(DISTRICTS[district][0]) * 16 + salt)


def _wobbly(
    start: Point, end: Point, rng: random.Random, steps: int, amp: float
) -> tuple[Point, ...]:
    """A line from ``start`` to ``end`` through ``steps - 1`` inner vertices moved sideways by
    up to ``amp`` degrees (streets are not ruled lines)."""
    (y0, x0), (y1, x1) = start, end
    dy, dx = y1 - y0, x1 - x0
    length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    ny, nx = dx / length, -dy / length  # unit normal
    out = [start]
    for i in range(1, steps):
        t, off = i / steps, rng.uniform(-amp, amp)
        out.append((round(y0 + dy * t + ny * off, 6), round(x0 + dx * t + nx * off, 6)))
    out.append(end)
    return tuple(out)


@cache
def district_streets(district: str) -> tuple[Street, ...]:
    """The street grid around ``district``'s seat: east–west streets first, then north–south,
    then two residential lanes."""
    lat, lon = SEATS[district]
    rng = _rng(district, 1)
    names = rng.sample(ROADS, len(_GRID_LAT) + len(_GRID_LON) + 2)
    out = []
    for i, dlat in enumerate(_GRID_LAT):
        y = lat + dlat
        out.append(
            Street(
                names[i],
                _GRID_CLASS[i],
                district,
                _wobbly(
                    (round(y, 6), round(lon - _HALF_LON, 6)),
                    (round(y, 6), round(lon + _HALF_LON, 6)),
                    rng,
                    8,
                    0.0015,
                ),
            )
        )
    for j, dlon in enumerate(_GRID_LON):
        x = lon + dlon
        out.append(
            Street(
                names[4 + j],
                _GRID_CLASS[j],
                district,
                _wobbly(
                    (round(lat - _HALF_LAT, 6), round(x, 6)),
                    (round(lat + _HALF_LAT, 6), round(x, 6)),
                    rng,
                    8,
                    0.0015,
                ),
            )
        )
    # two lanes inside the central blocks, from one primary street to the next
    for k, (dlat, dlon) in enumerate(((0.0, -0.024), (0.0, 0.024))):
        y, x = lat + dlat + rng.uniform(-0.004, 0.004), lon + dlon
        out.append(
            Street(
                names[8 + k],
                "residential",
                district,
                _wobbly(
                    (round(y, 6), round(x - 0.011, 6)),
                    (round(y, 6), round(x + 0.011, 6)),
                    rng,
                    3,
                    0.0006,
                ),
            )
        )
    return tuple(out)


def _intersect(p: tuple[Point, ...], q: tuple[Point, ...]) -> Point | None:
    """The first point where polylines ``p`` and ``q`` cross, or ``None``."""
    for (ay, ax), (by, bx) in itertools.pairwise(p):
        for (cy, cx), (dy, dx) in itertools.pairwise(q):
            den = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx)
            if den == 0:
                continue
            t = ((cx - ax) * (dy - cy) - (cy - ay) * (dx - cx)) / den
            u = ((cx - ax) * (by - ay) - (cy - ay) * (bx - ax)) / den
            if 0 <= t <= 1 and 0 <= u <= 1:
                return round(ay + t * (by - ay), 6), round(ax + t * (bx - ax), 6)
    return None


@cache
def crossings(district: str) -> tuple[Crossing, ...]:
    """Every crossing of an east–west and a north–south street of ``district``'s grid."""
    streets = district_streets(district)
    ew, ns = streets[: len(_GRID_LAT)], streets[len(_GRID_LAT) : len(_GRID_LAT) + len(_GRID_LON)]
    out = []
    for a in ew:
        for b in ns:
            at = _intersect(a.points, b.points)
            if at is not None:
                out.append(Crossing(a.name, b.name, district, *at))
    return tuple(out)


@cache
def streets() -> tuple[Street, ...]:
    """Every street of the city: motorways, trunk roads, then each district's grid."""
    out = [Street(name, "motorway", "", pts) for name, pts in _MOTORWAYS.items()]
    centre = SEATS[_CENTRE]
    for district, name in _TRUNKS.items():
        out.append(
            Street(name, "trunk", "", _wobbly(SEATS[district], centre, _rng(district, 2), 6, 0.006))
        )
    for district in DISTRICTS:
        out.extend(district_streets(district))
    return tuple(out)


@cache
def places() -> tuple[NamedPlace, ...]:
    """District names at their seats, landmarks near the centre, and residential communities
    in the blocks between each district's streets."""
    out = [NamedPlace(d, "district", d, *SEATS[d]) for d in DISTRICTS]
    clat, clon = SEATS[_CENTRE]
    out += [
        NamedPlace(n, "landmark", _CENTRE, round(clat + dy, 6), round(clon + dx, 6))
        for n, (dy, dx) in _LANDMARKS.items()
    ]
    for district in DISTRICTS:
        lat, lon = SEATS[district]
        rng = _rng(district, 3)
        names = rng.sample(COMMUNITIES, 6)
        blocks = [(y, x) for y in (-0.020, 0.020) for x in (-0.024, 0.0, 0.024)]
        for name, (dy, dx) in zip(names, blocks, strict=True):
            out.append(
                NamedPlace(
                    f"{name}小区",
                    "community",
                    district,
                    round(lat + dy + rng.uniform(-0.004, 0.004), 6),
                    round(lon + dx + rng.uniform(-0.005, 0.005), 6),
                )
            )
    return tuple(out)


def to_geojson() -> dict[str, object]:
    """Streets (LineStrings with ``name``, ``class``, ``minzoom``, ``labelzoom``) and places
    (Points with ``name``, ``kind``, ``labelzoom``) as one FeatureCollection."""
    features: list[dict[str, object]] = []
    for s in streets():
        line_zoom, label_zoom = CLASSES[s.cls]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "layer": "street",
                    "name": s.name,
                    "class": s.cls,
                    "district": s.district,
                    "minzoom": line_zoom,
                    "labelzoom": label_zoom,
                },
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[lon, lat] for lat, lon in s.points],
                },
            }
        )
    for p in places():
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "layer": "place",
                    "name": p.name,
                    "kind": p.kind,
                    "district": p.district,
                    "labelzoom": PLACE_ZOOM[p.kind],
                },
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            }
        )
    return {
        "type": "FeatureCollection",
        "name": "嘉兴市 streets and places (synthetic)",
        "properties": {
            "synthetic": True,
            "crs": "WGS-84",
            "generator": "python -m plugins.builtin.streets",
            "note": "invented street network of the synthetic demo city",
        },
        "features": features,
    }


def geojson_text() -> str:
    """The text of the shipped ``basemap.geojson``."""
    return json.dumps(to_geojson(), ensure_ascii=False, separators=(",", ":")) + "\n"


def main() -> None:
    BASEMAP_PATH.parent.mkdir(parents=True, exist_ok=True)
    BASEMAP_PATH.write_text(geojson_text(), encoding="utf-8")
    print(f"wrote {BASEMAP_PATH}")


if __name__ == "__main__":
    main()
