"""Console bugs of issue #15 (and the console items of #16), each reproduced as a user meets it.

Every test here failed before its fix; the docstring says what the user saw.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.console_fixtures import (  # noqa: F401 - fixtures
    ctx,
    demo_root,
    drain,
    open_main_window,
    settings,
    show_map_page,
)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("drain")]

WAIT = 30_000  # ms; a slow shared CI machine


def web_renderer_rss(pid: int | None = None) -> int:
    """Resident bytes of the largest Qt WebEngine process under ``pid`` (default: this one)."""
    proc = Path("/proc")
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    biggest = 0
    todo = list(children.get(pid or os.getpid(), []))
    while todo:
        child = todo.pop()
        todo += children.get(child, [])
        try:
            status = (proc / str(child) / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                biggest = max(biggest, int(line.split()[1]) * 1024)
    return biggest


def _track_entity(ctx) -> str:
    return ctx.workspace.store.connection.execute(
        "SELECT re.entity_id FROM record_entities re JOIN records r ON r.uid = re.record_uid "
        "WHERE re.entity_id LIKE 'vehicle:%' AND r.lat IS NOT NULL GROUP BY re.entity_id "
        "ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_bug1_show_on_map_after_the_map_was_open_loads_and_stays_small(
    qtbot, ctx, settings
) -> None:
    """Bug 1: Map tab opened once, then chart → Show on map: the renderer grew ~100 MB/s and
    the map never loaded (the page's answer to a script — the whole Leaflet map object — was
    being converted for Qt)."""
    from console import qtinit
    from console.navigation import Focus

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    window = open_main_window(qtbot, ctx, settings)
    map_panel = window.panels["map"]
    with qtbot.waitSignal(map_panel.page_ready, timeout=60_000):
        window.show_panel("map")
    window.show_panel("graph")
    qtbot.wait(300)
    before = web_renderer_rss()
    entity = _track_entity(ctx)
    with qtbot.waitSignal(map_panel.page_ready, timeout=WAIT) as ready:
        window.bus.pivot.emit(Focus("map", "entity", (entity,)))
    assert ready.args[0] is True
    assert [t["id"] for t in map_panel.layers.tracks] == [entity]
    qtbot.wait(1500)
    grown = web_renderer_rss() - before
    assert grown < 300 * 2**20, f"the web renderer grew by {grown >> 20} MB"


def test_bug1_every_page_script_goes_through_page_call() -> None:
    """Bug 1's cause cannot come back through another call site: console code calls the map
    pages only through ``map_panel.page_call``, which hands back plain values only."""
    console = Path(__file__).resolve().parent.parent / "console"
    direct = [
        f"{p.name}:{n}"
        for p in console.glob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "runJavaScript(" in line and p.name != "map_panel.py"
    ]
    assert direct == []


def test_issue16_7_incident_text_cannot_break_the_map_page(qtbot, tmp_path) -> None:
    """#16 item 7: an incident reported as ``noise complaint <!--<script>`` left every
    console's map uninitialised with no markers: the text was embedded in the page's script
    element as it was, and ``<!--<script>`` made the HTML parser swallow the end tag."""
    from console import qtinit
    from console.mapgen import MapLayers, build_map_html

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    hostile = "noise complaint <!--<script>"
    layers = MapLayers(
        incidents=[
            {
                "id": 1,
                "lat": 30.25,
                "lon": 120.15,
                "label": hostile,
                "priority": 2,
                "category": "noise</script><b>x</b>",
                "record": None,
            },
            {
                "id": 2,
                "lat": 30.26,
                "lon": 120.16,
                "label": "a & b > c",
                "priority": 3,
                "category": "noise",
                "record": None,
            },
        ]
    )
    html = build_map_html(layers)
    assert hostile not in html and "<!--<script>" not in html
    view = show_map_page(qtbot, tmp_path / "map.html", html, timeout=WAIT)
    labels: list[object] = []
    view.page().runJavaScript(
        "Object.keys(SB.byId).map(function (k) { return SB.byId[k].getTooltip().getContent(); })"
        ".join('|')",
        labels.append,
    )
    qtbot.waitUntil(lambda: bool(labels), timeout=WAIT)
    assert "noise complaint &lt;!--&lt;script&gt;" in str(labels[0])  # shown as text


def _tray(qtbot, ctx):
    from console.alert_tray import AlertTray
    from console.bus import Bus

    tray = AlertTray(ctx, Bus())
    qtbot.addWidget(tray)
    if not hasattr(tray, "table"):
        pytest.skip("ops engine not importable here")
    qtbot.waitUntil(lambda: not tray.first_load, timeout=WAIT)
    return tray


def test_bug2_each_alert_is_listed_once_and_counted_as_the_board_counts(qtbot, ctx) -> None:
    """Bug 2: every alert was listed twice (the unacknowledged ones and the most recent ones
    overlap), the dock counted 400 where ``ops alerts --unacked`` said 329, and acknowledging
    one left its twin unacknowledged."""
    from ops.service import OpsService

    tray = _tray(qtbot, ctx)
    ids = [a.id for a in tray.model.alerts]
    assert ids and len(ids) == len(set(ids))
    unacked = len(list(OpsService(ctx.workspace).alerts.list(unacked_only=True)))
    assert tray.model.unacked() == unacked
    assert tray.summary.text().startswith(f"{unacked:,} to acknowledge")
    first = next(i for i, a in enumerate(tray.model.alerts) if not a.acked)
    alert_id = tray.model.alerts[first].id
    tray.table.selectRow(first)
    with qtbot.waitSignal(tray.acknowledged, timeout=WAIT):
        tray.acknowledge_selected()
    assert [a.acked for a in tray.model.alerts if a.id == alert_id] == [True]
    assert tray.model.unacked() == unacked - 1


def test_bug6_the_refresh_does_not_overwrite_the_trays_own_messages(qtbot, ctx) -> None:
    """Bug 6: 'select an alert …' vanished at the next 2-second refresh, so Acknowledge seemed
    to do nothing."""
    tray = _tray(qtbot, ctx)
    tray.table.clearSelection()
    tray.acknowledge_selected()
    assert "select an alert" in tray.message.text()
    with qtbot.waitSignal(tray.poller.result, timeout=WAIT):
        tray.poller.poll()
    assert "select an alert" in tray.message.text()
    assert tray.message.isVisibleTo(tray) and tray.summary.isVisibleTo(tray)


def test_bug3_chart_labels_never_shorten_an_identifier_silently(qtbot, ctx) -> None:
    """Bug 3: labels were cut at 24 characters with no ellipsis: case J3304002026092100711
    labelled '入室盗窃 J3304002026092100711' was drawn as a different, wrong number."""
    from console.bus import Bus
    from console.chart_model import chart_label
    from console.graph_panel import GraphPanel

    assert (
        chart_label("incident:J3304002026092100711", "入室盗窃 J3304002026092100711")
        == "入室盗窃 J3304002026092100711"
    )
    long_id = "device:" + "MJ" + "7" * 40
    assert chart_label(long_id, None) == long_id.split(":", 1)[1]
    name = chart_label("address:a1", "浙江省嘉兴市南湖区人民路254号3单元1201室东侧车棚")
    assert name.endswith("…") and len(name) == 24
    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    seed, label = ctx.workspace.store.connection.execute(
        "SELECT id, label FROM entities WHERE type = 'incident' AND length(label) > 24 LIMIT 1"
    ).fetchone()
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.show_entities([seed])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    drawn = {item.toPlainText() for item in panel._labels if item.isVisible()}
    assert label in drawn


def test_bug4_a_long_status_line_does_not_widen_the_window(qtbot, ctx, settings) -> None:
    """Bug 4: a six-hop path in the chart's status line widened the main window past the
    screen, and the Record dock went off-screen."""
    window = open_main_window(qtbot, ctx, settings)
    window.resize(1600, 960)
    qtbot.wait(100)
    path = " → ".join(f"person:33048119{i:02d}0101{i:04d}X 张{i}" for i in range(7))
    window.panels["graph"].status.setText(f"path of 6 hops: {path}")
    window.panels["search"].summary.setText("9,999 hits · " + path)
    window.panels["map"].info.setText(path)
    if hasattr(window.panels["alerts"], "message"):
        window.panels["alerts"].message.setText(path)
    qtbot.wait(300)
    assert window.width() <= 1600
    record = window.docks["records"]
    assert record.geometry().right() <= window.width()


def test_bug5_docking_a_popped_out_view_puts_it_back_in_its_tab(qtbot, ctx, settings) -> None:
    """Bug 5: after Ctrl+Shift+D on the dispatch board, the float button of the popped-out
    window docked it beside Record and its tab was gone until Reset layout."""
    window = open_main_window(qtbot, ctx, settings)
    board = window.show_panel("dispatch")
    tabs_before = window.tabs.count()
    dock = window.detach_view()
    assert dock is not None and dock.isFloating()
    assert window.tabs.indexOf(board) == -1
    dock.setFloating(False)  # what the title bar's float button does
    qtbot.waitUntil(lambda: window.tabs.indexOf(board) >= 0, timeout=WAIT)
    assert window.tabs.count() == tabs_before
    assert "dispatch" not in window.docks
    assert not any(d.isVisible() and d.widget() is board for d in window.findChildren(type(dock)))
    window.close()  # and closing it later does not add a second tab
    assert [window.tabs.widget(i) for i in range(window.tabs.count())].count(board) == 1


def test_bug7_clicking_a_chart_node_fills_the_record_pane(qtbot, ctx, settings) -> None:
    """Bug 7: the Record pane says 'select … a node to see its record', but clicking a chart
    node left it empty."""
    window = open_main_window(qtbot, ctx, settings)
    chart, pane = window.panels["graph"], window.panels["records"]
    if not chart.available:
        pytest.skip("graph engine not importable here")
    seed = ctx.workspace.store.connection.execute(
        "SELECT entity_id FROM record_entities WHERE entity_id LIKE 'vehicle:%' "
        "GROUP BY entity_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    with qtbot.waitSignal(chart.changed, timeout=WAIT):
        chart.show_entities([seed])
    qtbot.waitUntil(lambda: chart.job is None, timeout=WAIT)
    chart.select([seed])  # what a left click on the node does
    assert pane.browser.isVisibleTo(pane)
    text = pane.browser.toPlainText()
    assert seed in text
    uid = ctx.workspace.store.entity_record_uids(seed)[0]
    assert ctx.workspace.store.get_record(uid).title() in text
    from PyQt6.QtCore import QUrl

    pane._on_link(QUrl(f"record:{uid}"))
    assert pane.record is not None and pane.record.uid == uid


def test_bug8_faces_search_says_what_is_missing_in_the_consoles_words(qtbot, ctx) -> None:
    """Bug 8: Search with no photo did nothing and said nothing; without a case number the
    message spoke of the command line's ``--case``."""
    from console.bus import Bus
    from console.faces_panel import FacesPanel

    panel = FacesPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("facematch engine not importable here")
    panel.show()
    panel.case.setText("J3304002026092100711")
    panel.purpose.setText("robbery suspect, CCTV still")
    with qtbot.waitSignal(panel.refused, timeout=1000) as refused:
        panel.search_button.click()
    assert "photo" in refused.args[0]
    assert "photo" in panel.status.text() and panel.status.isVisible()
    panel.case.clear()
    with qtbot.waitSignal(panel.refused, timeout=1000) as refused:
        panel.search_button.click()
    assert "case number" in refused.args[0] and "--" not in refused.args[0]
    assert panel.case.property("invalid") is True


