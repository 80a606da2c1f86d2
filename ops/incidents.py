"""Incidents: intake (typed in or from ingested records), routing, and the lifecycle
received → accepted → routed/dispatched → on scene → resolved → feedback → assessed."""

from __future__ import annotations

import builtins
import logging
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core.timezones import as_utc
from ops.config import OpsConfig
from ops.db import (
    ASSIGNMENT_COLUMNS,
    INCIDENT_COLUMNS,
    assignment_from_row,
    dumps,
    incident_from_row,
)
from ops.errors import InvalidIncidentError, StaleVersionError, UnknownIncidentError
from ops.events import OpsContext, Tx
from ops.geo import haversine_m, point_in_polygon
from ops.model import Assignment, Incident, from_epoch

log = logging.getLogger(__name__)

MEDIATION_OUTCOMES = ("success", "failed", "pending")
#: Moves that register an incident need ``ops.intake``; handling it needs ``ops.dispatch``.
INTAKE_PERMISSION = "ops.intake"
INTAKE_STATES = frozenset({"accepted", "routed", "cancelled"})
#: Beyond this distance from every district seat a point is in no district of ours.
FAR_FROM_SEAT_M = 60_000


def load_incident(con: Any, incident_id: int) -> Incident:
    row = con.execute(
        f"SELECT {INCIDENT_COLUMNS} FROM ops_incidents WHERE id=?", (int(incident_id),)
    ).fetchone()
    if row is None:
        raise UnknownIncidentError(f"unknown incident {incident_id!r}")
    units = [
        r[0]
        for r in con.execute(
            "SELECT unit_id FROM ops_assignments WHERE incident_id=? AND ended_at IS NULL "
            "ORDER BY id",
            (int(incident_id),),
        )
    ]
    return incident_from_row(row, units)


def _stamps_epoch(inc: Incident) -> dict[str, float]:
    return {k: v.timestamp() for k, v in inc.stamps.items()}


def advance_incident(
    tx: Tx, config: OpsConfig, inc: Incident, target: str, user: str, **sets: Any
) -> Incident:
    """Move ``inc`` to ``target`` (state machine checked), stamping the time; compare-and-set."""
    config.incident_states.check(f"incident {inc.id}", inc.status, target)
    stamps = _stamps_epoch(inc)
    stamps.setdefault(target, tx.now)
    columns = {"status": target, "stamps": dumps(stamps), **sets}
    assign = ", ".join(f"{k}=?" for k in columns)
    cur = tx.con.execute(
        f"UPDATE ops_incidents SET {assign}, version=version+1, updated_at=? "
        "WHERE id=? AND version=?",
        (*columns.values(), tx.now, inc.id, inc.version),
    )
    if cur.rowcount != 1:
        raise StaleVersionError(f"incident {inc.id} changed while being updated; try again")
    updated = load_incident(tx.con, inc.id)
    tx.event("incident.updated", inc.id, user, updated.as_dict())
    return updated


def nearest_district(config: OpsConfig, lat: float, lon: float) -> str:
    """The district whose outline contains the point, else the one with the nearest seat."""
    for name, rings in config.outlines.items():
        if any(point_in_polygon(lat, lon, ring) for ring in rings):
            return name
    best, best_d = "", math.inf
    for d in config.districts.values():
        dist = haversine_m(lat, lon, d.center[0], d.center[1])
        if dist < best_d:
            best, best_d = d.name, dist
    return best if best_d <= FAR_FROM_SEAT_M else ""


def validate_incident(
    config: OpsConfig,
    *,
    category: str,
    priority: int,
    lat: float | None,
    lon: float | None,
    where: str,
) -> None:
    if not category or not str(category).strip():
        raise InvalidIncidentError(f"{where}: category is empty")
    if isinstance(priority, bool) or not isinstance(priority, int) or priority not in config.sla:
        raise InvalidIncidentError(
            f"{where}: priority {priority!r} is not one of "
            f"{', '.join(str(p) for p in sorted(config.sla))}"
        )
    if (lat is None) != (lon is None):
        raise InvalidIncidentError(f"{where}: give both lat and lon, or neither")
    if (
        lat is not None
        and lon is not None
        and (math.isnan(lat) or math.isnan(lon) or not -90 <= lat <= 90 or not -180 <= lon <= 180)
    ):
        raise InvalidIncidentError(f"{where}: ({lat}, {lon}) is not a WGS-84 lat/lon")


