"""Console logic that needs no window: navigation, highlighting, the map page, chart model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.console_fixtures import ctx, demo_root  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parent.parent


def test_history_back_forward_drops_forward_on_new_pivot() -> None:
    from console.navigation import Focus, History

    h = History()
    a, b, c = (Focus("graph", "entity", (x,)) for x in "abc")
    for f in (a, b):
        h.push(f)
    assert h.back() == a and h.can_forward()
    h.push(c)
    assert not h.can_forward()
    assert h.back() == a and h.forward() == c
    with pytest.raises(ValueError, match="unknown view"):
        Focus("nowhere", "entity", ("x",))


def test_query_terms_and_highlight_escape_html() -> None:
    from console.record_view import highlight, query_terms

    terms = query_terms('入室盗窃 AND source:hotel "王建国" -category:诈骗 wang~1')
    assert "入室盗窃" in terms and "王建国" in terms and "hotel" in terms and "wang" in terms
    assert "AND" not in terms
    out = highlight("<b>王建国</b> 入室盗窃", ["王建国", "入室盗窃"])
    assert out == "&lt;b&gt;<mark>王建国</mark>&lt;/b&gt; <mark>入室盗窃</mark>"


def _layers():
    from console.mapgen import MapLayers

    return MapLayers(
        incidents=[
            {
                "id": "1",
                "lat": 30.75,
                "lon": 120.75,
                "priority": 1,
                "category": "火警",
                "label": "仓库起火",
                "record": "incidents:1",
            }
        ],
        units=[
            {"id": "U1", "lat": 30.76, "lon": 120.74, "status": "available", "label": "巡逻车01"}
        ],
        heat=[[30.75, 120.75, 3.0]],
        tracks=[
            {
                "id": "vehicle:浙F1",
                "label": "浙F1",
                "points": [[30.7, 120.7, 1000, "r1"], [30.8, 120.8, 2000, "r2"]],
            }
        ],
        geofences=[
            {
                "type": "Feature",
                "properties": {"name": "corridor"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[120.7, 30.7], [120.8, 30.7], [120.8, 30.8], [120.7, 30.7]]],
                },
            }
        ],
    )


def test_map_page_has_no_cdn_links_and_uses_vendored_files() -> None:
    from console.mapgen import VENDOR_DIR, build_map_html, external_urls

    html = build_map_html(_layers())
    assert external_urls(html) == []
    assert "cdn" not in html.lower() and "https://" not in html
    assert (VENDOR_DIR / "leaflet" / "leaflet.js").as_uri() in html
    assert (VENDOR_DIR / "leaflet.heat" / "leaflet-heat.js").as_uri() in html
    assert "仓库起火" in html  # Chinese data reaches the page as text, not escapes


def test_map_page_allows_only_the_configured_tile_url() -> None:
    from console.mapgen import build_map_html, external_urls

    tile = "http://tiles.local/{z}/{x}/{y}.png"
    html = build_map_html(_layers(), tile_url=tile)
    assert external_urls(html) == []
    assert tile in html
    others = [u for u in html.split('"') if u.startswith(("http://", "https://")) and u != tile]
    assert others == []


def test_map_falls_back_to_a_grid_without_district_outlines(tmp_path: Path) -> None:
    from console.mapgen import build_map_html, load_districts

    assert load_districts(tmp_path / "missing.geojson") is None
    html = build_map_html(_layers(), districts={"features": []})
    assert '"basemap": "grid"' in html


def test_localize_rewrites_folium_plugin_links() -> None:
    import folium
    from folium.plugins import HeatMap, MarkerCluster

    from console.mapgen import external_urls, localize

    m = folium.Map(tiles=None)
    HeatMap([[30.0, 120.0, 1.0]]).add_to(m)
    MarkerCluster().add_to(m)
    assert external_urls(m.get_root().render())  # folium's defaults are CDN links
    m = folium.Map(tiles=None)
    HeatMap([[30.0, 120.0, 1.0]]).add_to(m)
    MarkerCluster().add_to(m)
    localize(m.get_root())
    assert external_urls(m.get_root().render()) == []


def test_console_cli_imports_without_qt() -> None:
    code = (
        "import sys, console.cli, core.cli; core.cli.build_parser(); print('PyQt6' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_missing_engine_is_reported_not_raised(ctx, monkeypatch) -> None:
    from console.context import ConsoleContext
    from console.errors import EngineUnavailableError

    monkeypatch.setitem(sys.modules, "search.backend", None)  # the import fails, as if absent
    broken = ConsoleContext(ctx.workspace)
    assert "search.backend" in broken.engines.search_query.unavailable()
    assert broken.backend_status().health == "engine not available"
    with pytest.raises(EngineUnavailableError, match="engine not available: search"):
        broken.search_backend()


def test_chart_growth_keeps_existing_positions(ctx) -> None:
    from console.chart_model import ChartModel, grow

    store = ctx.workspace.store
    seed = store.connection.execute(
        "SELECT entity_id FROM record_entities WHERE entity_id LIKE 'person:%' "
        "GROUP BY entity_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    model = ChartModel()
    graph, pos = grow(store, [], [seed], positions={})
    model.apply(graph, pos)
    assert seed in model.graph.nodes and len(model.graph.nodes) > 1
    other = next(n for n in model.graph.nodes if n != seed)
    model.move(other, 50.0, -20.0)
    before = dict(model.positions)
    graph2, pos2 = grow(
        store, model.node_ids(), [other], positions=model.positions, keep_seeds=graph.seeds
    )
    new = model.apply(graph2, pos2)
    assert set(before) <= set(model.positions)
    for nid, xy in before.items():
        assert model.positions[nid] == pytest.approx(xy)
    assert model.positions[other] == pytest.approx((0.5, -0.2))  # dragged = pinned
    assert all(n in model.graph.nodes for n in new)
    assert seed in model.graph.seeds


def _chart_seed(store) -> str:
    return store.connection.execute(
        "SELECT entity_id FROM record_entities WHERE entity_id LIKE 'person:%' "
        "GROUP BY entity_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]


def test_expansion_in_the_helper_process_equals_the_one_in_a_thread(ctx) -> None:
    """The link chart expands in a helper process (no GIL shared with the window); what comes
    back, unpickled chunk by chunk, is exactly what the same expansion gives in-process."""
    pytest.importorskip("graph.expand", reason="graph engine not importable here")
    from console.chart_model import grow, grow_packed, path_packed, unpack
    from console.offload import run_in_process

    store = ctx.workspace.store
    seed = _chart_seed(store)
    local, local_pos = grow(store, [], [seed], positions={}, depth=2, max_nodes=300)
    graph, pos, _ = unpack(
        run_in_process(
            grow_packed, str(store.path), [], [seed], positions={}, depth=2, max_nodes=300
        )
    )
    assert len(graph.nodes) > 20, "the seed should have a neighbourhood worth charting"
    assert graph.nodes == local.nodes and graph.edges == local.edges
    assert graph.seeds == local.seeds and graph.truncated == local.truncated
    assert pos == local_pos
    # a path from the seed to the farthest node, added to that chart: only new nodes move
    far = max(graph.nodes, key=lambda n: graph.nodes[n].depth or 0)
    merged, merged_pos, hops = unpack(
        run_in_process(path_packed, str(store.path), list(graph.nodes), seed, far, positions=pos)
    )
    assert hops[0] == seed and hops[-1] == far and set(graph.nodes) <= set(merged.nodes)
    assert all(merged_pos[n] == pos[n] for n in graph.nodes)
    # the engine's own error comes back from the helper as raised, naming the culprit
    from graph.errors import EntityNotFoundError

    with pytest.raises(EntityNotFoundError, match="NOPE"):
        run_in_process(path_packed, str(store.path), [], seed, "vehicle:NOPE", positions={})


def test_cancelled_expansion_stops_in_the_helper_process(ctx) -> None:
    pytest.importorskip("graph.expand", reason="graph engine not importable here")
    from console.chart_model import grow_packed, unpack
    from console.offload import run_in_process
    from core.progress import CancelToken

    store = ctx.workspace.store
    seed = _chart_seed(store)
    token = CancelToken()
    token.cancel()
    graph, _, _ = unpack(
        run_in_process(
            grow_packed,
            str(store.path),
            [],
            [seed],
            positions={},
            depth=3,
            max_nodes=300,
            cancel=token,
        )
    )
    assert graph.truncated and list(graph.nodes) == [seed]
    # the next task is not affected by the earlier cancellation
    graph, _, _ = unpack(
        run_in_process(
            grow_packed, str(store.path), [], [seed], positions={}, depth=1, max_nodes=300
        )
    )
    assert not graph.truncated and len(graph.nodes) > 1


def test_dispatch_map_view_numbers_recommendations_and_leaves_unlocated_out() -> None:
    from types import SimpleNamespace

    from console.mapgen import dispatch_view

    def rec(unit_id: str, lat: float | None, stale: bool = False) -> SimpleNamespace:
        return SimpleNamespace(
            unit_id=unit_id, name=f"Unit {unit_id}", lat=lat, lon=120.1, stale=stale, eta_s=420.0
        )

    units = [
        {"id": u, "label": u, "lat": 30.2, "lon": 120.1, "status": "available", "stale": False}
        for u in ("A", "B", "C")
    ]
    incident = {
        "id": 7,
        "lat": 30.25,
        "lon": 120.2,
        "priority": 1,
        "category": "盗窃",
        "address": "西湖区 文三路 1 号",
        "source_uid": "incidents:J7",
    }
    view = dispatch_view(
        incident, [rec("B", 30.21, stale=True), rec("X", None), rec("A", 30.2)], units
    )
    assert view["incident"]["record"] == "incidents:J7"
    assert view["incident"]["label"] == "西湖区 文三路 1 号"
    # the unit without a position is not drawn; ranks follow the engine's order
    assert [(u["id"], u["rank"], u["stale"]) for u in view["units"]] == [
        ("B", 1, True),
        ("A", 3, False),
    ]
    assert view["units"][0]["eta"] == "ETA 7 min"
    assert [u["id"] for u in view["others"]] == ["C"]
    assert dispatch_view({**incident, "lat": None}, [], units)["incident"] is None
