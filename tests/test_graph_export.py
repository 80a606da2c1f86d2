"""Exports re-read by networkx (and csv) give back the same nodes and edges."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from core.store import Store
from graph.errors import ExportError
from graph.expand import expand
from graph.export import export_graph
from graph.model import GraphResult
from tests.graph_fixtures import GO_BETWEEN, Builder, add_lookalikes, add_two_gangs


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> GraphResult:
    s = Store(tmp_path_factory.mktemp("export") / "store.sqlite")
    b = Builder()
    add_two_gangs(b, random.Random(1))
    add_lookalikes(b)
    b.link("owns", "person:330100198001010011", GO_BETWEEN, None)  # an untimed link
    b.link("called", GO_BETWEEN, "phone:13800000000", None)  # second link on one pair
    b.write(s)
    g = expand(s, [GO_BETWEEN], depth=2)
    assert any(e.count > 1 for e in g.edges)
    return g


def _expected(g: GraphResult) -> tuple[set, set]:
    return set(g.nodes), {(e.source, e.target, e.type) for e in g.edges}


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graphml_and_gexf_round_trip(graph: GraphResult, tmp_path: Path, fmt: str) -> None:
    (path,) = export_graph(graph, tmp_path / f"g.{fmt}")
    back = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    nodes, edges = _expected(graph)
    assert set(back.nodes) == nodes
    assert {(u, v, d["link_type"]) for u, v, d in back.edges(data=True)} == edges
    heavy = max(graph.edges, key=lambda e: e.count)
    (data,) = [d for u, v, d in back.edges(data=True) if (u, v, d["link_type"]) == heavy.key]
    assert int(data["count"]) == heavy.count
    assert json.loads(data["record_uids"]) == heavy.record_uids
    person = back.nodes["person:330100198001010011"]
    assert person["prop_name"] == "王 伟" and person["type"] == "person"


def test_csv_pair_for_gephi_and_i2(graph: GraphResult, tmp_path: Path) -> None:
    nodes_path, edges_path = export_graph(graph, tmp_path / "out.csv")
    with nodes_path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["Id"] for r in rows} == set(graph.nodes)
    with edges_path.open(encoding="utf-8-sig") as fh:
        edges = list(csv.DictReader(fh))
    g = nx.MultiDiGraph()
    for r in edges:
        g.add_edge(r["Source"], r["Target"], key=r["Label"], weight=int(r["Weight"]))
    assert {(u, v, k) for u, v, k in g.edges(keys=True)} == _expected(graph)[1]
    assert sum(int(r["Weight"]) for r in edges) == sum(e.count for e in graph.edges)
    assert {r["Type"] for r in edges} == {"Directed"}


def test_unknown_format_is_refused(graph: GraphResult, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown export format 'xlsx'"):
        export_graph(graph, tmp_path / "g.xlsx")


def test_export_through_a_workspace_needs_the_export_permission(
    graph: GraphResult, workspace: Any, tmp_path: Path
) -> None:
    from core.security import PermissionDeniedError
    from tests.trust_fixtures import as_user, staff

    staff(workspace)
    analyst = as_user(workspace, "ana")
    with pytest.raises(PermissionDeniedError, match="'export'"):
        export_graph(graph, tmp_path / "denied.graphml", workspace=analyst)
    assert not (tmp_path / "denied.graphml").exists()
    supervisor = as_user(workspace, "sup")
    from cases.errors import CaseNotFoundError
    from tests.faces_fixtures import open_cases

    with pytest.raises(CaseNotFoundError, match="superbrain cases create"):
        export_graph(graph, tmp_path / "nocase.graphml", workspace=supervisor, case="2026-GX-0007")
    assert not (tmp_path / "nocase.graphml").exists()
    open_cases(supervisor, numbers=("2026-GX-0007",))
    export_graph(graph, tmp_path / "ok.graphml", workspace=supervisor, case="2026-GX-0007")
    entries = list(workspace.audit.entries())
    denied = [e for e in entries if e["action"] == "access.denied"]
    assert [(e["user"], e["params"].get("permission"), e.get("case")) for e in denied] == [
        ("ana", "export", None),
        ("sup", None, "2026-GX-0007"),
    ]  # no role; no such case
    done = [e for e in entries if e["action"] == "graph.export"]
    assert done[-1]["user"] == "sup" and done[-1]["case"] == "2026-GX-0007"
    assert done[-1]["params"]["nodes"] == len(graph.nodes)
    analyst.close()
    supervisor.close()
