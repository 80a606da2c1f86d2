"""The Cases dock of a client console (``superbrain console --server URL``, pytest-qt,
offscreen) works through a real `superbrain serve`: its calls are the server's case services
(checked and audited there as the logged-in analyst), and another analyst's note or chart save
appears from the pushed event stream, not from the (now 30 s) safety-net poll."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.centre_fixtures import PASSWORDS, Centre, centre, tiny_demo  # noqa: F401
from tests.console_fixtures import qtinit  # noqa: F401 - prepares WebEngine first

psycopg = pytest.importorskip("psycopg")
pytestmark = [pytest.mark.gui, pytest.mark.timeout(300)]

DEMO_CASE = "2026-JX-0117"  # the demo's case, led by chief, moved into the centre
PUSHED_WITHIN_S = 5.0  # far below the fallback poll: only the push can be this quick
CHART = {
    "format": 1,
    "nodes": [
        {"id": "phone:13800000001", "type": "phone"},
        {"id": "phone:13800000002", "type": "phone"},
    ],
    "edges": [
        {"source": "phone:13800000001", "target": "phone:13800000002", "type": "called", "count": 2}
    ],
    "positions": {"phone:13800000001": [0.0, 0.0], "phone:13800000002": [90.0, 30.0]},
}


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


def _texts(widget: Any) -> list[str]:
    return [widget.item(i).text() for i in range(widget.count())]


def test_cases_dock_works_through_the_server_and_shows_pushed_changes(
    qtbot: Any, centre: Centre, tmp_path: Path
) -> None:
    from PyQt6.QtWidgets import QPushButton

    from console.remote_app import FALLBACK_POLL_MS, open_window

    chief = _logged_in(centre, "chief")  # the demo case's lead
    chief.client.call("cases.member_set", case=DEMO_CASE, member="li", role="contributor")
    workspace = _logged_in(centre, "li")
    window, bridge = open_window(workspace.client, workspace)
    qtbot.addWidget(window)
    try:
        panel = window.panels["cases"]
        assert panel.remote and panel._poll.interval() == FALLBACK_POLL_MS  # push, not polling
        assert bridge.connected.wait(30), "the event stream connects"
        panel.refresh_cases()
        assert panel.case_box.findData(DEMO_CASE) > 0  # listed by the server for li
        panel.choose_case(DEMO_CASE)
        assert "contributor" in panel.case_info.text()
        assert {"cases.list", "cases.get"} <= set(_audit(centre, "li"))  # the server's audit

        # another analyst's note appears pushed
        chief.client.call(
            "cases.note_add",
            case=DEMO_CASE,
            target_kind="case",
            target="",
            text="嫌疑车辆周三再次出现",
        )
        started = time.monotonic()
        qtbot.waitUntil(
            lambda: any("嫌疑车辆周三再次出现" in t for t in _texts(panel.notes)), timeout=15_000
        )
        assert time.monotonic() - started < PUSHED_WITHIN_S
        # ... and a chart save
        chief.client.call("cases.chart_save", case=DEMO_CASE, name="周三 通话", data=CHART)
        started = time.monotonic()
        qtbot.waitUntil(lambda: any("周三 通话" in t for t in _texts(panel.charts)), timeout=15_000)
        assert time.monotonic() - started < PUSHED_WITHIN_S

        # the analyst's own note goes through the server, as li
        panel.note_text.setText("li: 卡口照片已调取")
        panel.add_note()
        notes = chief.client.call("cases.notes", case=DEMO_CASE)
        assert [(n["author"], n["text"]) for n in notes][-1] == ("li", "li: 卡口照片已调取")
        assert "cases.note_add" in _audit(centre, "li")
        # ... and a chart saved from the client console (the service's parameter ``name`` once
        # clashed with the client's own argument: "got multiple values for argument 'name'")
        saved = panel.session.save(CHART, "li 卡口图")
        assert (saved["name"], saved["version"]) == ("li 卡口图", 1)
        assert "cases.chart_save" in _audit(centre, "li")
        # notes on map places: another analyst's is drawn on this console's map, pushed;
        # one made here (a right-click on the map) goes through the server as li
        chief.client.call(
            "cases.note_add",
            case=DEMO_CASE,
            target_kind="place",
            target="30.27,120.16",
            text="chief: 两车在此会合",
        )
        map_panel = window.panels["map"]
        started = time.monotonic()
        qtbot.waitUntil(
            lambda: any(
                n["text"] == "chief: 两车在此会合" and n["author"] == "chief"
                for n in map_panel.notes
            ),
            timeout=15_000,
        )
        assert time.monotonic() - started < PUSHED_WITHIN_S
        made = panel.add_place_note(30.28, 120.17, "li: 嫌疑人在此下车")
        assert made is not None and made["author"] == "li", panel.status.text()
        assert made["target"] == "30.280000,120.170000"
        assert any(n["text"] == "li: 嫌疑人在此下车" for n in map_panel.notes)
        # the dossier is made on the server and comes down to the path picked here
        # (tests/test_centre_console_files.py); an import (an upload) stays on the server
        buttons = {b.text(): b for b in panel.findChildren(QPushButton)}
        assert buttons["Dossier…"].isEnabled() and buttons["Export case…"].isEnabled()
        assert not buttons["Import case…"].isEnabled()
        assert "client mode" in buttons["Import case…"].toolTip()
        # ... for those allowed to export: an analyst is refused by the server, nothing written
        assert panel.dossier_to(tmp_path / "dossier.pdf") is None
        assert "export" in panel.status.text() and not list(tmp_path.iterdir())
        assert "access.denied" in _audit(centre, "li")
    finally:
        bridge.stop()
        workspace.close()
        chief.close()