def test_bug9_sort_arrow_follows_the_engines_sort_and_counts_agree(qtbot, ctx) -> None:
    """Bug 9: the Time column showed a sort arrow while results were sorted by relevance; the
    chart and map said '1 entities', '1 links', '1 tracks'."""
    from PyQt6.QtCore import Qt

    from console.bus import Bus
    from console.graph_panel import GraphPanel
    from console.map_panel import MapPanel
    from console.mapgen import MapLayers
    from console.search_panel import SearchPanel

    panel = SearchPanel(ctx, Bus())
    qtbot.addWidget(panel)
    header = panel.table.horizontalHeader()
    with qtbot.waitSignal(panel.model.first_page, timeout=WAIT):
        panel.run_query("source:incidents")
    assert panel.model.request.sort == "relevance"
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        4,
        Qt.SortOrder.DescendingOrder,
    )
    with qtbot.waitSignal(panel.model.first_page, timeout=WAIT):
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # a click on Time
    assert panel.model.request.sort == "time_asc" and panel.sort.currentData() == "time_asc"

    chart = GraphPanel(ctx, Bus())
    qtbot.addWidget(chart)
    assert chart.chart_summary(1, 1, 1) == "1 entity, 1 link, 1 new"
    assert chart.chart_summary(2, 0, 0) == "2 entities, 0 links, 0 new"
    map_panel = MapPanel(ctx, Bus())
    qtbot.addWidget(map_panel)
    map_panel.layers = MapLayers(
        incidents=[{"id": 1, "lat": 30.0, "lon": 120.0}],
        tracks=[{"id": "vehicle:浙F1", "label": "浙F1", "points": []}],
        geofences=[{"type": "Feature"}],
    )
    summary = map_panel.layers_summary()
    assert "1 incident ·" in summary and "1 track" in summary and "1 geofence" in summary
    assert "1 tracks" not in summary and "0 units" in summary


