"""Precinct units: roster, live positions (from a GPS plugin), and the status state machine."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from core.timezones import as_utc
from ops.db import UNIT_COLUMNS, dumps, unit_from_row
from ops.errors import InvalidPositionError, OpsError, StaleVersionError, UnknownUnitError
from ops.events import OpsContext, Tx
from ops.model import Unit

log = logging.getLogger(__name__)

#: Unit states in which the unit is bound to an incident.
BOUND_STATES = frozenset({"dispatched", "en_route", "on_scene"})


def _epoch(value: datetime | float | None, default: float, zone: Any = None) -> float:
    """Epoch seconds of a fix's time; a naive datetime is wall-clock time in ``zone`` (the
    workspace's), not the machine's."""
    if value is None:
        return default
    if isinstance(value, datetime):
        return as_utc(value, zone).timestamp()
    return float(value)


def check_point(lat: float, lon: float, what: str) -> None:
    if (
        not isinstance(lat, int | float)
        or not isinstance(lon, int | float)
        or math.isnan(lat)
        or math.isnan(lon)
        or not -90 <= lat <= 90
        or not -180 <= lon <= 180
    ):
        raise InvalidPositionError(f"{what}: position ({lat!r}, {lon!r}) is not a WGS-84 lat/lon")


def load_unit(con: object, unit_id: str) -> Unit:
    row = con.execute(  # type: ignore[attr-defined]
        f"SELECT {UNIT_COLUMNS} FROM ops_units WHERE id=?",
        (unit_id,),
    ).fetchone()
    if row is None:
        raise UnknownUnitError(f"unknown unit {unit_id!r}")
    return unit_from_row(row)


def write_unit_status(
    tx: Tx, unit: Unit, status: str, user: str, *, incident_id: int | None, assigned_by: str | None
) -> Unit:
    """Compare-and-set the unit's status (version must still be the one read in this tx)."""
    cur = tx.con.execute(
        "UPDATE ops_units SET status=?, status_at=?, incident_id=?, assigned_by=?, "
        "version=version+1, updated_at=? WHERE id=? AND version=?",
        (status, tx.now, incident_id, assigned_by, tx.now, unit.id, unit.version),
    )
    if cur.rowcount != 1:
        raise StaleVersionError(f"unit {unit.id} changed while being updated; try again")
    updated = load_unit(tx.con, unit.id)
    tx.event("unit.updated", unit.id, user, updated.as_dict())
    return updated


def end_assignment(tx: Tx, unit_id: str, user: str, reason: str) -> int | None:
    """Close the unit's open assignment; returns its incident id (None if it had none)."""
    row = tx.con.execute(
        "SELECT id, incident_id FROM ops_assignments WHERE unit_id=? AND ended_at IS NULL",
        (unit_id,),
    ).fetchone()
    if row is None:
        return None
    tx.con.execute(
        "UPDATE ops_assignments SET ended_at=?, ended_by=?, end_reason=? WHERE id=?",
        (tx.now, user, reason, row[0]),
    )
    tx.event(
        "assignment.ended",
        row[1],
        user,
        {"assignment_id": row[0], "incident_id": row[1], "unit_id": unit_id, "reason": reason},
    )
    return int(row[1])


