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
    real = panel.session.engines.transport

    def counted(service: str, /, **params: Any) -> Any:
        calls.append(service)
        return real(service, **params)

    panel.session.engines.transport = counted
    base = panel.session.last_event
    for i in range(50):
        panel.pushed({"id": base + i + 1, "ts": 0.0, "kind": "case.note_added", "case": CASE,
                      "ref": f"n{i}", "user": "wang", "payload": {}})
    qtbot.waitUntil(lambda: "cases.notes" in calls, timeout=WAIT)
    qtbot.wait(500)
    assert calls.count("cases.notes") == 1, calls
    assert panel.session.last_event == base + 50
    window.close()