def test_bug10_console_without_w_behaves_like_superbrain_alone(monkeypatch, tmp_path) -> None:
    """Bug 10: ``superbrain console`` with no -w showed an error box and exited, while bare
    ``superbrain`` offered the demo; both now take the same path."""
    import console.app
    from core import cli

    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(console.app, "run_default", lambda d: calls.append(("default", d)) or 0)
    monkeypatch.setattr(console.app, "run", lambda root: calls.append(("run", root)) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert cli.main(["console"]) == 0
    assert cli.main([]) == 0
    assert calls[0] == calls[1] and calls[0][0] == "default"
    assert cli.main(["console", "-w", str(tmp_path)]) == 0
    assert calls[2] == ("run", tmp_path)


HOSTILE = (
    "人民路254号<img src='file:///usr/share/pixmaps/debian-logo.png'>"
    "<b style='color:red'>CANCELLED - do not dispatch</b>"
)


def _rendered(text: str) -> tuple[str, str]:
    """What Qt draws for a tooltip / AutoText label: (visible text, its HTML)."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QTextDocument

    doc = QTextDocument()
    if Qt.mightBeRichText(text):
        doc.setHtml(text)
    else:
        doc.setPlainText(text)
    return doc.toPlainText(), doc.toHtml()


def test_issue16_14_data_is_shown_as_text_never_as_markup(qtbot, ctx) -> None:
    """#16 item 14: an incident address in a tooltip drew a local image and a fake red
    'CANCELLED - do not dispatch'. Tooltips and labels that show data show it as text."""
    from datetime import UTC, datetime

    from PyQt6.QtCore import Qt

    from console.alert_tray import AlertsModel
    from console.bus import Bus
    from console.dispatch_models import QueueModel
    from console.graph_panel import GraphPanel
    from console.notice import Notice

    queue = QueueModel()
    queue.set_rows(
        [
            {
                "id": 7,
                "priority": 1,
                "address": HOSTILE,
                "text": "x",
                "routing": {"description": "<i>rule</i>"},
            }
        ]
    )
    tip = queue.data(queue.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    shown, markup = _rendered(tip)
    assert HOSTILE in shown and "<img" not in markup and "color:#ff0000" not in markup
    alerts = AlertsModel()
    from ops.model import Alert

    alerts.merge(
        [
            Alert(
                id=1,
                ts=datetime.now(UTC),
                kind="watchlist",
                rule="<b>r</b>",
                severity="high",
                title=HOSTILE,
            )
        ]
    )
    shown, markup = _rendered(alerts.data(alerts.index(0, 3), Qt.ItemDataRole.ToolTipRole))
    assert HOSTILE in shown and "<img" not in markup
    chart = GraphPanel(ctx, Bus())
    qtbot.addWidget(chart)
    notice = Notice(HOSTILE)
    qtbot.addWidget(notice)
    for label in (chart.status, notice.label):
        label.setText(HOSTILE)
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_map_zooms_to_the_track_with_metric_scale_24h_times_and_a_layer_switcher(
    qtbot, tmp_path
) -> None:
    """Issue #15, the map: Show on map zooms to the entity's track; times are on a 24-hour
    clock in the workspace's time zone; the scale is metric only; one switcher for every
    layer."""
    from console import qtinit
    from console.mapgen import MapLayers, build_map_html

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    # 2026-09-21 06:05 UTC is 14:05 in Shanghai; the track sits in one small corner
    t0 = 1789970700
    track = {
        "id": "vehicle:浙F1",
        "label": "浙F1",
        "points": [[30.70, 120.90, t0, "r1"], [30.701, 120.901, t0 + 600, "r2"]],
    }
    layers = MapLayers(
        incidents=[{"id": 1, "lat": 30.2, "lon": 120.1, "label": "far away", "priority": 2}],
        units=[{"id": "u1", "lat": 30.3, "lon": 120.3, "label": "U1", "status": "available"}],
        heat=[[30.25, 120.2, 1.0]],
        tracks=[track],
        geofences=[
            {
                "type": "Feature",
                "properties": {"name": "g"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[120.1, 30.1], [120.2, 30.1], [120.2, 30.2], [120.1, 30.1]]],
                },
            }
        ],
    )
    html = build_map_html(layers, time_zone="Asia/Shanghai")
    view = show_map_page(qtbot, tmp_path / "map.html", html, (800, 600), timeout=WAIT)
    answers: dict[str, object] = {}

    def ask(name: str, script: str) -> object:
        view.page().runJavaScript(script, lambda v: answers.__setitem__(name, v))
        qtbot.waitUntil(lambda: name in answers, timeout=WAIT)
        return answers[name]

    assert ask("zoom", "SB.map.getZoom()") >= 14  # zoomed to the track, not the whole city
    assert ask("far", "SB.map.getBounds().contains([30.2, 120.1])") is False
    assert ask("time", f"sbTime({t0})") == "2026-09-21 14:05"
    scale = ask(
        "scale",
        "Array.from(document.querySelectorAll('.leaflet-control-scale-line'))"
        ".map(function (e) { return e.textContent; }).join('|')",
    )
    assert scale and "mi" not in scale and "ft" not in scale and "|" not in scale
    names = ask("layers", "Object.keys(SB.layers).sort().join(',')")
    assert names == "basemap,geofences,hotspots,incidents,records,tracks,units"


def test_offline_basemap_draws_streets_and_names_each_from_its_zoom(qtbot, ctx, tmp_path) -> None:
    """Issue #15, the map: an offline basemap a person can read: the city's streets by class
    and their names, district and place names, and the workspace's own places (checkpoints,
    hotels), each name from the zoom where it fits: motorways from afar, lanes up close."""
    from console import qtinit
    from console.mapdata import basemap_features
    from console.mapgen import MapLayers, build_map_html

    base = basemap_features(ctx.workspace.store)
    assert base["streets"] and base["places"]
    motorway = next(s for s in base["streets"] if s["cls"] == "motorway")
    lane = next(s for s in base["streets"] if s["cls"] == "residential")
    own = next(p for p in base["places"] if p.get("id"))  # from the workspace's records
    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    html = build_map_html(MapLayers(streets=base["streets"], places=base["places"]))
    view = show_map_page(qtbot, tmp_path / "map.html", html, (900, 700), timeout=WAIT)
    qtbot.wait(500)  # the page fits its content once it has its size; then zoom in

    def shown_at(lat: float, lon: float, zoom: int) -> tuple[int, list[str]]:
        got: list[object] = []
        view.page().runJavaScript(
            f"SB.map.setView([{lat}, {lon}], {zoom}, {{animate: false}}); 1", got.append
        )
        qtbot.waitUntil(lambda: bool(got), timeout=WAIT)
        qtbot.wait(300)
        got.clear()
        view.page().runJavaScript(
            "SB.map.getZoom() + '#' + "
            "Array.from(document.querySelectorAll('.sb-street-name, .sb-place-name'))"
            ".filter(function (e) { return e.offsetParent !== null; })"
            ".map(function (e) { return e.textContent; }).join('|')",
            got.append,
        )
        qtbot.waitUntil(lambda: bool(got), timeout=WAIT)
        zoom_now, names = str(got[0]).split("#", 1)
        return int(zoom_now), names.split("|")

    mid = motorway["points"][len(motorway["points"]) // 2]
    zoom, names = shown_at(mid[0], mid[1], 11)
    assert zoom == 11 and motorway["name"] in names and lane["name"] not in names
    assert "南湖区" in names  # district names from afar
    assert own["name"] not in names
    mid = lane["points"][len(lane["points"]) // 2]
    zoom, names = shown_at(mid[0], mid[1], 16)
    assert zoom == 16 and lane["name"] in names  # the lane's name up close
    zoom, names = shown_at(own["lat"], own["lon"], 16)
    assert own["name"] in names, names[:20]  # the workspace's own place is named
    got: list[object] = []
    view.page().runJavaScript("Object.keys(SB.layers).sort().join(',')", got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=WAIT)
    assert {"streets", "places"} <= set(str(got[0]).split(","))  # in the layer switcher


def test_board_status_menu_offers_every_allowed_transition_labelled_and_recs_refresh(
    qtbot, ctx
) -> None:
    """Issue #15, the commander's board: the status menu offers every transition the state
    machine allows for the unit, labelled (not raw off_duty); recommendations are recomputed
    after an assignment, so an assigned unit is not offered again."""
    from console.bus import Bus
    from console.dispatch_panel import DispatchPanel

    panel = DispatchPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not hasattr(panel, "units"):
        pytest.skip("ops engine not importable here")
    with qtbot.waitSignal(panel.loaded, timeout=WAIT):
        pass
    machine = panel._view().config.unit_states
    unit = next(u for u in panel.units_model.units if u.status == "available")
    panel.select_unit(unit.id)
    items = [
        (panel.status_box.itemData(i), panel.status_box.itemText(i))
        for i in range(panel.status_box.count())
    ]
    assert [s for s, _ in items] == [s for s in machine.allowed("available") if s != "available"]
    from console.dispatch_models import state_label

    assert state_label("下班 off duty", zh=False) == "off duty"
    assert state_label("下班 off duty", zh=True) == "下班"
    assert all(
        text == state_label(machine.label(s), False) and "_" not in text for s, text in items
    )
    row = next(r for r, u in enumerate(panel.units_model.units) if u.id == unit.id)
    assert panel.units_model.data(panel.units_model.index(row, 2)) == "available"

    incident = panel.queue_model.incident_id(panel.queue_model.rowCount() - 1)
    panel.select_incident(incident)
    with qtbot.waitSignal(panel.action_done, timeout=WAIT):
        panel.recommend_selected()
    assert panel.recommendations
    first = panel.recommendations[0].unit_id
    with qtbot.waitSignal(panel.recs_refreshed, timeout=WAIT):
        panel.assign(incident, [first])
    assert first not in [r.unit_id for r in panel.recommendations]
    assert panel.recs.rowCount() == len(panel.recommendations)


def test_chart_has_a_legend_of_what_it_shows_and_a_plain_hover_card(qtbot, ctx) -> None:
    """Issue #15, the analyst's chart: a legend of the entity and link types on the chart and
    a hover card per node (its type, id and links by type; data shown as text)."""
    from PyQt6.QtCore import Qt

    from console.bus import Bus
    from console.graph_panel import GraphPanel

    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    panel.resize(900, 700)
    panel.show()
    assert not panel.legend.isVisible()  # an empty chart has nothing to explain
    seed = _track_entity(ctx)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.show_entities([seed])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    items = panel.legend.items
    kinds = {(i.kind, i.name) for i in items}
    assert {("entity", n.type) for n in panel.model.graph.nodes.values()} == {
        k for k in kinds if k[0] == "entity"
    }
    assert {("link", e.type) for e in panel.model.graph.edges} == {
        k for k in kinds if k[0] == "link"
    }
    assert sum(i.count for i in items if i.kind == "entity") == len(panel.model.graph.nodes)
    assert panel.legend.isVisible()
    rows = [w for w in panel.legend.findChildren(type(panel.status)) if w.isVisible()]
    assert len(rows) == len(items)  # every row drawn, and the frame is big enough for them
    assert panel.legend.height() >= sum(r.sizeHint().height() for r in rows)
    card = panel.hover_text(seed)
    assert seed in card and "×" in card
    tip = panel.node_items[next(iter(panel.node_items))].opts["tip"](0, 0, seed)
    assert Qt.mightBeRichText(tip) and "&lt;" not in seed  # escaped, shown as text


def test_chart_labels_do_not_pile_up_and_zooming_in_shows_more(qtbot, ctx) -> None:
    """Issue #15: from ~15 nodes the labels piled up; now no two drawn labels overlap, and
    zooming in places more of them."""
    from console.bus import Bus
    from console.chart_model import place_labels, text_width_px
    from console.graph_panel import GraphPanel

    assert place_labels([("a", 0, 0, "abc"), ("b", 5, 4, "abc"), ("c", 200, 0, "abc")], 10) == [
        "a",
        "c",
    ]
    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    panel.resize(900, 700)
    panel.show()
    panel.depth.setValue(2)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.show_entities([_track_entity(ctx)])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    nodes = len(panel.model.visible_nodes())
    assert nodes >= 15

    def boxes() -> list[tuple[float, float, float, float]]:
        vb = panel.plot.getViewBox()
        out = []
        for item in panel._labels:
            if item.isVisible():
                p = vb.mapViewToScene(item.pos())
                w = text_width_px(item.toPlainText()) / 2
                out.append((p.x() - w, p.y(), p.x() + w, p.y() + 16))
        return out

    drawn = boxes()
    assert 0 < len(drawn) < nodes
    assert not any(
        a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
        for i, a in enumerate(drawn)
        for b in drawn[i + 1 :]
    )
    panel.plot.getViewBox().scaleBy((0.25, 0.25))
    qtbot.waitUntil(lambda: len(boxes()) > len(drawn), timeout=5000)


def test_faces_hides_weak_candidates_states_fmr_with_its_sample_and_badges_reviews(
    qtbot, ctx
) -> None:
    """Issue #15, face safeguards: candidates below the threshold are hidden by default (a
    toggle shows them, greyed and unnamed); the false-match rate comes with its sample size
    ('… of N impostor pairs', not 'FMR 0.00%'); a candidate reviewed before carries a badge."""
    from types import SimpleNamespace

    from console.bus import Bus
    from console.faces_panel import FacesPanel, fmr_text, impostor_pairs
    from facematch.results import Candidate

    panel = FacesPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("facematch engine not importable here")
    pairs = impostor_pairs()
    assert pairs > 1_000_000  # the LFW calibration: tens of millions of impostor pairs
    assert fmr_text(0.0, 1000) == "false matches: 0 of 1,000 impostor pairs (0.000%)"

    def cand(rank: int, sim: float, above: bool, face: int) -> Candidate:
        return Candidate(
            search_id="s-test",
            probe_face=0,
            rank=rank,
            face_id=face,
            similarity=sim,
            above_threshold=above,
            threshold=0.9122,
            threshold_fmr=0.00779,
            score_fmr=0.0 if above else 0.2,
            record_uid=f"watchlist:W{rank}",
            entity_id=f"person:P{rank}",
            entity_label=f"张{rank}",
            photo_path="/nonexistent.jpg",
            box=(0, 0, 10, 10),
            quality=1.0,
        )

    panel.gallery().store.add_review("s-old", 101, "rejected", "not him", "tester")
    result = SimpleNamespace(
        candidates=[cand(1, 0.95, True, 101), cand(2, 0.80, False, 102), cand(3, 0.70, False, 103)],
        threshold=0.9122,
        threshold_fmr=0.00779,
        gallery_size=1234,
    )
    panel._show_result(result)
    assert panel.candidates.count() == 1 and panel.shown[0].rank == 1
    first = panel.candidates.item(0).text()
    assert "张1" in first and "rejected before" in first
    assert f"of {pairs:,} impostor pairs" in panel.threshold_label.text()
    assert "FMR" not in panel.threshold_label.text() + first
    assert "2 below the threshold hidden" in panel.status.text()
    panel.show_below.setChecked(True)
    assert panel.candidates.count() == 3
    weak = panel.candidates.item(2).text()
    assert "张3" not in weak and "not named" in weak
    panel.candidates.setCurrentRow(2)
    assert panel.selected_candidate().rank == 3  # the row is the candidate it shows


def test_board_mode_shows_the_whole_board_full_screen_with_keys(qtbot, ctx, settings) -> None:
    """Issue #15, the commander's board: a full-screen board mode (queue, incident detail with
    text, reporter, routing rule and timers, recommendations, unit board, map) with no dock
    squeezing it; F2/F3/F4/F6 recommend, assign, open the status menu and acknowledge."""
    from PyQt6.QtCore import Qt

    window = open_main_window(qtbot, ctx, settings)
    board = window.panels["dispatch"]
    if not hasattr(board, "units"):
        pytest.skip("ops engine not importable here")
    qtbot.waitUntil(lambda: board.queue_model.rowCount() > 0, timeout=WAIT)
    assert window.toggle_board_mode() is True
    window.setGeometry(0, 0, 1600, 1000)  # the offscreen "screen" is smaller than a desk's
    qtbot.wait(200)
    assert window.tabs.currentWidget() is board
    assert not any(d.isVisible() for d in window.docks.values())
    row = next(
        (r for r in board.queue_model.rows if r.get("status") == "received"),
        board.queue_model.rows[0],
    )
    board.select_incident(row["id"])
    detail = board.detail.text()
    assert f"#{row['id']}" in detail and "routing rule:" in detail and "waiting" in detail
    assert (row.get("reporter") or "—") in detail and "Asia/Shanghai" in detail
    for widget in (board.queue, board.detail, board.recs, board.units, board.map):
        assert widget.isVisible() and widget.width() > 200 and widget.height() > 80
    board.queue.setFocus()
    with qtbot.waitSignal(board.action_done, timeout=WAIT) as done:
        qtbot.keyClick(board.queue, Qt.Key.Key_F2)  # recommend
    assert "recommended" in done.args[0] or "no available unit" in done.args[0]
    with qtbot.waitSignal(board.action_done, timeout=WAIT) as done:
        qtbot.keyClick(board.queue, Qt.Key.Key_F6)  # acknowledge the incident
    # acknowledged, or refused by the engine naming the incident (it was past 'received')
    assert str(row["id"]) in done.args[0]
    if row.get("status") == "received":
        assert "acknowledged" in done.args[0]
    assert window.toggle_board_mode() is False
    assert window.docks["records"].isVisible() and window.tabs.tabBar().isVisible()


def test_language_menu_checks_the_chosen_language_and_a_cjk_font_leads(
    qtbot, ctx, settings, qapp
) -> None:
    """Issue #15, Chinese: the language menu shows a check mark on the chosen language (the
    notice offers a restart); in zh_CN a CJK font leads, so CJK glyphs are not clipped in dock
    titles sized from another font's metrics."""
    from PyQt6.QtGui import QFontMetrics

    from console.app import cjk_font_families, use_cjk_font

    window = open_main_window(qtbot, ctx, settings)
    checked = [c for c, a in window.language_actions.items() if a.isChecked()]
    assert checked == ["en"]
    window.set_language("zh_CN", ask=False)
    assert [c for c, a in window.language_actions.items() if a.isChecked()] == ["zh_CN"]
    assert settings.value("language") == "zh_CN"
    if not cjk_font_families():
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    before = qapp.font()
    try:
        family = use_cjk_font(qapp, "zh_CN")
        assert family and qapp.font().families()[0] == family
        height = QFontMetrics(qapp.font()).height()
        title = window.docks["records"]
        qtbot.wait(50)
        assert title.widget().geometry().top() >= height  # the title bar holds a CJK line
    finally:
        qapp.setFont(before)


