"""Entity resolution: proposals with evidence, accept, split restores the graph, audit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from graph.errors import ResolutionError
from graph.expand import expand
from graph.model import GraphResult
from graph.resolution import AliasMap, Resolver
from graph.timeline import timeline
from tests.graph_fixtures import PERSON_A, PERSON_B, Builder, add_lookalikes, add_time_paths


def _snapshot(g: GraphResult) -> tuple[Any, Any]:
    return (
        sorted(
            (n.id, n.type, n.label, json.dumps(n.props, sort_keys=True), n.aliases)
            for n in g.nodes.values()
        ),
        sorted(
            (e.source, e.target, e.type, e.count, tuple(e.times), tuple(e.record_uids))
            for e in g.edges
        ),
    )


@pytest.fixture
def ws(workspace: Any) -> Any:
    b = Builder()
    add_lookalikes(b)
    add_time_paths(b)
    b.write(workspace.store)
    return workspace


def test_weak_match_is_proposed_with_evidence_not_merged(ws: Any) -> None:
    r = Resolver.for_workspace(ws)
    (p,) = r.propose()
    assert {p.a, p.b} == {PERSON_A, PERSON_B}
    assert p.rule == "probabilistic" and 0.9 < p.score <= 1
    fields = p.evidence["fields"]
    assert fields["id_number"]["level"].startswith("same area and sequence")  # check differs
    assert fields["birth_date"]["level"] == "same date, any format"  # 1980-01-01 / 19800101
    assert fields["name"]["level"] == "same characters"  # "王 伟" / "王伟"
    assert {fields["name"]["a"], fields["name"]["b"]} == {"王 伟", "王伟"}
    g = expand(ws.store, [PERSON_A], depth=2)
    assert PERSON_B not in g.nodes  # proposing changes nothing


def test_merge_then_split_restores_the_original_graph(ws: Any) -> None:
    r = Resolver.for_workspace(ws)
    seeds = [PERSON_A, PERSON_B]
    before = _snapshot(expand(ws.store, seeds, depth=3))
    merge = r.accept_proposal(r.propose()[0], canonical=PERSON_A, case="C-1")
    merged = expand(ws.store, [PERSON_B], depth=3)
    assert merged.seeds == (PERSON_A,) and PERSON_B not in merged.nodes
    assert merged.nodes[PERSON_A].aliases == (PERSON_B,)
    assert {"phone:13600000001", "phone:13600000002"} <= merged.neighbours(PERSON_A)
    assert r.propose() == []  # already merged
    assert [m.id for m in r.explain(PERSON_B)] == [merge.id]
    events = timeline(ws.store, PERSON_B)
    assert len(events) == 2  # both persons' records
    r.split(PERSON_B, case="C-1")
    assert _snapshot(expand(ws.store, seeds, depth=3)) == before
    assert r.explain(PERSON_B)[0].undone_at is not None
    actions = [e["action"] for e in ws.audit.entries()]
    assert actions[-2:] == ["graph.merge", "graph.split"]
    assert [e.get("case") for e in ws.audit.entries()][-1] == "C-1"


def test_reject_hides_the_pair_and_bad_merges_are_refused(ws: Any) -> None:
    r = Resolver.for_workspace(ws)
    r.reject(PERSON_B, PERSON_A)
    assert r.propose() == []
    with pytest.raises(ResolutionError, match="different types"):
        r.accept(PERSON_A, "phone:13600000001")
    with pytest.raises(ResolutionError, match="no entity 'person:1'"):
        r.accept("person:1", PERSON_A)
    r.accept(PERSON_B, PERSON_A)
    with pytest.raises(ResolutionError, match="already merged"):
        r.accept(PERSON_B, PERSON_A)
    with pytest.raises(ResolutionError, match="into itself"):
        r.accept(PERSON_A, PERSON_B)
    with pytest.raises(ResolutionError, match="not merged"):
        r.split(PERSON_A)
    (m,) = r.merges()
    r.undo(m.id)
    with pytest.raises(ResolutionError, match="already undone"):
        r.undo(m.id)


def test_alias_chains_resolve_to_the_last_canonical() -> None:
    aliases = AliasMap([("a", "b"), ("b", "c")])
    assert aliases.canonical("a") == "c" and aliases.canonical("c") == "c"
    assert aliases.members("c") == ["c", "a", "b"]
