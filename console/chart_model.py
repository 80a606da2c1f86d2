"""The link chart's state as plain data: what is on the chart, where, and how it is styled.

The chart widget draws a :class:`ChartModel`; expansions run :func:`grow` in a worker (graph
engine calls: ``graph.expand.expand``, ``graph.expand.induced_graph``, ``graph.layout.layout``)
and the result is applied in the GUI thread with :meth:`ChartModel.apply`. No Qt here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cases.chart import COMMUNITY_COLOURS, link_colour
from core.progress import CancelToken
from core.schema import default_schema

#: Entity icon names (resources/schema/entities.toml) → pyqtgraph marker symbols.
ICON_SYMBOLS = {
    "person": "o",
    "phone": "t1",
    "car": "s",
    "home": "h",
    "building": "p",
    "alert": "star",
    "camera": "d",
    "tag": "t",
    "bed": "s",
    "dot": "o",
}

SCALE = 100.0  # layout coordinates are about [-1, 1]; the chart works in ±100


@dataclass(frozen=True)
class LegendItem:
    """One row of the chart's legend."""

    kind: str  # "entity" or "link"
    name: str  # the schema's type name
    label: str  # shown to the analyst
    colour: str
    symbol: str  # pyqtgraph symbol of an entity type; "line" for a link type
    count: int


@dataclass(frozen=True)
class NodeStyle:
    colour: str
    size: float
    symbol: str