def test_a_map_page_loaded_while_hidden_zooms_to_its_track_when_shown(qtbot, tmp_path) -> None:
    """Show on map zooms to the entity's track even when the page loaded in a hidden tab
    (0×0: Leaflet's fit at load time fitted nothing)."""
    from PyQt6.QtCore import QUrl

    from console import qtinit
    from console.map_panel import make_map_view, page_call
    from console.mapgen import MapLayers, build_map_html

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    track = {
        "id": "vehicle:浙F1",
        "label": "浙F1",
        "points": [[30.70, 120.90, 1789970700, "r1"], [30.75, 120.97, 1789971300, "r2"]],
    }
    layers = MapLayers(
        incidents=[{"id": 1, "lat": 30.2, "lon": 120.1, "label": "x", "priority": 2}],
        tracks=[track],
    )
    path = tmp_path / "map.html"
    path.write_text(build_map_html(layers), encoding="utf-8")
    view = make_map_view(lambda *_: None, lambda _ok: None)
    qtbot.addWidget(view)
    view.resize(0, 0)  # loads hidden, as in a tab not shown
    view.load(QUrl.fromLocalFile(str(path)))
    qtbot.waitUntil(lambda: view.title() == "superbrain-map-ready", timeout=WAIT)
    view.resize(800, 600)
    view.show()
    page_call(view, "sbInvalidate")
    answers: list[object] = []
    qtbot.wait(500)
    view.page().runJavaScript(
        "SB.map.getBounds().contains([30.70, 120.90]) && SB.map.getBounds().contains("
        "[30.75, 120.97]) && !SB.map.getBounds().contains([30.2, 120.1])",
        answers.append,
    )
    qtbot.waitUntil(lambda: bool(answers), timeout=WAIT)
    assert answers[0] is True


