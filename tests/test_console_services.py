"""The console's searches, record reads and link-chart expansions and paths go through the
service layer in local mode: checked and audited as the logged-in user (issue #14: before, only
the command line audited searches and checked graph.read)."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.console_fixtures  # noqa: F401 - prepares Qt WebEngine before the QApplication
from core.workspace import Workspace
from tests.test_trust_service_attacks import _audit, root  # noqa: F401 - fixture
from tests.trust_fixtures import PASSWORDS

pytestmark = [pytest.mark.gui]


def test_console_searches_and_expansions_are_checked_and_audited(root: Path, qtbot: object) -> None:
    """Local mode: the search panel and the link chart go through the services, as the
    logged-in user (not the OS user, not SUPERBRAIN_USER)."""
    from console.bus import Bus
    from console.context import ConsoleContext
    from console.graph_panel import GraphPanel
    from console.search_panel import SearchPanel

    ws = Workspace.open(root)
    ws.login("ana", PASSWORDS["ana"])
    ctx = ConsoleContext(ws)
    before = len(_audit(root))
    search = SearchPanel(ctx, Bus())
    qtbot.addWidget(search)  # type: ignore[attr-defined]
    with qtbot.waitSignal(search.model.first_page, timeout=30_000):  # type: ignore[attr-defined]
        search.run_query("13800138000")
    graph = GraphPanel(ctx, Bus())
    qtbot.addWidget(graph)  # type: ignore[attr-defined]
    with qtbot.waitSignal(graph.changed, timeout=60_000):  # type: ignore[attr-defined]
        graph.show_entities(["phone:13800138000"])
    qtbot.waitUntil(lambda: graph.job is None, timeout=60_000)  # type: ignore[attr-defined]
    with qtbot.waitSignal(graph.changed, timeout=60_000):  # type: ignore[attr-defined]
        graph.find_path("phone:13800138000", "phone:13700137000")
    qtbot.waitUntil(lambda: graph.job is None, timeout=60_000)  # type: ignore[attr-defined]
    new = _audit(root)[before:]
    by_action = {e["action"]: e for e in new}
    assert by_action["search.query"]["user"] == "ana"
    assert by_action["search.query"]["params"]["query"] == "13800138000"
    assert by_action["graph.expand"]["user"] == "ana"
    assert by_action["graph.expand"]["params"]["entities"] == ["phone:13800138000"]
    assert by_action["graph.path"]["user"] == "ana"
    _finish(ctx)


def _finish(ctx: object) -> None:
    import time

    from PyQt6.QtWidgets import QApplication

    from console.workers import running_jobs

    deadline = time.monotonic() + 60
    while running_jobs() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    ctx.close()  # type: ignore[attr-defined]
