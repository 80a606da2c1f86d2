"""Who matters in a graph: centrality, communities, components, common neighbours.

Every function takes a :class:`~graph.model.GraphResult` and treats it as undirected, with the
number of links between two entities as the edge weight where a measure uses weights.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph.errors import EntityNotFoundError, GraphError
from graph.model import GraphEdge, GraphResult

log = logging.getLogger(__name__)

MEASURES = ("degree", "betweenness", "pagerank", "eigenvector")
EXACT_BETWEENNESS_LIMIT = 3000  # above this many nodes betweenness is sampled (k pivots)


@dataclass
class Centrality:
    """Scores per measure and node; :meth:`top` ranks the nodes of one measure."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    approximate: dict[str, bool] = field(default_factory=dict)

    def top(self, measure: str, n: int = 10) -> list[tuple[str, float]]:
        if measure not in self.scores:
            raise GraphError(f"measure {measure!r} was not computed; have {sorted(self.scores)}")
        ranked = sorted(self.scores[measure].items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:n]

    def to_dict(self, n: int | None = None) -> dict[str, Any]:
        return {
            m: [{"id": i, "score": s} for i, s in self.top(m, n or len(self.scores[m]))]
            for m in self.scores
        } | {"approximate": self.approximate}


def pagerank(
    graph: GraphResult, *, alpha: float = 0.85, tol: float = 1e-10, max_iter: int = 200
) -> dict[str, float]:
    """Weighted PageRank on the undirected graph by power iteration (numpy, no scipy)."""
    ids = list(graph.nodes)
    n = len(ids)
    if n == 0:
        return {}
    index = {nid: i for i, nid in enumerate(ids)}
    src, dst, w = [], [], []
    for e in graph.edges:
        i, j = index[e.source], index[e.target]
        src += [i, j]
        dst += [j, i]
        w += [e.count, e.count]
    s, d, wt = np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), np.array(w, float)
    out_w = np.bincount(s, weights=wt, minlength=n)
    rank = np.full(n, 1.0 / n)
    dangling = out_w == 0
    norm = np.where(dangling, 1.0, out_w)
    for _ in range(max_iter):
        flow = np.bincount(d, weights=rank[s] * wt / norm[s], minlength=n)
        new = alpha * (flow + rank[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(new - rank).sum() < n * tol:
            rank = new
            break
        rank = new
    return {nid: float(rank[i]) for i, nid in enumerate(ids)}


def centrality(
    graph: GraphResult,
    measures: Sequence[str] = MEASURES,
    *,
    k_samples: int | None = None,
    seed: int = 0,
) -> Centrality:
    """Degree, betweenness, PageRank and eigenvector centrality of every node.

    Parameters
    ----------
    measures:
        Any of :data:`MEASURES`.
    k_samples:
        Pivots for approximate betweenness. Default: exact up to
        :data:`EXACT_BETWEENNESS_LIMIT` nodes, 500 pivots beyond (``approximate`` says so).
    """
    import networkx as nx

    unknown = set(measures) - set(MEASURES)
    if unknown:
        raise GraphError(f"unknown centrality measure(s) {sorted(unknown)}; known: {MEASURES}")
    g = graph.to_networkx(multigraph=False)
    out = Centrality()
    for m in measures:
        out.approximate[m] = False
        if g.number_of_nodes() == 0:
            out.scores[m] = {}
        elif m == "degree":
            out.scores[m] = dict(nx.degree_centrality(g)) if len(g) > 1 else {n: 0.0 for n in g}
        elif m == "betweenness":
            k = k_samples
            if k is None and len(g) > EXACT_BETWEENNESS_LIMIT:
                k = 500
            if k is not None and k < len(g):
                out.approximate[m] = True
                out.scores[m] = nx.betweenness_centrality(g, k=k, seed=seed)
            else:
                out.scores[m] = nx.betweenness_centrality(g)
        elif m == "pagerank":
            out.scores[m] = pagerank(graph)
        elif m == "eigenvector":
            try:
                out.scores[m] = nx.eigenvector_centrality(g, max_iter=1000, tol=1e-8)
            except nx.PowerIterationFailedConvergence:
                log.warning("eigenvector centrality did not converge; using degree instead")
                out.approximate[m] = True
                out.scores[m] = dict(nx.degree_centrality(g))
    return out


def communities(graph: GraphResult, *, resolution: float = 1.0, seed: int = 0) -> list[list[str]]:
    """Louvain communities (link counts as weights), largest first, members sorted."""
    import networkx as nx

    g = graph.to_networkx(multigraph=False)
    if g.number_of_nodes() == 0:
        return []
    found = nx.community.louvain_communities(g, weight="weight", resolution=resolution, seed=seed)
    return sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))


def components(graph: GraphResult) -> list[list[str]]:
    """Connected components, largest first, members sorted."""
    import networkx as nx

    g = graph.to_networkx(multigraph=False)
    return sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c[0]))


@dataclass
class Connectedness:
    """How connected one entity is: distinct neighbours and total links (evidence count)."""

    id: str
    neighbours: int
    links: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "neighbours": self.neighbours, "links": self.links}


def most_connected(
    graph: GraphResult, n: int = 10, *, types: Iterable[str] | None = None
) -> list[Connectedness]:
    """The ``n`` entities with the most distinct neighbours (ties: most links), optionally only
    entities of ``types``."""
    nbrs: dict[str, set[str]] = defaultdict(set)
    links: dict[str, int] = defaultdict(int)
    for e in graph.edges:
        nbrs[e.source].add(e.target)
        nbrs[e.target].add(e.source)
        links[e.source] += e.count
        links[e.target] += e.count
    wanted = set(types) if types else None
    rows = [
        Connectedness(i, len(nbrs[i]), links[i])
        for i, node in graph.nodes.items()
        if wanted is None or node.type in wanted
    ]
    rows.sort(key=lambda c: (-c.neighbours, -c.links, c.id))
    return rows[:n]


@dataclass
class CommonNeighbour:
    """An entity linked to every one of the given entities, with the edges that show it."""

    id: str
    edges: dict[str, list[GraphEdge]]  # given entity -> edges between it and this neighbour

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "edges": {k: [e.to_dict() for e in v] for k, v in self.edges.items()},
        }


def common_neighbours(
    graph: GraphResult, ids: Sequence[str], min_shared: int | None = None
) -> list[CommonNeighbour]:
    """Entities linked to all of ``ids`` (or to at least ``min_shared`` of them), most shared
    first."""
    for i in ids:
        if i not in graph.nodes:
            raise EntityNotFoundError(f"{i!r} is not in this graph")
    wanted = set(ids)
    seen: dict[str, dict[str, list[GraphEdge]]] = defaultdict(lambda: defaultdict(list))
    for e in graph.edges:
        if e.source in wanted and e.target not in wanted:
            seen[e.target][e.source].append(e)
        if e.target in wanted and e.source not in wanted:
            seen[e.source][e.target].append(e)
    need = len(wanted) if min_shared is None else min_shared
    out = [CommonNeighbour(n, dict(by)) for n, by in seen.items() if len(by) >= need]
    out.sort(
        key=lambda c: (-len(c.edges), -sum(e.count for v in c.edges.values() for e in v), c.id)
    )
    return out
