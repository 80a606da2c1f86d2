"""`superbrain ops …` end to end on a fresh workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    try:
        data = json.loads(out) if "--json" in argv else out
    except json.JSONDecodeError:
        data = out
    return code, data, err


def test_ops_cli_dispatch_flow(
    workspace: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = ["-w", str(workspace.root)]
    code, units, _ = _run(capsys, "ops", "seed-units", *ws, "--json")
    assert code == 0 and len(units) == 40
    assert {u["district"] for u in units} == {
        "南湖区",
        "秀洲区",
        "嘉善县",
        "平湖市",
        "海盐县",
        "海宁市",
        "桐乡市",
    }
    code, again, _ = _run(capsys, "ops", "seed-units", *ws, "--json")  # idempotent
    assert code == 0 and [u["id"] for u in again] == [u["id"] for u in units]

    code, inc, _ = _run(
        capsys,
        "ops",
        "new",
        *ws,
        "--category",
        "火警",
        "--priority",
        "1",
        "--lat",
        "30.76",
        "--lon",
        "120.79",
        "--text",
        "厨房起火",
        "--json",
    )
    assert code == 0 and inc["routing"]["rule_id"] == "fire" and inc["district"] == "南湖区"
    code, recs, _ = _run(capsys, "ops", "recommend", *ws, str(inc["id"]), "--json")
    assert code == 0 and len(recs) == 5
    assert [r["eta_s"] for r in recs] == sorted(r["eta_s"] for r in recs)
    best = recs[0]["unit_id"]
    code, made, _ = _run(capsys, "ops", "assign", *ws, str(inc["id"]), best, "--json")
    assert code == 0 and made[0]["unit_id"] == best

    other = _run(
        capsys,
        "ops",
        "new",
        *ws,
        "--category",
        "纠纷",
        "--lat",
        "30.76",
        "--lon",
        "120.79",
        "--json",
    )[1]
    code, _, err = _run(capsys, "ops", "assign", *ws, str(other["id"]), best)
    assert code == 2 and f"unit {best} is not available: it is 'dispatched'" in err
    code, _, err = _run(capsys, "ops", "status", *ws, best, "cleared")
    assert code == 2 and "cannot go from 'dispatched' to 'cleared'" in err
    assert _run(capsys, "ops", "status", *ws, best, "on_scene")[0] == 0

    code, queue, _ = _run(capsys, "ops", "incidents", *ws, "--open", "--json")
    assert [q["id"] for q in queue] == [inc["id"], other["id"]]  # priority 1 first
    assert queue[0]["status"] == "on_scene" and queue[0]["units"] == [best]
    code, board, _ = _run(capsys, "ops", "board", *ws, "--json")
    assert board["units"]["on_scene"] == 1 and board["units"]["available"] == 39

    assert _run(capsys, "ops", "watch", *ws, "plate", "浙F·12345")[0] == 0
    code, alerts, _ = _run(capsys, "ops", "alerts", *ws, "--json")
    assert alerts == []

    out = tmp_path / "cells.geojson"
    code, hot, _ = _run(
        capsys, "ops", "hotspots", *ws, "--days", "1", "--geojson", str(out), "--json"
    )
    assert code == 0 and hot["total"] == 2 and hot["cells"][0]["count"] == 2
    assert json.loads(out.read_text("utf-8"))["type"] == "FeatureCollection"
    code, metrics, _ = _run(capsys, "ops", "metrics", *ws, "--json")
    assert code == 0 and metrics["response"]["count"] == 1
    code, events, _ = _run(capsys, "ops", "events", *ws, "--json")
    assert "assignment.created" in [e["kind"] for e in events]


def test_ops_cli_ack(workspace: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from ops.service import OpsService

    alert = OpsService(workspace).alerts.raise_alert("face_match", title="face", score=0.99)
    assert alert is not None
    ws = ["-w", str(workspace.root)]
    code, acked, _ = _run(capsys, "ops", "ack", *ws, str(alert.id), "--note", "checked", "--json")
    assert code == 0 and acked["acked_by"] == "tester" and acked["ack_note"] == "checked"
    code, listed, _ = _run(capsys, "ops", "alerts", *ws, "--unacked", "--json")
    assert listed == []
    code, _, err = _run(capsys, "ops", "ack", *ws, "4242")
    assert code == 2 and "unknown alert 4242" in err


def test_demo_hook_seeds_units_and_rescans(
    workspace: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.model import EntityRef, Record
    from ops.cli import prepare_demo
    from ops.service import OpsService

    workspace.store.upsert_batch(
        [
            Record("hotel", "h1", "hotel_checkin", entities=(EntityRef("phone", "13912345678"),)),
            Record(
                "watchlist", "w1", "watchlist_entry", entities=(EntityRef("phone", "13912345678"),)
            ),
        ]
    )
    prepare_demo(workspace)
    ops = OpsService(workspace)
    assert len(ops.units.list()) == 40
    # the rescan raised one alert; the 25 months of history brought only acknowledged ones
    assert [a.record_uid for a in ops.alerts.list(unacked_only=True)] == ["hotel:h1"]
    assert ops.alerts.list(limit=1)[0].record_uid == "hotel:h1"  # raised after the history
    err = capsys.readouterr().err
    assert "40 units across 7 districts" in err and "live shift of 9 incidents" in err
    assert "25 months of history" in err


def test_demo_live_shift_is_a_believable_board(workspace: Any) -> None:
    """The demo's open incidents are minutes old (not the months-old history), at different
    stages: units on scene and on their way, a priority-1 incident overdue, fresh calls."""
    from ops.seed import seed_demo_units, seed_live_shift
    from ops.service import OpsService

    ops = OpsService(workspace)
    seed_demo_units(ops)
    ids = seed_live_shift(ops)
    queue = ops.incidents.open_queue()
    assert sorted(q["id"] for q in queue) == sorted(ids)
    assert all(0 < q["age_s"] < 3600 for q in queue)
    by_status: dict[str, int] = {}
    for q in queue:
        by_status[q["status"]] = by_status.get(q["status"], 0) + 1
    assert by_status == {"on_scene": 1, "dispatched": 2, "accepted": 1, "received": 5}
    assert any(q["overdue"] and q["priority"] == 1 and not q["units"] for q in queue)
    units = ops.units.counts()
    assert units["dispatched"] == 2 and units["on_scene"] == 1 and units["available"] == 37
    # every step went through the services: the audit shows the dispatches
    assert len(workspace.audit.search(action="ops.dispatch.assign")) == 3
