"""The Cases panel (offscreen, pytest-qt): a chart saved in a case reopens identical after the
chart was cleared, the window asks before an unsaved chart is lost, and another analyst's note
appears without a refresh."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console_fixtures import ctx, demo_root, drain, settings  # noqa: F401 - fixtures

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("drain")]

WAIT = 30_000
CASE = "2026-JX-0117"  # made by `superbrain demo` (cases.cli.prepare_demo)


@pytest.fixture(autouse=True)
def no_modal_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A question box left open offscreen would block the test run (closing the window at
    teardown asks about an unsaved chart): answer Discard unless a test says otherwise."""
    from PyQt6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)


def _window(qtbot: Any, ctx: Any, settings: Any) -> Any:  # noqa: F811
    from console.mainwindow import MainWindow

    window = MainWindow(ctx, settings)
    qtbot.addWidget(window)
    window.show()
    return window


def _a_phone(ctx: Any) -> str:  # noqa: F811
    return ctx.workspace.store.connection.execute(
        "SELECT source FROM links WHERE type='called' LIMIT 1").fetchone()[0]


def test_save_clear_reopen_gives_the_same_chart(qtbot: Any, ctx: Any, settings: Any,  # noqa: F811
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from PyQt6.QtWidgets import QInputDialog, QMessageBox

    window = _window(qtbot, ctx, settings)
    cases, graph = window.panels["cases"], window.panels["graph"]
    assert cases.graph is graph
    cases.choose_case(CASE)
    assert cases.session.case == CASE
    graph.show_entities([_a_phone(ctx)])
    qtbot.waitUntil(lambda: graph.model.graph is not None and graph.job is None, timeout=WAIT)
    ids = sorted(graph.model.graph.nodes)
    graph.hide_nodes(ids[-1:])
    graph.drag_node(ids[0], 12.5, -7.25)
    graph.model.node_styles[ids[0]] = {"colour": "#123456", "size": 22}
    before = graph.model.to_dict()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("main", True))
    assert cases.save_chart(), cases.status.text()
    assert cases.charts.count() == 1
    graph.clear()
    assert graph.model.graph is None
    cases.charts.setCurrentRow(0)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append("x") or QMessageBox.StandardButton.Discard)
    cases.open_selected_chart()
    after = graph.model.to_dict()
    assert after["positions"] == before["positions"]
    assert after["hidden"] == before["hidden"] and after["styles"] == before["styles"]
    assert after == before
    assert asked == []  # an empty chart has nothing to lose
    window.close()


def test_closing_with_an_unsaved_chart_asks(qtbot: Any, ctx: Any, settings: Any,  # noqa: F811
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from PyQt6.QtWidgets import QMessageBox

    window = _window(qtbot, ctx, settings)
    cases, graph = window.panels["cases"], window.panels["graph"]
    cases.choose_case(CASE)
    graph.show_entities([_a_phone(ctx)])
    qtbot.waitUntil(lambda: graph.model.graph is not None and graph.job is None, timeout=WAIT)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append("x") or QMessageBox.StandardButton.Cancel)
    window.close()
    assert asked == ["x"] and window.isVisible()  # Cancel keeps the window and the chart
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.close()
    assert not window.isVisible()


