"""``superbrain cases ...``: open, list and show cases, manage members, notes and pins, write
the dossier, a chart picture or a hand-over file, and import one. A thin caller of the case
services (every check and audit entry is theirs)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.cli_support import add_json_arg, add_workspace_arg, emit, local_time, service_context

DEMO_CASE = "2026-JX-0117"


def _call(args: argparse.Namespace, name: str, **params: Any) -> Any:
    import cases.api  # noqa: F401 - registers the case services
    from core.services import call

    ctx = service_context(args)
    args.zone = ctx.workspace.zone  # what the listings show times in
    return call(name, ctx, **params)


def cmd_create(args: argparse.Namespace) -> int:
    c = _call(
        args,
        "cases.create",
        case=args.number.upper(),
        title=args.title,
        classification=args.classification,
    )
    return emit(
        args,
        c,
        f"case {c['number']} opened: {c['title']} ({c['classification']}); you are its lead",
    )


def cmd_list(args: argparse.Namespace) -> int:
    rows = _call(args, "cases.list", status=args.status)
    lines = [f"  {c['number']:<16} {c['status']:<9} {c['my_role']:<11} {c['title']}" for c in rows]
    return emit(args, rows, "\n".join(lines) or "no case you are a member of")


def cmd_show(args: argparse.Namespace) -> int:
    number = args.number.upper()
    c = _call(args, "cases.get", case=number)
    charts = _call(args, "cases.charts", case=number)
    lines = [
        f"{c['number']}  {c['title']}  [{c['classification']}]  {c['status']}  "
        f"version {c['version']}",
        "members: " + ", ".join(f"{m['user']} ({m['role']})" for m in c["members"]),
        f"{c['counts']['charts']} charts, {c['counts']['notes']} notes, {c['counts']['pins']} pins",
    ]
    lines += [
        f"  chart {x['id']}  {x['name']}  v{x['version']}  {x['nodes']} nodes" for x in charts
    ]
    return emit(args, {**c, "charts": charts}, "\n".join(lines))


def cmd_member(args: argparse.Namespace) -> int:
    number = args.number.upper()
    if args.remove:
        c = _call(args, "cases.member_remove", case=number, member=args.member)
    else:
        c = _call(args, "cases.member_set", case=number, member=args.member, role=args.role)
    return emit(
        args, c, "members: " + ", ".join(f"{m['user']} ({m['role']})" for m in c["members"])
    )


def cmd_status(args: argparse.Namespace) -> int:
    number = args.number.upper()
    current = _call(args, "cases.get", case=number)
    c = _call(
        args,
        "cases.update",
        case=number,
        version=current["version"],
        status=args.status,
        title=args.title,
        classification=args.classification,
    )
    return emit(args, c, f"case {c['number']}: {c['status']}, {c['title']} [{c['classification']}]")


def cmd_note(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    n = _call(
        args,
        "cases.note_add",
        case=args.number.upper(),
        target_kind=args.on,
        target=args.target or "",
        text=text,
    )
    return emit(
        args,
        n,
        f"note {n['id']} on {n['target_kind']} {n['target']}"
        + (f"; links to {', '.join(n['mentions'])}" if n["mentions"] else ""),
    )


def cmd_notes(args: argparse.Namespace) -> int:
    rows = _call(args, "cases.notes", case=args.number.upper())
    lines = [
        f"- {n['author']} {local_time(n['created_at'], args.zone)} on "
        f"{n['target_kind']} {n['target']}:\n  {n['text']}"
        for n in rows
    ]
    return emit(args, rows, "\n".join(lines) or "no notes")


def cmd_pin(args: argparse.Namespace) -> int:
    data = json.loads(args.data) if args.data else None
    p = _call(
        args,
        "cases.pin",
        case=args.number.upper(),
        kind=args.kind,
        ref=args.ref,
        title=args.title or "",
        data=data,
    )
    return emit(args, p, f"pinned {p['kind']} {p['ref']}: {p['title']}")


def cmd_pins(args: argparse.Namespace) -> int:
    rows = _call(args, "cases.pins", case=args.number.upper(), recount=args.recount)
    lines = []
    for p in rows:
        extra = ""
        if p["kind"] == "search":
            extra = f" ({p['data'].get('hits_at_pin')} hits when pinned" + (
                f", {p['data']['hits_now']} now)" if "hits_now" in p["data"] else ")"
            )
        lines.append(
            f"  {p['kind']:<9} {p['ref']}  {p['title']}{extra}  "
            f"[{p['pinned_by']} {local_time(p['pinned_at'], args.zone)}]"
        )
    return emit(args, rows, "\n".join(lines) or "nothing pinned")


def cmd_dossier(args: argparse.Namespace) -> int:
    r = _call(args, "cases.dossier", case=args.number.upper(), path=str(args.output))
    return emit(
        args, r, f"dossier written: {r['file']} ({r['bytes']:,} bytes, sha256 {r['sha256']})"
    )


def cmd_chart_image(args: argparse.Namespace) -> int:
    r = _call(
        args,
        "cases.chart_image",
        case=args.number.upper(),
        chart_id=args.chart,
        path=str(args.output),
    )
    return emit(args, r, f"chart picture written: {r['file']} (sha256 {r['sha256']})")


def cmd_export(args: argparse.Namespace) -> int:
    r = _call(args, "cases.handover_export", case=args.number.upper(), path=str(args.output))
    return emit(args, r, f"case file written: {r['file']} (sha256 {r['sha256']})")


def cmd_import(args: argparse.Namespace) -> int:
    c = _call(args, "cases.handover_import", path=str(args.file))
    note = "; you were added as its lead" if c["added_as_lead"] else ""
    return emit(args, c, f"case {c['number']} imported: {c['title']}{note}")


def register(subparsers: Any) -> None:
    """Add ``superbrain cases`` and its subcommands."""
    from cases.model import (
        CASE_NUMBER_HELP,
        CASE_ROLES,
        CLASSIFICATIONS,
        DEFAULT_CLASSIFICATION,
        NOTE_TARGETS,
        PIN_KINDS,
        STATUSES,
    )

    common = argparse.ArgumentParser(add_help=False)
    add_workspace_arg(common)
    add_json_arg(common)
    p = subparsers.add_parser(
        "cases",
        help="case files: charts, notes, pinned evidence, dossiers, hand-over",
        description="Case files kept in the workspace. Members only: a user who is not a "
        "member neither sees nor opens a case. See docs/CASES.md.",
    )
    sub = p.add_subparsers(dest="cases_cmd", required=True, metavar="CASES_COMMAND")

    def add(name: str, func: Any, help_text: str, number: bool = True) -> argparse.ArgumentParser:
        q = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        q.set_defaults(func=func)
        if number:
            q.add_argument("number", help=f"case number ({CASE_NUMBER_HELP})")
        return q

    q = add("create", cmd_create, "open a case (you become its lead)")
    q.add_argument("--title", required=True)
    q.add_argument("--classification", default=DEFAULT_CLASSIFICATION, choices=CLASSIFICATIONS)
    q = add("list", cmd_list, "the cases you are a member of", number=False)
    q.add_argument("--status", choices=STATUSES)
    add("show", cmd_show, "a case: members, counts, saved charts")
    q = add("member", cmd_member, "add a member or change their case role (lead only)")
    q.add_argument("member", help="user name")
    q.add_argument("--role", choices=CASE_ROLES, default="contributor")
    q.add_argument("--remove", action="store_true", help="take the member off the case")
    q = add("status", cmd_status, "change status, title or classification (lead only)")
    q.add_argument("--status", choices=STATUSES)
    q.add_argument("--title")
    q.add_argument("--classification", choices=CLASSIFICATIONS)
    q = add("note", cmd_note, "add a note; @type:key in the text links an entity")
    q.add_argument("text", help="the note ('-' reads it from stdin)")
    q.add_argument("--on", choices=NOTE_TARGETS, default="case", help="what the note is on")
    q.add_argument("--target", help="entity id, record uid, 'lat,lon', link 'a|b|type' …")
    add("notes", cmd_notes, "the case's notes")
    q = add("pin", cmd_pin, "pin evidence: a record uid, a search query, a face lead …")
    q.add_argument("kind", choices=PIN_KINDS)
    q.add_argument("ref", help="record uid, query, SEARCH_ID:FACE_ID, or a co-occurrence seed")
    q.add_argument("--title")
    q.add_argument(
        "--data",
        help="JSON: a face lead's similarity/threshold/threshold_fmr, "
        "a co-occurrence result's pairs",
    )
    q = add("pins", cmd_pins, "the pinned evidence")
    q.add_argument("--recount", action="store_true", help="saved searches' hit counts now")
    q = add("dossier", cmd_dossier, "write the dossier (.pdf or .html); needs 'export'")
    q.add_argument("-o", "--output", type=Path, required=True)
    q = add("chart-image", cmd_chart_image, "write a saved chart as an SVG picture")
    q.add_argument("chart", help="chart id (see `cases show`)")
    q.add_argument("-o", "--output", type=Path, required=True)
    q = add("export", cmd_export, "write the whole case to one hand-over file (.sbcase)")
    q.add_argument("-o", "--output", type=Path, required=True)
    q = add(
        "import", cmd_import, "import a hand-over file (ids kept; clashes refused)", number=False
    )
    q.add_argument("file", type=Path)


def prepare_demo(ws: Any) -> None:
    """The demo workspace's case (the number the README's face search uses), led by the demo
    user, so that a face search or an export in the demo has a case to name."""
    import cases.api  # noqa: F401
    from cases.access import require_member
    from cases.errors import CaseAccessError, CaseNotFoundError
    from core.errors import SuperbrainError
    from core.services import call, local_context

    try:
        ctx = local_context(ws)
        try:
            require_member(ws, DEMO_CASE, ctx.session.user)
        except CaseAccessError:
            return  # someone else's demo case: leave it
        except CaseNotFoundError:
            call("cases.create", ctx, case=DEMO_CASE, title="嘉兴 入室盗窃 系列案 (demo)")
            print(f"cases: demo case {DEMO_CASE} opened, led by {ctx.session.user}")
    except SuperbrainError as exc:  # e.g. accounts and no login: the demo data stand anyway
        print(f"warning: the demo case {DEMO_CASE} was not opened: {exc}", file=sys.stderr)
