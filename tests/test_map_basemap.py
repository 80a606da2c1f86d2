"""Issue #15, the map: a readable offline basemap (streets by class, street and place names)
and a centre's own tiles from an MBTiles file, served read-only and bounded. No Qt here."""

from __future__ import annotations

import itertools
import os
import sqlite3
from pathlib import Path

import pytest
from mbtiles_fixtures import city_tiles, solid_png, tile_of, write_mbtiles

from core.mbtiles import (
    MAX_TILE_BYTES,
    MBTiles,
    TileError,
    TileRequestError,
    find_mbtiles,
    parse_tile_path,
)
from plugins.builtin import geo, streets
from plugins.builtin.world import World


def _distance_to_line(lat: float, lon: float, points: tuple[tuple[float, float], ...]) -> float:
    best = float("inf")
    for (ay, ax), (by, bx) in itertools.pairwise(points):
        dy, dx = by - ay, bx - ax
        t = max(0.0, min(1.0, ((lat - ay) * dy + (lon - ax) * dx) / (dy * dy + dx * dx)))
        best = min(best, ((lat - ay - t * dy) ** 2 + (lon - ax - t * dx) ** 2) ** 0.5)
    return best


def test_the_shipped_basemap_is_what_the_generator_writes() -> None:
    assert streets.BASEMAP_PATH.read_text(encoding="utf-8") == streets.geojson_text(), (
        "resources/geo/basemap.geojson is stale: run python -m plugins.builtin.streets"
    )


def test_every_checkpoint_stands_where_the_two_streets_it_is_named_after_cross() -> None:
    """A camera called "A与B交叉口卡口" is drawn where street A meets street B of its district
    (the names were random road pairs at random points before)."""
    for seed in (0, 7):
        for cp in World(seed).checkpoints:
            a, b = cp.name.removesuffix("交叉口卡口").split("与")
            by_name = {s.name: s for s in streets.district_streets(cp.district)}
            assert a in by_name and b in by_name, cp
            for street in (by_name[a], by_name[b]):
                assert _distance_to_line(cp.lat, cp.lon, street.points) < 1e-5, (cp, street)
            assert geo.districts()[cp.district].contains(cp.lat, cp.lon), cp


def test_streets_come_in_classes_drawn_and_named_big_roads_first() -> None:
    all_streets = streets.streets()
    classes = {s.cls for s in all_streets}
    assert classes == set(streets.CLASSES)
    line_zooms = [streets.CLASSES[c][0] for c in streets.CLASSES]
    assert line_zooms == sorted(line_zooms)  # motorways from the widest view, lanes last
    for district in geo.districts():
        names = [s.name for s in streets.district_streets(district)]
        assert len(names) == len(set(names)), district  # one street per name in a district
        for s in streets.district_streets(district):
            assert all(geo.districts()[district].contains(lat, lon) for lat, lon in s.points), s
    kinds = {p.kind for p in streets.places()}
    assert kinds == set(streets.PLACE_ZOOM)


def test_the_console_page_carries_the_streets_and_names_with_their_zooms() -> None:
    from console.mapdata import basemap_features
    from console.mapgen import MapLayers, build_map_html, external_urls

    base = basemap_features()
    assert {s["cls"] for s in base["streets"]} == set(streets.CLASSES)
    motorway = next(s for s in base["streets"] if s["cls"] == "motorway")
    lane = next(s for s in base["streets"] if s["cls"] == "residential")
    assert motorway["minzoom"] < lane["minzoom"] and motorway["labelzoom"] < lane["labelzoom"]
    assert any(p["kind"] == "district" and p["name"] == "南湖区" for p in base["places"])
    html = build_map_html(MapLayers(streets=base["streets"], places=base["places"]))
    assert motorway["name"] in html and lane["name"] in html
    assert external_urls(html) == []


def test_a_missing_or_broken_street_file_leaves_the_map_without_streets(tmp_path: Path) -> None:
    from console.mapgen import load_basemap

    assert load_basemap(tmp_path / "absent.geojson") == {"streets": [], "places": []}
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    assert load_basemap(bad) == {"streets": [], "places": []}
    mixed = tmp_path / "mixed.geojson"
    mixed.write_text(
        '{"features": [{"properties": {"name": "x"}, "geometry": {"type": "LineString",'
        ' "coordinates": [["a", 1]]}}, 7, {"properties": {"name": "中山路", "class": "primary"},'
        ' "geometry": {"type": "LineString", "coordinates": [[120.8, 30.7], [120.9, 30.7]]}}]}',
        encoding="utf-8",
    )
    assert [s["name"] for s in load_basemap(mixed)["streets"]] == ["中山路"]