@dataclass
class ChartModel:
    """Nodes and edges on the chart, their positions and the analyst's choices."""

    graph: Any = None  # graph.model.GraphResult
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    pinned: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)
    selected: set[str] = field(default_factory=set)
    colour_mode: str = "type"  # "type", "centrality" or "community"
    scores: dict[str, float] = field(default_factory=dict)
    community: dict[str, int] = field(default_factory=dict)
    # the analyst's per-node style overrides ({"colour", "size", "symbol"}), named groupings
    # ({"name", "members", "colour"}), and what the chart was built from (saved with a case)
    node_styles: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    origin: dict[str, Any] = field(default_factory=dict)
    noted: set[str] = field(default_factory=set)  # nodes with case notes (marked, not saved)

    # -- undo ---------------------------------------------------------------------------------
    def snapshot(self) -> tuple[Any, ...]:
        """What an edit changes (content, positions, pins, hidden nodes), for undo/redo."""
        return (
            self.graph,
            dict(self.positions),
            set(self.pinned),
            set(self.hidden),
            set(self.selected),
        )

    def restore(self, snap: tuple[Any, ...]) -> None:
        self.graph, positions, pinned, hidden, selected = snap
        self.positions, self.pinned = dict(positions), set(pinned)
        self.hidden, self.selected = set(hidden), set(selected)
        self.colour_mode = "type"

    # -- content ------------------------------------------------------------------------------
    def node_ids(self) -> list[str]:
        return list(self.graph.nodes) if self.graph is not None else []

    def apply(self, graph: Any, positions: dict[str, tuple[float, float]]) -> list[str]:
        """Show ``graph`` with ``positions`` (pinned nodes keep theirs); returns the new ids."""
        old = set(self.node_ids())
        self.graph = graph
        merged = {k: v for k, v in positions.items() if k in graph.nodes}
        for nid in self.pinned:
            if nid in self.positions and nid in graph.nodes:
                merged[nid] = self.positions[nid]
        self.positions = merged
        self.selected &= set(graph.nodes)
        if self.colour_mode != "type":
            self.colour_mode = "type"  # scores were for the old graph
        return [n for n in graph.nodes if n not in old]

    def clear(self) -> None:
        self.graph = None
        self.positions.clear()
        self.pinned.clear()
        self.hidden.clear()
        self.selected.clear()
        self.colour_mode = "type"
        self.node_styles.clear()
        self.groups.clear()
        self.origin.clear()

    # -- saving (a case's saved chart: cases.chart) ---------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The chart as a saved-chart document (see :mod:`cases.chart`)."""
        from cases.chart import chart_document

        origin = dict(self.origin)
        if not origin and self.graph is not None and self.graph.seeds:
            origin = {"kind": "seed", "seeds": list(self.graph.seeds)}
        return chart_document(
            self.graph,
            positions=self.positions,
            pinned=self.pinned,
            hidden=self.hidden,
            colour_mode=self.colour_mode,
            scores=self.scores,
            community=self.community,
            styles=self.node_styles,
            groups=self.groups,
            origin=origin,
        )

    def load(self, doc: dict[str, Any]) -> None:
        """Show a saved-chart document exactly as saved (nothing is read from the store)."""
        from cases.chart import to_graph, validate

        doc = validate(doc)
        self.graph = to_graph(doc) if doc["nodes"] else None
        self.positions = {k: (float(v[0]), float(v[1])) for k, v in doc["positions"].items()}
        self.pinned = set(doc.get("pinned", ()))
        self.hidden = set(doc.get("hidden", ()))
        self.selected = set()
        self.colour_mode = doc.get("colour_mode", "type")
        self.scores = {k: float(v) for k, v in (doc.get("scores") or {}).items()}
        self.community = {k: int(v) for k, v in (doc.get("community") or {}).items()}
        self.node_styles = {k: dict(v) for k, v in (doc.get("styles") or {}).items()}
        self.groups = [dict(g) for g in doc.get("groups") or []]
        self.origin = dict(doc.get("origin") or {})

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ChartModel:
        """A new model showing the saved-chart document ``doc``."""
        model = cls()
        model.load(doc)
        return model

    def label(self, node: Any) -> str:
        """The text drawn beside a node: its label, marked when the case has notes on it."""
        text = chart_label(node.id, node.label)
        return f"✎ {text}" if node.id in self.noted else text

    def move(self, node_id: str, x: float, y: float) -> None:
        """Drag: the node goes where it is dropped and stays pinned there."""
        self.positions[node_id] = (x / SCALE, y / SCALE)
        self.pinned.add(node_id)

    def toggle_pin(self, node_id: str) -> bool:
        if node_id in self.pinned:
            self.pinned.discard(node_id)
            return False
        self.pinned.add(node_id)
        return True

    def hide(self, ids: Iterable[str]) -> None:
        self.hidden.update(ids)
        self.selected -= self.hidden

    def unhide_all(self) -> None:
        self.hidden.clear()

    # -- drawing ------------------------------------------------------------------------------
    def visible_nodes(self) -> list[Any]:
        if self.graph is None:
            return []
        return [
            n
            for nid, n in self.graph.nodes.items()
            if nid not in self.hidden and nid in self.positions
        ]

    def visible_edges(self) -> list[Any]:
        if self.graph is None:
            return []
        if not self.hidden and len(self.positions) == len(self.graph.nodes):
            return list(self.graph.edges)
        shown = {n.id for n in self.visible_nodes()}
        return [e for e in self.graph.edges if e.source in shown and e.target in shown]

    def xy(self, node_id: str) -> tuple[float, float]:
        x, y = self.positions[node_id]
        return x * SCALE, y * SCALE

    def style(self, node: Any) -> NodeStyle:
        schema = default_schema()
        et = schema.entities.get(node.type)
        symbol = ICON_SYMBOLS.get(et.icon if et else "dot", "o")
        colour = et.color if et else "#888888"
        size = 12.0
        if self.colour_mode == "centrality" and self.scores:
            top = max(self.scores.values()) or 1.0
            s = self.scores.get(node.id, 0.0) / top
            colour = _ramp(s)
            size = 8.0 + 22.0 * s
        elif self.colour_mode == "community" and self.community:
            c = self.community.get(node.id)
            colour = COMMUNITY_COLOURS[c % len(COMMUNITY_COLOURS)] if c is not None else "#555"
        if self.graph is not None and node.id in self.graph.seeds:
            size += 4
        override = self.node_styles.get(node.id)
        if override:
            colour = str(override.get("colour", colour))
            size = float(override.get("size", size))
            symbol = str(override.get("symbol", symbol))
        return NodeStyle(colour, size, symbol)

    def styles(self, nodes: list[Any]) -> list[NodeStyle]:
        """:meth:`style` of many nodes (by-type styles computed once per type)."""
        if self.colour_mode != "type" or self.node_styles:
            return [self.style(n) for n in nodes]
        seeds = set(self.graph.seeds) if self.graph is not None else set()
        cache: dict[tuple[str, bool], NodeStyle] = {}
        out = []
        for n in nodes:
            key = (n.type, n.id in seeds)
            style = cache.get(key)
            if style is None:
                style = cache[key] = self.style(n)
            out.append(style)
        return out

    def link_types(self) -> list[str]:
        if self.graph is None:
            return []
        return sorted({e.type for e in self.graph.edges})

    def legend(self, zh: bool = False) -> list[LegendItem]:
        """Entity types and link types on the chart now (hidden nodes left out), with the
        colour and shape they are drawn in and how many there are; labels in the UI language."""
        schema = default_schema()
        nodes: dict[str, int] = {}
        for n in self.visible_nodes():
            nodes[n.type] = nodes.get(n.type, 0) + 1
        links: dict[str, int] = {}
        for e in self.visible_edges():
            links[e.type] = links.get(e.type, 0) + 1
        out = []
        for name, n in sorted(nodes.items(), key=lambda kv: -kv[1]):
            et = schema.entities.get(name)
            label = (et.label_zh if zh and et.label_zh else et.label) if et else name
            out.append(
                LegendItem(
                    "entity",
                    name,
                    label,
                    et.color if et else "#888888",
                    ICON_SYMBOLS.get(et.icon if et else "dot", "o"),
                    n,
                )
            )
        for name, n in sorted(links.items(), key=lambda kv: -kv[1]):
            lt = schema.links.get(name)
            label = (getattr(lt, "label_zh", "") if zh else "") or (lt.label if lt else name)
            out.append(LegendItem("link", name, label, self.link_colour(name), "line", n))
        return out

    def hover_text(self, node_id: str, zh: bool = False) -> str:
        """The hover card of a node as plain text: what it is, its id, its links by type."""
        if self.graph is None or node_id not in self.graph.nodes:
            return node_id
        node = self.graph.nodes[node_id]
        schema = default_schema()
        et = schema.entities.get(node.type)
        kind = (et.label_zh if zh and et.label_zh else et.label) if et else node.type
        by_type: dict[str, int] = {}
        for e in self.graph.edges:
            if node_id in (e.source, e.target):
                by_type[e.type] = by_type.get(e.type, 0) + 1
        lines = [f"{kind}: {node.label or node_id.split(':', 1)[-1]}", node_id]
        for lt_name, n in sorted(by_type.items(), key=lambda kv: -kv[1]):
            lt = schema.links.get(lt_name)
            label = (getattr(lt, "label_zh", "") if zh else "") or (lt.label if lt else lt_name)
            lines.append(f"  {label} × {n}")
        return "\n".join(lines)

    def link_colour(self, link_type: str) -> str:
        """The colour a link type is drawn in: the saved chart's picture uses the same."""
        return link_colour(link_type)


