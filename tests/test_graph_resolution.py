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


def test_a_review_decision_on_a_pair_a_colleague_decided_is_refused_naming_them(ws: Any) -> None:
    """Two analysts on one queue: what one decides leaves the other's queue, and the other's
    decision on the stale row is refused (audited as failed) instead of overturning it."""
    from core.security import Session
    from core.services import ServiceContext, call
    from graph.errors import AlreadyDecidedError

    li = ServiceContext(ws, Session("li", "analyst", "password"))
    wang = ServiceContext(ws, Session("wang", "analyst", "password"))
    call("graph.merge_proposals", li, entity_type="person")
    (pair,) = call("graph.merge_queue", wang)  # wang reads the queue …
    call("graph.merge_review", li, a=pair["a"], b=pair["b"], decision="reject")
    assert call("graph.merge_queue", wang) == []  # … li's rejection leaves it
    with pytest.raises(AlreadyDecidedError, match="li rejected"):
        call("graph.merge_review", wang, a=pair["a"], b=pair["b"], decision="accept")
    assert Resolver.for_workspace(ws).merges() == []  # the stale accept merged nothing
    failed = ws.audit.search(action="graph.merge_review")[-1]
    assert failed["user"] == "wang" and failed["params"]["outcome"] == "failed"
    assert "li rejected" in failed["params"]["error"]
    with pytest.raises(ResolutionError, match="decision 'maybe'"):
        call("graph.merge_review", li, a=pair["a"], b=pair["b"], decision="maybe")


def test_a_review_accept_merges_and_a_stale_reject_is_refused(ws: Any) -> None:
    from core.security import Session
    from core.services import ServiceContext, call
    from graph.errors import AlreadyDecidedError

    li = ServiceContext(ws, Session("li", "analyst", "password"))
    wang = ServiceContext(ws, Session("wang", "analyst", "password"))
    call("graph.merge_proposals", li, entity_type="person")
    (pair,) = call("graph.merge_queue", li)
    call("graph.merge_review", wang, a=pair["a"], b=pair["b"], decision="unsure")
    assert call("graph.merge_queue", li)[0]["unsure"] == "wang"  # "not sure" is no decision
    done = call("graph.merge_review", li, a=pair["a"], b=pair["b"], decision="accept")
    assert (done["merge"].alias, done["merge"].canonical) == (pair["b"], pair["a"])
    assert done["merge"].user == "li" and done["merge"].rule == "probabilistic"
    with pytest.raises(AlreadyDecidedError, match=f"li merged {pair['b']} into {pair['a']}"):
        call("graph.merge_review", wang, a=pair["a"], b=pair["b"], decision="reject")
    call("graph.merge_split", li, alias=pair["b"])  # undone: the pair is open again
    call("graph.merge_review", wang, a=pair["a"], b=pair["b"], decision="reject")
    assert [e["user"] for e in ws.audit.search(action="graph.reject")][-1:] == ["wang"]
