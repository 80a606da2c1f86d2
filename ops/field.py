"""The unit on the ground: its device, its assignment, and what it reports back.

A unit's device logs in with an account of its own (role ``unit``: permission ``field.unit``),
bound to one unit by a commander (``field.bind_device``) and revocable at any time
(``field.revoke_device``): a revoked device can do nothing and receives nothing more. Every
``field.*`` service acts on the unit bound to the *session's* account, never on a unit the
caller names, so a device cannot move, locate or speak for another unit.

The loop: an assignment reaches the device (server push, filtered by :func:`unit_of`); the unit
accepts it, then taps en route → on scene → cleared (the unit state machine of
``resources/ops/states.toml`` decides what is allowed), reports its position while on duty,
files feedback at clearance (outcome, notes, photos) and may raise a panic alert (P1, with its
last position) on every console. Each step is journalled (consoles see it at once) and audited.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from core.errors import AccessDeniedError
from core.services import ServiceContext, audit_detail, service
from ops.db import dumps
from ops.errors import OpsError
from ops.incidents import load_incident
from ops.photos import check_photos, photos_of, store_photos
from ops.units import load_unit

if TYPE_CHECKING:
    from ops.service import OpsService

#: Statuses a unit may set from its device (the state machine still decides each move).
FIELD_STATUSES = ("en_route", "on_scene", "cleared", "available", "off_duty")
FEEDBACK_OUTCOMES = ("resolved", "referred", "no_trace", "false_alarm", "other")
MAX_NOTES = 4000


class DeviceNotBoundError(OpsError, AccessDeniedError):
    """The session's account is not bound to a unit, or its binding was revoked."""


def unit_of(con: Any, account: str) -> str | None:
    """The unit bound to ``account`` (None when none or revoked)."""
    row = con.execute(
        "SELECT unit_id FROM ops_unit_devices WHERE account=? AND revoked_at IS NULL", (account,)
    ).fetchone()
    return str(row[0]) if row else None


def _ops(ctx: ServiceContext) -> OpsService:
    from ops.service import ops_for

    return ops_for(ctx.workspace)


def _my_unit(ctx: ServiceContext) -> str:
    unit = unit_of(_ops(ctx).ctx.con, ctx.session.user)
    if unit is None:
        raise DeviceNotBoundError(
            f"account {ctx.session.user!r} is not bound to a unit (or its "
            "device was revoked); ask the centre to bind this device"
        )
    return unit


def _log(
    tx: Any, unit_id: str, incident_id: int | None, kind: str, account: str, payload: dict[str, Any]
) -> int:
    cur = tx.con.execute(
        "INSERT INTO ops_field_log (ts, unit_id, incident_id, kind, account, "
        "payload) VALUES (?,?,?,?,?,?)",
        (tx.now, unit_id, incident_id, kind, account, dumps(payload)),
    )
    return int(cur.lastrowid or 0)


def _accepted(con: Any, unit_id: str, incident_id: int | None) -> bool:
    if incident_id is None:
        return False
    return (
        con.execute(
            "SELECT 1 FROM ops_field_log WHERE unit_id=? AND incident_id=? AND kind='accept'",
            (unit_id, incident_id),
        ).fetchone()
        is not None
    )


def _last_cleared_incident(con: Any, unit_id: str) -> int | None:
    row = con.execute(
        "SELECT incident_id FROM ops_assignments WHERE unit_id=? AND "
        "end_reason='cleared' ORDER BY ended_at DESC, id DESC LIMIT 1",
        (unit_id,),
    ).fetchone()
    return int(row[0]) if row else None


