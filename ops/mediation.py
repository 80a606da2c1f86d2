"""Online mediation of dispute cases (the Xihu / Zhoushan model): a commander assigns a dispute
to a mediator (role ``mediator``); the mediator schedules sessions and invites the parties by a
link each; the outcome (success / failed, agreement text) is recorded on the case and on its
incident, so ``ops.metrics`` gives the success rate by district and by mediator.

A mediator sees and changes only the cases assigned to them; a party's link shows only the
session's time and place (the invitation code is the only key, 12 random characters).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from core.errors import AccessDeniedError
from core.services import ServiceContext, audit_detail, service
from ops.db import dumps
from ops.errors import OpsError, UnknownIncidentError
from ops.incidents import load_incident

OUTCOMES = ("success", "failed")
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 12
MAX_PARTIES = 10
MAX_AGREEMENT = 8000


class NotYourCaseError(OpsError, AccessDeniedError):
    """A mediator asked for a case assigned to someone else."""


class UnknownMediationError(UnknownIncidentError):
    """No mediation case (or invitation) with that id or code."""


def _ops(ctx: ServiceContext) -> Any:
    from ops.service import ops_for

    return ops_for(ctx.workspace)


def _epoch(value: Any, what: str, zone: Any) -> float:
    """Epoch seconds of a time parameter: epoch seconds, or ISO text; text without an offset
    (what a ``datetime-local`` field gives) is wall-clock time in ``zone``, the workspace's."""
    from core.timezones import as_utc

    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise OpsError(f"{what}: {str(value)[:40]!r} is not an ISO date and time") from None
    return as_utc(when, zone).timestamp()


def _case(con: Any, mediation_id: int) -> tuple[Any, ...]:
    row = con.execute(
        "SELECT id, incident_id, mediator, district, outcome FROM ops_mediations WHERE id=?",
        (int(mediation_id),),
    ).fetchone()
    if row is None:
        raise UnknownMediationError(f"no mediation case {mediation_id!r}")
    return tuple(row)


def _own(ctx: ServiceContext, con: Any, mediation_id: int) -> tuple[Any, ...]:
    case = _case(con, mediation_id)
    if case[2] != ctx.session.user:
        raise NotYourCaseError(f"mediation case {mediation_id} is assigned to another mediator")
    return case


@service("mediation.assign", permission="ops.dispatch", audit=False)
def assign(ctx: ServiceContext, *, incident_id: int, mediator: str) -> dict[str, Any]:
    """Give a dispute incident to a mediator (an account with role ``mediator``)."""
    ops = _ops(ctx)
    from core.security import default_roles

    record = ctx.workspace.accounts.get(mediator)
    if (
        record is None
        or record.disabled
        or not default_roles().allows(record.role, "mediation.run")
    ):
        raise OpsError(f"{mediator!r} is not an active account that may mediate (role 'mediator')")
    with ops.ctx.tx() as tx:
        inc = load_incident(tx.con, int(incident_id))
        if tx.con.execute(
            "SELECT 1 FROM ops_mediations WHERE incident_id=? AND closed_at IS NULL", (inc.id,)
        ).fetchone():
            raise OpsError(f"incident {inc.id} already has an open mediation case")
        cur = tx.con.execute(
            "INSERT INTO ops_mediations (incident_id, mediator, district, "
            "assigned_by, assigned_at) VALUES (?,?,?,?,?)",
            (inc.id, mediator, inc.district, ctx.session.user, tx.now),
        )
        mid = int(cur.lastrowid or 0)
        tx.con.execute(
            "UPDATE ops_incidents SET dispute=1, mediation='pending', "
            "version=version+1, updated_at=? WHERE id=?",
            (tx.now, inc.id),
        )
        tx.event(
            "incident.mediation",
            inc.id,
            ctx.session.user,
            {
                "incident_id": inc.id,
                "mediation_id": mid,
                "mediator": mediator,
                "outcome": "pending",
            },
        )
        tx.audit(
            ctx.session.user,
            "mediation.assign",
            {"incident": inc.id, "case": mid, "mediator": mediator},
        )
    return {"id": mid, "incident_id": inc.id, "mediator": mediator}


