"""Issue #15, the map: a centre's own tiles. An MBTiles file dropped into the workspace
(``map/*.mbtiles``) is served to the console's map pages through the ``sbtiles:`` scheme, read
from the file in this process (no network), and the layer switcher offers it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from mbtiles_fixtures import city_tiles, tile_of, write_mbtiles

from tests.console_fixtures import qtinit  # prepares WebEngine before the QApplication

WAIT = 30_000  # ms; a slow shared machine
MAGENTA = (200, 30, 160)


def _ctx(root: Path, tile_url: str = "", **map_config: str) -> SimpleNamespace:
    return SimpleNamespace(
        tile_url=tile_url, workspace=SimpleNamespace(root=root, config={"map": map_config})
    )


def test_the_tile_source_is_the_server_else_the_dropped_file_else_the_offline_basemap(
    tmp_path: Path,
) -> None:
    from console import tiles

    root = tmp_path / "ws"
    root.mkdir()
    assert tiles.tile_url_for(_ctx(root)) == ""
    write_mbtiles(root / "outside.mbtiles", city_tiles(30.76, 120.8, range(10, 11), 0))
    (root / "map").mkdir()
    assert tiles.tile_url_for(_ctx(root, mbtiles="../../etc/passwd")) == ""  # refused, logged
    write_mbtiles(root / "map" / "city.mbtiles", city_tiles(30.76, 120.8, range(10, 11), 0))
    assert tiles.tile_url_for(_ctx(root)) == tiles.LOCAL_TILE_URL
    assert (
        tiles.tile_url_for(_ctx(root, "http://tiles.local/{z}/{x}/{y}.png"))
        == "http://tiles.local/{z}/{x}/{y}.png"
    )  # a configured tile server comes first
    x, y = tile_of(30.76, 120.8, 10)
    status, media, body = tiles.answer(f"tile/10/{x}/{y}")
    assert (status, media) == (200, "image/png") and body.startswith(b"\x89PNG")
    assert tiles.answer(f"tile/10/{x + 5}/{y}")[0] == 404
    for bad in (
        "tile/10/99999/1",
        "tile/10/../1",
        "tile/40/0/0",
        "../map/city.mbtiles",
        "tile/1/1/1/1",
    ):
        assert tiles.answer(bad)[0] in (400, 404), bad


def test_the_map_page_shows_the_workspace_tiles_and_the_switcher_offers_them(
    qtbot, tmp_path: Path
) -> None:
    from PyQt6.QtCore import QUrl

    from console import tiles
    from console.map_panel import make_map_view
    from console.mapgen import MapLayers, build_map_html

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    root = tmp_path / "ws"
    (root / "map").mkdir(parents=True)
    write_mbtiles(root / "map" / "city.mbtiles", city_tiles(30.76, 120.80, rgb=MAGENTA))
    url = tiles.tile_url_for(_ctx(root))
    assert url == tiles.LOCAL_TILE_URL
    path = tmp_path / "map.html"
    path.write_text(build_map_html(MapLayers(), tile_url=url), encoding="utf-8")
    view = make_map_view(lambda *_: None, lambda _ok: None)
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.load(QUrl.fromLocalFile(str(path)))
    qtbot.waitUntil(lambda: view.title() == "superbrain-map-ready", timeout=WAIT)
    qtbot.wait(500)
    answers: dict[str, object] = {}

    def ask(name: str, script: str) -> object:
        view.page().runJavaScript(script, lambda v: answers.__setitem__(name, v))
        qtbot.waitUntil(lambda: name in answers, timeout=WAIT)
        return answers[name]

    ask(
        "view",
        "SB.map.fitBounds = function () {}; SB.fitPending = false; "
        "SB.map.setView([30.76, 120.80], 12, {animate: false}); 1",
    )
    qtbot.waitUntil(
        lambda: (
            int(
                ask(
                    f"n{len(answers)}",
                    "document.querySelectorAll('img.leaflet-tile-loaded').length",
                )
                or 0
            )
            > 0
        ),
        timeout=WAIT,
    )
    assert "tiles" in str(ask("layers", "Object.keys(SB.layers).join(',')"))
    qtbot.wait(300)
    image = view.grab().toImage()
    colour = image.pixelColor(image.width() // 2 + 40, image.height() // 2 + 60)
    assert (
        abs(colour.red() - MAGENTA[0]) < 40
        and abs(colour.green() - MAGENTA[1]) < 40
        and abs(colour.blue() - MAGENTA[2]) < 40
    ), colour.name()
