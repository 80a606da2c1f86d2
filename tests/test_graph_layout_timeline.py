"""Layout (fresh and incremental), timeline and time-wheel, and the package's import rules."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.layout import layout, layout_edges
from graph.model import GraphEdge, GraphResult
from graph.timeline import day_hour_matrix, timeline
from tests.graph_fixtures import REPO_ROOT, T0, Builder


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _two_stars() -> GraphResult:
    edges = [GraphEdge("a", f"a{i}", "called") for i in range(15)]
    edges += [GraphEdge("b", f"b{i}", "called") for i in range(15)]
    return GraphResult.from_edges([*edges, GraphEdge("a", "b", "called")])


def test_fresh_layout_keeps_neighbours_closer_than_strangers() -> None:
    pos = layout(_two_stars(), seed=1)
    assert len(pos) == 32 and all(math.isfinite(x) and math.isfinite(y) for x, y in pos.values())
    near = sum(_dist(pos["a"], pos[f"a{i}"]) for i in range(15)) / 15
    far = sum(_dist(pos["a"], pos[f"b{i}"]) for i in range(15)) / 15
    assert near < far
    assert len({(round(x, 6), round(y, 6)) for x, y in pos.values()}) == 32


def test_incremental_layout_moves_only_new_nodes_and_puts_them_nearby() -> None:
    g = _two_stars()
    pos = layout(g, seed=1)
    extra = [GraphEdge("a3", "new1", "called"), GraphEdge("new1", "new2", "called")]
    grown = GraphResult.from_edges([*g.edges, *extra], nodes=g.nodes.values())
    again = layout(grown, fixed=pos, seed=2)
    assert all(again[n] == pos[n] for n in pos)  # nothing on screen moved
    spread = max(_dist(p, q) for p in pos.values() for q in pos.values())
    assert _dist(again["new1"], pos["a3"]) < spread / 2
    assert "new2" in again


def test_large_layout_uses_sampled_repulsion() -> None:
    nodes = [f"n{i}" for i in range(2000)]
    edges = [(f"n{i}", f"n{(i * 7 + 1) % 2000}") for i in range(2000)]
    pos = layout_edges(nodes, edges, iterations=5)
    assert len(pos) == 2000 and all(math.isfinite(x) for x, _ in pos.values())


def test_timeline_merges_sources_in_time_order(workspace: Any) -> None:
    b = Builder()
    car = "vehicle:浙A12345"
    b.link("passed", car, "device:KK001", T0 + timedelta(hours=3), source="checkpoint")
    b.link("owns", "person:110101199001011234", car, T0 - timedelta(days=30), source="dmv")
    b.link("involved_in", car, "incident:JQ1", T0 + timedelta(hours=1), source="incidents")
    b.link("passed", "vehicle:浙B00000", "device:KK001", T0)  # someone else
    b.write(workspace.store)
    events = timeline(workspace.store, car)
    assert [e.source for e in events] == ["dmv", "incidents", "checkpoint"]
    assert events[1].links[0]["other"] == "incident:JQ1"
    window = timeline(workspace.store, car, start=T0, end=T0 + timedelta(hours=2))
    assert [e.source for e in window] == ["incidents"]
    grid = day_hour_matrix(events)
    assert len(grid) == 7 and all(len(row) == 24 for row in grid)
    assert sum(map(sum, grid)) == 3
    # T0 is Monday 16:00 China time: the incident an hour later is Monday 17:00
    assert grid[0][17] == 1


def test_day_hour_matrix_uses_china_time() -> None:
    sunday_late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # Monday 07:30 in Beijing
    grid = day_hour_matrix([sunday_late.timestamp(), None])
    assert grid[0][7] == 1 and sum(map(sum, grid)) == 1


def test_graph_imports_without_qt_and_keeps_networkx_lazy() -> None:
    code = (
        "import sys; sys.modules['PyQt6'] = None\n"
        "import graph.cli, graph.expand, graph.analysis, graph.cooccur, graph.layout, "
        "graph.timeline, graph.export, graph.resolution, graph.paths\n"
        "assert 'networkx' not in sys.modules, 'networkx imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)
