"""``superbrain graph …``: expand, path, central, communities, cooccur, timeline, export, resolve,
index.

Entities are given by id (``vehicle:浙F12345``) or by a raw plate / phone / ID number, which is
normalised. Every subcommand takes ``--json``; queries are written to the workspace audit log.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from core.cli import add_workspace_arg, cancel_on_sigint, open_workspace, print_json
from core.model import to_utc
from core.security import require
from graph.errors import GraphError
from graph.model import iso


def _time(text: str) -> datetime:
    try:
        return to_utc(datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date/time (e.g. 2026-03-01 or 2026-03-01T08:00)") from None


def _types(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _common(p: argparse.ArgumentParser, *, window: bool = True) -> None:
    add_workspace_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--case", help="case number recorded in the audit log")
    if window:
        p.add_argument("--types", type=_types, help="link types, comma-separated (default all)")
        p.add_argument("--start", type=_time, help="only links observed from this time")
        p.add_argument("--end", type=_time, help="only links observed up to this time")


def _neighbourhood_args(p: argparse.ArgumentParser, depth: int = 2) -> None:
    p.add_argument("entities", nargs="+", help="entity ids or raw plate/phone/ID numbers")
    p.add_argument("--depth", type=int, default=depth, help=f"hops (default {depth})")
    p.add_argument("--max-nodes", type=int, default=2000, help="node cap (default 2000)")


def _open(args: argparse.Namespace, action: str, params: dict[str, Any],
          permissions: tuple[str, ...] = ("graph.read",)) -> Any:
    """Open the workspace, check the session's permissions (core.security audits refusals)
    and audit the query."""
    ws = open_workspace(args)
    for permission in permissions:
        require(ws, permission, action=f"graph.{action}", **params)
    ws.audit.append(ws.user, f"graph.{action}", params, case=getattr(args, "case", None))
    return ws


def _neighbourhood(ws: Any, args: argparse.Namespace) -> Any:
    from graph.entities import resolve_entities
    from graph.expand import expand

    seeds = resolve_entities(ws.store, args.entities)
    return expand(ws.store, seeds, depth=args.depth, link_types=args.types, start=args.start,
                  end=args.end, max_nodes=args.max_nodes, cancel=cancel_on_sigint())


def _truncated_note(result: Any) -> None:
    if result.truncated:
        print("note: truncated at the node cap (raise --max-nodes or narrow --types/--start/--end)",
              file=sys.stderr)


def cmd_expand(args: argparse.Namespace) -> int:
    ws = _open(args, "expand", {"entities": args.entities, "depth": args.depth})
    result = _neighbourhood(ws, args)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"{len(result.nodes)} entities, {len(result.edges)} edges"
          + (" (truncated)" if result.truncated else ""))
    for e in result.edges:
        print(f"  {e.source} -[{e.type} ×{e.count}]-> {e.target}  "
              f"{iso(e.first) or ''} … {iso(e.last) or ''}")
    _truncated_note(result)
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    from graph.entities import resolve_entity
    from graph.expand import expand, find_path
    from graph.paths import Path as GraphPath
    from graph.paths import k_shortest_paths, shortest_path

    ws = _open(args, "path", {"source": args.source, "target": args.target,
                              "time_order": args.time_order, "k": args.k})
    a, b = resolve_entity(ws.store, args.source), resolve_entity(ws.store, args.target)
    found: list[GraphPath]
    if not args.time_order and args.k == 1:
        result = find_path(ws.store, a, b, max_hops=args.max_hops, link_types=args.types,
                           start=args.start, end=args.end, cancel=cancel_on_sigint())
        found = [shortest_path(result, result.seeds[0], result.seeds[-1])]
    else:
        # every path of ≤ max_hops lies within max_hops/2 of one of its ends
        sub = expand(ws.store, [a, b], depth=(args.max_hops + 1) // 2, link_types=args.types,
                     start=args.start, end=args.end, max_nodes=args.max_nodes)
        a, b = sub.seeds[0], sub.seeds[-1]
        if args.k == 1:
            found = [shortest_path(sub, a, b, time_respecting=args.time_order,
                                   max_hops=args.max_hops)]
        else:
            found = k_shortest_paths(sub, a, b, args.k, time_respecting=args.time_order)
        if not found:
            print("no path found", file=sys.stderr)
            return 1
    if args.json:
        print_json([p.to_dict() for p in found])
        return 0
    for n, p in enumerate(found, 1):
        print(f"path {n}: {p.length} hops")
        for h in p.hops:
            types = ",".join(sorted({e.type for e in h.edges}))
            when = f" at {iso(h.time)} ({h.record_uid})" if h.time is not None else ""
            print(f"  {h.source} -[{types}]- {h.target}{when}")
    return 0


def cmd_central(args: argparse.Namespace) -> int:
    from graph.analysis import centrality, most_connected

    ws = _open(args, "central", {"entities": args.entities, "depth": args.depth})
    result = _neighbourhood(ws, args)
    scores = centrality(result, args.measures)
    if args.json:
        print_json({"centrality": scores.to_dict(args.top), "truncated": result.truncated,
                    "most_connected": [c.to_dict() for c in most_connected(result, args.top)]})
        return 0
    for m in args.measures:
        approx = " (approximate)" if scores.approximate.get(m) else ""
        print(f"{m}{approx}:")
        for nid, s in scores.top(m, args.top):
            print(f"  {s:10.4f}  {nid}")
    _truncated_note(result)
    return 0


def cmd_communities(args: argparse.Namespace) -> int:
    from graph.analysis import communities

    ws = _open(args, "communities", {"entities": args.entities, "depth": args.depth})
    result = _neighbourhood(ws, args)
    found = communities(result, resolution=args.resolution)
    if args.json:
        print_json({"communities": found, "truncated": result.truncated})
        return 0
    for n, members in enumerate(found, 1):
        print(f"community {n} ({len(members)}): {', '.join(members[:12])}"
              + (" …" if len(members) > 12 else ""))
    _truncated_note(result)
    return 0


def cmd_cooccur(args: argparse.Namespace) -> int:
    from graph.cooccur import Sightings, cooccurrence_pairs, cooccurring_in_store
    from graph.entities import resolve_entity

    ws = _open(args, "cooccur", {"target": args.target, "window": args.window})
    if args.target:
        target = resolve_entity(ws.store, args.target)
        found = cooccurring_in_store(ws.store, target, window=args.window,
                                     min_count=args.min_count, min_places=args.min_places,
                                     link_type=args.link_type, start=args.start, end=args.end,
                                     top=args.top)
    else:
        sightings = Sightings.from_store(ws.store, link_type=args.link_type, start=args.start,
                                         end=args.end)
        found = cooccurrence_pairs(sightings, window=args.window, min_count=args.min_count,
                                   min_places=args.min_places, top=args.top,
                                   cancel=cancel_on_sigint())
    if args.json:
        print_json([r.to_dict() for r in found])
        return 0
    for r in found:
        print(f"  {r.count:4d} meetings  {r.places:3d} places  {r.days:3d} days  "
              f"{r.a}  ~  {r.b}")
    if not found:
        print("no co-occurrence at these thresholds")
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from graph.entities import resolve_entity
    from graph.timeline import day_hour_matrix, timeline

    ws = _open(args, "timeline", {"entity": args.entity})
    eid = resolve_entity(ws.store, args.entity)
    events = timeline(ws.store, eid, start=args.start, end=args.end, limit=args.limit)
    if args.json:
        print_json({"entity": eid, "events": [e.to_dict() for e in events],
                    "day_hour": day_hour_matrix(events)})
        return 0
    for e in events:
        print(f"  {iso(e.time) or '(no time)':<26} {e.source:<12} {e.title}")
    print(f"{len(events)} events")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from graph.export import export_graph

    ws = _open(args, "export.query", {"entities": args.entities, "file": str(args.output)},
               ("graph.read", "export"))
    result = _neighbourhood(ws, args)
    files = export_graph(result, args.output, args.format, workspace=ws,
                         case=getattr(args, "case", None))
    if args.json:
        print_json({"files": [str(f) for f in files], "nodes": len(result.nodes),
                    "edges": len(result.edges), "truncated": result.truncated})
        return 0
    print(f"wrote {len(result.nodes)} entities, {len(result.edges)} edges to "
          + ", ".join(str(f) for f in files))
    _truncated_note(result)
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from graph.entities import resolve_entity
    from graph.resolution import Resolver

    ws = open_workspace(args)
    resolver = Resolver.for_workspace(ws)
    out: Any
    if args.resolve_cmd == "propose":
        found = resolver.propose(args.type, min_score=args.min_score)
        if args.apply_auto:
            for m in resolver.apply_auto(found):
                print(f"auto-merged {m.alias} into {m.canonical} ({m.score:.3f})",
                      file=sys.stderr)
        out = [p.to_dict() for p in found[:args.limit]]
    elif args.resolve_cmd == "accept":
        alias = resolve_entity(ws.store, args.alias)
        keep = resolve_entity(ws.store, args.canonical)
        proposal = resolver.find_proposal(alias, keep)
        if proposal is not None:
            merge = resolver.accept_proposal(proposal, canonical=keep, case=args.case)
        else:
            merge = resolver.accept(alias, keep, case=args.case)
        out = merge.to_dict()
    elif args.resolve_cmd == "reject":
        a, b = resolve_entity(ws.store, args.a), resolve_entity(ws.store, args.b)
        resolver.reject(a, b, case=args.case)
        out = {"rejected": [a, b]}
    elif args.resolve_cmd == "split":
        out = resolver.split(resolve_entity(ws.store, args.alias), case=args.case).to_dict()
    elif args.resolve_cmd == "undo":
        out = resolver.undo(args.merge_id, case=args.case).to_dict()
    elif args.resolve_cmd == "explain":
        out = [m.to_dict() for m in resolver.explain(resolve_entity(ws.store, args.entity))]
    elif args.resolve_cmd == "unsure":
        a, b = resolve_entity(ws.store, args.a), resolve_entity(ws.store, args.b)
        resolver.mark_unsure(a, b, note=args.note, case=args.case)
        out = {"unsure": [a, b]}
    elif args.resolve_cmd == "queue":
        out = resolver.queue(min_score=args.min_score)[:args.limit]
    elif args.resolve_cmd == "clusters":
        out = [c.to_dict() for c in resolver.clusters(min_score=args.min_score)
               if len(c.members) > 1][:args.limit]
    else:
        out = [m.to_dict() for m in resolver.merges(active_only=not args.all)]
    if args.json:
        print_json(out)
        return 0
    rows = out if isinstance(out, list) else [out]
    for r in rows:
        if "score" in r and "rule" in r and "alias" not in r:
            print(f"  {r['score']:.2f} {r['rule']:<26} {r['a']}  ≈  {r['b']}"
                  + ("  [not sure]" if r.get("unsure") else ""))
            for fname, f in (r.get("evidence", {}).get("fields") or {}).items():
                print(f"      {fname:<11} {f['weight']:+6.2f}  {f['level']}: "
                      f"{f['a'] or '—'} | {f['b'] or '—'}")
        elif "members" in r:
            weak = r["weakest"]
            print(f"  {len(r['members'])} entities: {', '.join(r['members'])}; weakest link "
                  f"{weak[0]} ≈ {weak[1]} ({weak[2]:.3f})")
        elif "alias" in r:
            state = "active" if r["undone_at"] is None else "undone"
            print(f"  merge {r['id']} [{state}] {r['alias']} → {r['canonical']} "
                  f"({r['rule']}, {r['score']:.2f}, by {r['user']})")
        else:
            print(f"  {r}")
    if not rows:
        print("nothing")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from graph.indexes import drop_graph_indexes, ensure_graph_indexes, graph_indexes

    ws = open_workspace(args)
    require(ws, "ingest", action="graph.index")  # it changes the store's structure
    if args.drop:
        changed = drop_graph_indexes(ws.store)
    elif args.status:
        changed = []
    else:
        print("building covering indexes (minutes on millions of links) …", file=sys.stderr)
        changed = ensure_graph_indexes(ws.store)
    present = graph_indexes(ws.store)
    if args.json:
        print_json({"changed": changed, "present": present})
        return 0
    print(f"changed: {', '.join(changed) or 'nothing'}; present: {', '.join(present) or 'none'}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``superbrain graph …`` to the main parser."""
    graph = subparsers.add_parser("graph", help="link analysis: neighbourhoods, paths, "
                                  "centrality, communities, co-occurrence, timeline, export")
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
    p.add_argument("--time-order", action="store_true",
                   help="each hop no earlier than the one before (time flow)")
    p.add_argument("--max-nodes", type=int, default=20000,
                   help="node cap for k-paths / time-ordered search (default 20000)")
    _common(p)
    p.set_defaults(func=_run(cmd_path))

    p = sub.add_parser("central", help="degree, betweenness, PageRank, eigenvector")
    _neighbourhood_args(p)
    p.add_argument("--measures", type=_types, default=["degree", "betweenness", "pagerank",
                                                       "eigenvector"])
    p.add_argument("--top", type=int, default=10)
    _common(p)
    p.set_defaults(func=_run(cmd_central))

    p = sub.add_parser("communities", help="Louvain communities of a neighbourhood")
    _neighbourhood_args(p)
    p.add_argument("--resolution", type=float, default=1.0)
    _common(p)
    p.set_defaults(func=_run(cmd_communities))

    p = sub.add_parser("cooccur", help="伴随: who passes the same checkpoints with a target "
                       "(or all pairs, without a target)")
    p.add_argument("target", nargs="?", help="vehicle / phone / tag (omit for all pairs)")
    p.add_argument("--window", type=float, default=60.0, help="± seconds (default 60)")
    p.add_argument("--min-count", type=int, default=2,
                   help="least distinct (device, day) meetings (default 2)")
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
    p.add_argument("--format", choices=("graphml", "gexf", "csv"),
                   help="default: from the output suffix")
    _common(p)
    p.set_defaults(func=_run(cmd_export))

    p = sub.add_parser("index", help="build (or --drop) covering indexes: 3-5x faster graph "
                       "queries for ~60%% more disk and slower ingest")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--drop", action="store_true", help="remove them (e.g. before a big ingest)")
    group.add_argument("--status", action="store_true", help="only show which exist")
    _common(p, window=False)
    p.set_defaults(func=_run(cmd_index))

    p = sub.add_parser("resolve", help="entity resolution: propose, accept, reject, split")
    rsub = p.add_subparsers(dest="resolve_cmd", required=True)
    q = rsub.add_parser("propose", help="score possible duplicates (persons: probabilistic "
                        "model with each field's weight) and refresh the review queue")
    q.add_argument("--type", help="entity type (default all with names)")
    q.add_argument("--min-score", type=float, default=None,
                   help="lowest score shown (default: the workspace's review threshold)")
    q.add_argument("--limit", type=int, default=100)
    q.add_argument("--apply-auto", action="store_true",
                   help="merge pairs at or above the workspace's [resolution.auto_merge] "
                        "threshold (off for persons unless the workspace sets one)")
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
