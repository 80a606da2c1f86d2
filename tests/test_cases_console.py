"""The Cases panel (offscreen, pytest-qt): a chart saved in a case reopens identical after the
chart was cleared, the window asks before an unsaved chart is lost, and another analyst's note
appears without a refresh."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console_fixtures import (  # noqa: F401 - fixtures
    ctx,
    demo_root,
    drain,
    open_main_window,
    settings,
)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("drain")]

WAIT = 30_000
CASE = "2026-JX-0117"  # made by `superbrain demo` (cases.cli.prepare_demo)


@pytest.fixture(autouse=True)
def no_modal_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A question box left open offscreen would block the test run (closing the window at
    teardown asks about an unsaved chart): answer Discard unless a test says otherwise."""
    from PyQt6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)


def _a_phone(ctx: Any) -> str:
    return ctx.workspace.store.connection.execute(
        "SELECT source FROM links WHERE type='called' LIMIT 1"
    ).fetchone()[0]


def test_save_clear_reopen_gives_the_same_chart(
    qtbot: Any,
    ctx: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PyQt6.QtWidgets import QInputDialog, QMessageBox

    window = open_main_window(qtbot, ctx, settings)
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
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: asked.append("x") or QMessageBox.StandardButton.Discard,
    )
    cases.open_selected_chart()
    after = graph.model.to_dict()
    assert after["positions"] == before["positions"]
    assert after["hidden"] == before["hidden"] and after["styles"] == before["styles"]
    assert after == before
    assert asked == []  # an empty chart has nothing to lose
    window.close()


def test_closing_with_an_unsaved_chart_asks(
    qtbot: Any,
    ctx: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PyQt6.QtWidgets import QMessageBox

    window = open_main_window(qtbot, ctx, settings)
    cases, graph = window.panels["cases"], window.panels["graph"]
    cases.choose_case(CASE)
    graph.show_entities([_a_phone(ctx)])
    qtbot.waitUntil(lambda: graph.model.graph is not None and graph.job is None, timeout=WAIT)
    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: asked.append("x") or QMessageBox.StandardButton.Cancel,
    )
    window.close()
    assert asked == ["x"] and window.isVisible()  # Cancel keeps the window and the chart
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.close()
    assert not window.isVisible()


def test_another_analysts_note_appears_live(qtbot: Any, ctx: Any, settings: Any) -> None:
    import cases.api  # noqa: F401
    from console.navigation import Focus
    from core.security import Session
    from core.services import ServiceContext, call

    window = open_main_window(qtbot, ctx, settings)
    panel = window.panels["cases"]
    panel.choose_case(CASE)
    lead = ServiceContext(ctx.workspace, Session("tester", "administrator", "password"))
    call("cases.member_set", lead, case=CASE, member="wang", role="contributor")
    wang = ServiceContext(ctx.workspace, Session("wang", "analyst", "password"))
    call(
        "cases.note_add",
        wang,
        case=CASE,
        target_kind="case",
        target="",
        text="王: 嫌疑车辆周三再次出现",
    )
    qtbot.waitUntil(
        lambda: any(
            "嫌疑车辆周三再次出现" in panel.notes.item(i).text() for i in range(panel.notes.count())
        ),
        timeout=WAIT,
    )
    # a note on a record shows under that record in the record pane, escaped
    uid = ctx.workspace.store.connection.execute("SELECT uid FROM records LIMIT 1").fetchone()[0]
    call(
        "cases.note_add",
        wang,
        case=CASE,
        target_kind="record",
        target=uid,
        text="<b>seen</b> at the gate",
    )
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


def test_a_burst_of_case_events_makes_one_refresh(
    qtbot: Any,
    ctx: Any,
    settings: Any,
) -> None:
    """A reconnecting client console is replayed every case event it missed (and the first
    poll reads the journal's history): the dock refreshes once, not three service calls per
    event (hundreds of round trips to a centre server)."""
    window = open_main_window(qtbot, ctx, settings)
    panel = window.panels["cases"]
    panel.choose_case(CASE)
    calls: list[str] = []
    real = panel.session.engines.transport

    def counted(service: str, /, **params: Any) -> Any:
        calls.append(service)
        return real(service, **params)

    panel.session.engines.transport = counted
    base = panel.session.last_event
    for i in range(50):
        panel.pushed(
            {
                "id": base + i + 1,
                "ts": 0.0,
                "kind": "case.note_added",
                "case": CASE,
                "ref": f"n{i}",
                "user": "wang",
                "payload": {},
            }
        )
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