# -- devices (commanders) -------------------------------------------------------------------------
@service("field.bind_device", permission="field.devices", audit=False)
def bind_device(ctx: ServiceContext, *, account: str, unit_id: str) -> dict[str, Any]:
    """Bind a device's account (role ``unit``) to a unit; the account's earlier binding, if
    any, is replaced."""
    ops = _ops(ctx)
    record = ctx.workspace.accounts.get(account)
    if record is None:
        raise OpsError(f"no account named {account!r}; add it with role 'unit' first")
    from core.security import default_roles

    if record.disabled or not default_roles().allows(record.role, "field.unit"):
        raise OpsError(
            f"account {account!r} (role {record.role!r}) cannot act for a unit; a "
            "unit device needs an active account of its own with role 'unit'"
        )
    with ops.ctx.tx() as tx:
        load_unit(tx.con, unit_id)
        tx.con.execute("DELETE FROM ops_unit_devices WHERE account=?", (account,))
        tx.con.execute(
            "INSERT INTO ops_unit_devices (account, unit_id, bound_by, bound_at) VALUES (?,?,?,?)",
            (account, unit_id, ctx.session.user, tx.now),
        )
        tx.event(
            "unit.device",
            unit_id,
            ctx.session.user,
            {"unit_id": unit_id, "account": account, "bound": True},
        )
        tx.audit(ctx.session.user, "field.bind_device", {"account": account, "unit": unit_id})
    return {"account": account, "unit_id": unit_id, "bound": True}


@service("field.revoke_device", permission="field.devices", audit=False)
def revoke_device(ctx: ServiceContext, *, account: str) -> dict[str, Any]:
    """Revoke a device: its account can no longer act for or hear about its unit."""
    ops = _ops(ctx)
    with ops.ctx.tx() as tx:
        row = tx.con.execute(
            "SELECT unit_id FROM ops_unit_devices WHERE account=? AND revoked_at IS NULL",
            (account,),
        ).fetchone()
        if row is None:
            raise OpsError(f"account {account!r} has no device binding to revoke")
        tx.con.execute(
            "UPDATE ops_unit_devices SET revoked_at=?, revoked_by=? WHERE account=?",
            (tx.now, ctx.session.user, account),
        )
        tx.event(
            "unit.device",
            row[0],
            ctx.session.user,
            {"unit_id": row[0], "account": account, "bound": False},
        )
        tx.audit(ctx.session.user, "field.revoke_device", {"account": account, "unit": row[0]})
    return {"account": account, "unit_id": row[0], "bound": False}


@service("field.devices", permission="field.devices")
def devices(ctx: ServiceContext) -> list[dict[str, Any]]:
    """Every device binding, current and revoked."""
    rows = (
        _ops(ctx)
        .ctx.con.execute(
            "SELECT account, unit_id, bound_by, bound_at, revoked_at, revoked_by FROM "
            "ops_unit_devices ORDER BY unit_id, account"
        )
        .fetchall()
    )
    return [
        dict(
            zip(
                ("account", "unit_id", "bound_by", "bound_at", "revoked_at", "revoked_by"),
                r,
                strict=True,
            )
        )
        for r in rows
    ]


# -- the unit's own device ------------------------------------------------------------------------
@service("field.me", permission="field.unit", audit_repeats=300.0)
def me(ctx: ServiceContext) -> dict[str, Any]:
    """This device's unit, its current assignment (incident text, place) and what it may tap
    next."""
    ops = _ops(ctx)
    unit_id = _my_unit(ctx)
    unit = ops.units.get(unit_id)
    machine = ops.config.unit_states
    incident = None
    if unit.incident_id is not None:
        inc = ops.incidents.get(unit.incident_id)
        incident = {
            k: v
            for k, v in inc.as_dict().items()
            if k
            in (
                "id",
                "category",
                "priority",
                "status",
                "received_at",
                "lat",
                "lon",
                "address",
                "district",
                "text",
                "routing",
            )
        }
        from core.timezones import format_local

        incident["received_local"] = format_local(inc.received_at, ctx.workspace.zone)
    pending_feedback = None
    if unit.status == "cleared":
        last = _last_cleared_incident(ops.ctx.con, unit_id)
        if (
            last is not None
            and not ops.ctx.con.execute(
                "SELECT 1 FROM ops_field_log WHERE unit_id=? AND incident_id=? AND kind='feedback'",
                (unit_id, last),
            ).fetchone()
        ):
            pending_feedback = last
    return {
        "unit": unit.as_dict(),
        "zone": str(ctx.workspace.zone),
        "status_label": machine.label(unit.status),
        "next": [s for s in machine.allowed(unit.status) if s in FIELD_STATUSES],
        "labels": {s: machine.label(s) for s in machine.states},
        "incident": incident,
        "accepted": _accepted(ops.ctx.con, unit_id, unit.incident_id),
        "feedback_due": pending_feedback,
    }


