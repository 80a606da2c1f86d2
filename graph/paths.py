"""Shortest and k-shortest paths in a graph result, optionally respecting time order.

A time-respecting path (i2's "Find Path" with time flow) uses, for each hop, a link observed no
earlier than the link used for the hop before it. The search is breadth-first by hops keeping,
per entity, the earliest arrival time, so the path returned has the fewest hops among
time-respecting ones.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from graph.errors import EntityNotFoundError, NoPathError
from graph.model import GraphEdge, GraphResult, iso


@dataclass
class PathHop:
    """One hop of a path: the edges joining the two entities and, for a time-respecting path,
    the link (time and evidence record) that the hop uses."""

    source: str
    target: str
    edges: list[GraphEdge] = field(default_factory=list)
    time: float | None = None
    record_uid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "time": iso(self.time),
            "record_uid": self.record_uid,
            "edges": [e.to_dict() for e in self.edges],
        }


@dataclass
class Path:
    """A path between two entities: its entities in order and one :class:`PathHop` per hop."""

    nodes: list[str]
    hops: list[PathHop]
    time_respecting: bool = False

    @property
    def length(self) -> int:
        return len(self.hops)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "length": self.length,
            "time_respecting": self.time_respecting,
            "hops": [h.to_dict() for h in self.hops],
        }


class _Adjacency:
    """Per entity: neighbours, the edges to each, and their merged sorted (time, uid) lists."""

    def __init__(self, graph: GraphResult, directed: bool) -> None:
        self.edges: dict[tuple[str, str], list[GraphEdge]] = defaultdict(list)
        self.out: dict[str, set[str]] = defaultdict(set)
        for e in graph.edges:
            self.edges[(e.source, e.target)].append(e)
            self.out[e.source].add(e.target)
            if not directed or not e.directed:
                self.edges[(e.target, e.source)].append(e)
                self.out[e.target].add(e.source)
        self._timed: dict[tuple[str, str], tuple[list[float], list[str]]] = {}

    def timed(self, u: str, v: str) -> tuple[list[float], list[str]]:
        key = (u, v)
        if key not in self._timed:
            pairs = sorted(
                (t, uid)
                for e in self.edges[key]
                for t, uid in zip(e.times, e.record_uids, strict=False)
            )
            self._timed[key] = ([t for t, _ in pairs], [uid for _, uid in pairs])
        return self._timed[key]

    def next_time(self, u: str, v: str, after: float) -> tuple[float, str] | None:
        times, uids = self.timed(u, v)
        i = bisect.bisect_left(times, after)
        return (times[i], uids[i]) if i < len(times) else None


def _check(graph: GraphResult, *ids: str) -> None:
    for i in ids:
        if i not in graph.nodes:
            raise EntityNotFoundError(f"{i!r} is not in this graph")


def _plain_path(adj: _Adjacency, nodes: list[str]) -> Path:
    hops = [PathHop(u, v, list(adj.edges[(u, v)])) for u, v in itertools.pairwise(nodes)]
    return Path(nodes, hops)


def _timed_path(adj: _Adjacency, nodes: list[str], not_before: float) -> Path | None:
    """The fixed node sequence as a time-respecting path (earliest link per hop), if any."""
    hops = []
    now = not_before
    for u, v in itertools.pairwise(nodes):
        step = adj.next_time(u, v, now)
        if step is None:
            return None
        now = step[0]
        hops.append(PathHop(u, v, list(adj.edges[(u, v)]), step[0], step[1]))
    return Path(nodes, hops, time_respecting=True)


def shortest_path(
    graph: GraphResult,
    source: str,
    target: str,
    *,
    time_respecting: bool = False,
    directed: bool = False,
    not_before: float | None = None,
    max_hops: int | None = None,
) -> Path:
    """The path with the fewest hops from ``source`` to ``target``.

    Parameters
    ----------
    time_respecting:
        Each hop must use a link observed at or after the previous hop's link
        (``not_before``, epoch seconds, bounds the first hop).
    directed:
        Follow directed link types only from source to target (default: both ways).
    max_hops:
        Give up beyond this many hops.

    Raises
    ------
    NoPathError
        When no (time-respecting) path exists.
    """
    _check(graph, source, target)
    adj = _Adjacency(graph, directed)
    limit = max_hops if max_hops is not None else len(graph.nodes)
    if not time_respecting:
        parent: dict[str, str | None] = {source: None}
        frontier = [source]
        for _ in range(limit):
            if target in parent or not frontier:
                break
            nxt = []
            for u in frontier:
                for v in sorted(adj.out[u]):
                    if v not in parent:
                        parent[v] = u
                        nxt.append(v)
            frontier = nxt
        if target not in parent:
            raise NoPathError(
                f"no path from {source!r} to {target!r}"
                + (f" within {max_hops} hops" if max_hops else "")
            )
        nodes = [target]
        while parent[nodes[-1]] is not None:
            nodes.append(parent[nodes[-1]])  # type: ignore[arg-type]
        return _plain_path(adj, nodes[::-1])
    return _earliest_arrival_path(
        adj, source, target, -math.inf if not_before is None else not_before, limit
    )


def _earliest_arrival_path(
    adj: _Adjacency, source: str, target: str, not_before: float, limit: int
) -> Path:
    best: dict[str, float] = {source: not_before}
    # layers[h][node] = (arrival, previous node, record uid) for arrivals improved at hop h
    layers: list[dict[str, tuple[float, str | None, str | None]]] = [
        {source: (not_before, None, None)}
    ]
    for _h in range(limit):
        current = layers[-1]
        nxt: dict[str, tuple[float, str | None, str | None]] = {}
        for u, (arrival, _p, _r) in current.items():
            for v in adj.out[u]:
                step = adj.next_time(u, v, arrival)
                if step is None or step[0] >= best.get(v, math.inf):
                    continue
                if v not in nxt or step[0] < nxt[v][0]:
                    nxt[v] = (step[0], u, step[1])
        if not nxt:
            break
        for v, (t, _p, _r) in nxt.items():
            best[v] = min(best.get(v, math.inf), t)
        layers.append(nxt)
        if target in nxt:
            nodes, hops = [target], []
            node = target
            for h in range(len(layers) - 1, 0, -1):
                t, prev, uid = layers[h][node]
                assert prev is not None
                hops.append(PathHop(prev, node, list(adj.edges[(prev, node)]), t, uid))
                nodes.append(prev)
                node = prev
            return Path(nodes[::-1], hops[::-1], time_respecting=True)
    raise NoPathError(f"no time-respecting path from {source!r} to {target!r}")


def k_shortest_paths(
    graph: GraphResult,
    source: str,
    target: str,
    k: int = 3,
    *,
    time_respecting: bool = False,
    not_before: float | None = None,
    max_candidates: int = 2000,
) -> list[Path]:
    """Up to ``k`` loop-free paths, shortest first (Yen's algorithm via networkx).

    With ``time_respecting`` only paths whose hops can follow time order are kept (at most
    ``max_candidates`` shorter paths are examined). An empty list means no path.
    """
    import networkx as nx

    _check(graph, source, target)
    adj = _Adjacency(graph, directed=False)
    g = graph.to_networkx(multigraph=False)
    out: list[Path] = []
    start = -math.inf if not_before is None else not_before
    try:
        candidates = nx.shortest_simple_paths(g, source, target)
        for nodes in itertools.islice(candidates, max_candidates):
            path = _timed_path(adj, nodes, start) if time_respecting else _plain_path(adj, nodes)
            if path is not None:
                out.append(path)
                if len(out) >= k:
                    break
    except nx.NetworkXNoPath:
        return []
    return out
