"""A client console (``superbrain console --server URL``) against a real `superbrain serve` on
PostgreSQL (tests/centre_fixtures.py): the Identities review queue of two analysts, and the
map over the centre's own tiles.

- The queue is read and every decision sent through the server's services
  (``graph.merge_queue``, ``graph.merge_review`` …), checked and audited there under the
  signed-in user, and stored in the centre's database.
- Two analysts on one queue: what one decides leaves the other's queue when it is read again
  (there is no pushed event for it: on Refresh, on showing the view, after a decision), and a
  decision on the stale row is refused by the server, naming who decided first — nothing is
  overturned unseen.
- The map shows the centre's MBTiles tiles, fetched by the console's ``sbtiles:`` handler with
  its session (the token never enters the page), and the bundled basemap when the centre has
  none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.centre_fixtures import PASSWORDS, Centre, centre, tiny_demo  # noqa: F401
from tests.console_fixtures import qtinit  # noqa: F401 - prepares WebEngine first

psycopg = pytest.importorskip("psycopg")
pytestmark = [pytest.mark.gui, pytest.mark.timeout(300)]

WAIT = 60_000


def _context(centre: Centre, user: str) -> Any:
    from console.remote import RemoteContext, RemoteWorkspace
    from core.remote import CentreClient

    workspace = RemoteWorkspace(CentreClient(centre.url, timeout=120))
    workspace.login(user, PASSWORDS[user])
    return RemoteContext(workspace)


def _audit(centre: Centre, user: str, action: str) -> list[dict[str, Any]]:
    """``user``'s audit entries named ``action`` on the centre, oldest first."""
    with psycopg.connect(centre.pg_url) as con:
        rows = con.execute(
            'SELECT line FROM audit_log WHERE "user" = %s AND action = %s ORDER BY seq',
            (user, action),
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


@pytest.fixture
def analysts(qtbot: Any, centre: Centre) -> Iterator[tuple[Any, Any]]:
    """The Identities view of two analysts, li and locky, each in a client console."""
    from console.bus import Bus
    from console.resolution_panel import ResolutionPanel
    from console.workers import running_jobs

    contexts = [_context(centre, "li"), _context(centre, "locky")]
    panels = []
    for ctx in contexts:
        panel = ResolutionPanel(ctx, Bus())
        qtbot.addWidget(panel)
        panel.show()
        panels.append(panel)
    for panel in panels:
        qtbot.waitUntil(lambda p=panel: p.loaded and p.load_job is None, timeout=WAIT)
    try:
        yield panels[0], panels[1]
    finally:
        qtbot.waitUntil(lambda: not running_jobs(), timeout=WAIT)
        for ctx in contexts:
            ctx.close()


def _wait_decided(qtbot: Any, panel: Any) -> None:
    qtbot.waitUntil(lambda: panel.decision_job is None, timeout=WAIT)


def _pairs(panel: Any) -> list[tuple[str, str]]:
    return [(r.a, r.b) for r in panel.queue_model.rows]


def test_two_analysts_review_one_queue_through_the_server(
    qtbot: Any, centre: Centre, analysts: tuple[Any, Any]
) -> None:
    li, locky = analysts
    assert li.ctx.remote and locky.ctx.remote  # client consoles: no database here
    queue = _pairs(li)
    assert len(queue) >= 2, li.status.text()  # the demo's planted pairs, read on the server
    assert _pairs(locky) == queue
    assert li.fields_model.rows and li.accept_button.isEnabled()  # the pair side by side
    for user in ("li", "locky"):
        assert _audit(centre, user, "graph.merge_queue")  # read on the server, as each user

    # li accepts the first pair: merged on the server, as li, and gone from li's queue
    first = li.selected()
    assert (first.a, first.b) == queue[0]
    li.accept_button.click()
    _wait_decided(qtbot, li)
    assert queue[0] not in _pairs(li), li.status.text()
    with psycopg.connect(centre.pg_url) as con:
        merged = con.execute(
            'SELECT alias, canonical, "user" FROM graph_merges WHERE undone_at IS NULL'
        ).fetchall()
    assert (first.b, first.a, "li") in merged
    (entry,) = _audit(centre, "li", "graph.merge")
    assert (entry["params"]["alias"], entry["params"]["canonical"]) == (first.b, first.a)

    # locky's view still shows it (nothing pushes a merge decision): a reject on the stale row
    # is refused by the server, names li, changes nothing, and locky's queue is read again
    assert queue[0] in _pairs(locky)
    locky.table.selectRow(0)
    assert (locky.selected().a, locky.selected().b) == queue[0]
    locky.reject_button.click()
    _wait_decided(qtbot, locky)
    assert f"li merged {first.b} into {first.a}" in locky.status.text()
    assert queue[0] not in _pairs(locky)
    with psycopg.connect(centre.pg_url) as con:
        assert not con.execute(
            "SELECT 1 FROM graph_rejections WHERE a = %s AND b = %s", queue[0]
        ).fetchall()
    (refused,) = _audit(centre, "locky", "graph.merge_review")
    assert refused["params"]["outcome"] == "failed" and "li merged" in refused["params"]["error"]

    # locky rejects another pair: li's Refresh reads the queue again without it
    second = locky.selected()
    assert second is not None and (second.a, second.b) in queue
    locky.reject_button.click()
    _wait_decided(qtbot, locky)
    assert (second.a, second.b) not in _pairs(locky)
    assert (second.a, second.b) in _pairs(li)
    li.refresh_button.click()
    qtbot.waitUntil(lambda: li.load_job is None, timeout=WAIT)
    assert (second.a, second.b) not in _pairs(li)
    assert _pairs(li) == _pairs(locky)
    (rejected,) = _audit(centre, "locky", "graph.reject")
    assert {rejected["params"]["a"], rejected["params"]["b"]} == {second.a, second.b}


# -- the map: the centre's own tiles, fetched with the console's session ------------------------
MAGENTA = (200, 30, 160)  # the centre's tiles: one colour the basemap never uses
CITY = (30.76, 120.80)


def _ask(qtbot: Any, view: Any, script: str) -> Any:
    answers: list[Any] = []
    view.page().runJavaScript(script, answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=WAIT)
    return answers[0]


def test_a_client_console_map_shows_the_centre_tiles_through_its_session(
    qtbot: Any, centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mbtiles_fixtures import city_tiles, tile_of, write_mbtiles

    from console import qtinit, tiles
    from console.bus import Bus
    from console.map_panel import MapPanel
    from core.remote import CentreClient, SessionExpiredError

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    monkeypatch.setattr(tiles, "_remote", None)  # and back to None afterwards
    ctx = _context(centre, "li")
    panel = None
    try:
        # a centre without tiles: the bundled offline basemap, as before
        assert tiles.tile_url_for(ctx) == ""
        folder = centre.config.parent / "centre-data" / "map"
        folder.mkdir(parents=True, exist_ok=True)
        city = city_tiles(*CITY, range(10, 15), radius=6, rgb=MAGENTA)
        write_mbtiles(folder / "city.mbtiles", city)
        assert tiles.tile_url_for(ctx) == tiles.LOCAL_TILE_URL  # now the centre's tiles
        x, y = tile_of(*CITY, 12)
        with pytest.raises(SessionExpiredError):  # the route needs a session …
            CentreClient(centre.url).tile(12, x, y)
        # … which only the console holds: the page asks sbtiles:, the handler fetches
        panel = MapPanel(ctx, Bus())
        qtbot.addWidget(panel)
        loads: list[bool] = []
        panel.page_ready.connect(loads.append)
        panel.resize(800, 600)
        panel.show()
        qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
        assert ctx.client.token not in panel.html and "sbtiles:tile/" in panel.html
        assert "not available in client mode" in panel.info.text()
        view = panel.view
        qtbot.waitUntil(lambda: view.title() == "superbrain-map-ready", timeout=WAIT)
        # the panes above the tiles hidden (markers, heat, labels), zoom 12 over the tiles: set
        # again until it holds (the page's own fit may still be animating, and ends at its zoom)
        _ask(
            qtbot,
            view,
            "var style = document.createElement('style'); style.textContent = "
            "'.leaflet-pane:not(.leaflet-tile-pane):not(.leaflet-map-pane) "
            "{ display: none !important; }'; document.head.appendChild(style); "
            "SB.map.fitBounds = function () {}; SB.fitPending = false; 1",
        )
        settled = (
            "(function () { if (SB.map.getZoom() !== 12) { "
            f"SB.map.setView([{CITY[0]}, {CITY[1]}], 12, {{animate: false}}); return false; }} "
            "return document.querySelectorAll('img.leaflet-tile-loaded').length > 0 && "
            "document.querySelectorAll('img.leaflet-tile:not(.leaflet-tile-loaded)').length "
            "=== 0; })()"
        )
        qtbot.waitUntil(lambda: _ask(qtbot, view, settled) is True, timeout=WAIT)
        assert loads == [True]  # one page, never rebuilt behind the test's back
        remote = tiles._remote
        assert remote is not None and remote._cache  # fetched from the centre
        assert remote.answer(f"tile/12/{x}/{y}")[:2] == (200, "image/png")
        assert remote.answer(f"tile/12/{x + 50}/{y}")[0] == 404  # none there
        for bad in ("tile/12/99999999/1", "tile/40/0/0", "tile/12/../1", "../centre.toml"):
            assert remote.answer(bad)[0] in (400, 404), bad
        qtbot.wait(300)
        image = view.grab().toImage()
        w, h = image.width(), image.height()
        colours = [
            image.pixelColor(w // 2 + dx, h // 2 + dy)
            for dx in range(-100, 101, 50)
            for dy in range(-100, 101, 50)
        ]
        magenta = [
            c
            for c in colours
            if max(
                abs(c.red() - MAGENTA[0]), abs(c.green() - MAGENTA[1]), abs(c.blue() - MAGENTA[2])
            )
            < 40
        ]
        assert len(magenta) == len(colours), [c.name() for c in colours]  # the centre's tiles
    finally:
        if panel is not None:
            panel.shutdown()
        ctx.close()