LABEL_CHARS = 24  # a chart label longer than this is elided, unless it is an identifier


def chart_label(node_id: str, label: str | None, limit: int = LABEL_CHARS) -> str:
    """The text drawn beside a node: never a silently shortened identifier.

    The node's key (``J3304002026092100711`` of ``incident:J3304002026092100711``) is an
    identifier: it is shown whole, and so is a label that contains it (``入室盗窃
    J3304822026092700004``), up to twice ``limit``, beyond which the key alone is shown. Any
    other label longer than ``limit`` ends in "…", so a cut is always visible.
    """
    key = node_id.split(":", 1)[-1]
    text = label or key
    if len(text) <= limit or text == key:
        return text
    if key and key in text:
        return text if len(text) <= 2 * limit else key
    return text[: limit - 1] + "…"


def text_width_px(text: str) -> float:
    """About how wide ``text`` is drawn at the chart's label size (CJK glyphs are wider)."""
    return sum(13.0 if ord(c) >= 0x2E80 else 7.0 for c in text)


def place_labels(
    candidates: Sequence[tuple[str, float, float, str]],
    limit: int,
    line_px: float = 16.0,
    gap_px: float = 2.0,
) -> list[str]:
    """Which labels to draw so that none overlaps another: greedy, most relevant first.

    ``candidates`` are ``(node id, x px, y px, text)`` in order of relevance, positions in
    screen pixels (the label sits centred under its node). Zooming in spreads the nodes and
    more labels fit: the chart places them again on every zoom.
    """
    placed: list[tuple[float, float, float, float]] = []
    cells: dict[tuple[int, int], list[int]] = {}
    cell = 64.0
    out: list[str] = []
    for nid, x, y, text in candidates:
        if len(out) >= limit:
            break
        w = text_width_px(text) / 2 + gap_px
        box = (x - w, y, x + w, y + line_px + gap_px)
        keys = [
            (i, j)
            for i in range(int(box[0] // cell), int(box[2] // cell) + 1)
            for j in range(int(box[1] // cell), int(box[3] // cell) + 1)
        ]
        clash = any(
            box[0] < placed[k][2]
            and placed[k][0] < box[2]
            and box[1] < placed[k][3]
            and placed[k][1] < box[3]
            for key in keys
            for k in cells.get(key, ())
        )
        if clash:
            continue
        for key in keys:
            cells.setdefault(key, []).append(len(placed))
        placed.append(box)
        out.append(nid)
    return out


def _ramp(s: float) -> str:
    """Blue (low) → yellow → red (high)."""
    s = min(1.0, max(0.0, s))
    if s < 0.5:
        a = s / 0.5
        r, g, b = 61 + (237 - 61) * a, 139 + (201 - 139) * a, 253 + (72 - 253) * a
    else:
        a = (s - 0.5) / 0.5
        r, g, b = 237 + (229 - 237) * a, 201 + (83 - 201) * a, 72 + (75 - 72) * a
    return f"#{int(r):02x}{int(g):02x}{int(b):02x}"


def grow(
    store: Any,
    current: Sequence[str],
    seeds: Sequence[str],
    *,
    positions: dict[str, tuple[float, float]],
    link_types: Sequence[str] | None = None,
    depth: int = 1,
    max_nodes: int = 2000,
    keep_seeds: Sequence[str] = (),
    max_fanout: int | None = None,
    cancel: CancelToken | None = None,
) -> tuple[Any, dict[str, tuple[float, float]]]:
    """Expand ``seeds`` and return the chart's new graph (current ∪ new, all links among them)
    and positions in which only the new nodes moved. Runs in a worker thread."""
    from graph.expand import expand, induced_graph
    from graph.layout import layout

    budget = max(len(seeds) + 1, max_nodes - len(current) + len(seeds))
    found = expand(
        store,
        seeds,
        depth=depth,
        link_types=link_types,
        max_nodes=budget,
        max_fanout=max_fanout,
        cancel=cancel,
    )
    ids = list(dict.fromkeys([*current, *found.nodes]))
    merged = induced_graph(store, ids) if current else found
    merged.seeds = tuple(dict.fromkeys([*keep_seeds, *found.seeds]))
    merged.truncated = found.truncated
    merged.hubs = dict(found.hubs)
    for nid, node in found.nodes.items():
        if nid in merged.nodes:
            merged.nodes[nid].depth = node.depth
    fixed = {k: v for k, v in positions.items() if k in merged.nodes}
    return merged, layout(merged, fixed=fixed or None)


# -- the same work in the helper process (console.offload) -------------------------------------
_stores: dict[str, Any] = {}  # in the helper process: one open store per workspace


def _store_at(path: str) -> Any:
    store = _stores.get(path)
    if store is None:
        from core.store import Store

        store = _stores[path] = Store(Path(path))
    return store


def pack(
    graph: Any, positions: dict[str, tuple[float, float]], extra: Any = None
) -> dict[str, Any]:
    """A chart graph as separately pickled chunks (:func:`console.offload.chunked`)."""
    from console.offload import chunked

    return {
        "nodes": chunked(graph.nodes.values()),
        "edges": chunked(graph.edges),
        "positions": chunked(positions.items()),
        "seeds": tuple(graph.seeds),
        "truncated": graph.truncated,
        "extra": extra,
    }


def unpack(packed: dict[str, Any]) -> tuple[Any, dict[str, tuple[float, float]], Any]:
    """``(graph, positions, extra)`` from :func:`pack`, unpickled a chunk at a time."""
    from console.offload import unchunk
    from graph.model import GraphResult

    nodes = {n.id: n for n in unchunk(packed["nodes"])}
    graph = GraphResult(
        nodes=nodes,
        edges=unchunk(packed["edges"]),
        seeds=packed["seeds"],
        truncated=packed["truncated"],
    )
    return graph, dict(unchunk(packed["positions"])), packed["extra"]


def grow_packed(
    store_path: str,
    current: Sequence[str],
    seeds: Sequence[str],
    *,
    positions: dict[str, tuple[float, float]],
    link_types: Sequence[str] | None = None,
    depth: int = 1,
    max_nodes: int = 2000,
    keep_seeds: Sequence[str] = (),
    cancel: Any = None,
) -> dict[str, Any]:
    """:func:`grow` on the store at ``store_path``, packed; runs in the helper process."""
    graph, pos = grow(
        _store_at(store_path),
        current,
        seeds,
        positions=positions,
        link_types=link_types,
        depth=depth,
        max_nodes=max_nodes,
        keep_seeds=keep_seeds,
        cancel=cancel,
    )
    return pack(graph, pos)


#: Entity types a path should not run through by default: a camera every car passes is not a
#: connection between two cars.
HUB_TYPES = ("device",)


def path_link_types(
    exclude_hubs: Iterable[str] = (), exclude_links: Iterable[str] = ()
) -> list[str] | None:
    """The link types a path may use: all but ``exclude_links`` and those that only lead to or
    from a hub type in ``exclude_hubs`` (``passed`` leads only to devices); ``None`` = all.

    A link type open to any type (``*``) is kept: it is not specific to the hub.
    """
    hubs, weak = set(exclude_hubs), set(exclude_links)
    if not hubs and not weak:
        return None
    keep = []
    for name, lt in default_schema().links.items():
        ends = (set(lt.from_types), set(lt.to_types))
        if name in weak or any(end and end <= hubs for end in ends):
            continue
        keep.append(name)
    return keep


def path_graph(
    store: Any,
    current: Sequence[str],
    source: str,
    target: str,
    *,
    positions: dict[str, tuple[float, float]],
    keep_seeds: Sequence[str] = (),
    link_types: Sequence[str] | None = None,
    cancel: CancelToken | None = None,
) -> tuple[Any, dict[str, tuple[float, float]], list[str]]:
    """The chart plus a shortest path ``source`` → ``target`` (typed ids, plates… resolved),
    over ``link_types`` only when given: ``(graph, positions, path node ids)``; only the new
    nodes move."""
    from graph.entities import resolve_entity
    from graph.expand import find_path, induced_graph
    from graph.layout import layout

    path = find_path(
        store, source, resolve_entity(store, target), link_types=link_types, cancel=cancel
    )
    ids = list(dict.fromkeys([*current, *path.nodes]))
    merged = induced_graph(store, ids)
    merged.seeds = tuple(keep_seeds)
    fixed = {k: v for k, v in positions.items() if k in merged.nodes}
    return merged, layout(merged, fixed=fixed or None), list(path.seeds)


def with_entities(
    store: Any,
    current: Sequence[str],
    new: Sequence[str],
    *,
    positions: dict[str, tuple[float, float]],
    keep_seeds: Sequence[str] = (),
) -> tuple[Any, dict[str, tuple[float, float]]]:
    """The chart plus the entities ``new`` and the links among all of them (e.g. vehicles
    moving together and the checkpoints where they met); only the new nodes move."""
    from graph.expand import induced_graph
    from graph.layout import layout

    ids = list(dict.fromkeys([*current, *new]))
    merged = induced_graph(store, ids)
    merged.seeds = tuple(keep_seeds)
    fixed = {k: v for k, v in positions.items() if k in merged.nodes}
    return merged, layout(merged, fixed=fixed or None)


def path_packed(
    store_path: str,
    current: Sequence[str],
    source: str,
    target: str,
    *,
    positions: dict[str, tuple[float, float]],
    keep_seeds: Sequence[str] = (),
    link_types: Sequence[str] | None = None,
    cancel: Any = None,
) -> dict[str, Any]:
    """:func:`path_graph` on the store at ``store_path``, packed; runs in the helper process."""
    graph, pos, hops = path_graph(
        _store_at(store_path),
        current,
        source,
        target,
        positions=positions,
        keep_seeds=keep_seeds,
        link_types=link_types,
        cancel=cancel,
    )
    return pack(graph, pos, hops)