@service("field.accept", permission="field.unit", audit=False)
def accept(ctx: ServiceContext) -> dict[str, Any]:
    """Accept the assignment the unit was dispatched to."""
    ops = _ops(ctx)
    unit_id = _my_unit(ctx)
    with ops.ctx.tx() as tx:
        unit = load_unit(tx.con, unit_id)
        if unit.incident_id is None:
            raise OpsError(f"unit {unit_id} has no assignment to accept (status {unit.status!r})")
        if not _accepted(tx.con, unit_id, unit.incident_id):
            _log(tx, unit_id, unit.incident_id, "accept", ctx.session.user, {})
            tx.event(
                "assignment.accepted",
                unit.incident_id,
                ctx.session.user,
                {"unit_id": unit_id, "incident_id": unit.incident_id},
            )
            tx.audit(
                ctx.session.user, "field.accept", {"unit": unit_id, "incident": unit.incident_id}
            )
    return {"unit_id": unit_id, "incident_id": unit.incident_id, "accepted": True}


@service("field.status", permission="field.unit", audit=False)
def status(ctx: ServiceContext, *, status: str) -> Any:
    """One tap: move this device's unit to ``status`` (en_route, on_scene, cleared, …)."""
    ops = _ops(ctx)
    unit_id = _my_unit(ctx)
    if status not in FIELD_STATUSES:
        raise OpsError(
            f"unit {unit_id}: a device may set {', '.join(FIELD_STATUSES)}; not {status!r}"
        )
    unit = ops.units.get(unit_id)
    if (
        status in ("en_route", "on_scene")
        and unit.incident_id is not None
        and not _accepted(ops.ctx.con, unit_id, unit.incident_id)
    ):
        accept.__wrapped__(ctx)  # type: ignore[attr-defined] # moving towards it accepts it
    return ops.units.move(unit_id, status, via="device")


