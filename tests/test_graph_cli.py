"""``superbrain graph …`` end to end on a workspace with planted structure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from tests.graph_fixtures import CONVOY_MATE, GO_BETWEEN, PERSON_A, PERSON_B, build_planted


@pytest.fixture
def ws(workspace: Any) -> Any:
    build_planted(workspace.store)
    return workspace


def run(ws: Any, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    rc = main(["graph", *argv, "-w", str(ws.root), "--json"])
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads(out)


def test_expand_path_central_cooccur(ws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    g = run(ws, capsys, "expand", "+86 139 0000 0000", "--depth", "1", "--types", "called")
    assert g["seeds"] == [GO_BETWEEN] and len(g["nodes"]) == 5
    (p,) = run(ws, capsys, "path", "13700000001", "13700000003", "--time-order")
    assert p["time_respecting"] and p["length"] == 3
    c = run(ws, capsys, "central", GO_BETWEEN, "--depth", "3", "--measures", "betweenness")
    assert c["centrality"]["betweenness"][0]["id"] == GO_BETWEEN
    mates = run(ws, capsys, "cooccur", "浙A·00001", "--window", "60")
    assert mates[0]["b"] == CONVOY_MATE and mates[0]["evidence"]
    comms = run(ws, capsys, "communities", GO_BETWEEN, "--depth", "3")
    assert len(comms["communities"]) == 2
    tl = run(ws, capsys, "timeline", "浙a00001")
    assert len(tl["events"]) == 16 and len(tl["day_hour"]) == 7


def test_export_and_resolve(ws: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = run(ws, capsys, "export", GO_BETWEEN, "-o", str(tmp_path / "g.graphml"))
    assert Path(out["files"][0]).exists() and out["nodes"] > 1
    (proposal,) = run(ws, capsys, "resolve", "propose")
    assert {proposal["a"], proposal["b"]} == {PERSON_A, PERSON_B}
    (queued,) = run(ws, capsys, "resolve", "queue")
    assert {queued["a"], queued["b"]} == {PERSON_A, PERSON_B} and queued["unsure"] is None
    run(ws, capsys, "resolve", "unsure", PERSON_A, PERSON_B, "--note", "same flat?")
    assert run(ws, capsys, "resolve", "queue")[0]["unsure"]
    (cluster,) = run(ws, capsys, "resolve", "clusters")
    assert sorted(cluster["members"]) == sorted([PERSON_A, PERSON_B])
    merge = run(ws, capsys, "resolve", "accept", PERSON_B, PERSON_A)
    assert merge["rule"] == proposal["rule"] and merge["alias"] == PERSON_B
    assert run(ws, capsys, "resolve", "split", PERSON_B)["undone_at"] is not None
    actions = [e["action"] for e in ws.audit.entries()]
    assert {"graph.export", "graph.unsure", "graph.merge", "graph.split"} <= set(actions)


def test_resolve_propose_shows_each_fields_weight(
    ws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", "resolve", "propose", "-w", str(ws.root)]) == 0
    out = capsys.readouterr().out
    assert "probabilistic" in out and "birth_date" in out and "same date, any format" in out


def test_unknown_entity_is_a_clear_error(ws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["graph", "expand", "-w", str(ws.root), "浙Z99999"])
    assert rc == 2
    assert "'浙Z99999': no entity has this identifier" in capsys.readouterr().err