def test_another_analysts_note_appears_live(qtbot: Any, ctx: Any, settings: Any) -> None:  # noqa: F811
    import cases.api  # noqa: F401
    from console.navigation import Focus
    from core.security import Session
    from core.services import ServiceContext, call

    window = _window(qtbot, ctx, settings)
    panel = window.panels["cases"]
    panel.choose_case(CASE)
    lead = ServiceContext(ctx.workspace, Session("tester", "administrator", "password"))
    call("cases.member_set", lead, case=CASE, member="wang", role="contributor")
    wang = ServiceContext(ctx.workspace, Session("wang", "analyst", "password"))
    call("cases.note_add", wang, case=CASE, target_kind="case", target="",
         text="王: 嫌疑车辆周三再次出现")
    qtbot.waitUntil(lambda: any("嫌疑车辆周三再次出现" in panel.notes.item(i).text()
                                for i in range(panel.notes.count())), timeout=WAIT)
    # a note on a record shows under that record in the record pane, escaped
    uid = ctx.workspace.store.connection.execute("SELECT uid FROM records LIMIT 1").fetchone()[0]
    call("cases.note_add", wang, case=CASE, target_kind="record", target=uid,
         text="<b>seen</b> at the gate")
    window.apply_focus(Focus("records", "record", (uid,)))
    pane = window.panels["records"]
    qtbot.waitUntil(lambda: "at the gate" in pane.browser.toPlainText(), timeout=WAIT)
    assert "<b>seen</b> at the gate" in pane.browser.toPlainText()
    # ... and is a ringed star on the timeline of the record's entities
    timeline = window.panels["timeline"]
    record = ctx.workspace.store.get_record(uid)
    timeline.show_entities([e.id for e in record.entities])
    qtbot.waitUntil(lambda: bool(getattr(timeline, "events", None)), timeout=WAIT)
    stars = [p.data() for p in timeline.points.points() if p.symbol() == "star"]
    assert uid in stars
    window.close()


def test_a_burst_of_case_events_makes_one_refresh(qtbot: Any, ctx: Any,  # noqa: F811
                                                  settings: Any) -> None:  # noqa: F811
    """A reconnecting client console is replayed every case event it missed (and the first
    poll reads the journal's history): the dock refreshes once, not three service calls per
    event (hundreds of round trips to a centre server)."""
    window = _window(qtbot, ctx, settings)
    panel = window.panels["cases"]
    panel.choose_case(CASE)
    calls: list[str] = []
    real = panel.session.call

    def counted(service: str, /, **params: Any) -> Any:
        calls.append(service)
        return real(service, **params)

    panel.session.call = counted  # type: ignore[method-assign]
    base = panel.session.last_event
    for i in range(50):
        panel.pushed({"id": base + i + 1, "ts": 0.0, "kind": "case.note_added", "case": CASE,
                      "ref": f"n{i}", "user": "wang", "payload": {}})
    qtbot.waitUntil(lambda: "cases.notes" in calls, timeout=WAIT)
    qtbot.wait(500)
    assert calls.count("cases.notes") == 1, calls
    assert panel.session.last_event == base + 50
    window.close()


def _ask(qtbot: Any, view: Any, script: str) -> Any:
    answers: list[Any] = []
    view.page().runJavaScript(script, answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=WAIT)
    return answers[0]


def _located_entity(ctx: Any) -> str:  # noqa: F811
    return ctx.workspace.store.connection.execute(
        "SELECT re.entity_id FROM record_entities re JOIN records r ON r.uid = re.record_uid "
        "WHERE r.lat IS NOT NULL AND re.entity_id LIKE 'vehicle:%' LIMIT 1").fetchone()[0]


