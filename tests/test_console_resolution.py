"""The Identities panel: the review queue of the demo, side by side with each field's weight,
and accept / reject / not sure going through the audited services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console_fixtures import ctx, demo_root  # noqa: F401  (fixtures)


@pytest.fixture
def panel(qtbot, ctx) -> Iterator[object]:
    from console.bus import Bus
    from console.resolution_panel import ResolutionPanel

    p = ResolutionPanel(ctx, Bus())
    qtbot.addWidget(p)
    assert not p.loaded  # nothing read at construction: the queue loads when first shown
    p.show()
    qtbot.waitUntil(lambda: p.loaded, timeout=60_000)
    yield p


def test_the_demo_queue_shows_planted_pairs_side_by_side(panel, demo_root: Path) -> None:
    import json

    truth = json.loads(
        (demo_root / "data" / "population" / "identity_truth.json").read_text(encoding="utf-8")
    )
    pairs = {
        tuple(sorted((a, b)))
        for i in truth["identities"]
        for a in i["entities"]
        for b in i["entities"]
        if a != b
    }
    rows = panel.queue_model.rows
    assert rows, panel.status.text()  # filled on ingest, without running the matcher
    assert {(r.a, r.b) for r in rows} <= pairs  # only true pairs in the demo's queue
    assert panel.selected() is rows[0] and panel.accept_button.isEnabled()
    fields = {f.field: f for f in panel.fields_model.rows}
    assert set(fields) == {"ID number", "Name", "Birth date", "Gender", "Phone / address"}
    assert fields["ID number"].weight > 0 and fields["ID number"].a != fields["ID number"].b


def _click(qtbot, panel, button) -> None:
    """Click a decision button and wait for its worker (decisions are service calls)."""
    assert button.isEnabled()
    button.click()
    assert panel.decision_job is not None and not button.isEnabled()  # no double decision
    qtbot.waitUntil(lambda: panel.decision_job is None, timeout=60_000)


def test_decisions_change_the_queue_and_are_audited(panel, ctx, qtbot) -> None:
    n = len(panel.queue_model.rows)
    first = panel.selected()
    _click(qtbot, panel, panel.unsure_button)
    assert panel.queue_model.rows[0].unsure_by == ctx.user
    assert panel.selected() == panel.queue_model.rows[0]  # the pair stays selected
    _click(qtbot, panel, panel.accept_button)
    assert len(panel.queue_model.rows) == n - 1
    assert all({r.a, r.b} != {first.a, first.b} for r in panel.queue_model.rows)
    second = panel.selected()
    _click(qtbot, panel, panel.reject_button)
    assert all({r.a, r.b} != {second.a, second.b} for r in panel.queue_model.rows)
    decisions = [
        e
        for e in ctx.workspace.audit.entries()
        if e["action"] in ("graph.unsure", "graph.merge", "graph.reject")
    ][-3:]
    assert [e["action"] for e in decisions] == ["graph.unsure", "graph.merge", "graph.reject"]
    assert {e["user"] for e in decisions} == {ctx.user}
    panel.queue.split(first.b)  # reversible: the pair comes back for review
    assert any({r.a, r.b} == {first.a, first.b} for r in panel.queue.reload())


def test_run_matching_works_off_the_gui_thread(panel, qtbot) -> None:
    panel.run_button.click()
    assert not panel.run_button.isEnabled()
    qtbot.waitUntil(lambda: panel.run_button.isEnabled(), timeout=120_000)
    assert panel.queue_model.rows
