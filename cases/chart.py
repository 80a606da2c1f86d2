"""The saved-chart document: what a link chart is, as JSON, and what can be done with it
without a window.

A chart document (``format`` 1) keeps everything needed to draw the chart again exactly as it
was saved, without asking the store: the nodes and aggregated edges themselves (so more data
ingested later changes nothing), positions, the pinned and hidden sets, the colouring mode with
its scores or communities, the analyst's per-node style overrides, named groupings, and where
the chart came from (seeds, a query, a path). :func:`offered_links` compares a saved chart with
the store *now* and lists links that appeared since: the console offers them, never forces
them in. :func:`chart_svg` draws the chart as an SVG picture with a title block and legend.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from cases.errors import CaseInvalidError

FORMAT = 1
MAX_NODES = 20_000
MAX_EDGES = 200_000
MAX_BYTES = 64 * 1024 * 1024
COLOUR_MODES = ("type", "centrality", "community")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
SYMBOLS = ("o", "s", "t", "t1", "d", "h", "p", "star")

#: The link chart's palettes: the console's chart model draws with these too, so a saved
#: chart's picture looks like the chart on screen.
COMMUNITY_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
LINK_COLOURS = (
    "#8a9bb0",
    "#f28e2b",
    "#76b7b2",
    "#e15759",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#4e79a7",
)


# -- the document ---------------------------------------------------------------------------------
def chart_document(
    graph: Any,
    *,
    positions: dict[str, tuple[float, float]],
    pinned: Iterable[str] = (),
    hidden: Iterable[str] = (),
    colour_mode: str = "type",
    scores: dict[str, float] | None = None,
    community: dict[str, int] | None = None,
    styles: dict[str, dict[str, Any]] | None = None,
    groups: list[dict[str, Any]] | None = None,
    origin: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A chart document from a ``graph.model.GraphResult`` (or ``None``) and the chart state."""
    nodes, edges, seeds, truncated = [], [], [], False
    if graph is not None:
        nodes = [
            {
                "id": n.id,
                "type": n.type,
                "label": n.label,
                "props": dict(n.props),
                "aliases": list(n.aliases),
                "depth": n.depth,
            }
            for n in graph.nodes.values()
        ]
        edges = [
            {
                "source": e.source,
                "target": e.target,
                "type": e.type,
                "count": e.count,
                "times": list(e.times),
                "record_uids": list(e.record_uids),
                "directed": e.directed,
            }
            for e in graph.edges
        ]
        seeds, truncated = list(graph.seeds), bool(graph.truncated)
    doc = {
        "format": FORMAT,
        "nodes": nodes,
        "edges": edges,
        "seeds": seeds,
        "truncated": truncated,
        "positions": {k: [float(v[0]), float(v[1])] for k, v in positions.items()},
        "pinned": sorted(pinned),
        "hidden": sorted(hidden),
        "colour_mode": colour_mode,
        "scores": dict(scores or {}),
        "community": dict(community or {}),
        "styles": dict(styles or {}),
        "groups": list(groups or []),
        "origin": dict(origin or {}),
    }
    return validate(doc)