@service("mediation.mine", permission="mediation.run")
def mine(ctx: ServiceContext, *, open_only: bool = False) -> list[dict[str, Any]]:
    """The cases assigned to me, with their dispute, sessions and invitations."""
    from core.timezones import format_local
    from ops.model import from_epoch

    ops = _ops(ctx)
    con = ops.ctx.con
    sql = (
        "SELECT id, incident_id, district, assigned_at, outcome, agreement, closed_at FROM "
        "ops_mediations WHERE mediator=?"
    )
    if open_only:
        sql += " AND closed_at IS NULL"
    out = []
    for mid, iid, district, assigned_at, outcome, agreement, closed_at in con.execute(
        sql + " ORDER BY id DESC", (ctx.session.user,)
    ).fetchall():
        inc = ops.incidents.get(iid)
        sessions = []
        for sid, at, place, parties in con.execute(
            "SELECT id, at, place, parties FROM ops_mediation_sessions WHERE "
            "mediation_id=? ORDER BY at",
            (mid,),
        ).fetchall():
            invites = [
                {"party": p, "code": c, "opened": o is not None}
                for c, p, o in con.execute(
                    "SELECT code, party, opened_at FROM ops_mediation_invites "
                    "WHERE session_id=? ORDER BY party",
                    (sid,),
                ).fetchall()
            ]
            sessions.append(
                {
                    "id": sid,
                    "at": at,
                    "at_local": format_local(from_epoch(at), ctx.workspace.zone),
                    "place": place,
                    "parties": json.loads(parties),
                    "invites": invites,
                }
            )
        out.append(
            {
                "id": mid,
                "incident_id": iid,
                "district": district,
                "category": inc.category,
                "text": inc.text,
                "assigned_at": assigned_at,
                "outcome": outcome,
                "agreement": agreement,
                "closed_at": closed_at,
                "sessions": sessions,
                "zone": str(ctx.workspace.zone),
            }
        )
    audit_detail(cases=len(out))
    return out


@service("mediation.schedule", permission="mediation.run", audit=False)
def schedule(
    ctx: ServiceContext,
    *,
    mediation_id: int,
    at: Any,
    parties: list[str],
    place: str = "online 线上",
) -> dict[str, Any]:
    """Schedule a session of one of my cases and invite each party by a link of its own.

    ``at`` is epoch seconds or ISO text; text without an offset is the workspace's local time.
    """
    from core.timezones import format_local
    from ops.model import from_epoch

    when = _epoch(at, "at", ctx.workspace.zone)
    if (
        not isinstance(parties, list)
        or not parties
        or len(parties) > MAX_PARTIES
        or not all(isinstance(p, str) and p.strip() and len(p) <= 100 for p in parties)
    ):
        raise OpsError(f"parties: 1 to {MAX_PARTIES} names of at most 100 characters")
    if not isinstance(place, str) or len(place) > 200:
        raise OpsError("place: at most 200 characters")
    ops = _ops(ctx)
    with ops.ctx.tx() as tx:
        case = _own(ctx, tx.con, mediation_id)
        if case[4] is not None:
            raise OpsError(f"mediation case {mediation_id} is closed ({case[4]})")
        cur = tx.con.execute(
            "INSERT INTO ops_mediation_sessions (mediation_id, at, place, "
            "parties, created_by, created_at) VALUES (?,?,?,?,?,?)",
            (case[0], when, place, dumps([p.strip() for p in parties]), ctx.session.user, tx.now),
        )
        sid = int(cur.lastrowid or 0)
        invites = []
        for party in parties:
            code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
            tx.con.execute(
                "INSERT INTO ops_mediation_invites (code, session_id, party) VALUES (?,?,?)",
                (code, sid, party.strip()),
            )
            invites.append(
                {"party": party.strip(), "code": code, "link": f"/field/invite?code={code}"}
            )
        tx.event(
            "incident.mediation",
            case[1],
            ctx.session.user,
            {"incident_id": case[1], "mediation_id": case[0], "session_id": sid, "at": when},
        )
        tx.audit(
            ctx.session.user,
            "mediation.schedule",
            {"case": case[0], "session": sid, "parties": len(parties)},
        )
    return {
        "session_id": sid,
        "at": when,
        "at_local": format_local(from_epoch(when), ctx.workspace.zone),
        "place": place,
        "invites": invites,
    }