def test_every_chart_edit_can_be_undone_and_redone(qtbot, ctx) -> None:
    """Issue #15, the analyst's chart: undo/redo for every chart edit (expand, hide, move,
    clear)."""
    from console.bus import Bus
    from console.graph_panel import GraphPanel

    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    assert not panel.undo_button.isEnabled()
    seed = _track_entity(ctx)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.show_entities([seed])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    charted = set(panel.model.node_ids())
    other = next(n for n in charted if n != seed)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.expand([other])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    expanded = set(panel.model.node_ids())
    panel.hide_nodes([other])
    panel.begin_move()
    panel.drag_node(seed, 123.0, 45.0)
    moved = panel.model.positions[seed]
    panel.clear()
    assert panel.model.node_ids() == []
    assert panel.undo()  # clear
    assert set(panel.model.node_ids()) == expanded and panel.model.positions[seed] == moved
    assert panel.undo()  # move
    assert panel.model.positions[seed] != moved and seed not in panel.model.pinned
    assert panel.undo()  # hide
    assert other not in panel.model.hidden
    assert panel.undo()  # expand
    assert set(panel.model.node_ids()) == charted
    assert panel.undo()  # the fresh chart, in one step
    assert panel.model.node_ids() == [] and not panel.undo_button.isEnabled()
    assert panel.redo() and set(panel.model.node_ids()) == charted
    assert panel.redo() and set(panel.model.node_ids()) == expanded
    assert panel.node_count() == len(expanded)


