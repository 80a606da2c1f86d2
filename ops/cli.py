"""``superbrain ops …``: incidents, units, recommendation, dispatch, alerts, hotspots, metrics.

Every subcommand takes ``-w WORKSPACE`` and ``--json`` (machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.cli_support import (
    Column,
    add_json_arg,
    add_workspace_arg,
    emit,
    local_time,
    service_context,
    table,
    time_arg,
)
from core.services import call


def _local(value: Any, zone: Any) -> str:
    return local_time(value, zone, seconds=True)


def _age(seconds: float) -> str:
    m = int(seconds // 60)
    if m >= 48 * 60:
        return f"{m // 1440}d{m % 1440 // 60:02d}h"
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m"


# -- handlers ------------------------------------------------------------------------------------
# Each command calls one operations service (ops/service.py) with the authenticated session:
# the permission is checked there (reads need ops.read) and the call audited.
def _call(args: argparse.Namespace, service: str, /, **params: Any) -> Any:
    ctx = service_context(args)
    args.zone = ctx.workspace.zone  # what the listings show times in
    return call(service, ctx, **params)


def cmd_incidents(args: argparse.Namespace) -> int:
    if args.open:
        queue = _call(args, "ops.queue", limit=args.limit)
        return emit(
            args,
            queue,
            [
                f"{q['id']:>6} P{q['priority']} {q['status']:<10} {_age(q['age_s']):>7}"
                f"{' OVERDUE' if q['overdue'] else '        '} "
                f"{q['category']:<6} {q['district']:<4} "
                f"{q['routing'].get('rule_id', ''):<16} {','.join(q['units']) or '-':<12} "
                f"{q['text'][:40]}"
                for q in queue
            ]
            + [f"{len(queue)} open incidents shown"],
        )
    incs = _call(
        args, "ops.incidents", status=args.status, district=args.district, limit=args.limit
    )
    return emit(
        args,
        [i.as_dict() for i in incs],
        table(
            incs,
            [
                Column("id", lambda i: i.id, -6),
                Column("P", lambda i: f"P{i.priority}"),
                Column("status", lambda i: i.status, 10),
                Column("received", lambda i: i.received_at, time=True),
                Column("category", lambda i: i.category, 6),
                Column("district", lambda i: i.district),
                Column("rule", lambda i: i.routing.get("rule_id", ""), 16),
                Column("text", lambda i: i.text[:40]),
            ],
            args.zone,
        ),
    )


def cmd_show(args: argparse.Namespace) -> int:
    data = _call(args, "ops.incident", incident_id=args.incident)
    routing, history = data["routing"], data["assignments"]
    lines = [
        f"incident {data['id']}  P{data['priority']}  {data['category']}  [{data['status']}]",
        f"  {data['address']} {data['district']} ({data['lat']}, {data['lon']})",
        f"  reporter: {data['reporter']} {data['reporter_phone']}",
        f"  {data['text']}",
        f"  routing rule {routing.get('rule_id')}: {routing.get('description')}",
        f"  departments: {', '.join(routing.get('departments', []))}; needs "
        f"{', '.join(routing.get('capabilities', [])) or 'no unit'}",
    ]
    zone = args.zone
    lines += [f"  {state:<10} {_local(when, zone)}" for state, when in data["stamps"].items()]
    lines += [
        f"  unit {a['unit_id']} by {a['assigned_by']} at {_local(a['assigned_at'], zone)}"
        + (f", ended {a['end_reason']} at {_local(a['ended_at'], zone)}" if a["ended_at"] else "")
        for a in history
    ]
    return emit(args, data, lines)


def cmd_new(args: argparse.Namespace) -> int:
    inc = _call(
        args,
        "ops.incident_create",
        category=args.category,
        priority=args.priority,
        lat=args.lat,
        lon=args.lon,
        address=args.address,
        district=args.district,
        reporter=args.reporter,
        reporter_phone=args.phone,
        text=args.text,
        dispute=args.dispute,
    )
    return emit(
        args,
        inc.as_dict(),
        [
            f"incident {inc.id} received; routing rule "
            f"{inc.routing['rule_id']}: {inc.routing['description']}"
        ],
    )


def cmd_units(args: argparse.Namespace) -> int:
    units = _call(
        args, "ops.units", status=args.status, district=args.district, capability=args.capability
    )
    now = datetime.now(UTC)
    return emit(
        args,
        [u.as_dict() for u in units],
        [
            f"{u.id:<7} {u.status:<10} {u.type:<12} {u.district:<4} "
            f"{'' if u.incident_id is None else 'incident ' + str(u.incident_id):<14} "
            f"pos {'-' if u.position_at is None else _age((now - u.position_at).total_seconds())}"
            f" ago  {u.name}"
            for u in units
        ]
        + [f"{len(units)} units"],
    )


def cmd_seed(args: argparse.Namespace) -> int:
    units = _call(args, "ops.seed_units", count=args.count, seed=args.seed)
    by_district: dict[str, int] = {}
    for u in units:
        by_district[u.district] = by_district.get(u.district, 0) + 1
    return emit(
        args,
        [u.as_dict() for u in units],
        [f"{len(units)} units ready: " + ", ".join(f"{d} {n}" for d, n in by_district.items())],
    )


def cmd_recommend(args: argparse.Namespace) -> int:
    recs = _call(
        args,
        "ops.recommend",
        incident_id=args.incident,
        capabilities=args.capability,
        limit=args.limit,
    )
    return emit(
        args,
        [r.as_dict() for r in recs],
        [
            f"{n}. {r.unit_id:<7} {r.type:<12} {r.distance_m / 1000:6.2f} km  ETA "
            f"{r.eta_s / 60:5.1f} min{'  STALE position' if r.stale else ''}  {r.name}"
            for n, r in enumerate(recs, 1)
        ]
        or ["no available unit with the needed capabilities"],
    )


def cmd_assign(args: argparse.Namespace) -> int:
    made = _call(args, "ops.assign", incident_id=args.incident, unit_ids=args.units)
    return emit(
        args,
        [a.as_dict() for a in made],
        [f"unit {a.unit_id} dispatched to incident {a.incident_id}" for a in made],
    )


def cmd_reassign(args: argparse.Namespace) -> int:
    a = _call(args, "ops.reassign", unit_id=args.unit, incident_id=args.incident)
    return emit(args, a.as_dict(), [f"unit {a.unit_id} reassigned to incident {a.incident_id}"])


def cmd_release(args: argparse.Namespace) -> int:
    u = _call(args, "ops.release", unit_id=args.unit)
    return emit(args, u.as_dict(), [f"unit {u.id} released: now {u.status}"])


def cmd_status(args: argparse.Namespace) -> int:
    u = _call(args, "ops.unit_status", unit_id=args.unit, status=args.status)
    return emit(args, u.as_dict(), [f"unit {u.id} is now {u.status}"])


def cmd_position(args: argparse.Namespace) -> int:
    u = _call(args, "ops.position", unit_id=args.unit, lat=args.lat, lon=args.lon)
    return emit(args, u.as_dict(), [f"unit {u.id} at ({u.lat}, {u.lon})"])


def cmd_advance(args: argparse.Namespace) -> int:
    inc = _call(
        args,
        "ops.incident_status",
        incident_id=args.incident,
        status=args.status,
        feedback=args.feedback,
        assessment=args.assessment,
    )
    return emit(args, inc.as_dict(), [f"incident {inc.id} is now {inc.status}"])


def cmd_mediation(args: argparse.Namespace) -> int:
    inc = _call(args, "ops.mediation", incident_id=args.incident, outcome=args.outcome)
    return emit(args, inc.as_dict(), [f"incident {inc.id}: mediation {inc.mediation}"])


def cmd_alerts(args: argparse.Namespace) -> int:
    alerts = _call(
        args,
        "ops.alerts",
        since=args.since,
        unacked_only=args.unacked,
        kind=args.kind,
        limit=args.limit,
    )
    return emit(
        args,
        [a.as_dict() for a in alerts],
        table(
            alerts,
            [
                Column("id", lambda a: a.id, -6),
                Column("raised", lambda a: a.ts, time=True),
                Column("severity", lambda a: a.severity, 6),
                Column("kind", lambda a: a.kind, 12),
                Column("state", lambda a: "ack " + a.acked_by if a.acked_by else "OPEN", 12),
                Column("title", lambda a: a.title),
            ],
            args.zone,
        ),
    )


def cmd_rescan(args: argparse.Namespace) -> int:
    from core.cli_support import ProgressPrinter, cancel_on_sigint

    printer = ProgressPrinter.unless_json(args, "[rescan]")
    n = _call(args, "ops.rescan", sources=args.source, progress=printer, cancel=cancel_on_sigint())
    if printer is not None:
        printer.done()
    return emit(args, {"raised": n}, [f"{n} alerts raised"])


def cmd_prune_positions(args: argparse.Namespace) -> int:
    from core.cli_support import ProgressPrinter, cancel_on_sigint

    printer = ProgressPrinter.unless_json(args, "[prune-positions]")
    done = _call(args, "ops.prune_positions", progress=printer, cancel=cancel_on_sigint())
    if printer is not None:
        printer.done()
    if done["cutoff"] is None:
        lines = ["position_retention_days is 0: every position fix is kept"]
    else:
        lines = [
            f"{done['deleted']} position fixes received before "
            f"{_local(done['cutoff'], args.zone)} deleted "
            f"(retention {done['retention_days']} days; their audit entries stay)"
        ]
        if done["cancelled"]:
            lines.append("cancelled: run it again to finish")
    return emit(args, done, lines)


def cmd_ack(args: argparse.Namespace) -> int:
    a = _call(args, "ops.alert_ack", alert_id=args.alert, note=args.note)
    return emit(args, a.as_dict(), [f"alert {a.id} acknowledged by {a.acked_by}"])


def cmd_watch(args: argparse.Namespace) -> int:
    out = _call(
        args, "ops.watch", kind=args.kind, value=args.value, reason=args.reason, remove=args.remove
    )
    if args.remove:
        return emit(args, out, [("removed" if out["removed"] else "was not watched")])
    return emit(args, out, [f"watching {args.kind} {out['key']}"])


def cmd_saved_search(args: argparse.Namespace) -> int:
    fields = {}
    for item in args.field or []:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"error: --field {item!r}: expected NAME=VALUE", file=sys.stderr)
            return 2
        fields[name] = value
    out = _call(
        args,
        "ops.saved_search",
        name=args.name,
        text=args.text or "",
        fields=fields,
        sources=args.source or [],
    )
    return emit(args, out, [f"saved search {args.name!r} (#{out['id']})"])


def cmd_hotspots(args: argparse.Namespace) -> int:
    from ops.hotspots import cells_geojson

    result = _call(
        args,
        "ops.hotspots",
        start=args.start,
        end=args.end,
        days=args.days,
        cell_m=args.cell,
        category=args.category,
    )
    if args.geojson:
        Path(args.geojson).write_text(
            json.dumps(cells_geojson(result), ensure_ascii=False), encoding="utf-8"
        )
    period = result["period"]
    lines = [
        f"{result['total']} incidents {_local(period['start'], args.zone)} → "
        f"{_local(period['end'], args.zone)} "
        f"(previous period {result['previous_total']}); {result['cell_m']:g} m cells"
    ]
    lines += [
        f"  {c['id']:<22} ({c['center'][0]:.4f}, {c['center'][1]:.4f}) {c['count']:>5} "
        f"{c['change']:+5d}"
        for c in result["cells"][: args.top]
    ]
    lines += [
        f"  {d['district']:<8} {d['count']:>6} {d['change']:+6d}" for d in result["districts"]
    ]
    return emit(args, result, lines)


def cmd_metrics(args: argparse.Namespace) -> int:
    m = _call(args, "ops.metrics", start=args.start, end=args.end)
    r = m["response"]
    lines = [
        f"{m['incidents']} incidents; response (received → on scene) n={r['count']} "
        f"p50={r['p50']} p90={r['p90']} p95={r['p95']} max={r['max']} min"
    ]
    for p, d in m["by_priority"].items():
        lines.append(
            f"  P{p} {d['label']:<14} {d['incidents']:>6} incidents, respond target "
            f"{d['respond_target_min']:g} min: {d['respond_breaches']} breaches; "
            f"resolve target {d['resolve_target_min']:g} min: {d['resolve_breaches']}"
        )
    for district, d in m["mediation"].items():
        lines.append(
            f"  mediation {district}: {d['success']}/{d['success'] + d['failed']} "
            f"succeeded ({d['pending']} pending)"
        )
    return emit(args, m, lines)


def _month(text: str) -> str:
    from ops.errors import OpsError
    from ops.evaluation import parse_month

    try:
        parse_month(text)
    except OpsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _number(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:,.2f} {unit}"


def cmd_evaluate(args: argparse.Namespace) -> int:
    data = _call(args, "ops.evaluate", month=args.month, months=args.months)
    if args.indicator:
        known = [ind["id"] for ind in data["indicators"]]
        if args.indicator not in known:
            print(
                f"error: no indicator {args.indicator!r}; known: {', '.join(known)}",
                file=sys.stderr,
            )
            return 2
        data["indicators"] = [i for i in data["indicators"] if i["id"] == args.indicator]
    districts = data["districts"]
    if args.district:
        if args.district not in districts:
            print(
                f"error: no district {args.district!r}; known: {', '.join(districts)}",
                file=sys.stderr,
            )
            return 2
        districts = [args.district]
    from ops.evaluation import shift_month

    lines = [
        f"evaluation of {data['month']} against {shift_month(data['month'], -12)} "
        f"(months in {data['zone']}); indicators from {data['config']}"
    ]
    arrows = {True: "better", False: "worse", None: ""}
    for ind in data["indicators"]:
        lines.append(
            f"{ind['label']} — {ind['label_zh']} [{ind['unit']}, {ind['direction']} is better]"
        )
        for d in districts:
            c = ind["cells"][d]
            change = (
                ""
                if c["yoy_delta"] is None
                else f"{'▲' if c['yoy_delta'] > 0 else '▼' if c['yoy_delta'] < 0 else '='} "
                f"{c['yoy_delta']:+,.2f}"
                + ("" if c["yoy_pct"] is None else f" ({c['yoy_pct']:+.1f} %)")
            )
            lines.append(
                f"  {d:<8} {_number(c['value'], ind['unit']):>16}   a year before "
                f"{_number(c['previous'], ind['unit']):>16}   {change:<22} "
                f"{arrows[c['better']]:<6} n={c['n']}"
            )
        if args.trend:
            for d in districts:
                values = ", ".join("-" if v is None else f"{v:g}" for v in ind["series"][d])
                lines.append(f"  trend {d} {data['months'][0]} … {data['months'][-1]}: {values}")
    return emit(args, data, lines)


def cmd_board(args: argparse.Namespace) -> int:
    b = _call(args, "ops.board")
    lines = [
        "incidents: " + ", ".join(f"{k} {v}" for k, v in b["incidents"].items() if v),
        "units:     " + ", ".join(f"{k} {v}" for k, v in b["units"].items() if v),
        f"open queue: {len(b['queue'])}; unacknowledged alerts: {b['alerts_unacked']}",
    ]
    return emit(args, b, lines)


def cmd_events(args: argparse.Namespace) -> int:
    events = _call(args, "ops.events", since=args.since, limit=args.limit)
    return emit(
        args,
        [e.as_dict() for e in events],
        table(
            events,
            [
                Column("id", lambda e: e.id, -7),
                Column("time", lambda e: e.ts, time=True, seconds=True),
                Column("user", lambda e: e.user, 10),
                Column("kind", lambda e: e.kind, 18),
                Column("ref", lambda e: e.ref),
            ],
            args.zone,
        ),
    )


# -- demo ----------------------------------------------------------------------------------------
#: Above this many records the demo leaves the alert rescan to `superbrain ops rescan`.
DEMO_RESCAN_LIMIT = 300_000


def prepare_demo(workspace: Any) -> None:
    """Called by `superbrain demo` after its ingest: seed units, take in a live shift of
    incidents (relative to now), write 25 months of closed history (:mod:`ops.history`),
    raise alerts on what was ingested before the watchlist (sources are ingested one after
    the other)."""
    from ops.seed import seed_demo_units, seed_live_shift
    from ops.service import OpsService

    ops = OpsService(workspace)
    units = seed_demo_units(ops)
    print(f"ops: {len(units)} units across {len(ops.config.districts)} districts", file=sys.stderr)
    shift = seed_live_shift(ops)
    print(f"ops: a live shift of {len(shift)} incidents received in the last hour", file=sys.stderr)
    from ops.history import seed_history

    history = seed_history(ops)
    if history["incidents"]:
        print(
            f"ops: {history['months']} months of history: {history['incidents']:,} closed "
            f"incidents, {history['ratings']:,} ratings, {history['mediations']:,} "
            f"mediations, {history['alerts']:,} acknowledged alerts",
            file=sys.stderr,
        )
    if workspace.store.count() > DEMO_RESCAN_LIMIT:
        print(
            "ops: run `superbrain ops rescan` to raise alerts on the ingested records",
            file=sys.stderr,
        )
        return
    raised = ops.alerts.rescan()
    print(f"ops: {raised:,} alerts raised on the ingested records", file=sys.stderr)


# -- parser ------------------------------------------------------------------------------------
def register(subparsers: Any) -> None:
    """Add ``superbrain ops`` and its subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    add_workspace_arg(common)
    add_json_arg(common)
    p = subparsers.add_parser(
        "ops",
        help="operations: incidents, units, dispatch, alerts, hotspots, metrics",
        description="Incident intake, routing, unit dispatch, alerts, hotspots and metrics. "
        "`superbrain demo` seeds units; `superbrain ops seed-units` gives any "
        "workspace the 40 demo units. See docs/OPERATIONS.md.",
    )
    sub = p.add_subparsers(dest="ops_cmd", required=True, metavar="OPS_COMMAND")

    def add(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        q = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        q.set_defaults(func=func)
        return q

    q = add("incidents", cmd_incidents, "list incidents (--open: the dispatch queue with timers)")
    q.add_argument("--open", action="store_true", help="open incidents by priority, with age")
    q.add_argument("--status")
    q.add_argument("--district")
    q.add_argument("--limit", type=int, default=50)
    q = add("show", cmd_show, "one incident with its routing, times and assignments")
    q.add_argument("incident", type=int)
    q = add("new", cmd_new, "take in an incident typed by a commander (routed at once)")
    q.add_argument("--category", required=True)
    q.add_argument("--priority", type=int, default=3, help="1 (most urgent) … 4")
    q.add_argument("--lat", type=float)
    q.add_argument("--lon", type=float)
    q.add_argument("--address", default="")
    q.add_argument("--district", default="")
    q.add_argument("--reporter", default="")
    q.add_argument("--phone", default="")
    q.add_argument("--text", default="")
    q.add_argument("--dispute", action="store_true", help="a dispute case (mediation)")
    q = add("units", cmd_units, "list units with status and position age")
    q.add_argument("--status")
    q.add_argument("--district")
    q.add_argument("--capability")
    q = add("seed-units", cmd_seed, "create demo units across the districts (idempotent)")
    q.add_argument("--count", type=int, default=None, help="default: 40 (districts.toml)")
    q.add_argument("--seed", type=int, default=7)
    q = add("recommend", cmd_recommend, "nearest available units able to handle an incident")
    q.add_argument("incident", type=int)
    q.add_argument(
        "--capability",
        action="append",
        help="needed capability (repeatable); default: the routing rule's",
    )
    q.add_argument("--limit", type=int, default=None)
    q = add("assign", cmd_assign, "dispatch one or more units to an incident (all or none)")
    q.add_argument("incident", type=int)
    q.add_argument("units", nargs="+")
    q = add("reassign", cmd_reassign, "move a dispatched unit to another incident")
    q.add_argument("unit")
    q.add_argument("incident", type=int)
    q = add("release", cmd_release, "end a unit's assignment")
    q.add_argument("unit")
    q = add("status", cmd_status, "move a unit to a status (en_route, on_scene, cleared, …)")
    q.add_argument("unit")
    q.add_argument("status")
    q = add("position", cmd_position, "record a unit's position (what a GPS plugin calls)")
    q.add_argument("unit")
    q.add_argument("lat", type=float)
    q.add_argument("lon", type=float)
    q = add("advance", cmd_advance, "move an incident along its lifecycle")
    q.add_argument("incident", type=int)
    q.add_argument("status", help="accepted, routed, resolved, feedback, assessed, cancelled, …")
    q.add_argument("--feedback", default="")
    q.add_argument("--assessment", default="")
    q = add("mediation", cmd_mediation, "record a dispute's mediation outcome")
    q.add_argument("incident", type=int)
    q.add_argument("outcome", choices=("success", "failed", "pending"))
    q = add("alerts", cmd_alerts, "list alerts (--since ID: those after an id, for polling)")
    q.add_argument("--since", type=int, default=None)
    q.add_argument("--unacked", action="store_true")
    q.add_argument("--kind")
    q.add_argument("--limit", type=int, default=50)
    q = add("rescan", cmd_rescan, "run the alert rules over records already ingested")
    q.add_argument("--source", action="append", help="only these sources (repeatable)")
    add(
        "prune-positions",
        cmd_prune_positions,
        "delete unit position fixes older than [ops] position_retention_days (audited)",
    )
    q = add("ack", cmd_ack, "acknowledge an alert (audited)")
    q.add_argument("alert", type=int)
    q.add_argument("--note", default="")
    q = add("watch", cmd_watch, "put a plate, ID number or phone on the watchlist")
    q.add_argument("kind", choices=("plate", "vehicle", "id_number", "person", "phone"))
    q.add_argument("value")
    q.add_argument("--reason", default="")
    q.add_argument("--remove", action="store_true")
    q = add("saved-search", cmd_saved_search, "alert on new records matching words / fields")
    q.add_argument("name")
    q.add_argument("--text")
    q.add_argument("--field", action="append", help="NAME=VALUE (repeatable)")
    q.add_argument("--source", action="append")
    q = add(
        "hotspots",
        cmd_hotspots,
        "incident density by grid cell and district vs the previous period",
    )
    q.add_argument("--start", type=time_arg)
    q.add_argument("--end", type=time_arg, help="default: just after the newest incident")
    q.add_argument(
        "--days", type=float, default=7, help="period length when --start is not given (default 7)"
    )
    q.add_argument("--cell", type=float, default=None, help="cell size in metres (default 500)")
    q.add_argument("--category")
    q.add_argument("--top", type=int, default=10)
    q.add_argument("--geojson", help="also write the cells as GeoJSON to this file")
    q = add("metrics", cmd_metrics, "response times, SLA breaches, mediation success by area")
    q.add_argument("--start", type=time_arg)
    q.add_argument("--end", type=time_arg)
    q = add(
        "evaluate",
        cmd_evaluate,
        "the evaluation dashboard: indicators of evaluation.toml "
        "by district for a month, with year-on-year change",
    )
    q.add_argument(
        "--month",
        type=_month,
        default=None,
        help="YYYY-MM in the workspace's time zone (default: the last complete month)",
    )
    q.add_argument("--months", type=int, default=13, help="months of trend (default 13)")
    q.add_argument("--district", help="only this district (its name, or 'all')")
    q.add_argument("--indicator", help="only this indicator (its id)")
    q.add_argument("--trend", action="store_true", help="also print each month's value")
    add("board", cmd_board, "status board: incidents and units per status, open queue, alerts")
    q = add("events", cmd_events, "journalled changes after an id (for polling consoles)")
    q.add_argument("--since", type=int, default=0)
    q.add_argument("--limit", type=int, default=100)
