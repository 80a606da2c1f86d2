"""Write a graph result as GraphML, GEXF, or nodes/edges CSV (Gephi, i2 Analyst's Notebook).

GraphML and GEXF hold only scalars, so lists (times, record uids, aliases) and dicts are written
as JSON strings and ``None`` as an empty string. Times are ISO-8601 wall-clock times in the
workspace's zone with their offset (``2026-03-01T23:30:00-05:00``). The CSV pair follows
Gephi's spreadsheet import (``Id``/``Label`` and ``Source``/``Target``/``Type``/``Weight``) and
imports into i2 Analyst's Notebook with an import specification mapping the same columns.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.csvsafe import SafeWriter
from core.timezones import DEFAULT_ZONE, iso_local, zone_named
from graph.errors import ExportError
from graph.model import GraphResult

log = logging.getLogger(__name__)

FORMATS = ("graphml", "gexf", "csv")
NODE_COLUMNS = ["Id", "Label", "EntityType", "Aliases", "Props"]
EDGE_COLUMNS = [
    "Source",
    "Target",
    "Type",
    "Label",
    "Weight",
    "First",
    "Last",
    "Times",
    "RecordUids",
]


def _scalar(value: Any) -> str | int | float | bool:
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def export_graph(
    graph: GraphResult,
    path: Path,
    fmt: str | None = None,
    *,
    workspace: Any = None,
    case: str | None = None,
) -> list[Path]:
    """Write ``graph`` to ``path`` and return the files written.

    ``fmt`` is one of :data:`FORMATS` (default: from the suffix). ``csv`` writes
    ``<stem>.nodes.csv`` and ``<stem>.edges.csv`` next to ``path``. Times are written in the
    zone of ``workspace`` (Asia/Shanghai without one) with their offset. With ``workspace``, the
    session must hold the ``export`` permission (a refusal is audited and raises
    ``core.security.PermissionDeniedError``) and the export is audited as ``graph.export``.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ExportError(f"{str(path)!r}: unknown export format {fmt!r}; use one of {FORMATS}")
    if workspace is None:
        return _write(graph, path, fmt, zone_named(DEFAULT_ZONE))
    return audited_export(
        workspace, graph, path, fmt, lambda: _write(graph, path, fmt, workspace.zone), case=case
    )


def audited_export(
    workspace: Any,
    graph: GraphResult,
    path: Path,
    fmt: str,
    write: Callable[[], list[Path]],
    *,
    case: str | None = None,
) -> list[Path]:
    """Run ``write()`` (which writes ``graph`` to ``path`` in ``fmt``; e.g. a chart picture)
    only if the session holds the ``export`` permission (a refusal is audited and raises
    ``core.security.PermissionDeniedError``) and, when ``case`` is given, is a member of that
    case (``core.errors.CaseRefusedError`` otherwise, audited), and audit the files it wrote as
    ``graph.export``."""
    from core.security import require

    user = require(workspace, "export", action="graph.export", file=str(path)).user
    if case:  # an export names a case the user belongs to (docs/CASES.md)
        from core.case_gate import require_case_member

        require_case_member(workspace, case, user, "graph.export")
    files = write()
    workspace.audit.append(
        user,
        "graph.export",
        {
            "files": [str(f) for f in files],
            "sha256": [_sha256(f) for f in files],
            "format": fmt,
            "nodes": len(graph.nodes),
            "edges": len(graph.edges),
            "seeds": list(graph.seeds),
        },
        case=case,
    )
    return files


def _sha256(path: Path) -> str:
    """The file's SHA-256 (what the audit entry records, and a downloading client checks)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write(graph: GraphResult, path: Path, fmt: str, zone: Any) -> list[Path]:
    import networkx as nx

    def iso(t: float | None) -> str | None:
        return iso_local(t, zone)

    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return _write_csv(graph, path, iso)
    g = nx.MultiDiGraph()
    for n in graph.nodes.values():
        props = {f"prop_{k}": _scalar(v) for k, v in n.props.items()}
        g.add_node(n.id, label=n.label, type=n.type, aliases=_scalar(list(n.aliases)), **props)
    for e in graph.edges:
        # GEXF reserves an edge's "type" for directed/undirected and needs unique edge ids
        attrs: dict[str, Any] = {
            "link_type": e.type,
            "label": e.type,
            "weight": e.count,
            "count": e.count,
            "first": _scalar(iso(e.first)),
            "last": _scalar(iso(e.last)),
            "times": _scalar([iso(t) for t in e.times]),
            "record_uids": _scalar(e.record_uids),
            "directed": e.directed,
        }
        key = e.type if fmt == "graphml" else f"{e.source}|{e.target}|{e.type}"
        g.add_edge(e.source, e.target, key=key, **attrs)
    try:
        if fmt == "graphml":
            nx.write_graphml(g, path, encoding="utf-8")
        else:
            nx.write_gexf(g, path, encoding="utf-8")
    except (OSError, nx.NetworkXError) as exc:
        raise ExportError(f"{str(path)!r}: cannot write {fmt}: {exc}") from exc
    return [path]


def _write_csv(
    graph: GraphResult, path: Path, iso: Callable[[float | None], str | None]
) -> list[Path]:
    stem = path.with_suffix("") if path.suffix.lower() == ".csv" else path
    nodes_path = stem.with_name(stem.name + ".nodes.csv")
    edges_path = stem.with_name(stem.name + ".edges.csv")
    try:
        with nodes_path.open("w", newline="", encoding="utf-8-sig") as fh:
            w = SafeWriter(fh)  # formula cells neutralised (core.csvsafe)
            w.writerow(NODE_COLUMNS)
            for n in graph.nodes.values():
                w.writerow([n.id, n.label, n.type, _scalar(list(n.aliases)), _scalar(n.props)])
        with edges_path.open("w", newline="", encoding="utf-8-sig") as fh:
            w = SafeWriter(fh)  # formula cells neutralised (core.csvsafe)
            w.writerow(EDGE_COLUMNS)
            for e in graph.edges:
                w.writerow(
                    [
                        e.source,
                        e.target,
                        "Directed" if e.directed else "Undirected",
                        e.type,
                        e.count,
                        iso(e.first) or "",
                        iso(e.last) or "",
                        _scalar([iso(t) for t in e.times]),
                        _scalar(e.record_uids),
                    ]
                )
    except OSError as exc:
        raise ExportError(f"{str(path)!r}: cannot write CSV: {exc}") from exc
    return [nodes_path, edges_path]
