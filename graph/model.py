"""Plain-data graph results (dataclasses) that the console draws and the CLI prints.

Every analysis works on a :class:`GraphResult`; :meth:`GraphResult.to_networkx` gives the
networkx view when a caller wants one. An edge aggregates every link of one type between one
pair of entities: its count, first and last time, every time, and the evidence record uids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx


@dataclass(slots=True)
class GraphNode:
    """One entity in a graph result (after merges: ``aliases`` lists the ids merged into it)."""

    id: str
    type: str
    label: str = ""
    props: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    depth: int | None = None  # hops from the nearest seed, when built by expansion

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "label": self.label,
            "props": self.props,
            "aliases": list(self.aliases),
            "depth": self.depth,
        }


@dataclass(slots=True)
class GraphEdge:
    """Every link of one ``type`` between ``source`` and ``target``, aggregated.

    ``times`` are epoch seconds (UTC), sorted; ``first``/``last`` are their ends (``None`` when
    no link had a time). ``record_uids`` are the evidence records, in the order of ``times``.
    """

    source: str
    target: str
    type: str
    count: int = 0
    times: list[float] = field(default_factory=list)
    record_uids: list[str] = field(default_factory=list)
    directed: bool = True

    @property
    def first(self) -> float | None:
        return self.times[0] if self.times else None

    @property
    def last(self) -> float | None:
        return self.times[-1] if self.times else None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.target, self.type)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "type": self.type,
            "count": self.count,
            "first": iso(self.first),
            "last": iso(self.last),
            "times": [iso(t) for t in self.times],
            "record_uids": list(self.record_uids),
            "directed": self.directed,
        }


@dataclass
class GraphResult:
    """Nodes and aggregated edges, plus how the graph was built.

    ``truncated`` is True when the node cap stopped the expansion before it was complete;
    ``hubs`` maps the entities the fan-out cap kept from being expanded to their link counts.
    """

    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: list[GraphEdge] = field(default_factory=list)
    seeds: tuple[str, ...] = ()
    truncated: bool = False
    hubs: dict[str, int] = field(default_factory=dict)

    def node_ids(self) -> list[str]:
        return list(self.nodes)

    def neighbours(self, node_id: str) -> set[str]:
        out = set()
        for e in self.edges:
            if e.source == node_id:
                out.add(e.target)
            elif e.target == node_id:
                out.add(e.source)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "seeds": list(self.seeds),
            "truncated": self.truncated,
            "hubs": dict(self.hubs),
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges],
        }

    def to_networkx(self, *, multigraph: bool = True) -> nx.Graph:
        """A networkx view: ``MultiDiGraph`` keyed by link type, or an undirected ``Graph``.

        The undirected simple graph (``multigraph=False``) is what the analyses run on: one
        edge per pair with ``weight`` = the total link count and ``types`` = the link types.
        Node attributes are ``type``, ``label`` and the entity props; edge attributes are
        ``type``, ``count``, ``times``, ``first``, ``last`` and ``record_uids``.
        """
        import networkx as nx

        g: nx.Graph = nx.MultiDiGraph() if multigraph else nx.Graph()
        for n in self.nodes.values():
            g.add_node(
                n.id, **{**n.props, "type": n.type, "label": n.label, "aliases": list(n.aliases)}
            )
        for e in self.edges:
            if multigraph:
                g.add_edge(
                    e.source,
                    e.target,
                    key=e.type,
                    type=e.type,
                    count=e.count,
                    times=list(e.times),
                    first=e.first,
                    last=e.last,
                    record_uids=list(e.record_uids),
                    directed=e.directed,
                )
                continue
            if g.has_edge(e.source, e.target):
                d = g.edges[e.source, e.target]
                d["weight"] += e.count
                d["types"].append(e.type)
                d["times"] = sorted(d["times"] + e.times)
                d["record_uids"] += e.record_uids
            else:
                g.add_edge(
                    e.source,
                    e.target,
                    weight=e.count,
                    types=[e.type],
                    times=list(e.times),
                    record_uids=list(e.record_uids),
                )
        return g

    @classmethod
    def from_edges(cls, edges: Iterable[GraphEdge], nodes: Iterable[GraphNode] = ()) -> GraphResult:
        """Build a result from edges (nodes missing from ``nodes`` get type from their id)."""
        result = cls(nodes={n.id: n for n in nodes})
        for e in edges:
            result.edges.append(e)
            for nid in (e.source, e.target):
                if nid not in result.nodes:
                    result.nodes[nid] = GraphNode(nid, nid.split(":", 1)[0], nid.split(":", 1)[-1])
        return result


#: The largest chart a caller may send as data (a console's chart, for an analysis or export).
MAX_SENT_NODES = 20_000
MAX_SENT_EDGES = 200_000


def graph_from_dict(data: Any) -> GraphResult:
    """A :class:`GraphResult` from its :meth:`GraphResult.to_dict` form (what a client console
    sends as its chart, and what the server answers with); bounded to
    :data:`MAX_SENT_NODES` nodes and :data:`MAX_SENT_EDGES` edges. A result passes through.

    Raises
    ------
    graph.errors.GraphError
        Not a graph's shape, or too large: the message names the field.
    """
    from graph.errors import GraphError

    if isinstance(data, GraphResult):
        return data
    if not isinstance(data, dict):
        raise GraphError(
            f"graph: expected an object with nodes and edges, got {type(data).__name__}"
        )
    raw_nodes = data.get("nodes") or []
    if isinstance(raw_nodes, dict):
        raw_nodes = list(raw_nodes.values())
    raw_edges = data.get("edges") or []
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        raise GraphError("graph: nodes and edges must be lists")
    if len(raw_nodes) > MAX_SENT_NODES or len(raw_edges) > MAX_SENT_EDGES:
        raise GraphError(
            f"graph: {len(raw_nodes):,} nodes and {len(raw_edges):,} edges; at most "
            f"{MAX_SENT_NODES:,} and {MAX_SENT_EDGES:,} may be sent"
        )
    try:
        nodes = {}
        for n in raw_nodes:
            node = GraphNode(
                str(n["id"]),
                str(n.get("type", "")),
                str(n.get("label") or ""),
                dict(n.get("props") or {}),
                tuple(n.get("aliases") or ()),
                n.get("depth"),
            )
            nodes[node.id] = node
        edges = []
        for e in raw_edges:
            times = sorted(_epoch(t) for t in e.get("times") or ())
            edges.append(
                GraphEdge(
                    str(e["source"]),
                    str(e["target"]),
                    str(e["type"]),
                    int(e.get("count", len(times))),
                    times,
                    [str(u) for u in e.get("record_uids") or ()],
                    bool(e.get("directed", True)),
                )
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise GraphError(
            f"graph: a node or edge is malformed ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    hubs = data.get("hubs") or {}
    return GraphResult(
        nodes,
        edges,
        tuple(str(s) for s in data.get("seeds") or ()),
        bool(data.get("truncated", False)),
        {str(k): int(v) for k, v in hubs.items()} if isinstance(hubs, dict) else {},
    )


def _epoch(value: Any) -> float:
    """Epoch seconds from a number or ISO text (unzoned text is UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    parsed = datetime.fromisoformat(str(value))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def iso(t: float | None) -> str | None:
    """Epoch seconds to an ISO-8601 UTC string (``None`` stays ``None``)."""
    return datetime.fromtimestamp(t, tz=UTC).isoformat() if t is not None else None
