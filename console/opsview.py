"""The console's window on the operations engine (``ops``): one object the dispatch board, the
alert tray and the map share.

Only calls the engine's public classes (incident desk, unit roster, dispatcher, alert centre)
and shapes their results for display; every decision (routing, recommendation order, state
transitions, concurrency) is the engine's. No Qt here; methods may block (call from workers).
"""

from __future__ import annotations

import logging
from typing import Any

from console.context import ConsoleContext
from console.errors import EngineUnavailableError

log = logging.getLogger(__name__)

_REQUIRED = (("ops.events", "OpsContext"), ("ops.config", "load_config"),
             ("ops.incidents", "IncidentDesk"), ("ops.units", "UnitRoster"),
             ("ops.dispatch", "Dispatcher"), ("ops.alerts", "AlertCenter"))


def unavailable_reason(ctx: ConsoleContext) -> str:
    """Why :meth:`OpsView.open` returns ``None`` (empty when the engine is usable)."""
    for module, attr in _REQUIRED:
        if ctx.api(module, attr) is None:
            return ctx.api_error(module, attr)
    return ""


class OpsView:
    """Incidents, units, dispatch actions and alerts of one workspace."""

    def __init__(self, ctx: ConsoleContext) -> None:
        self.console = ctx
        ops_context = ctx.api("ops.events", "OpsContext")
        load_config = ctx.api("ops.config", "load_config")
        if ops_context is None or load_config is None:
            raise EngineUnavailableError("ops", unavailable_reason(ctx))
        override = ctx.workspace.root / "ops"
        self.ctx = ops_context(ctx.workspace, load_config(override if override.is_dir()
                                                          else None))
        self.desk = ctx.api("ops.incidents", "IncidentDesk")(self.ctx)
        self.roster = ctx.api("ops.units", "UnitRoster")(self.ctx)
        self.dispatcher = ctx.api("ops.dispatch", "Dispatcher")(self.ctx)
        self.alerts = ctx.api("ops.alerts", "AlertCenter")(self.ctx)

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
        return self.ctx.config

    # -- reads --------------------------------------------------------------------------------
    def queue(self) -> list[dict[str, Any]]:
        """Open incidents by priority with their timers (``IncidentDesk.open_queue``)."""
        return list(self.desk.open_queue())

    def units(self) -> list[Any]:
        return list(self.roster.list())

    def unit_counts(self) -> dict[str, int]:
        return dict(self.roster.counts())

    def incident_counts(self) -> dict[str, int]:
        return dict(self.desk.counts())

    def recommend(self, incident_id: int) -> list[Any]:
        return list(self.dispatcher.recommend(int(incident_id)))

    def stale_after_s(self) -> float:
        return float(self.config.stale_minutes) * 60.0

    # -- actions (the engine audits them and refuses invalid ones with a clear message) --------
    def assign(self, incident_id: int, unit_ids: list[str]) -> list[Any]:
        return list(self.dispatcher.assign(int(incident_id), unit_ids,
                                           user=self.console.user))

    def release(self, unit_id: str) -> Any:
        return self.dispatcher.release(unit_id, user=self.console.user)

    def set_unit_status(self, unit_id: str, status: str) -> Any:
        return self.roster.set_status(unit_id, status, user=self.console.user)

    # -- alerts -------------------------------------------------------------------------------
    def alerts_since(self, after_id: int) -> list[Any]:
        return list(self.alerts.since(after_id))

    def open_alerts(self) -> list[Any]:
        return list(self.alerts.list(unacked_only=True))

    def ack(self, alert_id: int, note: str = "") -> Any:
        return self.alerts.ack(int(alert_id), user=self.console.user, note=note)

    # -- map layers ---------------------------------------------------------------------------
    def incident_points(self) -> list[dict[str, Any]]:
        out = []
        for d in self.queue():
            if d.get("lat") is None:
                continue
            out.append({"id": str(d["id"]), "lat": d["lat"], "lon": d["lon"],
                        "priority": d.get("priority"), "category": d.get("category", ""),
                        "label": (d.get("text") or d.get("address") or "")[:80],
                        "record": d.get("source_uid")})
        return out

    def unit_points(self) -> list[dict[str, Any]]:
        import time

        now = time.time()
        stale = self.stale_after_s()
        out = []
        for u in self.units():
            if u.lat is None:
                continue
            age = now - u.position_at.timestamp() if u.position_at else None
            out.append({"id": u.id, "label": u.name or u.id, "lat": u.lat, "lon": u.lon,
                        "status": u.status, "stale": age is None or age > stale})
        return out

    def hotspot_points(self) -> list[list[float]]:
        """Heat points: the engine's hotspot cells when it has them, else open incidents."""
        hotspots = self.console.api("ops.hotspots", "hotspots")
        if hotspots is not None:
            try:
                cells = hotspots(self.ctx) if callable(hotspots) else []
                return [[c["lat"], c["lon"], float(c.get("count", 1))] for c in cells]
            except Exception as exc:  # fall back to incident density
                log.info("hotspots unavailable: %s", exc)
        return [[p["lat"], p["lon"], 1.0] for p in self.incident_points()]

    def geofence_features(self) -> list[dict[str, Any]]:
        out = []
        for g in getattr(self.config.alerts, "geofences", ()):
            ring = [[lon, lat] for lat, lon in g.polygon]
            if ring and ring[0] != ring[-1]:
                ring.append(ring[0])
            out.append({"type": "Feature", "properties": {"name": g.name, "id": g.id,
                                                          "alert_on": g.alert_on},
                        "geometry": {"type": "Polygon", "coordinates": [ring]}})
        return out