def test_find_path_picks_the_target_from_chart_or_search_and_skips_hubs(qtbot, ctx) -> None:
    """Issue #15, the analyst's chart: Find path takes its target from the chart (selected
    first) or a search, not a typed id, and can leave out hub types (a camera every car
    passes is not a connection) and weak link types."""
    from console.bus import Bus
    from console.chart_model import path_link_types
    from console.graph_panel import GraphPanel, PathDialog

    everything = path_link_types()
    assert everything is None
    no_cameras = path_link_types(["device"])
    assert "passed" not in no_cameras and {"located_at", "co_located"} <= set(no_cameras)
    assert "called" not in path_link_types(["device"], ["called"])

    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    seed = _track_entity(ctx)
    panel.depth.setValue(2)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.show_entities([seed])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    other_vehicle = next(
        n for n in panel.model.node_ids() if n.startswith("vehicle:") and n != seed
    )
    panel.select([other_vehicle])
    dialog = PathDialog(panel, seed)
    qtbot.addWidget(dialog)
    assert dialog.target() == other_vehicle  # the selected node comes first
    assert dialog.hubs["device"].isChecked() and "passed" not in dialog.link_types()
    phone = ctx.workspace.store.connection.execute(
        "SELECT key FROM entities WHERE type = 'phone' LIMIT 1"
    ).fetchone()[0]
    dialog.search.setText(phone)
    dialog._search()
    assert dialog.target() == f"phone:{phone}"
    with qtbot.waitSignal(
        panel.job.finished if panel.job else panel.changed, timeout=WAIT, raising=False
    ):
        job = panel.find_path(seed, other_vehicle, link_types=dialog.link_types())
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    assert job is not None
    status = panel.status.text()
    if status.startswith("path of"):
        assert "device:" not in status  # no hop through a camera
    else:
        assert "no path" in status.lower() or "NoPath" in status or "graph:" in status


