"""``superbrain graph …``: expand, path, central, communities, cooccur, timeline, export, resolve,
index.

Entities are given by id (``vehicle:浙F12345``) or by a raw plate / phone / ID number, which is
normalised. Every subcommand takes ``--json``; queries are written to the workspace audit log.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.cli_support import (
    Column,
    add_json_arg,
    add_workspace_arg,
    call_with_progress,
    cancel_on_sigint,
    emit,
    local_time,
    service_context,
    table,
    time_arg,
    zone_caption,
)
from core.services import call
from graph.errors import GraphError


def _types(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _common(p: argparse.ArgumentParser, *, window: bool = True) -> None:
    add_workspace_arg(p)
    add_json_arg(p)
    p.add_argument("--case", help="case number recorded in the audit log")
    if window:
        p.add_argument("--types", type=_types, help="link types, comma-separated (default all)")
        p.add_argument(
            "--start",
            type=time_arg,
            help="only links observed from this time (workspace time zone unless "
            "an offset is given)",
        )
        p.add_argument("--end", type=time_arg, help="only links observed up to this time")


def _neighbourhood_args(p: argparse.ArgumentParser, depth: int = 2) -> None:
    p.add_argument("entities", nargs="+", help="entity ids or raw plate/phone/ID numbers")
    p.add_argument("--depth", type=int, default=depth, help=f"hops (default {depth})")
    p.add_argument("--max-nodes", type=int, default=2000, help="node cap (default 2000)")


def _window(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "link_types": getattr(args, "types", None),
        "start": getattr(args, "start", None),
        "end": getattr(args, "end", None),
        "case": getattr(args, "case", None),
    }


def _neighbourhood(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "entities": args.entities,
        "depth": args.depth,
        "max_nodes": args.max_nodes,
        **_window(args),
    }


def _truncated(truncated: bool) -> list[str]:
    """The note (stderr, text output only) of a result cut at the node cap."""
    return (
        ["note: truncated at the node cap (raise --max-nodes or narrow --types/--start/--end)"]
        if truncated
        else []
    )


# Each command calls one graph service (graph/service.py), which checks graph.read (export:
# export) for the authenticated session and audits the query with its case number.
def cmd_expand(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    result = call("graph.expand", ctx, **_neighbourhood(args), cancel=cancel_on_sigint())
    zone = ctx.workspace.zone
    lines = [
        f"{len(result.nodes)} entities, {len(result.edges)} edges"
        + (" (truncated)" if result.truncated else "")
        + f"; times in {zone_caption(zone)}"
    ]
    lines += [
        f"  {e.source} -[{e.type} ×{e.count}]-> {e.target}  "
        f"{_when(e.first, zone)} … {_when(e.last, zone)}"
        for e in result.edges
    ]
    return emit(args, result.to_dict(), lines, _truncated(result.truncated))


def _when(t: float | None, zone: Any) -> str:
    return "" if t is None else local_time(t, zone, label=False)


def cmd_path(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    found = call(
        "graph.path",
        ctx,
        source=args.source,
        target=args.target,
        max_hops=args.max_hops,
        k=args.k,
        time_order=args.time_order,
        max_nodes=args.max_nodes,
        cancel=cancel_on_sigint(),
        **_window(args),
    )
    if not found:
        print("no path found", file=sys.stderr)
        return 1
    lines = []
    for n, p in enumerate(found, 1):
        lines.append(f"path {n}: {p.length} hops")
        for h in p.hops:
            types = ",".join(sorted({e.type for e in h.edges}))
            when = (
                f" at {local_time(h.time, ctx.workspace.zone)} ({h.record_uid})"
                if h.time is not None
                else ""
            )
            lines.append(f"  {h.source} -[{types}]- {h.target}{when}")
    return emit(args, [p.to_dict() for p in found], lines)


def cmd_central(args: argparse.Namespace) -> int:
    from graph.analysis import most_connected

    ctx = service_context(args)
    result = call("graph.expand", ctx, **_neighbourhood(args), cancel=cancel_on_sigint())
    scores = call("graph.centrality", ctx, graph=result, measures=args.measures, case=args.case)
    lines = []
    for m in args.measures:
        approx = " (approximate)" if scores.approximate.get(m) else ""
        lines.append(f"{m}{approx}:")
        lines += [f"  {s:10.4f}  {nid}" for nid, s in scores.top(m, args.top)]
    emit(
        args,
        {
            "centrality": scores.to_dict(args.top),
            "truncated": result.truncated,
            "most_connected": [c.to_dict() for c in most_connected(result, args.top)],
        },
        lines,
        _truncated(result.truncated),
    )
    return 0


def cmd_communities(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    result = call("graph.expand", ctx, **_neighbourhood(args), cancel=cancel_on_sigint())
    found = call("graph.communities", ctx, graph=result, resolution=args.resolution, case=args.case)
    emit(
        args,
        {"communities": found, "truncated": result.truncated},
        [
            f"community {n} ({len(members)}): {', '.join(members[:12])}"
            + (" …" if len(members) > 12 else "")
            for n, members in enumerate(found, 1)
        ],
        _truncated(result.truncated),
    )
    return 0


def cmd_cooccur(args: argparse.Namespace) -> int:
    found = call(
        "graph.cooccur",
        service_context(args),
        target=args.target,
        window=args.window,
        min_count=args.min_count,
        min_places=args.min_places,
        link_type=args.link_type,
        start=args.start,
        end=args.end,
        top=args.top,
        case=args.case,
        cancel=cancel_on_sigint(),
    )
    return emit(
        args,
        [r.to_dict() for r in found],
        [
            f"  {r.count:4d} meetings  {r.places:3d} places  {r.days:3d} days  {r.a}  ~  {r.b}"
            for r in found
        ]
        or ["no co-occurrence at these thresholds"],
    )


def cmd_timeline(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    out = call(
        "graph.timeline",
        ctx,
        entity=args.entity,
        start=args.start,
        end=args.end,
        limit=args.limit,
        case=args.case,
    )
    events = out["events"]
    lines = table(
        events,
        [
            Column("time", lambda e: e.time, time=True, seconds=True),
            Column("source", lambda e: e.source, 12),
            Column("title", lambda e: e.title),
        ],
        ctx.workspace.zone,
    )
    return emit(
        args,
        {
            "entity": out["entity"],
            "events": [e.to_dict() for e in events],
            "day_hour": out["day_hour"],
        },
        [*lines, f"{len(events)} events"],
    )


def cmd_export(args: argparse.Namespace) -> int:
    out = call(
        "graph.export",
        service_context(args),
        **_neighbourhood(args),
        output=str(args.output),
        format=args.format,
        cancel=cancel_on_sigint(),
    )
    emit(
        args,
        out,
        [f"wrote {out['nodes']} entities, {out['edges']} edges to " + ", ".join(out["files"])],
        _truncated(out["truncated"]),
    )
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    out: Any
    cmd = args.resolve_cmd
    if cmd == "propose":
        out = [
            p.to_dict()
            for p in call(
                "graph.merge_proposals",
                ctx,
                entity_type=args.type,
                min_score=args.min_score,
                limit=args.limit,
                apply_auto=args.apply_auto,
            )
        ]
    elif cmd == "accept":
        out = call(
            "graph.merge_accept", ctx, alias=args.alias, canonical=args.canonical, case=args.case
        ).to_dict()
    elif cmd == "reject":
        out = {"rejected": call("graph.merge_reject", ctx, a=args.a, b=args.b, case=args.case)}
    elif cmd == "split":
        out = call("graph.merge_split", ctx, alias=args.alias, case=args.case).to_dict()
    elif cmd == "undo":
        out = call("graph.merge_undo", ctx, merge_id=args.merge_id, case=args.case).to_dict()
    elif cmd == "explain":
        out = [m.to_dict() for m in call("graph.merges", ctx, entity=args.entity)]
    elif cmd == "unsure":
        out = {
            "unsure": call(
                "graph.merge_unsure", ctx, a=args.a, b=args.b, note=args.note, case=args.case
            )
        }
    elif cmd == "queue":
        out = call("graph.merge_queue", ctx, min_score=args.min_score, limit=args.limit)
    elif cmd == "clusters":
        out = [c.to_dict() for c in call("graph.merge_clusters", ctx, min_score=args.min_score)][
            : args.limit
        ]
    else:
        out = [m.to_dict() for m in call("graph.merges", ctx, active_only=not args.all)]
    return emit(args, out, _resolve_lines(out if isinstance(out, list) else [out]))


def _resolve_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in rows:
        if "score" in r and "rule" in r and "alias" not in r:
            lines.append(
                f"  {r['score']:.2f} {r['rule']:<26} {r['a']}  ≈  {r['b']}"
                + ("  [not sure]" if r.get("unsure") else "")
            )
            lines += [
                f"      {fname:<11} {f['weight']:+6.2f}  {f['level']}: "
                f"{f['a'] or '—'} | {f['b'] or '—'}"
                for fname, f in (r.get("evidence", {}).get("fields") or {}).items()
            ]
        elif "members" in r:
            weak = r["weakest"]
            lines.append(
                f"  {len(r['members'])} entities: {', '.join(r['members'])}; weakest "
                f"link {weak[0]} ≈ {weak[1]} ({weak[2]:.3f})"
            )
        elif "alias" in r:
            state = "active" if r["undone_at"] is None else "undone"
            lines.append(
                f"  merge {r['id']} [{state}] {r['alias']} → {r['canonical']} "
                f"({r['rule']}, {r['score']:.2f}, by {r['user']})"
            )
        else:
            lines.append(f"  {r}")
    return lines or ["nothing"]


def cmd_index(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    if not (args.drop or args.status):
        print("building covering indexes (minutes on millions of links) …", file=sys.stderr)
    out = call("graph.index", ctx, drop=args.drop, status_only=args.status)
    return emit(
        args,
        out,
        [
            f"changed: {', '.join(out['changed']) or 'nothing'}; present: "
            f"{', '.join(out['present']) or 'none'}"
        ],
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    report = call_with_progress(
        "graph.migrate",
        service_context(args),
        "[graph migrate]",
        restart=args.restart,
        threads=args.threads,
    )
    lines = []
    if report.stale:
        lines.append(f"the ingest could not reach the cluster ({report.stale}): copied again")
    lines.append(
        f"{report.entities:,} entities and {report.links:,} links copied into "
        f"{report.target} (the store holds {report.total_entities:,} and "
        f"{report.total_links:,})"
    )
    if report.cancelled:
        lines.append("cancelled: the copied batches are kept; run the same command to resume")
    elif report.complete:
        lines.append(
            'done: set [graph] backend = "elasticsearch" in superbrain.toml to read the '
            "graph from the cluster (the ingest then keeps it in step)"
        )
    emit(args, report.to_dict(), lines)
    return 130 if report.cancelled else 0


def register(subparsers: Any) -> None:
    """Add ``superbrain graph …`` to the main parser."""
    graph = subparsers.add_parser(
        "graph",
        help="link analysis: neighbourhoods, paths, "
        "centrality, communities, co-occurrence, timeline, export",
    )
    sub = graph.add_subparsers(dest="graph_cmd", required=True, metavar="SUBCOMMAND")

    p = sub.add_parser("expand", help="the neighbourhood of entities, with evidence")
    _neighbourhood_args(p)
    _common(p)
    p.set_defaults(func=_run(cmd_expand))

    p = sub.add_parser("path", help="shortest / k-shortest / time-ordered paths")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--max-hops", type=int, default=6)
    p.add_argument("--k", type=int, default=1, help="number of paths (default 1)")
    p.add_argument(
        "--time-order",
        action="store_true",
        help="each hop no earlier than the one before (time flow)",
    )
    p.add_argument(
        "--max-nodes",
        type=int,
        default=20000,
        help="node cap for k-paths / time-ordered search (default 20000)",
    )
    _common(p)
    p.set_defaults(func=_run(cmd_path))

    p = sub.add_parser("central", help="degree, betweenness, PageRank, eigenvector")
    _neighbourhood_args(p)
    p.add_argument(
        "--measures", type=_types, default=["degree", "betweenness", "pagerank", "eigenvector"]
    )
    p.add_argument("--top", type=int, default=10)
    _common(p)
    p.set_defaults(func=_run(cmd_central))

    p = sub.add_parser("communities", help="Louvain communities of a neighbourhood")
    _neighbourhood_args(p)
    p.add_argument("--resolution", type=float, default=1.0)
    _common(p)
    p.set_defaults(func=_run(cmd_communities))

    p = sub.add_parser(
        "cooccur",
        help="伴随: who passes the same checkpoints with a target (or all pairs, without a target)",
    )
    p.add_argument("target", nargs="?", help="vehicle / phone / tag (omit for all pairs)")
    p.add_argument("--window", type=float, default=60.0, help="± seconds (default 60)")
    p.add_argument(
        "--min-count", type=int, default=2, help="least distinct (device, day) meetings (default 2)"
    )
    p.add_argument("--min-places", type=int, default=1, help="least distinct devices")
    p.add_argument("--link-type", default="passed")
    p.add_argument("--top", type=int, default=20)
    _common(p)
    p.set_defaults(func=_run(cmd_cooccur))

    p = sub.add_parser("timeline", help="an entity's events in time order, all sources")
    p.add_argument("entity")
    p.add_argument("--limit", type=int, default=None)
    _common(p)
    p.set_defaults(func=_run(cmd_timeline))

    p = sub.add_parser("export", help="GraphML / GEXF / CSV for Gephi and i2")
    _neighbourhood_args(p)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument(
        "--format", choices=("graphml", "gexf", "csv"), help="default: from the output suffix"
    )
    _common(p)
    p.set_defaults(func=_run(cmd_export))

    p = sub.add_parser(
        "index",
        help="build (or --drop) covering indexes: 3-5x faster graph "
        "queries for ~60%% more disk and slower ingest",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--drop", action="store_true", help="remove them (e.g. before a big ingest)")
    group.add_argument("--status", action="store_true", help="only show which exist")
    _common(p, window=False)
    p.set_defaults(func=_run(cmd_index))

    p = sub.add_parser(
        "migrate",
        help="copy the graph into the cluster (Elasticsearch); resumable",
        description="Copy the workspace's entities and links into its cluster graph "
        "([graph] index_prefix on the [search] url, or [graph] url): progress on stderr, "
        "Ctrl+C stops after the batch in flight and the same command resumes. Run it before "
        'setting [graph] backend = "elasticsearch"; after that the ingest keeps the cluster '
        "in step, and a run after the cluster was unreachable during an ingest copies "
        "everything again by itself. Needs the ingest permission.",
    )
    p.add_argument("--restart", action="store_true", help="copy everything again (nothing doubles)")
    p.add_argument("--threads", type=int, default=2, help="parallel bulk connections (2)")
    _common(p, window=False)
    p.set_defaults(func=_run(cmd_migrate))

    p = sub.add_parser("resolve", help="entity resolution: propose, accept, reject, split")
    rsub = p.add_subparsers(dest="resolve_cmd", required=True)
    q = rsub.add_parser(
        "propose",
        help="score possible duplicates (persons: probabilistic "
        "model with each field's weight) and refresh the review queue",
    )
    q.add_argument("--type", help="entity type (default all with names)")
    q.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="lowest score shown (default: the workspace's review threshold)",
    )
    q.add_argument("--limit", type=int, default=100)
    q.add_argument(
        "--apply-auto",
        action="store_true",
        help="merge pairs at or above the workspace's [resolution.auto_merge] "
        "threshold (off for persons unless the workspace sets one)",
    )
    q = rsub.add_parser("queue", help="proposals waiting for review, best first")
    q.add_argument("--min-score", type=float, default=None)
    q.add_argument("--limit", type=int, default=100)
    q = rsub.add_parser("clusters", help="transitive clusters of proposals with the weakest link")
    q.add_argument("--min-score", type=float, default=None)
    q.add_argument("--limit", type=int, default=100)
    q = rsub.add_parser("unsure", help="mark a proposed pair 'not sure' (stays in the queue)")
    q.add_argument("a")
    q.add_argument("b")
    q.add_argument("--note", default="")
    q = rsub.add_parser("accept", help="merge ALIAS into CANONICAL")
    q.add_argument("alias")
    q.add_argument("canonical")
    q = rsub.add_parser("reject", help="never propose this pair again")
    q.add_argument("a")
    q.add_argument("b")
    q = rsub.add_parser("split", help="undo the merge of ALIAS")
    q.add_argument("alias")
    q = rsub.add_parser("undo", help="undo merge MERGE_ID")
    q.add_argument("merge_id", type=int)
    q = rsub.add_parser("explain", help="merges involving an entity")
    q.add_argument("entity")
    q = rsub.add_parser("list", help="active merges")
    q.add_argument("--all", action="store_true", help="undone ones too")
    for q in rsub.choices.values():
        _common(q, window=False)
    p.set_defaults(func=_run(cmd_resolve))


def _run(func: Any) -> Any:
    """Turn graph errors into a one-line message and exit code 2 (like core errors)."""

    def handler(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except GraphError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1 if type(exc).__name__ == "NoPathError" else 2

    handler.__doc__ = func.__doc__
    return handler
