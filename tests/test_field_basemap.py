"""Issue #15, the map on the phone pages: streets and names on the offline map, and the
centre's own tiles (an MBTiles file in its data folder) through an authenticated route of a
real `superbrain serve` on PostgreSQL, shown in Debian's chromium (Playwright)."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any

import pytest
from centre_support import ok
from mbtiles_fixtures import city_tiles, solid_png, tile_of, write_mbtiles
from test_field_loop import (  # noqa: F401 - fixtures
    _incident,
    _open_report_page,
    _unit_login,
    browser,
    centre,
)

pytestmark = pytest.mark.timeout(600)
MAGENTA = (200, 30, 160)


def _get(port: int, path: str, token: str | None = None) -> tuple[int, str, bytes]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        con.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = con.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        con.close()


def _visible_names(page: Any) -> list[str]:
    return list(
        page.evaluate("""() => Array.from(document.querySelectorAll(
        '.sb-street-name, .sb-place-name')).filter((e) => e.offsetParent !== null)
        .map((e) => e.textContent)""")
    )


def test_the_report_page_map_draws_streets_and_names_them_as_one_zooms_in(
    centre: dict[str, Any], browser: Any
) -> None:
    from plugins.builtin import streets

    page = _open_report_page(browser, centre["server"].base)
    try:
        page.wait_for_function("() => Number(document.body.dataset.basemap || 0) > 0")
        lane = next(s for s in streets.streets() if s.cls == "residential")
        motorway = next(s for s in streets.streets() if s.cls == "motorway")
        lat, lon = lane.points[len(lane.points) // 2]
        page.evaluate(f"() => SB.lastMap.setView([{lat}, {lon}], 16)")
        page.wait_for_timeout(300)
        assert lane.name in _visible_names(page)
        page.evaluate(f"() => SB.lastMap.setView([{lat}, {lon}], 11)")
        page.wait_for_timeout(300)
        names = _visible_names(page)
        assert lane.name not in names and motorway.name in names
        assert not page.errors
    finally:
        page.context.close()


def test_the_centre_tiles_need_a_session_stay_in_the_grid_and_reach_the_unit_page(
    centre: dict[str, Any], browser: Any
) -> None:
    server, desk = centre["server"], centre["desk"]
    folder = Path(centre["config"]).parent / "data" / "map"
    folder.mkdir(parents=True, exist_ok=True)
    tiles = city_tiles(30.752, 120.758, range(12, 16), rgb=MAGENTA)
    write_mbtiles(folder / "city.mbtiles", tiles)
    x, y = tile_of(30.752, 120.758, 14)

    assert _get(server.port, "/api/v1/tiles")[0] == 401  # no session, no tiles
    assert _get(server.port, f"/api/v1/tiles/14/{x}/{y}")[0] == 401
    status, media, body = _get(server.port, "/api/v1/tiles", desk)
    assert status == 200 and b'"available": true' in body
    status, media, body = _get(server.port, f"/api/v1/tiles/14/{x}/{y}", desk)
    assert (status, media) == (200, "image/png") and body == solid_png(MAGENTA)
    assert _get(server.port, f"/api/v1/tiles/14/{x + 50}/{y}", desk)[0] == 404
    for bad in (
        "/api/v1/tiles/14/99999999/1",
        "/api/v1/tiles/30/0/0",
        "/api/v1/tiles/14/-1/0",
        "/api/v1/tiles/14/1",
        "/api/v1/tiles/../../centre.toml",
        "/api/v1/tiles/14/%2e%2e/1",
        "/api/v1/tiles/14/1/1;select",
    ):
        status, _, body = _get(server.port, bad, desk)
        assert status in (400, 404), (bad, status)
        assert b"[database]" not in body

    page = _unit_login(browser, server.base, "dev-b")
    try:
        inc = _incident(server, desk)
        ok(server, desk, "ops.assign", incident_id=inc["id"], unit_ids=[centre["units"]["dev-b"]])
        page.wait_for_function(f"() => document.body.dataset.incident === '{inc['id']}'")
        page.wait_for_function("() => document.body.dataset.tiles === 'test city'")
        page.wait_for_function(
            "() => document.querySelectorAll('img.leaflet-tile-loaded').length > 0"
        )
        page.wait_for_function("() => Number(document.body.dataset.basemap || 0) > 0")
        assert any(n for n in _visible_names(page))  # street names over the tiles at zoom 14
        assert not page.errors
    finally:
        page.context.close()