def validate(doc: Any) -> dict[str, Any]:
    """``doc`` if it is a well-formed, bounded chart document; :class:`CaseInvalidError` naming
    the first problem otherwise (nothing is saved)."""
    if not isinstance(doc, dict):
        raise CaseInvalidError(f"chart: expected a JSON object, got {type(doc).__name__}")
    if doc.get("format") != FORMAT:
        raise CaseInvalidError(f"chart: format {doc.get('format')!r} is not {FORMAT}")
    nodes, edges = doc.get("nodes"), doc.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise CaseInvalidError("chart: 'nodes' and 'edges' must be lists")
    if len(nodes) > MAX_NODES or len(edges) > MAX_EDGES:
        raise CaseInvalidError(
            f"chart: {len(nodes)} nodes / {len(edges)} edges; at most {MAX_NODES} / {MAX_EDGES}"
        )
    ids = set()
    for i, n in enumerate(nodes):
        if (
            not isinstance(n, dict)
            or not isinstance(n.get("id"), str)
            or not isinstance(n.get("type"), str)
        ):
            raise CaseInvalidError(f"chart: node {i} needs a string 'id' and 'type'")
        ids.add(n["id"])
    for i, e in enumerate(edges):
        if not isinstance(e, dict) or e.get("source") not in ids or e.get("target") not in ids:
            raise CaseInvalidError(f"chart: edge {i} must join two nodes of the chart")
    positions = doc.get("positions", {})
    if not isinstance(positions, dict):
        raise CaseInvalidError("chart: 'positions' must map node ids to [x, y]")
    for nid, xy in positions.items():
        if nid not in ids or not (
            isinstance(xy, list)
            and len(xy) == 2
            and all(isinstance(v, int | float) and math.isfinite(v) for v in xy)
        ):
            raise CaseInvalidError(
                f"chart: position of {nid!r} must be two finite numbers of a node on the chart"
            )
    for key in ("pinned", "hidden"):
        if not isinstance(doc.get(key, []), list):
            raise CaseInvalidError(f"chart: {key!r} must be a list of node ids")
    if doc.get("colour_mode", "type") not in COLOUR_MODES:
        raise CaseInvalidError(
            f"chart: colour_mode {doc.get('colour_mode')!r} must be one of "
            f"{', '.join(COLOUR_MODES)}"
        )
    for nid, style in (doc.get("styles") or {}).items():
        if not isinstance(style, dict):
            raise CaseInvalidError(f"chart: style of {nid!r} must be an object")
        if "colour" in style and not _COLOUR.match(str(style["colour"])):
            raise CaseInvalidError(
                f"chart: style colour {style['colour']!r} of {nid!r} must be #RRGGBB"
            )
        if "size" in style and not (
            isinstance(style["size"], int | float) and 1 <= style["size"] <= 100
        ):
            raise CaseInvalidError(f"chart: style size of {nid!r} must be 1..100")
        if "symbol" in style and style["symbol"] not in SYMBOLS:
            raise CaseInvalidError(
                f"chart: style symbol {style['symbol']!r} of {nid!r} must "
                f"be one of {', '.join(SYMBOLS)}"
            )
    for i, g in enumerate(doc.get("groups") or []):
        if (
            not isinstance(g, dict)
            or not isinstance(g.get("name"), str)
            or not isinstance(g.get("members"), list)
        ):
            raise CaseInvalidError(f"chart: group {i} needs a 'name' and a 'members' list")
        if "colour" in g and not _COLOUR.match(str(g["colour"])):
            raise CaseInvalidError(f"chart: group {g['name']!r} colour must be #RRGGBB")
    if len(json.dumps(doc, ensure_ascii=False)) > MAX_BYTES:
        raise CaseInvalidError(f"chart: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return doc


def to_graph(doc: dict[str, Any]) -> Any:
    """The ``graph.model.GraphResult`` a chart document holds (exactly as saved)."""
    from graph.model import GraphEdge, GraphNode, GraphResult

    nodes = {
        n["id"]: GraphNode(
            n["id"],
            n["type"],
            n.get("label", ""),
            dict(n.get("props", {})),
            tuple(n.get("aliases", ())),
            n.get("depth"),
        )
        for n in doc["nodes"]
    }
    edges = [
        GraphEdge(
            e["source"],
            e["target"],
            e["type"],
            int(e.get("count", 0)),
            [float(t) for t in e.get("times", ())],
            list(e.get("record_uids", ())),
            bool(e.get("directed", True)),
        )
        for e in doc["edges"]
    ]
    return GraphResult(
        nodes=nodes,
        edges=edges,
        seeds=tuple(doc.get("seeds", ())),
        truncated=bool(doc.get("truncated", False)),
    )


def record_uids(doc: dict[str, Any]) -> list[str]:
    """Every evidence record behind the chart's edges, in first-seen order."""
    seen: dict[str, None] = {}
    for e in doc.get("edges", ()):
        for uid in e.get("record_uids", ()):
            seen.setdefault(uid, None)
    return list(seen)


def offered_links(store: Any, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Links among the chart's nodes that the store has now and the saved chart does not
    (new pairs, or more links on a saved pair): offered to the analyst, never forced in."""
    from graph.expand import induced_graph

    ids = [n["id"] for n in doc["nodes"]]
    if not ids:
        return []
    saved = {(e["source"], e["target"], e["type"]): int(e.get("count", 0)) for e in doc["edges"]}
    now = induced_graph(store, ids)
    out = []
    for e in now.edges:
        before = saved.get(e.key)
        if before is None or e.count > before:
            out.append(
                {
                    "source": e.source,
                    "target": e.target,
                    "type": e.type,
                    "count": e.count,
                    "saved_count": before or 0,
                    "record_uids": list(e.record_uids),
                }
            )
    return out


# -- drawing --------------------------------------------------------------------------------------
def link_colour(link_type: str) -> str:
    """The colour of a link type: its place among the schema's link types, in LINK_COLOURS."""
    from core.schema import default_schema

    names = sorted(default_schema().links)
    i = names.index(link_type) if link_type in names else len(names)
    return LINK_COLOURS[i % len(LINK_COLOURS)]


def node_colour(doc: dict[str, Any], node: dict[str, Any]) -> str:
    """The colour the chart shows ``node`` in: the analyst's override, else its community,
    else its entity type's colour."""
    from core.schema import default_schema

    style = (doc.get("styles") or {}).get(node["id"], {})
    if "colour" in style:
        return str(style["colour"])
    if doc.get("colour_mode") == "community" and node["id"] in (doc.get("community") or {}):
        c = int(doc["community"][node["id"]])
        return COMMUNITY_COLOURS[c % len(COMMUNITY_COLOURS)]
    et = default_schema().entities.get(node["type"])
    return et.color if et else "#888888"


def chart_svg(
    doc: dict[str, Any],
    *,
    title: str,
    case: str,
    classification: str,
    date_text: str,
    noted: Iterable[str] = (),
    width: int = 1000,
    height: int = 760,
) -> str:
    """The chart as an SVG picture: title, case number and classification above, the chart,
    a legend of the entity types, link types and groups shown, and the date and classification
    below. ``noted`` node ids carry a note marker. Every text is XML-escaped."""
    from core.schema import default_schema

    schema = default_schema()
    hidden = set(doc.get("hidden", ()))
    pos = doc.get("positions", {})
    nodes = [n for n in doc["nodes"] if n["id"] not in hidden and n["id"] in pos]
    shown = {n["id"] for n in nodes}
    edges = [e for e in doc["edges"] if e["source"] in shown and e["target"] in shown]
    top, legend_w, bottom = 70, 230, 40
    plot_w, plot_h = width - legend_w - 20, height - top - bottom
    xs = [pos[n["id"]][0] for n in nodes] or [0.0]
    ys = [pos[n["id"]][1] for n in nodes] or [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1e-9)

    def at(nid: str) -> tuple[float, float]:
        x, y = pos[nid]
        return (
            20 + 30 + (x - x0) / span * (plot_w - 60),
            top + 30 + (y1 - y) / span * (plot_h - 60),
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC, sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="20" y="30" font-size="20" font-weight="bold">{escape(title)}</text>',
        f'<text x="20" y="54" font-size="13">{escape("Case " + case)}</text>',
        f'<text x="{width - 20}" y="30" font-size="14" text-anchor="end" fill="#b00020" '
        f'font-weight="bold">{escape(classification)}</text>',
        f'<rect x="20" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#cccccc"/>',
    ]
    for e in edges:
        (ax, ay), (bx, by) = at(e["source"]), at(e["target"])
        out.append(
            f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
            f'stroke="{link_colour(e["type"])}" stroke-width="'
            f'{1 + min(4.0, math.log1p(int(e.get("count", 1)))):.1f}"/>'
        )
    for g in doc.get("groups") or []:
        members = [m for m in g["members"] if m in shown]
        if not members:
            continue
        pts = [at(m) for m in members]
        gx0, gy0 = min(p[0] for p in pts) - 18, min(p[1] for p in pts) - 18
        gx1, gy1 = max(p[0] for p in pts) + 18, max(p[1] for p in pts) + 18
        colour = g.get("colour", "#999999")
        out.append(
            f'<rect x="{gx0:.1f}" y="{gy0:.1f}" width="{gx1 - gx0:.1f}" '
            f'height="{gy1 - gy0:.1f}" rx="8" fill="{colour}" fill-opacity="0.08" '
            f'stroke="{colour}" stroke-dasharray="4 3"/>'
        )
        out.append(
            f'<text x="{gx0 + 4:.1f}" y="{gy0 - 3:.1f}" font-size="11" '
            f'fill="{colour}">{escape(g["name"])}</text>'
        )
    noted_ids = set(noted)
    seeds = set(doc.get("seeds", ()))
    for n in nodes:
        x, y = at(n["id"])
        style = (doc.get("styles") or {}).get(n["id"], {})
        r = float(style.get("size", 12)) / 2 + (2 if n["id"] in seeds else 0)
        colour = node_colour(doc, n)
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}" '
            f'stroke="#333333" stroke-width="0.8"/>'
        )
        out.append(
            f'<text x="{x + r + 3:.1f}" y="{y + 4:.1f}" font-size="10">'
            f"{escape(n.get('label') or n['id'])}</text>"
        )
        if n["id"] in noted_ids:
            out.append(
                f'<text x="{x - r - 2:.1f}" y="{y - r:.1f}" font-size="12" '
                f'text-anchor="end" fill="#b00020">✎</text>'
            )
    lx, ly = width - legend_w + 10, top + 10
    out.append(f'<text x="{lx}" y="{ly}" font-size="13" font-weight="bold">Legend</text>')
    ly += 18
    for etype in sorted({n["type"] for n in nodes}):
        et = schema.entities.get(etype)
        label = et.label if et is not None and et.label else etype
        out.append(
            f'<circle cx="{lx + 6}" cy="{ly - 4}" r="5" fill="{et.color if et else "#888888"}"/>'
        )
        out.append(f'<text x="{lx + 16}" y="{ly}" font-size="11">{escape(str(label))}</text>')
        ly += 16
    for ltype in sorted({e["type"] for e in edges}):
        out.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 12}" y2="{ly - 4}" '
            f'stroke="{link_colour(ltype)}" stroke-width="2"/>'
        )
        out.append(f'<text x="{lx + 16}" y="{ly}" font-size="11">{escape(ltype)}</text>')
        ly += 16
    for g in doc.get("groups") or []:
        out.append(
            f'<rect x="{lx}" y="{ly - 10}" width="12" height="9" fill="none" '
            f"stroke={quoteattr(str(g.get('colour', '#999999')))} "
            f'stroke-dasharray="3 2"/>'
        )
        out.append(f'<text x="{lx + 16}" y="{ly}" font-size="11">{escape(g["name"])}</text>')
        ly += 16
    if noted_ids & shown:
        out.append(f'<text x="{lx + 2}" y="{ly}" font-size="12" fill="#b00020">✎</text>')
        out.append(f'<text x="{lx + 16}" y="{ly}" font-size="11">has notes</text>')
        ly += 16
    out.append(
        f'<text x="{lx}" y="{ly + 6}" font-size="10" fill="#555555">'
        f"{len(nodes)} entities, {len(edges)} links shown</text>"
    )
    out.append(
        f'<text x="20" y="{height - 14}" font-size="11" fill="#555555">{escape(date_text)}</text>'
    )
    out.append(
        f'<text x="{width - 20}" y="{height - 14}" font-size="12" text-anchor="end" '
        f'fill="#b00020" font-weight="bold">{escape(classification)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out)