@service("field.position", permission="field.unit", audit=False)
def position(
    ctx: ServiceContext, *, lat: float, lon: float, accuracy_m: float | None = None
) -> dict[str, Any]:
    """A position fix from the device's geolocation (sent only while the officer consents).
    Kept in ``ops_positions``; audited once per unit and minute with a summary of the fixes
    in between (:mod:`ops.positions`)."""
    ops = _ops(ctx)
    unit_id = _my_unit(ctx)
    for name, value in (("lat", lat), ("lon", lon)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OpsError(f"unit {unit_id}: {name} must be a number, got {value!r}")
    moved = ops.units.update_positions(
        [(unit_id, float(lat), float(lon), None)], via="device", audit_action="field.position"
    )
    return {"unit_id": unit_id, "moved": bool(moved), "accuracy_m": accuracy_m}


@service("ops.track", permission="ops.read")
def track(
    ctx: ServiceContext, *, unit_id: str, since: float | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """A unit's position fixes as sent (newest first): position, the fix's time, when it
    arrived, the account that sent it and how (device, commander, panic, gps, seed)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
        raise OpsError(f"limit must be a whole number from 1 to 10000, got {limit!r}")
    con = _ops(ctx).ctx.con
    load_unit(con, unit_id)
    sql = "SELECT id, lat, lon, at, ts, account, via FROM ops_positions WHERE unit_id=?"
    args: list[Any] = [unit_id]
    if since is not None:
        sql += " AND at >= ?"
        args.append(float(since))
    rows = con.execute(sql + " ORDER BY at DESC, id DESC LIMIT ?", (*args, limit)).fetchall()
    audit_detail(shown=len(rows))
    return [
        dict(zip(("id", "lat", "lon", "at", "ts", "account", "via"), r, strict=True)) for r in rows
    ]


@service("ops.prune_positions", permission="ops.retention")
def prune_positions(
    ctx: ServiceContext, *, progress: Any = None, cancel: Any = None
) -> dict[str, Any]:
    """Delete the position fixes received more than ``[ops] position_retention_days`` ago (0
    keeps them all; docs/OPERATIONS.md); the audit entries that vouch for them stay, and every
    kept fix still verifies against its entry. Returns the count, the cut-off (ISO-8601 in the
    workspace's zone) and the retention applied."""
    from core.timezones import iso_local
    from ops.retention import prune, retention_days

    result = prune(_ops(ctx).ctx, retention_days(ctx.workspace), progress=progress, cancel=cancel)
    done = {
        "deleted": result.deleted,
        "cutoff": iso_local(result.cutoff, ctx.workspace.zone),
        "retention_days": result.days,
        "cuts": result.cuts,
        "cancelled": result.cancelled,
    }
    audit_detail(**done)
    return done


@service("field.feedback", permission="field.unit", audit=False)
def feedback(
    ctx: ServiceContext, *, outcome: str, notes: str = "", photos: list[bytes] | None = None
) -> dict[str, Any]:
    """At clearance: how the incident ended (outcome), notes and up to 3 photos."""
    ops = _ops(ctx)
    unit_id = _my_unit(ctx)
    if outcome not in FEEDBACK_OUTCOMES:
        raise OpsError(
            f"unit {unit_id}: outcome {outcome!r} is not one of {', '.join(FEEDBACK_OUTCOMES)}"
        )
    if not isinstance(notes, str) or len(notes) > MAX_NOTES:
        raise OpsError(f"unit {unit_id}: notes must be text of at most {MAX_NOTES} characters")
    checked = check_photos(photos, f"feedback of unit {unit_id}")
    with ops.ctx.tx() as tx:
        unit = load_unit(tx.con, unit_id)
        incident_id = unit.incident_id or _last_cleared_incident(tx.con, unit_id)
        if incident_id is None:
            raise OpsError(f"unit {unit_id} has no incident to report on")
        load_incident(tx.con, incident_id)
        entry = _log(
            tx,
            unit_id,
            incident_id,
            "feedback",
            ctx.session.user,
            {"outcome": outcome, "notes": notes},
        )
        ids = store_photos(tx, f"field:{entry}", checked)
        payload = {
            "unit_id": unit_id,
            "incident_id": incident_id,
            "outcome": outcome,
            "notes": notes,
            "photos": len(ids),
        }
        tx.event("incident.field_report", incident_id, ctx.session.user, payload)
        tx.audit(ctx.session.user, "field.feedback", payload)
    return {**payload, "id": entry}


@service("field.panic", permission="field.unit", audit=False)
def panic(
    ctx: ServiceContext, *, lat: float | None = None, lon: float | None = None
) -> dict[str, Any]:
    """Raise a P1 alert on every console with the unit's last known position."""
    ops = _ops(ctx)
    unit_id = _my_unit(ctx)
    if lat is not None and lon is not None:
        ops.units.update_positions([(unit_id, float(lat), float(lon), None)], via="panic")
    unit = ops.units.get(unit_id)
    alert = ops.alerts.raise_alert(
        "panic",
        title=f"P1 紧急求助 PANIC — {unit.name} ({unit.id})",
        rule="field.panic",
        subject=unit.id,
        severity="critical",
        payload={
            "priority": 1,
            "unit_id": unit.id,
            "lat": unit.lat,
            "lon": unit.lon,
            "position_at": unit.position_at.isoformat() if unit.position_at else None,
            "incident_id": unit.incident_id,
            "account": ctx.session.user,
        },
    )
    audit_detail(unit=unit_id)
    return {
        "alert_id": alert.id if alert else None,
        "unit_id": unit_id,
        "lat": unit.lat,
        "lon": unit.lon,
    }


@service("field.reports", permission="ops.read")
def reports(ctx: ServiceContext, *, incident_id: int) -> list[dict[str, Any]]:
    """What units reported from the ground about an incident (accept, feedback + photos)."""
    con = _ops(ctx).ctx.con
    rows = con.execute(
        "SELECT id, ts, unit_id, kind, account, payload FROM ops_field_log "
        "WHERE incident_id=? ORDER BY id",
        (int(incident_id),),
    ).fetchall()
    return [
        {
            "id": r[0],
            "ts": r[1],
            "unit_id": r[2],
            "kind": r[3],
            "account": r[4],
            **json.loads(r[5]),
            "photos": photos_of(con, f"field:{r[0]}"),
        }
        for r in rows
    ]


@service("ops.incident_followup", permission="ops.read", audit_repeats=300.0)
def followup(ctx: ServiceContext, *, incident_id: int) -> dict[str, Any]:
    """What came back on an incident after dispatch: each unit's clearance feedback (outcome,
    notes, photos) and the citizen's rating and comment (with the report's photos). The
    board re-reads it while the incident is selected: audited once per 5 minutes with the
    repeats, like the board's other polled reads."""
    con = _ops(ctx).ctx.con
    inc = load_incident(con, int(incident_id))
    rows = con.execute(
        "SELECT id, ts, unit_id, account, payload FROM ops_field_log WHERE "
        "incident_id=? AND kind='feedback' ORDER BY id",
        (inc.id,),
    ).fetchall()
    feedback = [
        {
            "id": r[0],
            "ts": r[1],
            "unit_id": r[2],
            "account": r[3],
            **{k: v for k, v in json.loads(r[4]).items() if k in ("outcome", "notes")},
            "photos": photos_of(con, f"field:{r[0]}"),
        }
        for r in rows
    ]
    rows = con.execute(
        "SELECT code, ts, rating, rating_note, rated_at FROM ops_reports WHERE "
        "incident_id=? ORDER BY ts",
        (inc.id,),
    ).fetchall()
    citizen = [
        {
            "code": r[0],
            "ts": r[1],
            "rating": r[2],
            "rating_note": r[3] or "",
            "rated_at": r[4],
            "photos": photos_of(con, f"report:{r[0]}"),
        }
        for r in rows
    ]
    audit_detail(incident=inc.id, feedback=len(feedback), reports=len(citizen))
    return {"incident_id": inc.id, "status": inc.status, "feedback": feedback, "citizen": citizen}


@service("ops.photo", permission="ops.read")
def photo(ctx: ServiceContext, *, photo_id: int, max_px: int | None = None) -> dict[str, Any]:
    """A photo sent from the field or with a public report (bytes, mime, sha256 of the
    original); its owner says which (``field:N`` or ``report:CODE``). With ``max_px`` a JPEG
    thumbnail of at most that many pixels a side (32–1024) instead of the original."""
    from ops.photos import photo as load
    from ops.photos import thumbnail

    found = load(_ops(ctx).ctx.con, int(photo_id))
    if max_px is not None:
        found["data"] = thumbnail(found["data"], max_px, f"photo {found['id']}")
        found["mime"], found["thumbnail"] = "image/jpeg", max_px
    audit_detail(
        owner=found["owner"],
        sha256=found["sha256"],
        **({"thumbnail": max_px} if max_px is not None else {}),
    )
    return found