class UnitRoster:
    """The units of the workspace.

    Parameters
    ----------
    ctx:
        Shared operations context (store, config, bus, clock).
    """

    def __init__(self, ctx: OpsContext) -> None:
        self.ctx = ctx
        self.machine = ctx.config.unit_states

    # -- roster -------------------------------------------------------------------------------
    def add(
        self,
        unit_id: str,
        *,
        name: str = "",
        unit_type: str,
        precinct: str = "",
        district: str = "",
        capabilities: Sequence[str] | None = None,
        lat: float | None = None,
        lon: float | None = None,
        user: str | None = None,
        replace: bool = False,
    ) -> Unit:
        """Add a unit (``replace=True`` updates its description, keeping status and position).

        ``capabilities`` default to those of its type in ``units.toml``.
        """
        types = self.ctx.config.unit_types
        if unit_type not in types:
            raise OpsError(
                f"unit {unit_id}: unknown unit type {unit_type!r}; declared in "
                f"units.toml: {', '.join(types)}"
            )
        if not unit_id or not unit_id.strip():
            raise OpsError("a unit needs a non-empty id")
        caps = list(types[unit_type].capabilities if capabilities is None else capabilities)
        if lat is not None and lon is not None:
            check_point(lat, lon, f"unit {unit_id}")
        self.ctx.require("ops.dispatch", action="unit.add", unit=unit_id)
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            exists = tx.con.execute("SELECT 1 FROM ops_units WHERE id=?", (unit_id,)).fetchone()
            if exists and not replace:
                raise OpsError(f"unit {unit_id} already exists")
            if exists:
                tx.con.execute(
                    "UPDATE ops_units SET name=?, type=?, capabilities=?, precinct=?, "
                    "district=?, version=version+1, updated_at=? WHERE id=?",
                    (name or unit_id, unit_type, dumps(caps), precinct, district, tx.now, unit_id),
                )
            else:
                pos_at = tx.now if lat is not None else None
                tx.con.execute(
                    f"INSERT INTO ops_units ({UNIT_COLUMNS}, updated_at) VALUES "
                    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        unit_id,
                        name or unit_id,
                        unit_type,
                        dumps(caps),
                        precinct,
                        district,
                        self.machine.initial,
                        lat,
                        lon,
                        pos_at,
                        tx.now,
                        None,
                        None,
                        1,
                        tx.now,
                    ),
                )
            unit = load_unit(tx.con, unit_id)
            tx.event("unit.updated" if exists else "unit.created", unit_id, who, unit.as_dict())
            tx.audit(who, "ops.unit.add", {"unit": unit_id, "type": unit_type, "replace": replace})
        return unit

    def get(self, unit_id: str) -> Unit:
        """The unit, or :class:`UnknownUnitError`."""
        return load_unit(self.ctx.con, unit_id)

    def list(
        self,
        *,
        status: str | Iterable[str] | None = None,
        district: str | None = None,
        capability: str | None = None,
    ) -> list[Unit]:
        """Units ordered by id, optionally filtered."""
        sql = f"SELECT {UNIT_COLUMNS} FROM ops_units"
        where, args = [], []
        if status:
            states = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({','.join('?' * len(states))})")
            args += states
        if district:
            where.append("district=?")
            args.append(district)
        if where:
            sql += " WHERE " + " AND ".join(where)
        units = [unit_from_row(r) for r in self.ctx.con.execute(sql + " ORDER BY id", args)]
        if capability:
            units = [u for u in units if capability in u.capabilities]
        return units

    def counts(self) -> dict[str, int]:
        """Units per status (every declared status, zeros included) for the status board."""
        out = dict.fromkeys(self.machine.states, 0)
        for status, n in self.ctx.con.execute(
            "SELECT status, count(*) FROM ops_units GROUP BY status"
        ):
            out[status] = n
        return out

    # -- positions ----------------------------------------------------------------------------
    def update_position(
        self,
        unit_id: str,
        lat: float,
        lon: float,
        at: datetime | float | None = None,
        *,
        via: str = "gps",
    ) -> Unit:
        """Record a position fix (the API a GPS plugin calls).

        A fix older than the one stored is ignored (fixes arrive out of order), so the stored
        position is always the latest. Emits ``unit.moved`` to in-process subscribers.
        """
        self.update_positions([(unit_id, lat, lon, at)], via=via)
        return self.get(unit_id)

    def update_positions(
        self,
        fixes: Iterable[tuple[str, float, float, datetime | float | None]],
        *,
        via: str = "gps",
        audit_action: str | None = None,
    ) -> int:
        """Record many fixes in one transaction; returns how many moved a unit.

        Every fix is kept in ``ops_positions`` with the session's account and ``via`` (how it
        came: device, commander, panic, gps, seed). With ``audit_action`` the fixes are audited
        under that action one entry per account and unit per minute
        (:func:`ops.positions.audit_fix`); without, the caller audits (or, for a plugin's
        feed, its own service does)."""
        from ops.positions import audit_fix, record

        moved = 0
        account = self.ctx.user(None)
        zone = self.ctx.workspace.zone
        with self.ctx.tx() as tx:
            for unit_id, lat, lon, at in fixes:
                check_point(lat, lon, f"unit {unit_id}")
                when = _epoch(at, tx.now, zone)
                cur = tx.con.execute(
                    "UPDATE ops_units SET lat=?, lon=?, position_at=?, updated_at=? WHERE id=? "
                    "AND (position_at IS NULL OR position_at <= ?)",
                    (lat, lon, when, tx.now, unit_id, when),
                )
                if cur.rowcount:
                    moved += 1
                    tx.event(
                        "unit.moved",
                        unit_id,
                        "gps",
                        {"unit_id": unit_id, "lat": lat, "lon": lon, "at": when},
                    )
                elif not tx.con.execute(
                    "SELECT 1 FROM ops_units WHERE id=?", (unit_id,)
                ).fetchone():
                    raise UnknownUnitError(f"position fix for unknown unit {unit_id!r}")
                fix = record(tx, unit_id, lat, lon, when, account=account, via=via)
                if audit_action is not None:
                    audit_fix(
                        tx,
                        fix,
                        unit_id,
                        lat,
                        lon,
                        when,
                        account=account,
                        action=audit_action,
                        via=via,
                    )
            if moved:  # tells every process's recommender to reload positions
                tx.con.execute(
                    "INSERT INTO ops_meta VALUES ('units_moved', 1) ON CONFLICT(key) "
                    "DO UPDATE SET value = value + 1"
                )
        return moved

    # -- status -------------------------------------------------------------------------------
    def set_status(
        self,
        unit_id: str,
        status: str,
        *,
        user: str | None = None,
        expected_version: int | None = None,
    ) -> Unit:
        """Move a unit to ``status`` as the state machine allows.

        Leaving the bound states (dispatched, en route, on scene) ends the unit's assignment
        (reason: the new status, or ``released``). Reaching ``on_scene`` stamps the incident
        on scene. Raises :class:`InvalidTransitionError` naming the unit, current and requested
        status, or :class:`StaleVersionError` when ``expected_version`` is no longer current.
        """
        self.ctx.require("ops.dispatch", action="unit.status", unit=unit_id, to=status)
        return self.move(unit_id, status, user=user, expected_version=expected_version)

    def move(
        self,
        unit_id: str,
        status: str,
        *,
        user: str | None = None,
        expected_version: int | None = None,
        via: str = "",
    ) -> Unit:
        """:meth:`set_status` without its permission check, for callers that checked a
        narrower one themselves (a unit's own device, :mod:`ops.field`); ``via`` is audited."""
        from ops.incidents import advance_incident, load_incident

        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            unit = load_unit(tx.con, unit_id)
            if expected_version is not None and unit.version != expected_version:
                raise StaleVersionError(
                    f"unit {unit_id} changed since you looked (version {expected_version} → "
                    f"{unit.version}; now {unit.status!r}"
                    + (f", assigned by {unit.assigned_by}" if unit.assigned_by else "")
                    + ")"
                )
            self.machine.check(f"unit {unit_id}", unit.status, status)
            incident_id, assigned_by = unit.incident_id, unit.assigned_by
            if status not in BOUND_STATES and incident_id is not None:
                reason = status if status in ("cleared", "off_duty") else "released"
                end_assignment(tx, unit_id, who, reason)
                incident_id, assigned_by = None, None
            updated = write_unit_status(
                tx, unit, status, who, incident_id=incident_id, assigned_by=assigned_by
            )
            if status == "on_scene" and unit.incident_id is not None:
                inc = load_incident(tx.con, unit.incident_id)
                if self.ctx.config.incident_states.can(inc.status, "on_scene"):
                    advance_incident(tx, self.ctx.config, inc, "on_scene", who)
            params = {
                "unit": unit_id,
                "from": unit.status,
                "to": status,
                "incident": unit.incident_id,
            }
            tx.audit(who, "ops.unit.status", {**params, "via": via} if via else params)
        return updated