def _located_entity(ctx: Any) -> str:
    return ctx.workspace.store.connection.execute(
        "SELECT re.entity_id FROM record_entities re JOIN records r ON r.uid = re.record_uid "
        "WHERE r.lat IS NOT NULL AND re.entity_id LIKE 'vehicle:%' LIMIT 1"
    ).fetchone()[0]


def test_right_click_notes_a_map_place_and_the_map_shows_the_cases_notes_live(
    qtbot: Any, ctx: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #17, notes on the Map view: a right-click on the map asks for a note on that place
    and adds it to the open case (through cases.note_add, audited as the console's user); the
    map draws the case's notes with author and workspace time, the text as text; a note an
    analyst adds elsewhere (on a located entity) appears on the map without a refresh."""
    from PyQt6.QtWidgets import QInputDialog

    from console import qtinit
    from core.security import Session
    from core.services import ServiceContext, call

    if not qtinit.webengine_available():
        pytest.skip(f"Qt WebEngine cannot start here: {qtinit.WEBENGINE_ERROR}")
    window = open_main_window(qtbot, ctx, settings)
    cases, map_panel = window.panels["cases"], window.panels["map"]
    assert cases.map is map_panel
    cases.choose_case(CASE)
    window.show_panel("map")
    qtbot.waitUntil(
        lambda: map_panel.loaded and map_panel.view.title() == "superbrain-map-ready",
        timeout=60_000,
    )
    phone = _a_phone(ctx)
    text = f"<img src=x onerror=alert(1)> 车在此换牌 @{phone}"
    asked: list[str] = []
    monkeypatch.setattr(
        QInputDialog, "getText", lambda _w, _t, label, *a, **k: asked.append(label) or (text, True)
    )
    # a real right-click event on the map's container, where Leaflet places the point
    lat, lon = _ask(qtbot, map_panel.view, "var c = SB.map.getCenter(); [c.lat, c.lng]")
    _ask(
        qtbot,
        map_panel.view,
        "var c = SB.map.getContainer(), r = c.getBoundingClientRect(),"
        f" p = SB.map.latLngToContainerPoint([{lat}, {lon}]);"
        " c.dispatchEvent(new MouseEvent('contextmenu', {bubbles: true, cancelable: true,"
        " clientX: r.left + p.x, clientY: r.top + p.y, button: 2})); 1",
    )
    qtbot.waitUntil(lambda: bool(asked), timeout=WAIT)
    assert CASE in asked[0]
    lead = ServiceContext(ctx.workspace, Session(ctx.user, "analyst", "password"))
    mine = [
        n for n in call("cases.notes", lead, case=CASE, target_kind="place") if n["text"] == text
    ]
    assert len(mine) == 1 and mine[0]["author"] == ctx.user and mine[0]["mentions"] == [phone]
    got_lat, got_lon = (float(v) for v in mine[0]["target"].split(","))
    assert abs(got_lat - lat) < 1e-3 and abs(got_lon - lon) < 1e-3
    audit = [e for e in ctx.workspace.audit.entries() if e["action"] == "cases.note_add"]
    assert audit[-1]["user"] == ctx.user
    assert audit[-1]["params"]["target_kind"] == "place"
    # drawn at once, with author and workspace time; the text is text, not markup
    qtbot.waitUntil(lambda: _ask(qtbot, map_panel.view, "SB_NOTES.count") >= 1, timeout=WAIT)
    assert _ask(qtbot, map_panel.view, f"sbNoteOpen({mine[0]['id']!r})") is True
    popup = _ask(
        qtbot,
        map_panel.view,
        "var p = document.querySelector('.sb-note-popup');"
        "p.textContent + '|' + p.querySelectorAll('img, script').length",
    )
    shown, elements = popup.rsplit("|", 1)
    assert text in shown and ctx.user in shown and "Asia/Shanghai" in shown
    assert elements == "0"
    # another analyst's note on a located entity appears at the entity's place, live
    call(
        "cases.member_set",
        ServiceContext(ctx.workspace, Session("tester", "administrator", "password")),
        case=CASE,
        member="wang",
        role="contributor",
    )
    wang = ServiceContext(ctx.workspace, Session("wang", "analyst", "password"))
    before = _ask(qtbot, map_panel.view, "SB_NOTES.count")
    vehicle = _located_entity(ctx)
    note = call(
        "cases.note_add",
        wang,
        case=CASE,
        target_kind="entity",
        target=vehicle,
        text="王: 这辆车常停这里",
    )
    qtbot.waitUntil(
        lambda: _ask(qtbot, map_panel.view, "SB_NOTES.count") == before + 1, timeout=WAIT
    )
    placed = next(p for p in call("cases.note_places", wang, case=CASE) if p["id"] == note["id"])
    assert placed["placed_by"] == "entity"
    where = _ask(
        qtbot,
        map_panel.view,
        "var w = null; SB_NOTES.layer.eachLayer(function (m) { if (m.sbNote === "
        f"{note['id']!r}) {{ w = m.getLatLng().lat + ',' + m.getLatLng().lng; }} }});"
        " w",
    )
    assert where is not None
    assert [round(float(v), 6) for v in where.split(",")] == [
        round(placed["lat"], 6),
        round(placed["lon"], 6),
    ]
    # and the switcher lists the notes as a layer of their own
    assert "case notes" in _ask(qtbot, map_panel.view, "Object.keys(SB.layers).join(',')")
    # the page rebuilt (after an ingest, a theme change) draws the notes again
    drawn = _ask(qtbot, map_panel.view, "SB_NOTES.count")
    with qtbot.waitSignal(map_panel.page_ready, timeout=60_000):
        map_panel.refresh()
    qtbot.waitUntil(
        lambda: (
            _ask(qtbot, map_panel.view, "typeof SB_NOTES === 'undefined' ? -1 : SB_NOTES.count")
            == drawn
        ),
        timeout=WAIT,
    )
    # a refused note (a mention no record has) is said where the analyst looks, not raised
    count = len(call("cases.notes", lead, case=CASE))
    assert cases.add_place_note(lat, lon, "see @phone:19999999999") is None
    assert "phone:19999999999" in cases.status.text()
    assert "phone:19999999999" in window.statusBar().currentMessage()
    assert len(call("cases.notes", lead, case=CASE)) == count
    window.close()


def _pin_lines(cases: Any) -> list[str]:
    return [cases.pins.item(i).text() for i in range(cases.pins.count())]


def test_a_saved_search_and_a_cooccurrence_result_are_pinned_from_their_views(
    qtbot: Any, ctx: Any, settings: Any
) -> None:
    """Issue #17, pinned evidence from the console: the query of the Search view (with its
    hit count when pinned and now) and the result of the Moving together tool, each with who
    pinned it and when, in the Cases dock; a view says when there is no case to pin to."""
    from cases.evidence import search_hits
    from console.screenshots import CONVOY
    from core.security import Session
    from core.services import ServiceContext, call

    window = open_main_window(qtbot, ctx, settings)
    cases, search, graph = (window.panels["cases"], window.panels["search"], window.panels["graph"])
    if not (search.available and graph.available):
        pytest.skip("search or graph engine not importable here")
    cases.choose_case(None)
    query = _a_phone(ctx).split(":", 1)[1]
    search.run_query(query)
    search.pin_button.click()
    assert "choose a case" in search.summary.text()  # no case open: nothing pinned, it says
    cases.choose_case(CASE)
    search.pin_button.click()
    assert CASE in search.summary.text(), search.summary.text()
    me = ServiceContext(ctx.workspace, Session(ctx.user, "analyst", "password"))
    pinned = [p for p in call("cases.pins", me, case=CASE) if p["kind"] == "search"]
    assert [p["ref"] for p in pinned] == [query] and pinned[0]["pinned_by"] == ctx.user
    hits = search_hits(ctx.workspace, query)
    assert hits > 0 and pinned[0]["data"]["hits_at_pin"] == hits
    # the count now arrives from a worker (it asks the search engine)
    qtbot.waitUntil(
        lambda: any(f"{hits} hits when pinned, {hits} now" in t for t in _pin_lines(cases)),
        timeout=WAIT,
    )
    line = next(t for t in _pin_lines(cases) if query in t)
    assert f"pinned by {ctx.user}" in line
    assert "Asia/Shanghai" in line
    # the co-occurrence tool's result
    store = ctx.workspace.store
    plate = next(p for p in CONVOY if store.get_entity(f"vehicle:{p}"))
    dialog = graph.moving_together("")
    qtbot.addWidget(dialog)
    dialog.entity.setText(plate)
    dialog.window_s.setValue(120)
    dialog.min_count.setValue(1)
    with qtbot.waitSignal(dialog.found, timeout=WAIT) as found:
        dialog.run()
    results = found.args[0]
    assert results, f"nobody moved with {plate} in the demo"
    assert dialog.pin_button.isEnabled()
    dialog.pin_button.click()
    assert CASE in dialog.status.text(), dialog.status.text()
    pin = next(p for p in call("cases.pins", me, case=CASE) if p["kind"] == "cooccur")
    assert pin["data"]["entity"] == f"vehicle:{plate}" and pin["data"]["window_s"] == 120
    assert [(x["a"], x["b"], x["count"]) for x in pin["data"]["pairs"]] == [
        (r.a, r.b, r.count) for r in results
    ]
    line = next(t for t in _pin_lines(cases) if "co-occurrence" in t)
    assert f"{len(results)} entities moved together" in line and ctx.user in line
    dialog.pin_button.click()  # twice: the service refuses, the dialog says why
    assert "already pinned" in dialog.status.text()
    window.close()


def test_a_face_lead_is_pinned_from_the_faces_view_with_its_review_state(
    qtbot: Any, ctx: Any, settings: Any
) -> None:
    """Issue #17: the Faces view pins a candidate to the case of its search, with similarity,
    threshold and false-match rate; the Cases dock shows its review state and reviewer as
    they change."""
    from tests.test_trust_audit import _fake_photo

    window = open_main_window(qtbot, ctx, settings)
    cases, faces = window.panels["cases"], window.panels["faces"]
    if not getattr(faces, "available", False):
        pytest.skip("facematch engine not importable here")
    cases.choose_case(CASE)
    gallery = faces.gallery()
    uids = [r[0] for r in ctx.workspace.store.connection.execute("SELECT uid FROM records LIMIT 3")]
    for n, uid in enumerate(uids):
        gallery.enroll_faces(_fake_photo(n + 700), record_uid=uid, save=False)
    result = gallery.search(_fake_photo(701), case=CASE, purpose="who is this")
    faces._show_result(result)
    assert not faces.pin_button.isEnabled()  # nothing chosen yet
    faces.candidates.setCurrentRow(0)
    cand = faces.selected_candidate()
    assert cand.record_uid == uids[1] and faces.pin_button.isEnabled()
    job = faces.pin_lead()
    assert job is not None
    qtbot.waitUntil(lambda: "pinned to case" in faces.status.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: any("face lead" in t for t in _pin_lines(cases)), timeout=WAIT)
    line = next(t for t in _pin_lines(cases) if "face lead" in t)
    assert f"similarity {cand.similarity:.3f}" in line
    assert f"threshold {cand.threshold:.3f}" in line
    assert f"false-match rate {cand.threshold_fmr:.3%}" in line
    assert "review: not reviewed" in line and f"pinned by {ctx.user}" in line
    gallery.review(cand, "confirmed", "same scar")
    cases.refresh_contents()
    qtbot.waitUntil(
        lambda: any(f"review: confirmed by {ctx.user}" in t for t in _pin_lines(cases)),
        timeout=WAIT,
    )
    # a candidate below the threshold is shown unnamed and cannot be pinned as a lead
    faces.show_below.setChecked(True)
    below = [i for i, c in enumerate(faces.shown) if not c.above_threshold]
    assert below, "the other random faces score below the threshold"
    faces.candidates.setCurrentRow(below[0])
    assert faces.selected_candidate() is not None and not faces.pin_button.isEnabled()
    assert faces.pin_lead() is None
    window.close()
