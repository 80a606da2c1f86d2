"""The ``superbrain`` command line: init, ingest, sources, demo, audit; engines add their own.

Engine packages contribute subcommands through a ``register(subparsers)`` function in the
modules of the ``superbrain.commands`` entry-point group (absent modules are skipped), and
their handlers return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.cli_support import (
    DEFAULT_WORKSPACE,
    Column,
    ProgressPrinter,
    add_json_arg,
    add_workspace_arg,
    cancel_on_sigint,
    emit,
    open_unauthenticated,
    open_workspace,
    service_context,
    table,
)
from core.errors import SuperbrainError

log = logging.getLogger(__name__)


def command_modules() -> list[Any]:
    """The modules of the ``superbrain.commands`` entry-point group (pyproject.toml): each has
    ``register(subparsers)``; those of packages not installed are skipped."""
    from core.extensions import COMMANDS, load_all

    return [module for _ext, module in load_all(COMMANDS)]


DEMO_SIZES = {"tiny": 200, "small": 2000, "medium": 20000, "large": 200000}


# -- core subcommands ----------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from core.workspace import Workspace

    ws = Workspace.init(args.dir, backend=args.backend, url=args.url or "")
    print(f"workspace ready at {ws.root} (search backend: {ws.search_config.backend})")
    if args.admin:  # bootstrap the first administrator account (see docs/SECURITY.md)
        from core.users_cli import bootstrap_admin

        bootstrap_admin(ws, args.admin)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    found = ws.discover_sources()
    rows = []
    for name, lp in sorted(found.loaded.items()):
        rows.append(
            {
                "name": name,
                "version": lp.plugin.version,
                "status": "ok",
                "formats": list(lp.plugin.formats),
                "description": lp.plugin.description,
                "origin": lp.origin,
            }
        )
    for f in found.failed:
        rows.append(
            {
                "name": f.name,
                "version": "",
                "status": "broken",
                "error": f.error,
                "origin": f.origin,
            }
        )
    width = max((len(r["name"]) for r in rows), default=0)
    vwidth = max((len(r["version"]) for r in rows), default=0)
    lines = [
        f"  ok      {r['name']:<{width}}  {r['version']:<{vwidth}}  {r['description']}"
        if r["status"] == "ok"
        else f"  BROKEN  {r['name']:<{width}}  {r['error']}  [{r['origin']}]"
        for r in rows
    ]
    lines.append(f"{len(found.loaded)} sources loaded, {len(found.failed)} broken")
    return emit(args, rows, lines)


def run_ingest(
    ws: Any,
    source: str,
    files: Sequence[Path],
    *,
    force: bool = False,
    batch_size: int | None = None,
    quiet: bool = False,
) -> int:
    """Ingest ``files`` with ``source`` through the ``ingest.file`` service (permission checked
    and audited there); prints each file's report. Returns the exit code."""
    from core.services import call

    ctx = service_context(ws)
    try:
        ws.discover_sources().get(source)
    except KeyError as exc:
        print(f"error: {exc.args[0]} (see `superbrain sources -w {ws.root}`)", file=sys.stderr)
        return 2
    cancel = cancel_on_sigint()
    worst = 0
    for path in files:
        if not path.exists():
            print(f"error: {str(path)!r}: no such file", file=sys.stderr)
            worst = 2
            continue
        printer = ProgressPrinter(f"[{source}]")
        report = call(
            "ingest.file",
            ctx,
            source=source,
            path=str(path),
            force=force,
            batch_size=batch_size,
            progress=None if quiet else printer,
            cancel=cancel,
        )
        printer.done()
        print(report.summary())
        if report.status == "failed":
            worst = max(worst, 1)
        if report.status == "cancelled":
            return 130
    return worst


def cmd_ingest(args: argparse.Namespace) -> int:
    if args.mapping and not args.dry_run:
        print(
            "error: --mapping FILE only goes with --dry-run; to ingest, put the mapping in "
            "the workspace's plugins folder and use -s NAME",
            file=sys.stderr,
        )
        return 2
    if bool(args.mapping) == bool(args.source):
        print(
            "error: give a source (-s NAME) or, with --dry-run, a mapping (--mapping FILE)",
            file=sys.stderr,
        )
        return 2
    if args.dry_run:
        return run_dry_run(args)
    ws = open_workspace(args)
    return run_ingest(ws, args.source, args.files, force=args.force, batch_size=args.batch_size)


