"""Dispatch: recommend units for an incident, assign (race-safe), reassign and release."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ops.db import ASSIGNMENT_COLUMNS, assignment_from_row
from ops.errors import InvalidIncidentError, OpsError, UnitUnavailableError
from ops.events import OpsContext, Tx
from ops.incidents import advance_incident, load_incident
from ops.model import Assignment, Incident, Recommendation, Unit
from ops.recommend import UnitSnapshot, recommend_at, recommend_many
from ops.units import BOUND_STATES, end_assignment, load_unit, write_unit_status

log = logging.getLogger(__name__)

_SNAPSHOT_SQL = (
    "SELECT id, name, type, capabilities, district, status, lat, lon, position_at "
    "FROM ops_units ORDER BY id"
)
_SNAPSHOT_KEY_SQL = (
    "SELECT count(*), total(version), (SELECT value FROM ops_meta WHERE "
    "key = 'units_moved') FROM ops_units"
)
_POSITIONS_SQL = "SELECT lat, lon, position_at FROM ops_units ORDER BY id"


class Dispatcher:
    """Recommendations and assignments.

    Assignments are race-safe across processes: each runs in one ``BEGIN IMMEDIATE``
    transaction that re-reads the unit, refuses it unless it is available, and writes it with
    a compare-and-set on its ``version``. Of two consoles assigning the same unit at the same
    moment exactly one succeeds; the other gets :class:`UnitUnavailableError` naming the unit,
    its status, who assigned it and to which incident.
    """

    def __init__(self, ctx: OpsContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self._snapshot: UnitSnapshot | None = None
        self._roster_key: tuple[Any, ...] | None = None  # (units, sum of versions)
        self._moved_key: Any = None  # position-fix counter (ops_meta units_moved)
        self._lock = threading.Lock()

    # -- recommendation -----------------------------------------------------------------------
    def snapshot(self) -> UnitSnapshot:
        """The roster as arrays, kept current with one aggregate query per call.

        A status, capability or roster change (any ``version`` bump, or a unit added) rebuilds
        it; position fixes only (the frequent case: GPS) reload the three position columns.
        """
        con = self.ctx.con
        with self._lock:  # console workers may recommend from several threads
            count, versions, moved = con.execute(_SNAPSHOT_KEY_SQL).fetchone()
            snap = self._snapshot
            if snap is None or (count, versions) != self._roster_key:
                snap = UnitSnapshot.from_rows(con.execute(_SNAPSHOT_SQL).fetchall(), self.config)
                self._roster_key = (count, versions)
            elif moved != self._moved_key:
                pos = np.array(con.execute(_POSITIONS_SQL).fetchall(), dtype=float).reshape(-1, 3)
                # A new snapshot, never mutated: a caller holding the old one stays consistent.
                snap = replace(snap, lat=pos[:, 0], lon=pos[:, 1], position_at=pos[:, 2])
            self._snapshot, self._moved_key = snap, moved
            return snap

    def _location(self, inc: Incident) -> tuple[float, float]:
        if inc.lat is not None and inc.lon is not None:
            return inc.lat, inc.lon
        district = self.config.district_by_name(inc.district) if inc.district else None
        if district is None:
            raise InvalidIncidentError(
                f"incident {inc.id} has no location and no known "
                "district; set its position to get recommendations"
            )
        return district.center

    def recommend(
        self,
        incident_id: int,
        *,
        capabilities: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Recommendation]:
        """Nearest available units able to handle the incident, best (lowest ETA) first.

        Parameters
        ----------
        incident_id:
            The incident. Without a position its district centre is used.
        capabilities:
            Needed unit capabilities; default: those of the incident's routing rule.
        limit:
            How many units (default ``[recommend] default_limit`` of ``units.toml``).

        Units already assigned to the incident are left out; stale positions are flagged
        (``Recommendation.stale``), not hidden.
        """
        inc = load_incident(self.ctx.con, incident_id)
        lat, lon = self._location(inc)
        caps = (
            tuple(inc.routing.get("capabilities", ()))
            if capabilities is None
            else tuple(capabilities)
        )
        return recommend_at(
            self.snapshot(),
            lat,
            lon,
            capabilities=caps,
            now=self.ctx.clock(),
            road_factor=self.config.road_factor,
            stale_minutes=self.config.stale_minutes,
            limit=limit or self.config.default_limit,
            exclude=inc.units,
        )

    def recommend_point(
        self, lat: float, lon: float, *, capabilities: Sequence[str] = (), limit: int | None = None
    ) -> list[Recommendation]:
        """Nearest available units to a point (e.g. a spot clicked on the map)."""
        return recommend_at(
            self.snapshot(),
            lat,
            lon,
            capabilities=capabilities,
            now=self.ctx.clock(),
            road_factor=self.config.road_factor,
            stale_minutes=self.config.stale_minutes,
            limit=limit or self.config.default_limit,
        )

    def recommend_open(self, *, limit: int = 3) -> dict[int, list[dict[str, Any]]]:
        """Best units for every open incident at once (dispatch-board overview).

        Returns incident id → ``[{"unit_id", "eta_s", "distance_m"}, …]``. Incidents without
        a location or known district are left out.
        """
        incidents = self.ctx.con.execute(
            "SELECT id, lat, lon, district, routing FROM ops_incidents WHERE status IN "
            f"({','.join('?' * len(self._open_states()))})",
            self._open_states(),
        ).fetchall()
        ids, lats, lons, caps = [], [], [], []
        for iid, lat, lon, district, routing in incidents:
            if lat is None:
                d = self.config.district_by_name(district) if district else None
                if d is None:
                    continue
                lat, lon = d.center
            ids.append(iid)
            lats.append(lat)
            lons.append(lon)
            caps.append(tuple(json.loads(routing).get("capabilities", ())))
        found = recommend_many(
            self.snapshot(),
            np.array(lats, dtype=float),
            np.array(lons, dtype=float),
            caps,
            road_factor=self.config.road_factor,
            limit=limit,
        )
        return {
            iid: [{"unit_id": u, "eta_s": e, "distance_m": d} for u, e, d in rows]
            for iid, rows in zip(ids, found, strict=True)
        }

    def _open_states(self) -> list[str]:
        return list(self.config.incident_states.extra.get("open", []))

    # -- assignment ---------------------------------------------------------------------------
    def _bind(self, tx: Tx, inc: Incident, unit: Unit, who: str) -> Assignment:
        write_unit_status(tx, unit, "dispatched", who, incident_id=inc.id, assigned_by=who)
        cur = tx.con.execute(
            "INSERT INTO ops_assignments (incident_id, unit_id, assigned_at, assigned_by) "
            "VALUES (?,?,?,?)",
            (inc.id, unit.id, tx.now, who),
        )
        row = tx.con.execute(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM ops_assignments WHERE id=?", (cur.lastrowid,)
        ).fetchone()
        assignment = assignment_from_row(row)
        tx.event("assignment.created", inc.id, who, assignment.as_dict())
        return assignment

    def _dispatch_incident(self, tx: Tx, inc: Incident, who: str) -> None:
        """Move the incident to ``dispatched`` unless it is already there or further on."""
        if inc.status in ("dispatched", "on_scene"):
            return
        advance_incident(tx, self.config, inc, "dispatched", who)

    def assign(
        self,
        incident_id: int,
        unit_ids: str | Sequence[str],
        *,
        user: str | None = None,
        expected_versions: Mapping[str, int] | None = None,
    ) -> list[Assignment]:
        """Send one or more units to an incident, all or none.

        Parameters
        ----------
        incident_id:
            An open incident; it moves to ``dispatched`` (time stamped).
        unit_ids:
            One unit id or several; each must be available (status ``available``).
        expected_versions:
            Optional unit id → the ``Unit.version`` the console showed; if a unit changed since,
            the assignment is refused rather than acting on stale information.

        Raises
        ------
        UnitUnavailableError
            A unit is not available (another console took it, or it is off duty); names the
            unit, its status, who assigned it and to which incident. Nothing is assigned.
        InvalidTransitionError
            The incident is closed (resolved, assessed, cancelled…).
        """
        ids = [unit_ids] if isinstance(unit_ids, str) else list(dict.fromkeys(unit_ids))
        if not ids:
            raise OpsError(f"incident {incident_id}: no unit given to assign")
        self.ctx.require("ops.dispatch", action="dispatch.assign", incident=incident_id, units=ids)
        who = self.ctx.user(user)
        recommendable = set(self.config.unit_states.extra.get("recommendable", ["available"]))
        with self.ctx.tx() as tx:
            inc = load_incident(tx.con, incident_id)
            if inc.status not in ("dispatched", "on_scene"):
                self.config.incident_states.check(f"incident {inc.id}", inc.status, "dispatched")
            made = []
            for unit_id in ids:
                unit = load_unit(tx.con, unit_id)
                if unit.status not in recommendable:
                    raise UnitUnavailableError(
                        unit.id,
                        unit.status,
                        taken_by=unit.assigned_by,
                        incident_id=unit.incident_id,
                    )
                expected = (expected_versions or {}).get(unit_id)
                if expected is not None and expected != unit.version:
                    raise UnitUnavailableError(
                        unit.id,
                        unit.status,
                        detail=f"it changed since you looked: version {expected} → {unit.version}",
                    )
                self.config.unit_states.check(f"unit {unit.id}", unit.status, "dispatched")
                made.append(self._bind(tx, inc, unit, who))
            self._dispatch_incident(tx, inc, who)
            tx.audit(who, "ops.dispatch.assign", {"incident": incident_id, "units": ids})
        return made

    def reassign(self, unit_id: str, incident_id: int, *, user: str | None = None) -> Assignment:
        """Move a dispatched or en-route unit to another incident (an available one is simply
        assigned). Its previous assignment ends with reason ``reassigned``."""
        self.ctx.require(
            "ops.dispatch", action="dispatch.reassign", unit=unit_id, incident=incident_id
        )
        who = self.ctx.user(user)
        with self.ctx.tx() as tx:
            unit = load_unit(tx.con, unit_id)
            inc = load_incident(tx.con, incident_id)
            if unit.incident_id == inc.id:
                raise OpsError(f"unit {unit_id} is already assigned to incident {incident_id}")
            if inc.status not in ("dispatched", "on_scene"):
                self.config.incident_states.check(f"incident {inc.id}", inc.status, "dispatched")
            self.config.unit_states.check(f"unit {unit.id}", unit.status, "dispatched")
            previous = unit.incident_id
            if previous is not None:
                end_assignment(tx, unit.id, who, "reassigned")
            made = self._bind(tx, inc, unit, who)
            self._dispatch_incident(tx, inc, who)
            tx.audit(
                who, "ops.dispatch.reassign", {"unit": unit_id, "from": previous, "to": incident_id}
            )
        return made

    def release(self, unit_id: str, *, user: str | None = None) -> Unit:
        """End a unit's assignment: dispatched/en route → available, on scene → cleared
        (``release_to`` in ``states.toml``)."""
        self.ctx.require("ops.dispatch", action="dispatch.release", unit=unit_id)
        who = self.ctx.user(user)
        release_to = dict(self.config.unit_states.extra.get("release_to", {}))
        with self.ctx.tx() as tx:
            unit = load_unit(tx.con, unit_id)
            if unit.status not in BOUND_STATES or unit.incident_id is None:
                raise OpsError(
                    f"unit {unit_id} is not assigned to an incident (it is {unit.status!r})"
                )
            target = release_to.get(unit.status)
            if target is None:
                raise OpsError(
                    f"unit {unit_id}: states.toml gives no release_to for {unit.status!r}"
                )
            self.config.unit_states.check(f"unit {unit.id}", unit.status, target)
            end_assignment(tx, unit.id, who, "released")
            updated = write_unit_status(tx, unit, target, who, incident_id=None, assigned_by=None)
            tx.audit(
                who,
                "ops.dispatch.release",
                {"unit": unit_id, "incident": unit.incident_id, "to": target},
            )
        return updated

    def assignments(self, *, active_only: bool = True) -> list[Assignment]:
        """Assignments (current ones by default), oldest first."""
        sql = f"SELECT {ASSIGNMENT_COLUMNS} FROM ops_assignments"
        if active_only:
            sql += " WHERE ended_at IS NULL"
        return [assignment_from_row(r) for r in self.ctx.con.execute(sql + " ORDER BY id")]