class IncidentDesk:
    """Creates, lists and moves incidents through their lifecycle."""

    def __init__(self, ctx: OpsContext) -> None:
        self.ctx = ctx
        self.config = ctx.config

    # -- intake -------------------------------------------------------------------------------
    def create(
        self,
        category: str,
        priority: int,
        *,
        lat: float | None = None,
        lon: float | None = None,
        address: str = "",
        district: str = "",
        reporter: str = "",
        reporter_phone: str = "",
        text: str = "",
        received_at: datetime | None = None,
        dispute: bool = False,
        user: str | None = None,
    ) -> Incident:
        """Take in an incident typed by a commander; it is routed at once.

        ``priority`` is 1 (most urgent) … 4. Without a district, the nearest district centre
        to (lat, lon) is used. Raises :class:`InvalidIncidentError` naming the bad field.
        """
        validate_incident(
            self.config,
            category=category,
            priority=priority,
            lat=lat,
            lon=lon,
            where="new incident",
        )
        self.ctx.require("ops.intake", action="incident.create")
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            return self.insert(
                tx,
                category,
                priority,
                lat=lat,
                lon=lon,
                address=address,
                district=district,
                reporter=reporter,
                reporter_phone=reporter_phone,
                text=text,
                received_at=received_at,
                dispute=dispute,
                user=who,
            )

    def insert(
        self,
        tx: Tx,
        category: str,
        priority: int,
        *,
        lat: float | None = None,
        lon: float | None = None,
        address: str = "",
        district: str = "",
        reporter: str = "",
        reporter_phone: str = "",
        text: str = "",
        received_at: datetime | None = None,
        dispute: bool = False,
        user: str,
        audit: dict[str, Any] | None = None,
    ) -> Incident:
        """:meth:`create` inside the caller's transaction and without its permission check,
        for intake paths that checked their own (a public report, :mod:`ops.reports`)."""
        validate_incident(
            self.config,
            category=category,
            priority=priority,
            lat=lat,
            lon=lon,
            where="new incident",
        )
        if not district and lat is not None and lon is not None:
            district = nearest_district(self.config, lat, lon)
        decision = self.config.router.route(category, text, priority, district)
        who = user
        # a naive time is the workspace's wall-clock time, not the machine's
        received = (
            as_utc(received_at, self.ctx.workspace.zone).timestamp() if received_at else tx.now
        )
        cur = tx.con.execute(
            "INSERT INTO ops_incidents (source_uid, category, priority, status, received_at, "
            "lat, lon, address, district, reporter, reporter_phone, text, routing, stamps, "
            "dispute, created_by, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                None,
                category.strip(),
                priority,
                self.config.incident_states.initial,
                received,
                lat,
                lon,
                address,
                district,
                reporter,
                reporter_phone,
                text,
                dumps(decision.as_dict()),
                dumps({"received": received}),
                int(dispute or decision.dispute),
                who,
                tx.now,
            ),
        )
        inc = load_incident(tx.con, int(cur.lastrowid or 0))
        tx.event("incident.created", inc.id, who, inc.as_dict())
        tx.audit(
            who,
            "ops.incident.create",
            {
                "incident": inc.id,
                "category": category,
                "priority": priority,
                "rule": decision.rule_id,
                **(audit or {}),
            },
        )
        return inc

    # -- reads --------------------------------------------------------------------------------
    def get(self, incident_id: int) -> Incident:
        """The incident with its currently assigned units, or :class:`UnknownIncidentError`."""
        return load_incident(self.ctx.con, incident_id)

    def list(
        self,
        *,
        status: str | Iterable[str] | None = None,
        open_only: bool = False,
        district: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[Incident]:
        """Incidents, most urgent first (priority, then oldest received first)."""
        where: builtins.list[str] = []
        args: builtins.list[Any] = []
        states: builtins.list[str] = []
        if open_only:
            states = list(self.config.incident_states.extra.get("open", []))
        if status:
            states = [status] if isinstance(status, str) else list(status)
        if states:
            where.append(f"status IN ({','.join('?' * len(states))})")
            args += states
        if district:
            where.append("district=?")
            args.append(district)
        if since is not None:
            where.append("received_at >= ?")
            args.append(as_utc(since, self.ctx.workspace.zone).timestamp())
        if until is not None:
            where.append("received_at < ?")
            args.append(as_utc(until, self.ctx.workspace.zone).timestamp())
        sql = f"SELECT {INCIDENT_COLUMNS} FROM ops_incidents"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY priority, received_at, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        con = self.ctx.con
        rows = con.execute(sql, args).fetchall()
        bound: dict[int, list[str]] = {}
        for iid, unit_id in con.execute(
            "SELECT incident_id, unit_id FROM ops_assignments WHERE ended_at IS NULL ORDER BY id"
        ):
            bound.setdefault(iid, []).append(unit_id)
        return [incident_from_row(r, bound.get(r[0], ())) for r in rows]

    def open_queue(self, limit: int | None = None) -> builtins.list[dict[str, Any]]:
        """The dispatch queue: open incidents by priority, each with its timers (the first
        ``limit`` when given).

        Each entry is ``incident.as_dict()`` plus ``age_s`` (since received),
        ``respond_due`` (ISO time the SLA response target falls due) and ``overdue`` (bool).
        """
        now = self.ctx.clock()
        out = []
        for inc in self.list(open_only=True, limit=limit):
            d = inc.as_dict()
            received = inc.received_at.timestamp()
            target = self.config.sla.get(inc.priority)
            due = received + target.respond_min * 60 if target else None
            d["age_s"] = now - received
            d["respond_due"] = (
                datetime.fromtimestamp(due, tz=inc.received_at.tzinfo).isoformat(timespec="seconds")
                if due
                else None
            )
            d["overdue"] = bool(due and now > due and "on_scene" not in inc.stamps)
            out.append(d)
        return out

    def time_range(self) -> tuple[datetime, datetime] | None:
        """When the first and the last incident were received (None when there is none);
        dashboards of historical data centre their period on it."""
        first, last = self.ctx.con.execute(
            "SELECT min(received_at), max(received_at) FROM ops_incidents"
        ).fetchone()
        if first is None:
            return None
        return from_epoch(first), from_epoch(last)  # type: ignore[return-value]

    def counts(self) -> dict[str, int]:
        """Incidents per status (every declared status, zeros included)."""
        out = dict.fromkeys(self.config.incident_states.states, 0)
        for status, n in self.ctx.con.execute(
            "SELECT status, count(*) FROM ops_incidents GROUP BY status"
        ):
            out[status] = n
        return out

    def assignments(self, incident_id: int) -> builtins.list[Assignment]:
        """Every assignment of the incident, current and ended, oldest first."""
        rows = self.ctx.con.execute(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM ops_assignments WHERE incident_id=? ORDER BY id",
            (int(incident_id),),
        )
        return [assignment_from_row(r) for r in rows]

    # -- lifecycle ----------------------------------------------------------------------------
    def advance(
        self,
        incident_id: int,
        status: str,
        *,
        user: str | None = None,
        expected_version: int | None = None,
        **sets: Any,
    ) -> Incident:
        """Move an incident to ``status`` (state machine checked, time stamped)."""
        self.ctx.require(
            INTAKE_PERMISSION if status in INTAKE_STATES else "ops.dispatch",
            action="incident.status",
            incident=incident_id,
            to=status,
        )
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            inc = load_incident(tx.con, incident_id)
            if expected_version is not None and inc.version != expected_version:
                raise StaleVersionError(
                    f"incident {incident_id} changed since you looked (version "
                    f"{expected_version} → {inc.version}; now {inc.status!r})"
                )
            updated = advance_incident(tx, self.config, inc, status, who, **sets)
            params = {"incident": incident_id, "from": inc.status, "to": status}
            params.update({k: v for k, v in sets.items() if k in ("feedback", "assessment")})
            tx.audit(who, "ops.incident.status", params)
        return updated

    def accept(self, incident_id: int, *, user: str | None = None) -> Incident:
        """Accept (受理) the incident: received → accepted."""
        return self.advance(incident_id, "accepted", user=user)

    def route(self, incident_id: int, *, user: str | None = None) -> Incident:
        """Hand the incident to the departments its routing rule named."""
        return self.advance(incident_id, "routed", user=user)

    def resolve(self, incident_id: int, *, user: str | None = None) -> Incident:
        """The incident is handled (处置完毕); units on scene stay until cleared."""
        return self.advance(incident_id, "resolved", user=user)

    def record_feedback(
        self, incident_id: int, feedback: str, *, user: str | None = None
    ) -> Incident:
        """The reporter's feedback after resolution (回访)."""
        return self.advance(incident_id, "feedback", user=user, feedback=feedback)

    def assess(self, incident_id: int, assessment: str, *, user: str | None = None) -> Incident:
        """The supervisor's assessment of how the incident was handled (评价)."""
        return self.advance(incident_id, "assessed", user=user, assessment=assessment)

    def cancel(self, incident_id: int, *, user: str | None = None) -> Incident:
        """Cancel an open incident (a false alarm, a duplicate call)."""
        return self.advance(incident_id, "cancelled", user=user)

    def set_mediation(self, incident_id: int, outcome: str, *, user: str | None = None) -> Incident:
        """Mark the incident a dispute case with its mediation outcome (success/failed/pending)."""
        if outcome not in MEDIATION_OUTCOMES:
            raise InvalidIncidentError(
                f"incident {incident_id}: mediation outcome {outcome!r} is not one of "
                f"{', '.join(MEDIATION_OUTCOMES)}"
            )
        self.ctx.require("ops.dispatch", action="incident.mediation", incident=incident_id)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            inc = load_incident(tx.con, incident_id)
            tx.con.execute(
                "UPDATE ops_incidents SET dispute=1, mediation=?, version=version+1, "
                "updated_at=? WHERE id=?",
                (outcome, tx.now, inc.id),
            )
            updated = load_incident(tx.con, inc.id)
            tx.event("incident.updated", inc.id, who, updated.as_dict())
            tx.audit(who, "ops.incident.mediation", {"incident": incident_id, "outcome": outcome})
        return updated

    def reroute(
        self,
        incident_id: int,
        *,
        category: str | None = None,
        priority: int | None = None,
        text: str | None = None,
        user: str | None = None,
    ) -> Incident:
        """Correct category, priority or text and run the routing rules again."""
        self.ctx.require("ops.intake", action="incident.reroute", incident=incident_id)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            inc = load_incident(tx.con, incident_id)
            cat = category if category is not None else inc.category
            pri = priority if priority is not None else inc.priority
            txt = text if text is not None else inc.text
            validate_incident(
                self.config,
                category=cat,
                priority=pri,
                lat=inc.lat,
                lon=inc.lon,
                where=f"incident {incident_id}",
            )
            decision = self.config.router.route(cat, txt, pri, inc.district)
            tx.con.execute(
                "UPDATE ops_incidents SET category=?, priority=?, text=?, routing=?, "
                "dispute=?, version=version+1, updated_at=? WHERE id=?",
                (
                    cat,
                    pri,
                    txt,
                    dumps(decision.as_dict()),
                    int(inc.dispute or decision.dispute),
                    tx.now,
                    inc.id,
                ),
            )
            updated = load_incident(tx.con, inc.id)
            tx.event("incident.updated", inc.id, who, updated.as_dict())
            tx.audit(
                who, "ops.incident.reroute", {"incident": incident_id, "rule": decision.rule_id}
            )
        return updated
