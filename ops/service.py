"""The operations service: one object a console or the CLI opens on a workspace.

    ops = OpsService(workspace)
    inc = ops.incidents.create("纠纷", 3, lat=30.75, lon=120.76, text="邻居吵架")
    best = ops.dispatch.recommend(inc.id)
    ops.dispatch.assign(inc.id, best[0].unit_id)
    ops.units.set_status(best[0].unit_id, "en_route")
    ops.alerts.subscribe(lambda alert: ...)

Every change is journalled in ``ops_events`` (poll :meth:`OpsService.events_since` from another
process) and pushed to in-process subscribers (:meth:`OpsService.subscribe`). Services opened on
the same workspace in one process share their subscribers, so a console sees what its ingest
worker raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ops.alerts import AlertCenter
from ops.config import OpsConfig, load_config
from ops.dispatch import Dispatcher
from ops.events import EventBus, EventCallback, OpsContext, events_since
from ops.hotspots import hotspots
from ops.incidents import IncidentDesk
from ops.intake import Intake
from ops.metrics import metrics
from ops.model import OpsEvent
from ops.units import UnitRoster

if TYPE_CHECKING:
    from core.workspace import Workspace

_BUSES: dict[str, EventBus] = {}
_BUSES_LOCK = threading.Lock()


def _bus_for(key: str) -> EventBus:
    with _BUSES_LOCK:
        return _BUSES.setdefault(key, EventBus())


class OpsService:
    """Incidents, units, dispatch, alerts, hotspots and metrics of one workspace.

    Parameters
    ----------
    workspace:
        The opened workspace; ops tables live in its store (``ops_*``).
    config:
        Settings; default: ``resources/ops/*.toml`` overridden by ``WORKSPACE/ops/*.toml``.
    clock:
        Returns the current time as epoch seconds (tests pass a fake clock).

    Attributes
    ----------
    incidents: IncidentDesk
    units: UnitRoster
    dispatch: Dispatcher
    alerts: AlertCenter
    intake: Intake
    """

    def __init__(self, workspace: Workspace, *, config: OpsConfig | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        cfg = config or load_config(workspace.root / "ops")
        self.ctx = OpsContext(workspace, cfg, _bus_for(str(workspace.store.path)),
                              clock or time.time)
        self.incidents = IncidentDesk(self.ctx)
        self.units = UnitRoster(self.ctx)
        self.dispatch = Dispatcher(self.ctx)
        self.alerts = AlertCenter(self.ctx)
        self.intake = Intake(self.ctx)
        self.ctx.recover_audit()

    @property
    def config(self) -> OpsConfig:
        return self.ctx.config

    # -- change notification --------------------------------------------------------------------
    def subscribe(self, callback: EventCallback,
                  kinds: set[str] | None = None) -> Callable[[], None]:
        """Call ``callback(OpsEvent)`` after each change in this process (optionally only of
        ``kinds``, see :class:`ops.model.OpsEvent`); returns an unsubscribe function."""
        return self.ctx.bus.subscribe(callback, kinds)

    def events_since(self, after_id: int = 0, *, limit: int = 1000) -> list[OpsEvent]:
        """Journalled changes with id > ``after_id`` (any process), oldest first."""
        return events_since(self.ctx.con, after_id, limit)

    def prune_events(self, before: datetime) -> int:
        """Delete journalled events older than ``before`` (the journal is a change feed for
        polling consoles, not the record: incidents, assignments, alerts and the audit log
        keep everything). Returns how many were deleted."""
        with self.ctx.tx() as tx:
            return int(tx.con.execute("DELETE FROM ops_events WHERE ts < ?",
                                      (before.timestamp(),)).rowcount)

    def last_event_id(self) -> int:
        """The id of the newest journalled event (0 when none): where a poller starts."""
        return int(self.ctx.con.execute("SELECT coalesce(max(id), 0) FROM ops_events")
                   .fetchone()[0])

    # -- boards and analytics ---------------------------------------------------------------------
    def board(self, queue_limit: int | None = None) -> dict[str, Any]:
        """The status board: incidents and units per status, the open queue with timers (its
        first ``queue_limit`` entries when given) and the number of unacknowledged alerts."""
        unacked = self.ctx.con.execute(
            "SELECT count(*) FROM ops_alerts WHERE acked_at IS NULL").fetchone()[0]
        return {"incidents": self.incidents.counts(), "units": self.units.counts(),
                "queue": self.incidents.open_queue(queue_limit),
                "alerts_unacked": int(unacked)}

    def hotspots(self, start: datetime, end: datetime, *, cell_m: float | None = None,
                 category: str | None = None) -> dict[str, Any]:
        """See :func:`ops.hotspots.hotspots`."""
        return hotspots(self.ctx.con, self.config, start=start, end=end, cell_m=cell_m,
                        category=category)

    def metrics(self, start: datetime | None = None,
                end: datetime | None = None) -> dict[str, Any]:
        """See :func:`ops.metrics.metrics`."""
        return metrics(self.ctx.con, self.config, now=self.ctx.clock(), start=start, end=end)


def raise_alert(workspace: Workspace, kind: str, **details: Any) -> Any:
    """Raise an alert on ``workspace`` from another engine in one call, e.g.
    ``raise_alert(ws, "face_match", title=…, score=0.91, subject=…, record_uid=…)``; see
    :meth:`ops.alerts.AlertCenter.raise_alert` (returns the Alert, or None when below the
    face-match threshold or a duplicate)."""
    return OpsService(workspace).alerts.raise_alert(kind, **details)
