"""Analyses on planted structure: go-between, communities, time-ordered paths, neighbours."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core.store import Store
from graph.analysis import (
    centrality,
    common_neighbours,
    communities,
    components,
    most_connected,
    pagerank,
)
from graph.errors import EntityNotFoundError, GraphError, NoPathError
from graph.expand import expand
from graph.model import GraphEdge, GraphResult
from graph.paths import k_shortest_paths, shortest_path
from tests.graph_fixtures import GO_BETWEEN, T0, Builder, add_time_paths, add_two_gangs

X, Y, Z, P, Q = (f"phone:1370000000{i}" for i in (1, 2, 3, 4, 5))


@pytest.fixture(scope="module")
def gangs(tmp_path_factory: pytest.TempPathFactory) -> tuple[GraphResult, list[str], list[str]]:
    import random

    s = Store(tmp_path_factory.mktemp("gangs") / "store.sqlite")
    b = Builder()
    a, c = add_two_gangs(b, random.Random(3))
    b.write(s)
    return expand(s, [GO_BETWEEN], depth=4), a, c


@pytest.fixture(scope="module")
def timed_graph(tmp_path_factory: pytest.TempPathFactory) -> GraphResult:
    s = Store(tmp_path_factory.mktemp("paths") / "store.sqlite")
    b = Builder()
    add_time_paths(b)
    b.write(s)
    return expand(s, [X], depth=4)


def test_go_between_has_the_highest_betweenness(gangs: tuple[GraphResult, list, list]) -> None:
    g, _, _ = gangs
    scores = centrality(g)
    assert scores.top("betweenness", 1)[0][0] == GO_BETWEEN
    assert not scores.approximate["betweenness"]
    sampled = centrality(g, ["betweenness"], k_samples=12, seed=1)
    assert sampled.approximate["betweenness"]
    assert sampled.top("betweenness", 1)[0][0] == GO_BETWEEN
    for m in ("degree", "pagerank", "eigenvector"):
        assert len(scores.scores[m]) == len(g.nodes)
    with pytest.raises(GraphError, match="unknown centrality"):
        centrality(g, ["closeness"])


def test_louvain_finds_the_two_gangs(gangs: tuple[GraphResult, list, list]) -> None:
    g, a, c = gangs
    found = [set(x) for x in communities(g, seed=1)]
    assert len(found) == 2
    assert any(set(a) <= x for x in found) and any(set(c) <= x for x in found)
    assert components(g) == [sorted(g.nodes)]


def test_pagerank_sums_to_one_and_favours_the_hub() -> None:
    edges = [GraphEdge("hub", f"leaf{i}", "called", count=1) for i in range(5)]
    g = GraphResult.from_edges([*edges, GraphEdge("leaf0", "leaf1", "called", count=1)])
    pr = pagerank(g)
    assert sum(pr.values()) == pytest.approx(1.0)
    assert max(pr, key=pr.__getitem__) == "hub"
    assert pr["leaf0"] > pr["leaf2"]


def test_time_respecting_path_differs_from_the_shortest(timed_graph: GraphResult) -> None:
    plain = shortest_path(timed_graph, X, Z)
    assert plain.nodes == [X, Y, Z]  # X–Y at 10:00 then Y–Z at 05:00: goes back in time
    flow = shortest_path(timed_graph, X, Z, time_respecting=True)
    assert flow.nodes == [X, P, Q, Z]
    times = [h.time for h in flow.hops]
    assert times == sorted(times) and all(h.record_uid for h in flow.hops)
    with pytest.raises(NoPathError):
        shortest_path(
            timed_graph,
            X,
            Z,
            time_respecting=True,
            not_before=(T0 + timedelta(hours=4)).timestamp(),
        )


def test_k_shortest_paths(timed_graph: GraphResult) -> None:
    both = k_shortest_paths(timed_graph, X, Z, k=3)
    assert [p.nodes for p in both] == [[X, Y, Z], [X, P, Q, Z]]
    flow = k_shortest_paths(timed_graph, X, Z, k=3, time_respecting=True)
    assert [p.nodes for p in flow] == [[X, P, Q, Z]]
    with pytest.raises(EntityNotFoundError):
        k_shortest_paths(timed_graph, X, "phone:1", k=2)


def test_common_neighbours_and_most_connected(gangs: tuple[GraphResult, list, list]) -> None:
    g, a, c = gangs
    shared = common_neighbours(g, [a[0], c[0]])
    assert [n.id for n in shared] == [GO_BETWEEN]
    assert set(shared[0].edges) == {a[0], c[0]}
    at_least_one = common_neighbours(g, [a[0], c[0]], min_shared=1)
    assert len(at_least_one) > 1 and at_least_one[0].id == GO_BETWEEN
    top = most_connected(g, 3)
    assert top[0].neighbours >= top[1].neighbours >= top[2].neighbours
    assert top[0].id in a + c


def test_path_on_a_chain_built_in_memory(tmp_path: Path) -> None:
    edges = [
        GraphEdge(
            f"n{i}", f"n{i + 1}", "called", count=1, times=[float(10 - i)], record_uids=[f"r{i}"]
        )
        for i in range(4)
    ]
    g = GraphResult.from_edges(edges)
    assert shortest_path(g, "n0", "n4").length == 4
    with pytest.raises(NoPathError, match="time-respecting"):
        shortest_path(g, "n0", "n4", time_respecting=True)