def run_dry_run(args: argparse.Namespace) -> int:
    """Map the first rows of each file and print what the ingest would make; write nothing."""
    from core.dryrun import dry_run
    from core.timezones import DEFAULT_ZONE, zone_named

    zone = zone_named(DEFAULT_ZONE)
    if args.mapping:
        from plugins.mapping import MappingSource

        plugin: Any = MappingSource.from_file(args.mapping)  # a broken mapping: shown
        if args.workspace.joinpath("superbrain.toml").exists():
            zone = open_workspace(args).zone
    else:
        ws = open_workspace(args)
        zone = ws.zone
        try:
            plugin = ws.discover_sources().get(args.source)
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return 2
    worst = 0
    for path in args.files:
        result = dry_run(plugin, path, rows=args.rows, zone=zone)
        print(result.render(zone))
        if result.error:
            worst = 1
    return worst


def cmd_demo(args: argparse.Namespace) -> int:
    from core.workspace import Workspace

    count = DEMO_SIZES.get(args.size) or int(args.size)
    ws = Workspace.init(args.workspace)
    service_context(ws)  # on a workspace with accounts: log in before anything is audited
    found = ws.discover_sources()
    for failure in found.failed:
        print(f"warning: source {failure.name} is broken: {failure.error}", file=sys.stderr)
    generated = 0
    for plugin in found.plugins():
        if not plugin.can_generate:
            continue
        out = ws.data_dir / plugin.name
        out.mkdir(parents=True, exist_ok=True)
        print(f"generating {plugin.name} …", file=sys.stderr)
        rows = count if plugin.demo_fraction >= 1 else max(10, round(count * plugin.demo_fraction))
        files = plugin.generate(out, rows, seed=args.seed)
        rc = run_ingest(ws, plugin.name, files)
        if rc == 130:
            return rc
        generated += 1
    prepare_demo(ws)
    print(
        f"demo workspace at {ws.root}: {generated} sources, "
        f"{ws.store.count():,} records, {ws.store.count('entities'):,} entities, "
        f"{ws.store.count('links'):,} links"
    )
    if args.no_console:
        return 0
    return launch_console(ws.root)


def prepare_demo(ws: Any) -> None:
    """Let every engine prepare its part of a demo workspace after the ingest (ops seeds units
    and a live shift, …): ``prepare_demo(ws)`` in its cli module, when it has one."""
    for module in command_modules():
        if hasattr(module, "prepare_demo"):
            module.prepare_demo(ws)


def has_display() -> bool:
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    )


def launch_console(root: Path | None) -> int:
    """Open the console on ``root``; with None, on the last workspace (or offer the demo)."""
    if not has_display():
        print(
            "no display: not opening the console (run `superbrain console` on a desktop)",
            file=sys.stderr,
        )
        return 0
    try:
        app = importlib.import_module("console.app")
    except ModuleNotFoundError as exc:
        print(f"the console is not available: {exc}", file=sys.stderr)
        return 0
    if root is None:
        return int(app.run_default(Path(DEFAULT_WORKSPACE)))
    return int(app.run(root))


def cmd_audit(args: argparse.Namespace) -> int:
    from core.services import call

    if args.audit_cmd == "verify":
        # No login: verifying must work on a damaged log, to which a login could not append.
        # It reads hashes and reports line numbers, nothing of the entries' content.
        ws = open_unauthenticated(args)
        problems = ws.audit.verify()
        if not problems:
            n = sum(1 for _ in ws.audit.entries())
            print(f"audit log intact: {n} entries, chain verified")
            return 0
        for p in problems:
            print(f"{ws.audit.path}: {p}")
        print(
            "to make the log appendable again (keeping every byte): superbrain audit repair; "
            "see 'Repairing the audit log' in docs/SECURITY.md"
        )
        return 1
    if args.audit_cmd == "repair":
        # No login: a damaged log refuses the login's own entry. Whoever can write the
        # workspace folder can repair it; the entry names the OS account, not an account.
        import getpass

        ws = open_unauthenticated(args)

        entry = ws.audit.repair(f"os:{getpass.getuser()}")
        params = entry["params"]
        print(
            f"audit log repaired: {params['kept_entries']} entries kept, "
            f"{params['quarantined_lines']} lines moved to "
            f"{params['quarantine_file'] or '(nothing moved)'}; missing entries: "
            f"{params['missing_entries'] or 'none'}; recorded as entry {entry['seq']}"
        )
        return 0
    ctx = service_context(args)
    if args.audit_cmd == "export":  # needs audit.export; the export is audited
        out = args.output
        n = call(
            "audit.export", ctx, output=str(out), user=args.user, action=args.action, case=args.case
        )
        print(f"exported {n} entries to {out}")
        return 0
    entries = call(
        "audit.list", ctx, user=args.user, action=args.action, case=args.case, limit=args.limit
    )
    return emit(
        args,
        entries,
        table(
            entries,
            [
                Column("seq", lambda e: e["seq"], -6),
                Column("time", lambda e: e["ts"], time=True, seconds=True),
                Column("user", lambda e: e["user"], 10),
                Column("action", lambda e: e["action"], 16),
                Column(
                    "entry",
                    lambda e: (
                        (f"case={e['case']} " if e.get("case") else "")
                        + json.dumps(e.get("params", {}), ensure_ascii=False)[:160]
                    ),
                ),
            ],
            ctx.workspace.zone,
        ),
    )