def test_right_click_notes_a_map_place_and_the_map_shows_the_cases_notes_live(
        qtbot: Any, ctx: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Issue #17, notes on the Map view: a right-click on the map asks for a note on that place
    and adds it to the open case (through cases.note_add, audited as the console's user); the
    map draws the case's notes with author and workspace time, the text as text; a note an
    analyst adds elsewhere (on a located entity) appears on the map without a refresh."""
    import cases.api  # noqa: F401
    from PyQt6.QtWidgets import QInputDialog

    from console import qtinit
    from core.security import Session
    from core.services import ServiceContext, call

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    window = _window(qtbot, ctx, settings)
    cases, map_panel = window.panels["cases"], window.panels["map"]
    assert cases.map is map_panel
    cases.choose_case(CASE)
    window.show_panel("map")
    qtbot.waitUntil(lambda: map_panel.loaded and
                    map_panel.view.title() == "superbrain-map-ready", timeout=60_000)
    phone = _a_phone(ctx)
    text = f"<img src=x onerror=alert(1)> 车在此换牌 @{phone}"
    asked: list[str] = []
    monkeypatch.setattr(QInputDialog, "getText",
                        lambda _w, _t, label, *a, **k: asked.append(label) or (text, True))
    # a real right-click event on the map's container, where Leaflet places the point
    lat, lon = _ask(qtbot, map_panel.view, "var c = SB.map.getCenter(); [c.lat, c.lng]")
    _ask(qtbot, map_panel.view,
         "var c = SB.map.getContainer(), r = c.getBoundingClientRect(),"
         f" p = SB.map.latLngToContainerPoint([{lat}, {lon}]);"
         " c.dispatchEvent(new MouseEvent('contextmenu', {bubbles: true, cancelable: true,"
         " clientX: r.left + p.x, clientY: r.top + p.y, button: 2})); 1")
    qtbot.waitUntil(lambda: bool(asked), timeout=WAIT)
    assert CASE in asked[0]
    lead = ServiceContext(ctx.workspace, Session(ctx.user, "analyst", "password"))
    mine = [n for n in call("cases.notes", lead, case=CASE, target_kind="place")
            if n["text"] == text]
    assert len(mine) == 1 and mine[0]["author"] == ctx.user and mine[0]["mentions"] == [phone]
    got_lat, got_lon = (float(v) for v in mine[0]["target"].split(","))
    assert abs(got_lat - lat) < 1e-3 and abs(got_lon - lon) < 1e-3
    audit = [e for e in ctx.workspace.audit.entries() if e["action"] == "cases.note_add"]
    assert audit[-1]["user"] == ctx.user
    assert audit[-1]["params"]["target_kind"] == "place"
    # drawn at once, with author and workspace time; the text is text, not markup
    qtbot.waitUntil(lambda: _ask(qtbot, map_panel.view, "SB_NOTES.count") >= 1, timeout=WAIT)
    assert _ask(qtbot, map_panel.view, f"sbNoteOpen({mine[0]['id']!r})") is True
    popup = _ask(qtbot, map_panel.view,
                 "var p = document.querySelector('.sb-note-popup');"
                 "p.textContent + '|' + p.querySelectorAll('img, script').length")
    shown, elements = popup.rsplit("|", 1)
    assert text in shown and ctx.user in shown and "Asia/Shanghai" in shown
    assert elements == "0"
    # another analyst's note on a located entity appears at the entity's place, live
    call("cases.member_set", ServiceContext(ctx.workspace, Session("tester", "administrator",
                                                                   "password")),
         case=CASE, member="wang", role="contributor")
    wang = ServiceContext(ctx.workspace, Session("wang", "analyst", "password"))
    before = _ask(qtbot, map_panel.view, "SB_NOTES.count")
    vehicle = _located_entity(ctx)
    note = call("cases.note_add", wang, case=CASE, target_kind="entity", target=vehicle,
                text="王: 这辆车常停这里")
    qtbot.waitUntil(lambda: _ask(qtbot, map_panel.view, "SB_NOTES.count") == before + 1,
                    timeout=WAIT)
    placed = next(p for p in call("cases.note_places", wang, case=CASE)
                  if p["id"] == note["id"])
    assert placed["placed_by"] == "entity"
    where = _ask(qtbot, map_panel.view,
                 "var w = null; SB_NOTES.layer.eachLayer(function (m) { if (m.sbNote === "
                 f"{note['id']!r}) {{ w = m.getLatLng().lat + ',' + m.getLatLng().lng; }} }});"
                 " w")
    assert where is not None
    assert [round(float(v), 6) for v in where.split(",")] == [round(placed["lat"], 6),
                                                              round(placed["lon"], 6)]
    # and the switcher lists the notes as a layer of their own
    assert "case notes" in _ask(qtbot, map_panel.view, "Object.keys(SB.layers).join(',')")
    window.close()
