"""``superbrain search``, ``superbrain search-health`` and ``superbrain reindex``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.cli_support import (
    Column,
    ProgressPrinter,
    add_json_arg,
    add_workspace_arg,
    cancel_on_sigint,
    emit,
    service_context,
    table,
    time_arg,
)
from core.model import FieldRole
from search.errors import SearchError
from search.model import STANDARD_FACETS, Filters, GeoBox, GeoRadius


def _floats(text: str, n: int, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != n:
        raise argparse.ArgumentTypeError(
            f"{what}: expected {n} comma-separated numbers, got {text!r}"
        )
    return values


def _box(text: str) -> GeoBox:
    return GeoBox(*_floats(text, 4, "--box SOUTH,WEST,NORTH,EAST"))


def _near(text: str) -> GeoRadius:
    return GeoRadius(*_floats(text, 3, "--near LAT,LON,METERS"))


def cmd_search(args: argparse.Namespace) -> int:
    from core.services import call
    from search.service import backend_for, close_backend

    ctx = service_context(args)
    filters = Filters(
        sources=tuple(args.source),
        types=tuple(args.type),
        categories=tuple(args.category),
        districts=tuple(args.district),
        since=args.since,
        until=args.until,
        box=args.box,
        radius=args.near,
    )
    facets: tuple[str, ...] = ()
    if args.facets:  # the standard ones, then every keyword field a source marks `facet = true`
        registry = backend_for(ctx.workspace).registry
        declared = sorted(
            name
            for name, spec in registry.fields.items()
            if spec.facet and spec.role is FieldRole.KEYWORD
        )
        facets = STANDARD_FACETS + tuple(n for n in declared if n not in STANDARD_FACETS)
    try:  # the search.query service checks the permission and audits the search
        result = call(
            "search.query",
            ctx,
            query=args.query,
            filters=filters,
            sort=args.sort,
            size=args.limit,
            cursor=args.cursor,
            facets=facets,
        )
    finally:
        close_backend(ctx.workspace)
    # times in the workspace's zone, which the header names: "time (Asia/Shanghai)"
    rows = table(
        result.hits,
        [
            Column("uid", lambda h: h.uid, 28),
            Column("type", lambda h: h.type, 10),
            Column("time", lambda h: h.time, time=True),
            Column("title", lambda h: h.title),
        ],
        ctx.workspace.zone,
    )
    lines = rows[:1] if result.hits else []
    for row, h in zip(rows[1:], result.hits, strict=True):
        lines.append(row)
        lines += [f"    {s.replace('<mark>', '[').replace('</mark>', ']')}" for s in h.snippets[:1]]
    lines += [
        f"{name}: " + ", ".join(f"{b.value} ({b.count})" for b in buckets[:10])
        for name, buckets in result.facets.items()
        if buckets
    ]
    more = f"; next page: --cursor {result.next_cursor}" if result.next_cursor else ""
    lines.append(f"{result.total:,} records ({result.took_ms:.0f} ms){more}")
    return emit(args, result.to_json(), lines, [f"warning: {w}" for w in result.warnings])


def cmd_health(args: argparse.Namespace) -> int:
    from core.services import call
    from search.service import close_backend

    ctx = service_context(args)
    try:
        health = call("search.health", ctx)
    except SearchError as exc:
        print(f"search: red: {exc}")
        return 1
    finally:
        close_backend(ctx.workspace)
    lines = [
        f"search backend: {health['backend']}  status: {health['status']}  "
        f"documents: {health['documents']:,}  (store: {health['store_records']:,} "
        "records)",
        f"  {health['message']}",
    ]
    lines += [f"  {key}: {value}" for key, value in health["detail"].items()]
    if health["stale"]:
        lines.append(f"  STALE: {health['stale']} — run `superbrain reindex`")
    emit(
        args,
        {
            k: health[k]
            for k in (
                "backend",
                "status",
                "documents",
                "message",
                "detail",
                "stale",
                "store_records",
            )
        },
        lines,
    )
    return 1 if health["status"] == "red" else 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from core.services import call
    from search.service import backend_for, close_backend

    ctx = service_context(args)
    total = ctx.workspace.store.count()
    printer = ProgressPrinter("[reindex]")
    cancel = cancel_on_sigint()
    try:
        report = call("search.reindex", ctx, progress=printer, cancel=cancel)
        name = backend_for(ctx.workspace).name
    finally:
        printer.done()
        close_backend(ctx.workspace)
    if report.cancelled:
        print(
            f"reindex cancelled after {report.indexed:,} records; the previous index is "
            "still in use"
        )
        return 130
    print(f"reindexed {report.indexed:,} of {total:,} records into the {name} index")
    for uid, reason in list(report.failures.items())[:20]:
        print(f"  rejected {uid}: {reason}", file=sys.stderr)
    return 1 if report.failures else 0


def register(subparsers: Any) -> None:
    """Add the search subcommands to the ``superbrain`` command line."""
    p = subparsers.add_parser(
        "search",
        help="search every source (Chinese and English, plates, phones, IDs)",
        description='Query language: words, "phrases", field:value, AND/OR/NOT/-, '
        "wildcards (burg*), fuzzy (wang~1), ranges (time:[2024-01-01 TO *], "
        "loss:>5000). See docs/SEARCH.md.",
    )
    add_workspace_arg(p)
    p.add_argument("query", help="the query (quote it for the shell)")
    p.add_argument("--source", action="append", default=[], help="only this source (repeat)")
    p.add_argument("--type", action="append", default=[], help="only this record type")
    p.add_argument("--category", action="append", default=[], help="only this category")
    p.add_argument("--district", action="append", default=[], help="only this district")
    p.add_argument(
        "--since",
        type=time_arg,
        help="from this date/time (inclusive; the workspace's time zone unless an offset is given)",
    )
    p.add_argument("--until", type=time_arg, help="before this date/time")
    p.add_argument("--box", type=_box, help="SOUTH,WEST,NORTH,EAST in degrees")
    p.add_argument("--near", type=_near, help="LAT,LON,METERS")
    p.add_argument("--sort", choices=("relevance", "time_desc", "time_asc"), default="relevance")
    p.add_argument("--limit", type=int, default=20, help="hits per page (default 20)")
    p.add_argument("--cursor", help="next-page cursor printed by the previous page")
    p.add_argument(
        "--facets",
        action="store_true",
        help="count by source, type, category, "
        "district, day (local) and every "
        "field a source marks as a facet",
    )
    add_json_arg(p)
    p.set_defaults(func=cmd_search)

    p = subparsers.add_parser("search-health", help="search backend status (exit 1 when red)")
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_health)

    p = subparsers.add_parser(
        "reindex",
        help="rebuild the search index from the store "
        "(searches keep working meanwhile; Ctrl+C "
        "cancels and keeps the old index)",
    )
    add_workspace_arg(p)
    p.set_defaults(func=cmd_reindex)
