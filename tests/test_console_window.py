"""The console's panels driven through their main actions with pytest-qt (offscreen)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.console_fixtures import (  # noqa: F401 - fixtures
    ctx,
    demo_root,
    drain,
    open_main_window,
    settings,
)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("drain")]

WAIT = 30_000  # ms; a slow shared CI machine


def test_main_window_opens_on_demo_workspace(qtbot, ctx, settings) -> None:
    window = open_main_window(qtbot, ctx, settings)
    broken = [k for k, p in window.panels.items() if p.objectName().startswith("broken-")]
    assert broken == []
    assert window.status_user.text() == "user: tester (administrator)"  # no accounts yet
    qtbot.waitUntil(lambda: "embedded" in window.status_backend.text(), timeout=WAIT)
    window.focus_search()
    assert window.panels["search"].query.hasFocus() or not window.isActiveWindow()
    window.toggle_theme()
    assert settings.value("theme") == "light"
    window.close()
    assert settings.value("layout_version") is not None


def test_search_fills_results_model_and_record_pane(qtbot, ctx, settings) -> None:
    window = open_main_window(qtbot, ctx, settings)
    panel = window.panels["search"]
    with qtbot.waitSignal(panel.model.first_page, timeout=WAIT) as first:
        panel.run_query("source:incidents")
    result = first.args[0]
    assert result.total > 0
    assert panel.model.rowCount() == min(result.total, 200)
    assert {h.source for h in panel.model.hits} == {"incidents"}
    assert "source" in result.facets
    uid = panel.model.uid(0)
    panel.table.selectRow(0)
    pane = window.panels["records"]
    qtbot.waitUntil(lambda: pane.record is not None and pane.record.uid == uid, timeout=WAIT)
    assert uid in pane.browser.toPlainText()
    assert window.history.current.ids == (uid,)


def test_search_default_window_and_all_time(qtbot, ctx) -> None:
    """A workspace with a default window (on by default on a cluster) searches the last N days
    until the analyst ticks 'all time' or picks days; the summary says which."""
    from datetime import UTC, datetime, timedelta

    from console.bus import Bus
    from console.context import ConsoleContext
    from console.search_panel import SearchPanel
    from core.workspace import Workspace
    from search.document import local_day

    config = json.loads(json.dumps(ctx.workspace.config))
    config.setdefault("search", {})["default_window_days"] = 45
    windowed_ctx = ConsoleContext(Workspace(ctx.workspace.root, config))
    panel = SearchPanel(windowed_ctx, Bus())
    qtbot.addWidget(panel)
    assert panel.window_days == 45 and not panel.all_time.isHidden()
    today = datetime.fromisoformat(local_day(datetime.now(UTC)))  # the 'day' facet's days
    since = today - timedelta(44)
    assert panel.build_request("").filters.since == since
    with qtbot.waitSignal(panel.model.first_page, timeout=WAIT) as first:
        panel.run_query("source:incidents")
    windowed = first.args[0]
    assert windowed.total > 0
    assert all(
        h.time is not None and h.time.replace(tzinfo=None) >= since - timedelta(1)
        for h in panel.model.hits
    )
    assert "last 45 days" in panel.summary.text()
    with qtbot.waitSignal(panel.model.first_page, timeout=WAIT) as first:
        panel.all_time.setChecked(True)
    everything = first.args[0]
    assert everything.total > windowed.total  # the demo's incidents go back 30-84 days
    assert "last 45 days" not in panel.summary.text()
    old_days = sorted(
        b.value for b in everything.facets["day"] if datetime.fromisoformat(b.value) < since
    )
    assert old_days
    with qtbot.waitSignal(panel.model.first_page, timeout=WAIT):
        panel.all_time.setChecked(False)
    with qtbot.waitSignal(panel.model.first_page, timeout=WAIT) as first:
        panel.toggle_filter("day", old_days[0])  # a picked day wins over the window
    assert first.args[0].total > 0
    assert {local_day(h.time) for h in panel.model.hits} == {old_days[0]}
    from PyQt6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(WAIT)  # no job still using the workspace
    windowed_ctx.close()


def test_the_default_window_is_90_days_on_a_cluster_and_none_embedded(tmp_path: Path) -> None:
    from core.workspace import Workspace, WorkspaceError

    def window(search: dict[str, object]) -> int:
        return Workspace(tmp_path, {"search": search}).search_config.default_window_days

    assert window({}) == 0
    assert window({"backend": "elasticsearch"}) == 90
    assert window({"backend": "elasticsearch", "default_window_days": 0}) == 0
    assert window({"default_window_days": 30}) == 30
    with pytest.raises(WorkspaceError, match="default_window_days"):
        window({"default_window_days": -1})


def test_results_fetch_more_pages_lazily(qtbot, ctx) -> None:
    from console.results_model import PAGE_SIZE, ResultsModel
    from search.model import SearchRequest

    model = ResultsModel(lambda request: ctx.search_backend().search(request))
    with qtbot.waitSignal(model.first_page, timeout=WAIT):
        model.run(SearchRequest(query=""))
    assert model.rowCount() == PAGE_SIZE < model.total
    assert model.canFetchMore()
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT):
        model.fetchMore()
    assert model.rowCount() == 2 * PAGE_SIZE
    assert len({h.uid for h in model.hits}) == 2 * PAGE_SIZE  # no page fetched twice


def test_plugins_panel_lists_a_broken_plugin(qtbot, ctx, settings) -> None:
    from console.bus import Bus
    from console.plugins_panel import PluginsPanel

    bad = ctx.workspace.root / "plugins" / "bad_source.py"
    bad.write_text("raise ImportError('vendor SDK missing')\n", encoding="utf-8")
    try:
        panel = PluginsPanel(ctx, Bus())
        qtbot.addWidget(panel)
        assert not panel.loaded  # discovered when first shown, in a worker (start-up, #15)
        panel.show()
        qtbot.waitUntil(lambda: panel.loaded, timeout=60_000)
        rows = {r.name: r for r in panel.model.rows}
        assert rows["bad_source"].status == "broken"
        assert "vendor SDK missing" in rows["bad_source"].error
        assert rows["incidents"].status == "ok" and rows["incidents"].version
        assert "1 broken" in panel.status.text()
    finally:
        bad.unlink()


def test_ingest_worker_reports_progress_and_cancels(qtbot, ctx, tmp_path) -> None:
    from console.bus import Bus
    from console.plugins_panel import PluginsPanel

    plugin = ctx.workspace.discover_sources().get("incidents")
    files = plugin.generate(tmp_path, 7000, seed=99)
    panel = PluginsPanel(ctx, Bus())
    qtbot.addWidget(panel)
    before = ctx.workspace.store.count()
    progress: list[object] = []
    reports: list[object] = []
    panel.ingest_progress.connect(lambda p: (progress.append(p), panel.cancel()))
    panel.ingest_finished.connect(reports.append)
    panel.start_ingest("incidents", Path(files[0]), force=True)
    assert panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.job is None, timeout=60_000)
    assert progress, "no progress was reported"
    report = reports[0]
    assert report.status == "cancelled"
    assert 0 < report.records < 7000
    assert ctx.workspace.store.count() - before <= report.records
    assert panel.job is None and not panel.cancel_button.isEnabled()


def test_faces_panel_refuses_to_search_without_case_and_purpose(qtbot, ctx) -> None:
    from console.bus import Bus
    from console.faces_panel import FacesPanel

    panel = FacesPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("facematch engine not importable here")
    entries_before = len(ctx.workspace.audit.search(action="face.search"))
    with qtbot.waitSignal(panel.refused, timeout=1000) as refused:
        assert panel.search() is None
    assert "case number" in refused.args[0]
    panel.case.setText("2026-XA-0042")
    with qtbot.waitSignal(panel.refused, timeout=1000) as refused:
        assert panel.search() is None
    assert "purpose" in refused.args[0]
    assert "Not searched" in panel.status.text()
    assert len(ctx.workspace.audit.search(action="face.search")) == entries_before


def test_faces_panel_loads_the_gallery_and_models_when_first_shown(qtbot, ctx) -> None:
    from console.bus import Bus
    from console.faces_panel import FacesPanel

    panel = FacesPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("facematch engine not importable here")
    assert panel.warm_job is None
    panel.show()
    assert panel.warm_job is not None  # started by showing, in a worker
    qtbot.waitUntil(lambda: panel.warm_report is not None, timeout=60_000)
    assert panel.warm_report is not None and "engine" in panel.warm_report
    first = panel.warm_job
    panel.hide()
    panel.show()
    assert panel.warm_job is first  # once per panel
    gallery = ctx.service("faces.gallery", lambda: None)
    assert gallery is not None and gallery.warm_up()["faces"] == panel.warm_report["faces"]


def test_dispatch_board_shows_units_and_tells_why_an_assignment_fails(qtbot, ctx) -> None:
    from console.bus import Bus
    from console.dispatch_panel import DispatchPanel

    panel = DispatchPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not hasattr(panel, "units"):
        pytest.skip("ops engine not importable here")
    with qtbot.waitSignal(panel.loaded, timeout=WAIT):
        pass
    assert panel.units_model.rowCount() >= 10
    assert {u.status for u in panel.units_model.units} >= {"available"}
    assert panel.queue_model.rowCount() > 0
    first = panel.queue_model.incident_id(0)
    panel.select_incident(first)
    with qtbot.waitSignal(panel.action_done, timeout=WAIT):
        panel.recommend_selected()
    assert panel.recommendations
    unit = panel.recommendations[0].unit_id
    with qtbot.waitSignal(panel.action_done, timeout=WAIT) as done:
        panel.assign(first, [unit])
    assert "assigned" in done.args[0]

    def status() -> str:
        return {u.id: u.status for u in panel.units_model.units}[unit]

    # the board reloads after the action; a periodic reload already under way may land first
    # with the earlier snapshot, so wait for the board to show it rather than for one reload
    qtbot.waitUntil(lambda: status() != "available", timeout=WAIT)
    # a reload that finishes after a newer one is dropped, not shown over it (an empty board
    # here would fail in _show if it were)
    panel._show_if_newer({}, 0)
    assert status() != "available"
    second = panel.queue_model.incident_id(1)
    with qtbot.waitSignal(panel.action_done, timeout=WAIT) as done:
        panel.assign(second, [unit])
    assert unit in done.args[0] and "not available" in done.args[0]


def test_dispatch_board_map_shows_incident_and_recommended_units(qtbot, ctx) -> None:
    """The board's own map (offline page, WebEngine offscreen) draws the selected incident
    with its recommended units, and clicking a unit on it selects the unit on the board."""
    from console import qtinit
    from console.bus import Bus
    from console.dispatch_panel import DispatchPanel
    from console.mapgen import external_urls

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    panel = DispatchPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not hasattr(panel, "units"):
        pytest.skip("ops engine not importable here")
    panel.resize(1400, 700)
    with qtbot.waitSignals([panel.loaded, panel.map.page_ready], timeout=60_000):
        panel.show()
    assert external_urls(panel.map.html) == []
    row = next(r for r in panel.queue_model.rows if r.get("lat") is not None)
    counts: list[int] = []
    panel.map.shown.connect(counts.append)
    panel.select_incident(row["id"])
    # the board also redraws on its own (reloads, the stale ticker): wait for what the page
    # shows, not for the next draw, which may be one asked before (issue: an earlier draw's
    # answer was taken for the recommendations', which were still on their way)
    qtbot.waitUntil(lambda: (panel.map.drawn or {}).get("incident", {}).get("id") == row["id"])
    with qtbot.waitSignal(panel.action_done, timeout=WAIT):
        panel.recommend_selected()
    recs = panel.recommendations
    assert recs, "the demo has available units for the first located incident"
    wanted = [r.unit_id for r in recs]
    qtbot.waitUntil(
        lambda: [u["id"] for u in (panel.map.drawn or {}).get("units", [])] == wanted,
        timeout=WAIT,
    )
    drawn = panel.map.drawn
    assert drawn is not None and drawn["incident"]["id"] == row["id"]
    assert counts[-1] == 1 + len(recs) + len(drawn["others"])
    # the page really holds those markers: one incident + the recommended units, labelled
    labels: list[object] = []
    panel.map.view.page().runJavaScript(
        "Object.values(SB.dispatch._layers).filter(function (l) { return l.getTooltip(); })"
        ".map(function (l) { return l.getTooltip().getContent(); })"
        ".filter(function (t) { return t.indexOf('ETA') >= 0 || t.indexOf('#') >= 0; })",
        labels.append,
    )
    qtbot.waitUntil(lambda: bool(labels), timeout=WAIT)
    assert len(labels[0]) == 1 + len(recs)
    assert any(f"#{row['id']}" in t for t in labels[0])
    # a click on a unit marker (the page logs superbrain://open/unit/<id>) selects it
    unit = recs[-1].unit_id
    panel.map.view.page().runJavaScript(f"sbOpen('unit', {json.dumps(unit)})")
    qtbot.waitUntil(
        lambda: panel.selected_unit() is not None and panel.selected_unit().id == unit, timeout=WAIT
    )
    # after the splitter moves, the page still answers, Leaflet follows the new size and the
    # view paints a map, not a blank area (an earlier embedded map froze here)
    panel.split.setSizes([400, 900])
    qtbot.wait(200)
    size: list[object] = []
    panel.map.view.page().runJavaScript("SB.map.getSize().x", size.append)
    qtbot.waitUntil(lambda: bool(size), timeout=WAIT)
    assert abs(size[0] - panel.map.view.width()) <= 2
    image = panel.map.view.grab().toImage()
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 23) for y in range(0, image.height(), 23)
    }
    assert image.width() == panel.map.view.width() and len(colours) > 3


def test_the_board_map_reports_only_its_newest_draw_and_what_it_shows(qtbot, ctx) -> None:
    """Two draws asked before the page answers: ``shown`` reports the newest only, and
    ``drawn`` is its data — so a caller waiting for its own draw is not handed an earlier
    one's answer (the board redraws on reloads and a ticker while a recommendation is on its
    way). An answer that comes after the map is gone touches nothing."""
    from console import qtinit
    from console.bus import Bus
    from console.dispatch_map import DispatchMap

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    board = DispatchMap(ctx, Bus())
    qtbot.addWidget(board)
    board.resize(800, 500)
    with qtbot.waitSignal(board.page_ready, timeout=60_000):
        board.show()
    incident = {"id": 7, "lat": 30.75, "lon": 120.76, "category": "火警", "priority": 1}
    units = [
        {"id": f"U{i}", "label": f"U{i}", "lat": 30.75 + i / 1000, "lon": 120.76}
        | {"status": "available", "stale": False}
        for i in range(3)
    ]
    qtbot.wait(500)  # the page's first draw (on load) has answered
    counts: list[int] = []
    board.shown.connect(counts.append)
    board.show_dispatch(None, [], units)  # superseded before the page answers
    board.show_dispatch(incident, [], units)
    qtbot.waitUntil(lambda: bool(counts), timeout=WAIT)
    qtbot.wait(500)  # an answer to the first draw would have come by now
    assert counts == [1 + 3]
    assert board.drawn is not None and board.drawn["incident"]["id"] == 7
    board.show_dispatch(None, [], units)
    board.close()
    board.deleteLater()
    from PyQt6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    qtbot.wait(500)  # the page's late answer finds the map gone: no error in the event loop


def test_alert_tray_announces_and_acknowledges(qtbot, ctx) -> None:
    from console.alert_tray import AlertTray
    from console.bus import Bus

    tray = AlertTray(ctx, Bus())
    qtbot.addWidget(tray)
    if not hasattr(tray, "table"):
        pytest.skip("ops engine not importable here")
    qtbot.waitUntil(lambda: not tray.first_load, timeout=WAIT)
    from ops.service import OpsService

    OpsService(ctx.workspace).alerts.raise_alert(
        "watchlist",
        title="布控车辆 浙F12345 经过卡口",
        rule="test",
        subject="vehicle:浙F12345",
        severity="high",
    )
    with qtbot.waitSignal(tray.alerts_arrived, timeout=WAIT) as arrived:
        tray.poller.poll()
    alert = arrived.args[0][0]
    assert "浙F12345" in tray.notifications[-1]
    row = next(i for i, a in enumerate(tray.model.alerts) if a.id == alert.id)
    tray.table.selectRow(row)
    tray.note.setText("patrol informed")
    with qtbot.waitSignal(tray.acknowledged, timeout=WAIT) as acked:
        tray.acknowledge_selected()
    assert acked.args[0].acked_by == "tester"
    assert tray.model.unacked() == sum(1 for a in tray.model.alerts if not a.acked)


def test_expanding_a_hub_says_so_and_what_to_do(qtbot, ctx) -> None:
    from console.bus import Bus
    from console.graph_panel import GraphPanel

    ctx.workspace.config["graph"] = {"max_fanout": 5}  # a cluster's cap, made small
    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    seed, links = ctx.workspace.store.connection.execute(
        "SELECT source, count(*) FROM links GROUP BY source ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    assert links > 5
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.expand([seed])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    text = panel.status.text()
    assert list(panel.model.graph.nodes) == [seed]  # kept and flagged, not expanded
    assert "1 hub not expanded:" in text and seed in text and "1 hubs" not in text
    assert "Expand by link type" in text and "[graph] max_fanout" in text


def test_link_chart_expands_and_exports(qtbot, ctx, tmp_path) -> None:
    from console.bus import Bus
    from console.graph_panel import GraphPanel

    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    seed = ctx.workspace.store.connection.execute(
        "SELECT entity_id FROM record_entities WHERE entity_id LIKE 'person:%' "
        "GROUP BY entity_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.show_entities([seed])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    shown = len(panel.model.graph.nodes)
    assert shown > 1 and panel.node_count() == shown
    neighbour = next(n for n in panel.model.graph.nodes if n != seed)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.expand([neighbour])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    assert len(panel.model.graph.nodes) >= shown
    panel.hide_nodes([neighbour])
    assert panel.node_count() == len(panel.model.graph.nodes) - 1
    png = panel.export_png(tmp_path / "chart.png")
    assert png.stat().st_size > 1000
    files = panel.export_graphml(tmp_path / "chart.graphml")
    assert seed in Path(files[0]).read_text(encoding="utf-8")
    exports = ctx.workspace.audit.search(action="graph.export")
    assert [e["params"]["format"] for e in exports][-2:] == ["png", "graphml"], (
        "exports from the chart (picture and GraphML) are audited like one from the CLI"
    )


def test_map_panel_loads_offline_page_and_opens_records(qtbot, ctx) -> None:
    from console import qtinit
    from console.bus import Bus
    from console.map_panel import MapPanel, parse_open_url

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    assert parse_open_url("superbrain://open/record/incidents%3AJ1") == ("record", "incidents:J1")
    bus = Bus()
    panel = MapPanel(ctx, bus)
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    with qtbot.waitSignal(panel.page_ready, timeout=60_000) as ready:
        pass
    assert ready.args[0] is True
    from console.mapgen import external_urls

    assert external_urls(panel.html) == []
    qtbot.waitUntil(lambda: panel.view.title() == "superbrain-map-ready", timeout=WAIT)
    uid = panel.layers.records[0]["id"]
    opened: list[str] = []
    bus.open_record.connect(opened.append)
    panel.view.page().runJavaScript(f"sbOpen('record', {json.dumps(uid)})")
    qtbot.waitUntil(lambda: opened == [uid], timeout=WAIT)
    # resized (a dock or the window moved): the page keeps answering and Leaflet follows
    panel.resize(560, 460)
    qtbot.wait(200)
    size: list[object] = []
    panel.view.page().runJavaScript("SB.map.getSize().x", size.append)
    qtbot.waitUntil(lambda: bool(size), timeout=WAIT)
    assert abs(size[0] - panel.view.width()) <= 2


def test_pivot_back_and_forward(qtbot, ctx, settings) -> None:
    from console.navigation import Focus

    window = open_main_window(qtbot, ctx, settings)
    uid = ctx.workspace.store.connection.execute("SELECT uid FROM records LIMIT 1").fetchone()[0]
    window.bus.open_record.emit(uid)
    entity = ctx.workspace.store.get_record(uid).entities[0].id
    window.bus.pivot.emit(Focus("timeline", "entity", (entity,)))
    assert window.tabs.currentWidget() is window.panels["timeline"]
    window.back()
    assert window.history.current == Focus("records", "record", (uid,))
    window.forward()
    assert window.tabs.currentWidget() is window.panels["timeline"]


def test_login_dialog_refuses_a_wrong_password_and_sets_the_role(
    qtbot, tmp_path, monkeypatch
) -> None:
    from console.context import ConsoleContext
    from console.login import LoginDialog, needs_login
    from core.security import user_store
    from core.workspace import Workspace

    monkeypatch.setenv("SUPERBRAIN_USER", "li.wei")
    ws = Workspace.init(tmp_path / "ws")
    user_store(ws).add("li.wei", "commander", "correct horse battery 9")
    assert needs_login(ws)
    dialog = LoginDialog(ws)
    qtbot.addWidget(dialog)
    dialog.password.setText("wrong password 123")
    assert dialog.try_login() is False
    assert "cannot log in" in dialog.error.text()
    dialog.password.setText("correct horse battery 9")
    assert dialog.try_login() is True
    assert ConsoleContext(ws).role == "commander"
    assert [e["action"] for e in ws.audit.search(action="auth.*")] == ["auth.fail", "auth.login"]
    ws.close()


def test_zh_cn_translation_is_complete_and_loads(qapp) -> None:
    import xml.etree.ElementTree as ET

    from PyQt6.QtCore import QCoreApplication

    from console.i18n import I18N_DIR, choose_language, install_translator

    tree = ET.parse(I18N_DIR / "superbrain_zh_CN.ts")
    untranslated = [
        m.findtext("source")
        for m in tree.iter("message")
        if not (m.findtext("translation") or "").strip()
    ]
    assert untranslated == []
    assert choose_language(None, "zh_CN") == "zh_CN" and choose_language("en", "zh_CN") == "en"
    translator = install_translator(qapp, "zh_CN")
    assert translator is not None
    try:
        assert QCoreApplication.translate("Panels", "Link chart") == "关系图谱"
        assert QCoreApplication.translate("Headers", "Time") == "时间"
    finally:
        qapp.removeTranslator(translator)
    assert QCoreApplication.translate("Panels", "Link chart") == "Link chart"


def test_big_chart_is_drawn_in_slices_and_completely(qtbot, ctx) -> None:
    """A 4,000-node chart appears a slice per event-loop turn (the window keeps responding),
    and in the end every node and the full set of labels are drawn."""
    import random

    from console.bus import Bus
    from console.graph_panel import MAX_LABELS, SYNC_NODES, GraphPanel
    from graph.model import GraphEdge, GraphNode, GraphResult

    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    panel.show()
    rnd = random.Random(3)
    n = 4000
    assert n > SYNC_NODES
    types = ("person", "phone", "vehicle", "address")
    nodes = {
        f"{types[i % 4]}:{i}": GraphNode(f"{types[i % 4]}:{i}", types[i % 4], f"n{i}")
        for i in range(n)
    }
    ids = list(nodes)
    edges = [GraphEdge(ids[i], ids[rnd.randrange(n)], "called", 1) for i in range(1, n)]
    positions = {nid: (rnd.uniform(-1, 1), rnd.uniform(-1, 1)) for nid in ids}
    graph = GraphResult(nodes=nodes, edges=edges, seeds=(ids[0],))
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel._apply_growth((graph, positions))
        assert panel.drawing and panel.node_count() < n, "drawn at once, not in slices"
    assert not panel.drawing and panel.node_count() == n
    # every label that fits without overlapping another (at most MAX_LABELS) is drawn
    shown = sum(item.isVisible() for item in panel._labels)
    assert 0 < shown == len(panel.labelled) <= MAX_LABELS
    panel.hide_nodes(ids[:10])
    panel.finish_drawing()
    assert panel.node_count() == n - 10


def test_gc_settler_holds_back_full_gc_then_freezes_once_jobs_are_done(qtbot) -> None:
    import gc

    from console.stall import GcSettler
    from console.workers import Job

    gate = __import__("threading").Event()
    job = Job(lambda _p, _c: gate.wait(10), "start-up work").start()
    settler = GcSettler(poll_ms=10)
    thresholds = gc.get_threshold()
    try:
        settler.start()
        assert gc.get_threshold()[2] > thresholds[2], "full collections not held back"
        qtbot.wait(100)
        assert settler.frozen == 0, "froze while start-up work was still running"
        gate.set()
        qtbot.waitUntil(lambda: not job.running and settler.frozen > 0, timeout=WAIT)
        assert settler.frozen > 1000 and gc.get_freeze_count() > 1000
        assert gc.get_threshold() == thresholds
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_board_reload_that_ends_after_its_panel_is_gone_touches_nothing(
    qtbot, ctx, monkeypatch
) -> None:
    """A reload runs in a worker; when it ends (here: fails, the centre gone) after its panel
    was destroyed, nothing may write into the deleted widgets ("wrapped C/C++ object of type
    QLabel has been deleted" once failed the next test in the Qt event loop)."""
    import threading

    from PyQt6 import sip

    from console.bus import Bus
    from console.dispatch_panel import DispatchPanel

    panel = DispatchPanel(ctx, Bus())
    if not hasattr(panel, "units"):
        pytest.skip("ops engine not importable here")
    view = panel._view()
    gate = threading.Event()

    def board_of_a_gone_centre(*_a: object, **_k: object) -> dict[str, object]:
        gate.wait(10)
        raise RuntimeError("the centre went away")

    monkeypatch.setattr(view, "board", board_of_a_gone_centre)
    job = panel.reload()
    with qtbot.waitSignal(job.finished, timeout=15_000):
        sip.delete(panel)  # the window closed while the reload was running
        gate.set()
    qtbot.wait(200)  # an exception in a slot here fails the test (pytest-qt)