@service("mediation.outcome", permission="mediation.run", audit=False)
def outcome(
    ctx: ServiceContext, *, mediation_id: int, outcome: str, agreement: str = ""
) -> dict[str, Any]:
    """Close one of my cases: success (with the agreement's text) or failed."""
    if outcome not in OUTCOMES:
        raise OpsError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    if not isinstance(agreement, str) or len(agreement) > MAX_AGREEMENT:
        raise OpsError(f"agreement: text of at most {MAX_AGREEMENT} characters")
    if outcome == "success" and not agreement.strip():
        raise OpsError("agreement: a successful mediation records the agreement's text")
    ops = _ops(ctx)
    with ops.ctx.tx() as tx:
        case = _own(ctx, tx.con, mediation_id)
        if case[4] is not None:
            raise OpsError(f"mediation case {mediation_id} is already closed ({case[4]})")
        tx.con.execute(
            "UPDATE ops_mediations SET outcome=?, agreement=?, closed_at=? WHERE id=?",
            (outcome, agreement.strip(), tx.now, case[0]),
        )
        tx.con.execute(
            "UPDATE ops_incidents SET dispute=1, mediation=?, version=version+1, "
            "updated_at=? WHERE id=?",
            (outcome, tx.now, case[1]),
        )
        tx.event(
            "incident.mediation",
            case[1],
            ctx.session.user,
            {"incident_id": case[1], "mediation_id": case[0], "outcome": outcome},
        )
        tx.audit(
            ctx.session.user,
            "mediation.outcome",
            {"case": case[0], "incident": case[1], "outcome": outcome},
        )
    return {"id": case[0], "incident_id": case[1], "outcome": outcome}


@service("public.invite", permission="report.submit")
def invite(ctx: ServiceContext, *, code: str) -> dict[str, Any]:
    """What a party's invitation link shows: when and where the session is (nothing else)."""
    from core.timezones import format_local
    from ops.model import from_epoch

    if not isinstance(code, str) or len(code) != INVITE_LENGTH:
        raise OpsError(f"code: an invitation code has {INVITE_LENGTH} characters")
    ops = _ops(ctx)
    with ops.ctx.tx() as tx:
        row = tx.con.execute(
            "SELECT i.party, s.at, s.place, m.outcome FROM ops_mediation_invites i JOIN "
            "ops_mediation_sessions s ON s.id = i.session_id JOIN ops_mediations m ON "
            "m.id = s.mediation_id WHERE i.code=?",
            (code.strip().upper(),),
        ).fetchone()
        if row is None:
            raise UnknownMediationError(f"no invitation with code {code[:20]!r}")
        tx.con.execute(
            "UPDATE ops_mediation_invites SET opened_at=coalesce(opened_at, ?) WHERE code=?",
            (tx.now, code.strip().upper()),
        )
    party, at, place, closed = row
    return {
        "party": party,
        "at": format_local(from_epoch(at), ctx.workspace.zone),
        "place": place,
        "closed": closed is not None,
    }


def by_mediator(
    con: Any, start: float | None = None, end: float | None = None
) -> dict[str, dict[str, Any]]:
    """Cases per mediator (assigned in [start, end)): cases, success, failed, open and
    success_rate = success ÷ (success + failed)."""
    sql = "SELECT mediator, outcome FROM ops_mediations WHERE 1=1"
    args: list[Any] = []
    if start is not None:
        sql += " AND assigned_at >= ?"
        args.append(start)
    if end is not None:
        sql += " AND assigned_at < ?"
        args.append(end)
    out: dict[str, dict[str, Any]] = {}
    for mediator, result in con.execute(sql, args).fetchall():
        d = out.setdefault(mediator, {"cases": 0, "success": 0, "failed": 0, "open": 0})
        d["cases"] += 1
        d[result if result in OUTCOMES else "open"] += 1
    for d in out.values():
        decided = d["success"] + d["failed"]
        d["success_rate"] = round(d["success"] / decided, 4) if decided else None
    return dict(sorted(out.items()))