def test_moving_together_in_the_console_as_a_table_and_onto_the_chart(qtbot, ctx) -> None:
    """Issue #15: co-occurrence (vehicles or phones moving together) in the console: pick an
    entity, a window and a minimum count; the results as a table and onto the chart."""
    from console.bus import Bus
    from console.graph_panel import GraphPanel
    from console.screenshots import CONVOY

    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    store = ctx.workspace.store
    plate = next((p for p in CONVOY if store.get_entity(f"vehicle:{p}")), None)
    entity = f"vehicle:{plate}" if plate else _track_entity(ctx)
    dialog = panel.moving_together("")
    qtbot.addWidget(dialog)
    dialog.entity.setText(entity.split(":", 1)[1])  # a plate as typed, resolved by the engine
    dialog.window_s.setValue(120)
    dialog.min_count.setValue(1)
    with qtbot.waitSignal(dialog.found, timeout=WAIT) as found:
        dialog.run()
    results = found.args[0]
    assert dialog.entity.text() == entity
    assert dialog.table.rowCount() == len(results)
    if not results:
        pytest.skip(f"nobody moved with {entity} in this demo")
    partner = results[0].b if results[0].a == entity else results[0].a
    assert dialog.table.item(0, 0).text() == partner
    assert int(dialog.table.item(0, 1).text()) == results[0].count >= 1
    dialog.table.selectRow(0)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        dialog.add_to_chart()
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    nodes = set(panel.model.node_ids())
    assert {entity, partner} <= nodes
    assert {ev.device for ev in results[0].evidence} <= nodes


