"""A client console (``superbrain console --server URL``) against a real `superbrain serve` on
PostgreSQL (tests/centre_fixtures.py): the Identities review queue of two analysts.

- The queue is read and every decision sent through the server's services
  (``graph.merge_queue``, ``graph.merge_review`` …), checked and audited there under the
  signed-in user, and stored in the centre's database.
- Two analysts on one queue: what one decides leaves the other's queue when it is read again
  (there is no pushed event for it: on Refresh, on showing the view, after a decision), and a
  decision on the stale row is refused by the server, naming who decided first — nothing is
  overturned unseen.
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
