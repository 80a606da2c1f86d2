"""The console's window on the operations engine (``ops``): one object the dispatch board, the
alert tray and the map share.

Only calls the engine's public classes (incident desk, unit roster, dispatcher, alert centre)
and shapes their results for display; every decision (routing, recommendation order, state
transitions, concurrency) is the engine's. No Qt here; methods may block (call from workers).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from console.context import ConsoleContext
from console.engines import CLIENT_MODE
from console.errors import EngineUnavailableError

if TYPE_CHECKING:
    from ops.dispatch import Dispatcher
    from ops.incidents import IncidentDesk
    from ops.units import UnitRoster

log = logging.getLogger(__name__)


class OpsEngine(Protocol):
    """What the view reads of the engine itself besides its services (``ops.OpsService``; a
    client console's stand-in is :class:`console.remote_ops.RemoteOpsView`'s)."""

    @property
    def config(self) -> Any: ...

    def last_event_id(self) -> int: ...


class AlertLog(Protocol):
    """The alert centre's newest id (``ops.alerts.AlertCenter``, or the centre's)."""

    def last_id(self) -> int: ...


#: Incident states the board's "closed" list shows (after clearance on the ground).
CLOSED_STATES = ("resolved", "feedback", "assessed")


def _epoch(iso: Any) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return 0.0


def unavailable_reason(ctx: ConsoleContext) -> str:
    """Why :meth:`OpsView.open` returns ``None`` (empty when the engine is usable)."""
    return ctx.engines.ops_board.unavailable()


class OpsView:
    """Incidents, units, dispatch actions and alerts of one workspace (``ops.OpsService``)."""

    service: OpsEngine
    desk: IncidentDesk | None  # None in a client console: the centre's desk is not local
    roster: UnitRoster | None
    dispatcher: Dispatcher | None
    alerts: AlertLog

    def __init__(self, ctx: ConsoleContext) -> None:
        self.console = ctx
        reason = unavailable_reason(ctx)
        if reason:
            raise EngineUnavailableError("ops", reason)
        from ops.service import ops_for  # the one the ops services use

        self.service = ops_for(ctx.workspace)
        self.desk = self.service.incidents
        self.roster = self.service.units
        self.dispatcher = self.service.dispatch
        self.alerts = self.service.alerts

    @classmethod
    def open(cls, ctx: ConsoleContext) -> OpsView | None:
        """The shared view, or ``None`` when the engine is not available (see the log)."""
        if unavailable_reason(ctx):
            return None
        try:
            return ctx.service("ops.view", lambda: cls(ctx))
        except Exception as exc:  # shown as "engine not available" by the panels
            log.warning("operations engine failed to open: %s", exc)
            return None

    @property
    def config(self) -> Any:
        return self.service.config

    def board(self, queue_limit: int | None = None) -> dict[str, Any]:
        """Counts per status, the open queue with timers (its first ``queue_limit``),
        unacknowledged alerts."""
        return dict(self.console.engines.ops_board(queue_limit=queue_limit))

    def last_event_id(self) -> int:
        return int(self.service.last_event_id())

    def events_since(self, after_id: int) -> list[Any]:
        return list(self.console.engines.ops_events(since=int(after_id), limit=1000))

    # -- reads --------------------------------------------------------------------------------
    def queue(self) -> list[dict[str, Any]]:
        """Open incidents by priority with their timers (``IncidentDesk.open_queue``)."""
        return list(self.console.engines.ops_queue())

    def closed_incidents(self, limit: int = 100) -> list[dict[str, Any]]:
        """Incidents closed on the ground (resolved, with feedback, assessed), newest first,
        shaped like queue rows (their follow-up is what the board shows for them)."""
        rows: list[dict[str, Any]] = []
        for status in CLOSED_STATES:
            for inc in self.console.engines.ops_incidents(status=status, limit=limit):
                d = inc.as_dict() if hasattr(inc, "as_dict") else dict(inc)
                rows.append(d)
        now = time.time()
        for d in rows:
            d["age_s"] = now - _epoch(d.get("received_at"))
        rows.sort(key=lambda d: -_epoch(d.get("received_at")))
        return rows[:limit]

    def units(self) -> list[Any]:
        return list(self.console.engines.ops_units())

    def unit_counts(self) -> dict[str, int]:
        return dict(self.board(queue_limit=0)["units"])

    def incident_counts(self) -> dict[str, int]:
        return dict(self.board(queue_limit=0)["incidents"])

    def recommend(self, incident_id: int) -> list[Any]:
        return list(self.console.engines.ops_recommend(incident_id=int(incident_id)))

    def stale_after_s(self) -> float:
        return float(self.config.stale_minutes) * 60.0

    # -- actions: through the ops services (core.services), as the logged-in user; the engine
    # audits them and refuses invalid ones with a clear message -------------------------------
    def assign(self, incident_id: int, unit_ids: list[str]) -> list[Any]:
        return list(
            self.console.engines.ops_assign(incident_id=int(incident_id), unit_ids=list(unit_ids))
        )

    def accept_incident(self, incident_id: int) -> Any:
        """Acknowledge a received incident (received → accepted)."""
        if self.desk is None:
            raise EngineUnavailableError("ops", CLIENT_MODE)
        return self.desk.accept(int(incident_id), user=self.console.user)

    def release(self, unit_id: str) -> Any:
        return self.console.engines.ops_release(unit_id=unit_id)

    def set_unit_status(self, unit_id: str, status: str) -> Any:
        return self.console.engines.ops_unit_status(unit_id=unit_id, status=status)

    # -- alerts -------------------------------------------------------------------------------
    def alerts_since(self, after_id: int) -> list[Any]:
        return list(self.console.engines.ops_alerts(since=int(after_id), limit=500))

    def unacked_count(self) -> int:
        """Unacknowledged alerts in the workspace (from the engine's status board)."""
        return int(self.board().get("alerts_unacked", 0))

    def open_alerts(self) -> list[Any]:
        return list(self.console.engines.ops_alerts(unacked_only=True))

    def ack(self, alert_id: int, note: str = "") -> Any:
        return self.console.engines.ops_alert_ack(alert_id=int(alert_id), note=note)

    # -- map layers ---------------------------------------------------------------------------
    def incident_points(self) -> list[dict[str, Any]]:
        out = []
        for d in self.queue():
            if d.get("lat") is None:
                continue
            out.append(
                {
                    "id": str(d["id"]),
                    "lat": d["lat"],
                    "lon": d["lon"],
                    "priority": d.get("priority"),
                    "category": d.get("category", ""),
                    "label": (d.get("text") or d.get("address") or "")[:80],
                    "record": d.get("source_uid"),
                }
            )
        return out

    def unit_points(self) -> list[dict[str, Any]]:
        return unit_points(self.units(), self.stale_after_s())

    def subscribe_moves(self, callback: Any) -> Any:
        """Call ``callback(payload)`` for each position fix this process records (the local
        event path: the engine's in-process bus, ``unit.moved``, from the thread that wrote it);
        returns an unsubscribe, or None where fixes come by the server's push instead."""
        bus = getattr(getattr(self.service, "ctx", None), "bus", None)
        if bus is None:
            return None
        return bus.subscribe(lambda event: callback(event.payload), {"unit.moved"})

    def hotspot_cells(self, days: int = 30) -> dict[str, Any]:
        """The engine's hotspots for the ``days`` before the newest incident, vs the period
        before (demo data is not dated today)."""

        return dict(self.console.engines.ops_hotspots(days=days))

    def hotspot_points(self) -> list[list[float]]:
        """Heat points: the centre of each hotspot cell weighted by its incident count."""
        cells = self.hotspot_cells().get("cells", [])
        return [
            [c["center"][0], c["center"][1], float(c["count"])] for c in cells if c["count"] > 0
        ]

    def geofence_features(self) -> list[dict[str, Any]]:
        out = []
        for g in getattr(self.config.alerts, "geofences", ()):
            ring = [[lon, lat] for lat, lon in g.polygon]
            if ring and ring[0] != ring[-1]:
                ring.append(ring[0])
            out.append(
                {
                    "type": "Feature",
                    "properties": {"name": g.name, "id": g.id, "alert_on": g.alert_on},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
        return out


def unit_points(
    units: list[Any], stale_after_s: float, now: float | None = None
) -> list[dict[str, Any]]:
    """The map's unit markers: every unit with a position, ``stale`` when its last fix is older
    than ``stale_after_s`` (or it has none)."""
    now = time.time() if now is None else now
    out = []
    for u in units:
        if u.lat is None:
            continue
        age = now - u.position_at.timestamp() if u.position_at else None
        out.append(
            {
                "id": u.id,
                "label": u.name or u.id,
                "lat": u.lat,
                "lon": u.lon,
                "status": u.status,
                "stale": age is None or age > stale_after_s,
            }
        )
    return out


class PositionFixes:
    """Pushed position fixes waiting to be shown: only the newest per unit is kept, so 200
    units reporting every 10 s (20 fixes a second) reach the board as one batch per flush
    (the board flushes every :data:`POSITION_FLUSH_MS`), never as 20 redraws a second."""

    def __init__(self) -> None:
        self._latest: dict[str, tuple[float, float, float]] = {}
        self.received = 0  # fixes offered
        self.flushed = 0  # batches taken

    def offer(self, payload: Any) -> bool:
        """Keep one ``unit.moved`` payload (``unit_id``, ``lat``, ``lon``, ``at`` epoch s);
        a malformed one is dropped. True when it was kept."""
        try:
            unit = str(payload["unit_id"])
            fix = (float(payload["lat"]), float(payload["lon"]), float(payload["at"]))
        except (KeyError, TypeError, ValueError):
            return False
        self.received += 1
        old = self._latest.get(unit)
        if old is None or old[2] <= fix[2]:
            self._latest[unit] = fix
        return True

    def __len__(self) -> int:
        return len(self._latest)

    def take(self) -> dict[str, tuple[float, float, float]]:
        """The newest fix per unit since the last take (unit → (lat, lon, at))."""
        out, self._latest = self._latest, {}
        if out:
            self.flushed += 1
        return out


#: How often the board shows the pushed fixes that arrived since it last did (milliseconds).
POSITION_FLUSH_MS = 400