def test_timeline_zooms_to_the_dense_span_and_shows_outliers_at_the_edge(qtbot, ctx) -> None:
    """Issue #15: one 2001 record no longer squashes 2026's events: the timeline shows the
    dense span and draws outliers at its edges, saying how many."""
    from types import SimpleNamespace

    from console.analytics import dense_span
    from console.bus import Bus
    from console.timeline_panel import TimelinePanel

    y2026 = 1_790_000_000.0
    times = [y2026 + i * 3600.0 for i in range(200)] + [978_307_200.0]  # + 2001-01-01
    lo, hi, early, late = dense_span(times)
    assert (lo, hi, early, late) == (y2026, y2026 + 199 * 3600.0, 1, 0)
    assert dense_span([y2026, y2026 + 60.0])[2:] == (0, 0)
    panel = TimelinePanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    eid = _track_entity(ctx)
    events = {eid: [SimpleNamespace(time=t, record_uid=f"r{i}") for i, t in enumerate(times)]}
    panel._show([eid], events, [[0] * 24 for _ in range(7)])
    (x0, x1), _ = panel.lanes.getViewBox().viewRange()
    assert x0 > 1_700_000_000 and x1 - x0 < 40 * 86400  # 2026's eight days fill the lane
    xs = [p.pos().x() for p in panel.points.points()]
    assert min(xs) == y2026 and len(xs) == len(times)  # the 2001 record sits at the edge
    assert "1 earlier" in panel.summary.text()


def test_a_typed_entity_can_be_added_to_the_chart_not_only_replace_it(qtbot, ctx) -> None:
    """Issue #15: 'add to chart' next to 'replace'."""
    from console.bus import Bus
    from console.graph_panel import GraphPanel

    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    first = _track_entity(ctx)
    second = ctx.workspace.store.connection.execute(
        "SELECT id FROM entities WHERE type = 'phone' LIMIT 1"
    ).fetchone()[0]
    panel.entity_box.setText(first.split(":", 1)[1])
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel._chart_typed(add=False)
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    before = set(panel.model.node_ids())
    panel.entity_box.setText(second)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel._chart_typed(add=True)
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    assert before | {second} <= set(panel.model.node_ids())
    panel.entity_box.setText(second)
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel._chart_typed(add=False)  # Enter: a new chart
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    assert tuple(panel.model.graph.seeds) == (second,)  # replaced: only the new seed


def test_a_link_is_named_when_the_pointer_is_on_it(qtbot, ctx) -> None:
    """Issue #15, the analyst's chart: link labels on hover."""
    from console.bus import Bus
    from console.chart_model import SCALE
    from console.graph_panel import GraphPanel

    panel = GraphPanel(ctx, Bus())
    qtbot.addWidget(panel)
    if not panel.available:
        pytest.skip("graph engine not importable here")
    panel.resize(900, 700)
    panel.show()
    with qtbot.waitSignal(panel.changed, timeout=WAIT):
        panel.show_entities([_track_entity(ctx)])
    qtbot.waitUntil(lambda: panel.job is None, timeout=WAIT)
    edge = panel.model.visible_edges()[0]
    (ax, ay), (bx, by) = panel.model.positions[edge.source], panel.model.positions[edge.target]
    mid = ((ax + bx) / 2 * SCALE, (ay + by) / 2 * SCALE)
    found = panel.edge_at(*mid)
    assert found is not None and {found.source, found.target} == {edge.source, edge.target}
    text = panel.link_text(found)
    assert "—" in text and "→" in text and f"× {found.count}" in text
    (x0, x1), (y0, y1) = panel.plot.getViewBox().viewRange()
    assert panel.edge_at(x1 + (x1 - x0), y1 + (y1 - y0)) is None  # far from every link


def test_the_map_page_speaks_the_uis_language(qtbot, tmp_path) -> None:
    """Issue #15, Chinese: the map's legend and layer switcher in the UI language."""
    from console import qtinit
    from console.map_panel import page_labels
    from console.mapgen import MapLayers, build_map_html

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    labels = dict(
        page_labels(),
        incidents="警情",
        incidents_legend="警情",
        basemap_districts="离线底图：辖区轮廓",
    )
    layers = MapLayers(
        incidents=[{"id": 1, "lat": 30.2, "lon": 120.1, "label": "x", "priority": 2}]
    )
    html = build_map_html(layers, labels=labels)
    view = show_map_page(qtbot, tmp_path / "map.html", html, timeout=WAIT)
    got: list[object] = []
    view.page().runJavaScript(
        "document.querySelector('.sb-legend').textContent + '|' + Object.keys(SB.layers).join(',')",
        got.append,
    )
    qtbot.waitUntil(lambda: bool(got), timeout=WAIT)
    legend, names = str(got[0]).split("|")
    assert "警情" in legend and "离线底图" in legend and "Incidents" not in legend
    assert "警情" in names.split(",")