# -- MBTiles ------------------------------------------------------------------------------------
def test_an_mbtiles_file_serves_its_tiles_by_xyz_with_rows_counted_from_the_top(
    tmp_path: Path,
) -> None:
    red, blue = solid_png((255, 0, 0)), solid_png((0, 0, 255))
    x, y = tile_of(30.76, 120.80, 12)
    path = write_mbtiles(tmp_path / "city.mbtiles", {(12, x, y): red, (12, x, y + 1): blue})
    tiles = MBTiles(path)
    try:
        assert tiles.tile(12, x, y) == red  # stored as TMS row 2^z-1-y, asked for as XYZ
        assert tiles.tile(12, x, y + 1) == blue
        assert tiles.tile(12, x + 1, y) is None
        assert tiles.media_type == "image/png" and tiles.name == "test city"
        assert (tiles.min_zoom, tiles.max_zoom) == (12, 12)
    finally:
        tiles.close()


def test_tile_requests_outside_the_grid_are_refused_before_any_query(tmp_path: Path) -> None:
    tiles = MBTiles(write_mbtiles(tmp_path / "c.mbtiles", city_tiles(30.76, 120.8, range(3, 4))))
    try:
        for z, x, y in ((23, 0, 0), (-1, 0, 0), (3, 8, 0), (3, 0, 8), (3, -1, 0)):
            with pytest.raises(TileRequestError):
                tiles.tile(z, x, y)
        with pytest.raises(TileRequestError):
            tiles.tile(3, "1 OR 1=1", 0)  # type: ignore[arg-type]
    finally:
        tiles.close()
    for text in (
        "1/2",
        "1/2/3/4",
        "a/1/1",
        "1/-1/1",
        "1/1/1; drop",
        "../../1/1",
        "1/1/ 1",
        "1/1/123456789",
        "1/1/١",
    ):
        assert parse_tile_path(text) is None, text
    assert parse_tile_path("12/3425/1680.png") == (12, 3425, 1680)


def test_an_oversized_tile_is_refused_and_the_file_is_never_written(tmp_path: Path) -> None:
    path = write_mbtiles(tmp_path / "big.mbtiles", {(1, 0, 0): b"\x89PNG" + b"0" * MAX_TILE_BYTES})
    before = path.read_bytes()
    tiles = MBTiles(path)
    try:
        with pytest.raises(TileError, match="bytes"):
            tiles.tile(1, 0, 0)
        with pytest.raises(sqlite3.OperationalError):  # opened read-only
            tiles._con.execute("DELETE FROM tiles")
    finally:
        tiles.close()
    assert path.read_bytes() == before


def test_files_that_are_not_raster_mbtiles_are_refused_naming_the_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.mbtiles"
    text.write_text("not a database", encoding="utf-8")
    with pytest.raises(TileError, match=r"notes\.mbtiles"):
        MBTiles(text)
    vector = write_mbtiles(tmp_path / "vector.mbtiles", {(0, 0, 0): b"x"}, fmt="pbf")
    with pytest.raises(TileError, match="raster tiles only"):
        MBTiles(vector)
    empty = tmp_path / "empty.mbtiles"
    sqlite3.connect(empty).execute("CREATE TABLE other (a)").connection.close()
    with pytest.raises(TileError, match=r"empty\.mbtiles"):
        MBTiles(empty)
    fifo = tmp_path / "fifo.mbtiles"
    os.mkfifo(fifo)
    with pytest.raises(TileError, match="not a regular file"):
        MBTiles(fifo)


def test_the_workspace_file_is_found_in_map_or_named_in_the_config_and_stays_inside(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    (root / "map").mkdir(parents=True)
    assert find_mbtiles(root) is None
    dropped = write_mbtiles(root / "map" / "jiaxing.mbtiles", {(0, 0, 0): solid_png((1, 2, 3))})
    assert find_mbtiles(root) == dropped
    assert find_mbtiles(root, "map/jiaxing.mbtiles") == dropped.resolve()
    outside = write_mbtiles(tmp_path / "outside.mbtiles", {(0, 0, 0): solid_png((1, 2, 3))})
    with pytest.raises(TileError, match="inside the workspace"):
        find_mbtiles(root, "../outside.mbtiles")
    with pytest.raises(TileError, match="inside the workspace"):
        find_mbtiles(root, str(outside))
    (root / "map" / "link.mbtiles").symlink_to(outside)
    (root / "map" / "jiaxing.mbtiles").unlink()
    assert find_mbtiles(root) is None  # a link out of the workspace is not served
    with pytest.raises(TileError, match="no such file"):
        find_mbtiles(root, "map/missing.mbtiles")