def cmd_services(args: argparse.Namespace) -> int:
    from core.services import services

    ctx = service_context(args)
    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "permission": spec.permission,
            "allowed": ctx.session.can(spec.permission),
            "doc": spec.doc,
        }
        for name, spec in services().items()
    ]
    lines = [
        f"  {r['name']:<24} {r['permission']:<14} {'yes' if r['allowed'] else '-':<4} "
        f"{r['doc'][:60]}"
        for r in rows
    ]
    lines.append(
        f"{len(rows)} services; {sum(r['allowed'] for r in rows)} allowed for "
        f"{ctx.session.user} ({ctx.session.role})"
    )
    return emit(args, rows, lines)


# -- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="superbrain",
        description="superbrain: search, link analysis, face leads and dispatch for an "
        "information-operations centre.",
        epilog="Start with `superbrain demo` (builds a workspace with generated data and opens "
        "the console). Every subcommand has --help.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="create a workspace folder")
    p.add_argument("dir", type=Path, help="folder to create (kept if it exists)")
    p.add_argument(
        "--backend",
        choices=("embedded", "elasticsearch"),
        default="embedded",
        help="search backend (default: embedded, no server)",
    )
    p.add_argument("--url", help="Elasticsearch URL when --backend elasticsearch")
    p.add_argument(
        "--admin",
        metavar="NAME",
        help="create the first administrator account (password from "
        "$SUPERBRAIN_NEW_PASSWORD or asked for)",
    )
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("sources", help="list data-source plugins, with errors of broken ones")
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser(
        "ingest",
        help="ingest files with a source plugin (resumable)",
        description="Ingest files; Ctrl+C stops cleanly after the current batch "
        "and a rerun resumes where it stopped. Bad rows go to "
        "WORKSPACE/rejects with their line number and reason.",
    )
    add_workspace_arg(p)
    p.add_argument("-s", "--source", help="source plugin name (see `sources`)")
    p.add_argument("files", nargs="+", type=Path, help="CSV / JSONL / XLSX files")
    p.add_argument(
        "--force", action="store_true", help="re-read files already ingested with the same mapping"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="map the first rows and print the records, entities, links and "
        "rejects the ingest would make; write nothing",
    )
    p.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE.toml",
        help="with --dry-run: try a mapping file that is not installed yet",
    )
    p.add_argument("--rows", type=int, default=10, help="rows a dry run maps (default 10)")
    p.add_argument("--batch-size", type=int, default=None, help="rows per committed batch")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("demo", help="build a workspace with generated data and open the console")
    add_workspace_arg(p)
    p.add_argument(
        "--size",
        default="small",
        help=f"rows per source: {', '.join(DEMO_SIZES)} or a number (default small)",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    p.add_argument("--no-console", action="store_true", help="only build the workspace")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "services", help="list the operations (services) and which your role may call"
    )
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_services)

    p = sub.add_parser("audit", help="verify, search or export the audit log")
    add_workspace_arg(p)
    asub = p.add_subparsers(dest="audit_cmd", required=True)
    asub.add_parser("verify", help="check the hash chain; exit 1 and say where if broken")
    asub.add_parser(
        "repair",
        help="quarantine damaged lines, record missing entries and make "
        "the log appendable again (audited)",
    )
    for name in ("list", "export"):
        q = asub.add_parser(name, help=f"{name} entries (filters: --user --action --case)")
        q.add_argument("--user")
        q.add_argument("--action", help="exact action, or a prefix ending in *")
        q.add_argument("--case")
        q.add_argument("--limit", type=int, default=50)
        if name == "list":
            add_json_arg(q)
        if name == "export":
            q.add_argument("output", type=Path)
    p.set_defaults(func=cmd_audit)

    from core.users_cli import register as register_users

    register_users(sub)

    for module in command_modules():
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if not argv and has_display():
            # `superbrain` alone opens the console: last workspace, or an offer to build the demo
            return launch_console(None)
        parser.print_help()
        return 0
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except SuperbrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.DatabaseError, OSError) as exc:
        # damaged or full storage: one line naming the problem and the way out, no traceback
        from core.store import storage_problem

        where = getattr(exc, "filename", None) or getattr(args, "workspace", None) or "storage"
        print(f"error: {storage_problem(Path(str(where)), exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return 130
