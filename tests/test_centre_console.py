"""The console as a client of a real `superbrain serve` (pytest-qt, offscreen): the login dialog
against the server, the same panels searching, reading records and expanding the link chart
through the server's services (each checked and audited there, as the logged-in user), live
events reaching the dispatch board without waiting for its poll, and logout on close."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.centre_fixtures import PASSWORDS, Centre, centre, tiny_demo  # noqa: F401
from tests.console_fixtures import qtinit  # noqa: F401 - prepares WebEngine first

psycopg = pytest.importorskip("psycopg")
pytestmark = [pytest.mark.gui, pytest.mark.timeout(300)]

WAIT = 30_000


@pytest.fixture
def drained(qtbot: Any) -> Iterator[None]:
    yield
    from PyQt6.QtWidgets import QApplication

    from console.workers import running_jobs

    deadline = time.monotonic() + 60
    while running_jobs() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)


def _logged_in(centre: Centre, user: str) -> Any:
    from console.remote import RemoteWorkspace
    from core.remote import CentreClient

    workspace = RemoteWorkspace(CentreClient(centre.url, timeout=60))
    workspace.login(user, PASSWORDS[user])
    return workspace


def _audit(centre: Centre, user: str) -> list[str]:
    with psycopg.connect(centre.pg_url) as con:
        return [
            r[0]
            for r in con.execute(
                'SELECT action FROM audit_log WHERE "user" = %s ORDER BY seq', (user,)
            )
        ]


def test_login_dialog_logs_in_on_the_server(
    qtbot: Any,
    centre: Centre,
    drained: None,
) -> None:
    from console.login import LoginDialog
    from console.remote import RemoteContext, RemoteWorkspace
    from core.remote import CentreClient, SessionExpiredError

    workspace = RemoteWorkspace(CentreClient(centre.url), "cmd")
    dialog = LoginDialog(workspace)  # the local dialog, unchanged
    qtbot.addWidget(dialog)
    dialog.password.setText("wrong password 123")
    assert dialog.try_login() is False
    assert "wrong user name or password" in dialog.error.text()
    dialog.password.setText(PASSWORDS["cmd"])
    assert dialog.try_login() is True
    ctx = RemoteContext(workspace)
    assert (ctx.user, ctx.role) == ("cmd", "commander")
    token = workspace.client.token
    ctx.close()  # closing the console logs out: the token stops working
    with pytest.raises(SessionExpiredError):
        CentreClient(centre.url, token=token).call("search.query", query="x")
    # (the server may audit its own work in between, e.g. the plugin loads of a first search)
    assert [a for a in _audit(centre, "cmd") if a.startswith("auth.")][-2:] == [
        "auth.login",
        "auth.logout",
    ]


def test_console_searches_and_expansions_are_audited_through_the_server(
    qtbot: Any,
    centre: Centre,
    drained: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from centre.workspace import open_centre
    from console.remote_app import open_window
    from search.model import SearchRequest

    workspace = _logged_in(centre, "li")
    window, bridge = open_window(workspace.client, workspace)
    qtbot.addWidget(window)  # closed (once) by qtbot after `drained` let its jobs finish
    try:
        assert window.status_user.text() == "user: li (analyst)"
        qtbot.waitUntil(
            lambda: f"centre {centre.url} (search embedded: green)" in window.status_backend.text(),
            timeout=WAIT,
        )
        broken = [k for k, p in window.panels.items() if p.objectName().startswith("broken-")]
        assert set(broken) <= {"plugins"}, broken  # ingest stays on the server side
        before = len(_audit(centre, "li"))
        # search: the same panel, the same result as the same search in-process on the centre
        panel = window.panels["search"]
        with qtbot.waitSignal(panel.model.first_page, timeout=WAIT) as first:
            panel.run_query("盗窃")
        remote = first.args[0]
        monkeypatch.setenv("SUPERBRAIN_USER", "li")  # the in-process twin of the search
        monkeypatch.setenv("SUPERBRAIN_PASSWORD", PASSWORDS["li"])
        local_ws = open_centre(centre.config)
        try:
            from search.backend import open_backend

            backend = open_backend(local_ws)
            local = backend.search(SearchRequest("盗窃", size=remote_size(remote)))
            backend.close()
        finally:
            local_ws.close()
        assert remote.total == local.total > 0
        assert [h.uid for h in remote.hits] == [h.uid for h in local.hits]
        # the record pane reads through search.record
        uid = panel.model.uid(0)
        panel.table.selectRow(0)
        pane = window.panels["records"]
        qtbot.waitUntil(lambda: pane.record is not None and pane.record.uid == uid, timeout=WAIT)
        assert uid in pane.browser.toPlainText()
        actions = _audit(centre, "li")[before:]
        assert "search.query" in actions and "search.record" in actions
    finally:
        bridge.stop()
        workspace.close()


def test_console_expansions_are_audited_through_the_server(
    qtbot: Any, centre: Centre, drained: None
) -> None:
    from console.remote_app import open_window

    workspace = _logged_in(centre, "li")
    window, bridge = open_window(workspace.client, workspace)
    qtbot.addWidget(window)  # closed (once) by qtbot after `drained` let its jobs finish
    try:
        with psycopg.connect(centre.pg_url) as con:
            seed, other = (
                r[0]
                for r in con.execute(
                    "SELECT entity_id FROM record_entities WHERE entity_id LIKE 'person:%' "
                    "GROUP BY entity_id ORDER BY count(*) DESC, entity_id LIMIT 2"
                )
            )
        before = len(_audit(centre, "li"))
        chart = window.panels["graph"]
        chart.show_entities([seed])
        qtbot.waitUntil(lambda: chart.job is None, timeout=WAIT)
        assert chart.model.graph is not None, chart.status.text()
        assert seed in chart.model.graph.nodes and len(chart.model.graph.nodes) > 1
        neighbour = next(n for n in chart.model.graph.nodes if n != seed)
        chart.expand([neighbour])
        qtbot.waitUntil(lambda: chart.job is None, timeout=WAIT)
        assert _audit(centre, "li")[before:].count("graph.expand") == 2
        # a path to another person, found by graph.path on the server, joins the chart
        chart.find_path(seed, other)
        qtbot.waitUntil(lambda: chart.job is None, timeout=WAIT)
        assert other in chart.model.graph.nodes, chart.status.text()
        assert "hops" in chart.status.text()
        assert "graph.path" in _audit(centre, "li")[before:]
        # the timeline panel: each entity's events through graph.timeline on the server
        timeline = window.panels["timeline"]
        assert timeline.available
        timeline.show_entities([seed])
        qtbot.waitUntil(lambda: timeline.entities == [seed], timeout=WAIT)
        assert "⚠" not in timeline.summary.text(), timeline.summary.text()
        assert timeline.events[seed] and all(e.record_uid for e in timeline.events[seed])
        assert "graph.timeline" in _audit(centre, "li")[before:]
    finally:
        bridge.stop()
        workspace.close()


def remote_size(result: Any) -> int:
    return max(1, len(result.hits))


def test_pushed_events_refresh_the_dispatch_board_at_once(
    qtbot: Any, centre: Centre, drained: None
) -> None:
    from console.remote_app import FALLBACK_POLL_MS, open_window

    workspace = _logged_in(centre, "cmd")
    window, bridge = open_window(workspace.client, workspace)
    qtbot.addWidget(window)  # closed (once) by qtbot after `drained` let its jobs finish
    try:
        board = window.panels["dispatch"]
        assert board.poller.timer.interval() == FALLBACK_POLL_MS  # push, not polling
        assert bridge.connected.wait(30), "the event stream connects"
        other = _logged_in(centre, "cmd")
        created = other.client.call(
            "ops.incident_create",
            category="burglary",
            priority=1,
            lat=30.75,
            lon=120.75,
            text="pushed to the board",
        )
        started = time.monotonic()

        def shown() -> bool:
            return any(int(r["id"]) == int(created["id"]) for r in board.queue_model.rows)

        qtbot.waitUntil(shown, timeout=15_000)
        assert time.monotonic() - started < FALLBACK_POLL_MS / 1000  # not the fallback poll
        assert bridge.received >= 1
        other.close()
    finally:
        bridge.stop()
        workspace.close()


def test_an_alert_raised_by_an_ingest_elsewhere_reaches_the_alert_tray(
    qtbot: Any, centre: Centre, drained: None, tmp_path: Any
) -> None:
    """The issue's gap: an alert raised by an ingest in another process reaches the console
    pushed, not by polling a shared file."""
    from console.remote_app import FALLBACK_POLL_MS, open_window
    from tests.centre_fixtures import cli

    workspace = _logged_in(centre, "li")
    window, bridge = open_window(workspace.client, workspace)
    qtbot.addWidget(window)
    try:
        tray = window.panels["alerts"]
        assert tray.poller.timer.interval() == FALLBACK_POLL_MS
        qtbot.waitUntil(lambda: not tray.first_load, timeout=WAIT)
        assert bridge.connected.wait(30)
        known = {a.id for a in tray.model.alerts}
        # a checkpoint read of a watch-listed plate, ingested by a CLI job on the centre
        csv = tmp_path / "reads.csv"
        csv.write_text(
            "read_id,read_time,plate,plate_color,vehicle_color,vehicle_kind,device_id,"
            "device_name,device_kind,district,lat,lon,direction,speed\n"
            "KRPUSH0000001,2026-09-07 10:00:00,浙F·47605,蓝,银,SUV,KK330483048,"
            "文昌路与紫阳街交叉口卡口,卡口,桐乡市,30.728339,120.417076,南向北,33\n",
            encoding="utf-8",
        )
        out = cli(
            "ingest",
            "-w",
            str(centre.config),
            "-s",
            "checkpoint",
            str(csv),
            env={"SUPERBRAIN_USER": "chief", "SUPERBRAIN_PASSWORD": PASSWORDS["chief"]},
        )
        assert out.returncode == 0, out.stdout + out.stderr
        started = time.monotonic()
        qtbot.waitUntil(
            lambda: any(
                a.id not in known and a.record_uid == "checkpoint:KRPUSH0000001"
                for a in tray.model.alerts
            ),
            timeout=20_000,
        )
        assert time.monotonic() - started < FALLBACK_POLL_MS / 1000
        assert tray.notifications, "the new alert was announced"
    finally:
        bridge.stop()
        workspace.close()


def test_an_ended_session_asks_for_the_password_again_and_goes_on(
    qtbot: Any, centre: Centre, drained: None
) -> None:
    from core.remote import CentreClient

    workspace = _logged_in(centre, "li")
    window, bridge = open_window_for(workspace)
    qtbot.addWidget(window)
    try:
        assert bridge.connected.wait(30)
        CentreClient(centre.url, token=workspace.client.token).logout()  # revoked elsewhere
        panel = window.panels["search"]
        panel.run_query("盗窃")  # refused by the server: the console asks to log in again
        qtbot.waitUntil(
            lambda: window.relogin.dialog is not None and window.relogin.dialog.isVisible(),
            timeout=WAIT,
        )
        dialog = window.relogin.dialog
        assert "session ended" in dialog.error.text()
        dialog.password.setText(PASSWORDS["li"])
        with qtbot.waitSignal(window.relogin.resumed, timeout=WAIT):
            assert dialog.try_login() is True
        assert window.relogin.bridge is not bridge and window.relogin.bridge.connected.wait(30)
        with qtbot.waitSignal(panel.model.first_page, timeout=WAIT) as first:
            panel.run_query("盗窃")
        assert first.args[0].total > 0
    finally:
        window.relogin.bridge.stop()
        bridge.stop()
        workspace.close()


def open_window_for(workspace: Any) -> Any:
    from console.remote_app import open_window

    return open_window(workspace.client, workspace)


def test_superbrain_console_server_logs_in_from_the_environment_and_out_on_close(
    qtbot: Any,
    centre: Centre,
    drained: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`superbrain console --server URL` (console.remote_app.run_remote), start to finish."""
    from PyQt6.QtCore import QEventLoop, QTimer
    from PyQt6.QtWidgets import QApplication

    from console.mainwindow import MainWindow
    from console.remote_app import run_remote

    monkeypatch.setenv("SUPERBRAIN_USER", "cmd")
    monkeypatch.setenv("SUPERBRAIN_PASSWORD", PASSWORDS["cmd"])
    seen: list[str] = []

    # run_remote's event loop is a loop of its own here: quitting the test session's shared
    # QApplication would tear QtWebEngine down for every later test (no map page loads again).
    loop = QEventLoop()

    class _App:
        def exec(self) -> int:
            return loop.exec()

    monkeypatch.setattr("console.app.create_application", lambda: _App())

    def close_it() -> None:
        windows = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        ]
        seen.extend(w.status_user.text() for w in windows)
        for w in windows:
            w.close()
        loop.quit()

    QTimer.singleShot(5000, close_it)
    before = len(_audit(centre, "cmd"))
    assert run_remote(centre.url) == 0
    assert seen == ["user: cmd (commander)"]
    actions = _audit(centre, "cmd")[before:]
    assert actions[0] == "auth.login" and actions[-1] == "auth.logout", actions
