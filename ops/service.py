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

from core.services import ServiceContext, audit_detail, service, shared
from ops.alerts import AlertCenter
from ops.config import OpsConfig, load_config
from ops.dispatch import Dispatcher
from ops.events import EventBus, EventCallback, OpsContext, events_since
from ops.hotspots import hotspots
from ops.incidents import IncidentDesk
from ops.intake import Intake
from ops.metrics import metrics
from ops.model import Alert, Assignment, OpsEvent, Recommendation, Unit
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

    def __init__(
        self,
        workspace: Workspace,
        *,
        config: OpsConfig | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        cfg = config or load_config(workspace.root / "ops")
        self.ctx = OpsContext(
            workspace, cfg, _bus_for(str(workspace.store.path)), clock or time.time
        )
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
    def subscribe(
        self, callback: EventCallback, kinds: set[str] | None = None
    ) -> Callable[[], None]:
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
            return int(
                tx.con.execute(
                    "DELETE FROM ops_events WHERE ts < ?", (before.timestamp(),)
                ).rowcount
            )

    def last_event_id(self) -> int:
        """The id of the newest journalled event (0 when none): where a poller starts."""
        return int(
            self.ctx.con.execute("SELECT coalesce(max(id), 0) FROM ops_events").fetchone()[0]
        )

    # -- boards and analytics ---------------------------------------------------------------------
    def board(self, queue_limit: int | None = None) -> dict[str, Any]:
        """The status board: incidents and units per status, the open queue with timers (its
        first ``queue_limit`` entries when given) and the number of unacknowledged alerts."""
        unacked = self.ctx.con.execute(
            "SELECT count(*) FROM ops_alerts WHERE acked_at IS NULL"
        ).fetchone()[0]
        return {
            "incidents": self.incidents.counts(),
            "units": self.units.counts(),
            "queue": self.incidents.open_queue(queue_limit),
            "alerts_unacked": int(unacked),
        }

    def hotspots(
        self,
        start: datetime,
        end: datetime,
        *,
        cell_m: float | None = None,
        category: str | None = None,
    ) -> dict[str, Any]:
        """See :func:`ops.hotspots.hotspots`."""
        return hotspots(
            self.ctx.con, self.config, start=start, end=end, cell_m=cell_m, category=category
        )

    def metrics(self, start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
        """See :func:`ops.metrics.metrics`."""
        return metrics(self.ctx.con, self.config, now=self.ctx.clock(), start=start, end=end)

    def evaluate(self, month: str | None = None, months: int = 13) -> dict[str, Any]:
        """The evaluation dashboard (:func:`ops.evaluation.evaluate`) with the indicators of
        ``evaluation.toml`` (the workspace's ``ops/`` copy wins: ``config_source`` says
        "workspace" or "shipped"); ``month`` defaults to the newest complete month in the
        workspace's time zone."""
        from ops.evaluation import evaluate, last_complete_month
        from ops.evaluation_spec import load_evaluation

        zone = self.ctx.workspace.zone
        spec = load_evaluation(self.ctx.workspace.root / "ops")
        month = month or last_complete_month(self.ctx.clock(), zone)
        data = evaluate(self.ctx.con, self.config, spec, zone, month=month, months=months)
        own = spec.path.parent == self.ctx.workspace.root / "ops"
        return {**data, "config_source": "workspace" if own else "shipped"}


def raise_alert(workspace: Workspace, kind: str, **details: Any) -> Any:
    """Raise an alert on ``workspace`` from another engine in one call, e.g.
    ``raise_alert(ws, "face_match", title=…, score=0.91, subject=…, record_uid=…)``; see
    :meth:`ops.alerts.AlertCenter.raise_alert` (returns the Alert, or None when below the
    face-match threshold or a duplicate)."""
    return OpsService(workspace).alerts.raise_alert(kind, **details)


# -- services (core.services): what the CLI, the console and the centre server call ---------------
# Changes are audited by the engine in the same transaction as the change (the outbox), so they
# are declared audit=False; reads are audited here. Reads a console polls (board, queue, units,
# events, new alerts) are audited once per POLL_AUDIT_SECONDS per session and parameters.
POLL_AUDIT_SECONDS = 300.0


def ops_for(workspace: Workspace) -> OpsService:
    """The workspace's OpsService, opened once per workspace object and shared."""
    service: OpsService = shared(workspace, "ops", lambda: OpsService(workspace))
    return service


def _when(value: datetime | str | None, ctx: ServiceContext) -> datetime | None:
    """A time parameter: a datetime or ISO text; a naive one is the workspace's local time."""
    from core.timezones import as_utc

    if value is None:
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            from ops.errors import OpsError

            raise OpsError(f"{str(value)[:40]!r} is not an ISO date and time") from None
    return as_utc(value, ctx.workspace.zone)


@service("ops.incidents", permission="ops.read")
def incidents(
    ctx: ServiceContext,
    *,
    status: str | None = None,
    district: str | None = None,
    open_only: bool = False,
    limit: int | None = 50,
) -> list[Any]:
    """Incidents, newest first (with reporter names and phones)."""
    found = ops_for(ctx.workspace).incidents.list(
        status=status, district=district, open_only=open_only, limit=limit
    )
    audit_detail(shown=len(found))
    return found


@service("ops.queue", permission="ops.read", audit_repeats=POLL_AUDIT_SECONDS)
def queue(ctx: ServiceContext, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Open incidents by priority with their timers (the dispatch queue)."""
    return ops_for(ctx.workspace).incidents.open_queue(limit)


@service("ops.incident", permission="ops.read")
def incident(ctx: ServiceContext, *, incident_id: int) -> dict[str, Any]:
    """One incident with its reporter, routing, time stamps and assignment history."""
    ops = ops_for(ctx.workspace)
    inc = ops.incidents.get(int(incident_id))
    return {
        **inc.as_dict(),
        "assignments": [a.as_dict() for a in ops.incidents.assignments(inc.id)],
    }


@service("ops.incident_create", permission="ops.intake", audit=False)
def incident_create(
    ctx: ServiceContext,
    *,
    category: str,
    priority: int,
    lat: float | None = None,
    lon: float | None = None,
    address: str = "",
    district: str = "",
    reporter: str = "",
    reporter_phone: str = "",
    text: str = "",
    dispute: bool = False,
) -> Any:
    """Take in an incident typed by a commander; it is routed at once."""
    return ops_for(ctx.workspace).incidents.create(
        category,
        priority,
        lat=lat,
        lon=lon,
        address=address,
        district=district,
        reporter=reporter,
        reporter_phone=reporter_phone,
        text=text,
        dispute=dispute,
    )


@service("ops.incident_route", permission="ops.intake", audit=False)
def incident_route(
    ctx: ServiceContext,
    *,
    incident_id: int,
    category: str | None = None,
    priority: int | None = None,
    text: str | None = None,
) -> Any:
    """Correct category, priority or text of an incident and run the routing rules again."""
    return ops_for(ctx.workspace).incidents.reroute(
        int(incident_id), category=category, priority=priority, text=text
    )


@service("ops.incident_status", permission="ops.intake", audit=False)
def incident_status(
    ctx: ServiceContext,
    *,
    incident_id: int,
    status: str,
    expected_version: int | None = None,
    feedback: str = "",
    assessment: str = "",
) -> Any:
    """Move an incident along its lifecycle (accepted, routed, resolved, …); statuses after
    dispatch also need ``ops.dispatch``."""
    sets = {k: v for k, v in (("feedback", feedback), ("assessment", assessment)) if v}
    return ops_for(ctx.workspace).incidents.advance(
        int(incident_id), status, expected_version=expected_version, **sets
    )


@service("ops.mediation", permission="ops.dispatch", audit=False)
def mediation(ctx: ServiceContext, *, incident_id: int, outcome: str) -> Any:
    """Record a dispute's mediation outcome (success, failed, pending)."""
    return ops_for(ctx.workspace).incidents.set_mediation(int(incident_id), outcome)


@service("ops.units", permission="ops.read", audit_repeats=POLL_AUDIT_SECONDS)
def units(
    ctx: ServiceContext,
    *,
    status: str | None = None,
    district: str | None = None,
    capability: str | None = None,
) -> list[Unit]:
    """Units with status, position and its age."""
    return ops_for(ctx.workspace).units.list(
        status=status, district=district, capability=capability
    )


@service("ops.seed_units", permission="ops.dispatch")
def seed_units(ctx: ServiceContext, *, count: int | None = None, seed: int = 7) -> list[Any]:
    """Create (or refresh) the demo units across the districts."""
    from ops.seed import seed_demo_units

    made = seed_demo_units(ops_for(ctx.workspace), total=count, seed=seed)
    audit_detail(units=len(made))
    return made


@service("ops.unit_status", permission="ops.dispatch", audit=False)
def unit_status(
    ctx: ServiceContext, *, unit_id: str, status: str, expected_version: int | None = None
) -> Unit:
    """Move a unit to a status its state machine allows (en_route, on_scene, cleared, …)."""
    return ops_for(ctx.workspace).units.set_status(
        unit_id, status, expected_version=expected_version
    )


@service("ops.position", permission="ops.dispatch")
def position(
    ctx: ServiceContext,
    *,
    unit_id: str,
    lat: float,
    lon: float,
    at: datetime | str | float | None = None,
) -> Any:
    """Record a unit's position fix (the next recommendation ranks by it)."""
    when = at if isinstance(at, float | int) else _when(at, ctx)
    unit = ops_for(ctx.workspace).units.update_position(unit_id, lat, lon, when, via="commander")
    audit_detail(position_at=unit.position_at)
    return unit


@service("ops.recommend", permission="ops.read")
def recommend(
    ctx: ServiceContext,
    *,
    incident_id: int,
    capabilities: list[str] | None = None,
    limit: int | None = None,
) -> list[Recommendation]:
    """Nearest available units able to handle an incident, with distance and ETA."""
    found = ops_for(ctx.workspace).dispatch.recommend(
        int(incident_id), capabilities=capabilities, limit=limit
    )
    audit_detail(units=[r.unit_id for r in found][:10])
    return found


@service("ops.assign", permission="ops.dispatch", audit=False)
def assign(
    ctx: ServiceContext,
    *,
    incident_id: int,
    unit_ids: list[str] | str,
    expected_versions: dict[str, int] | None = None,
) -> list[Assignment]:
    """Dispatch one or more units to an incident, all or none."""
    return ops_for(ctx.workspace).dispatch.assign(
        int(incident_id), unit_ids, expected_versions=expected_versions
    )


@service("ops.reassign", permission="ops.dispatch", audit=False)
def reassign(ctx: ServiceContext, *, unit_id: str, incident_id: int) -> Any:
    """Move a dispatched unit to another incident."""
    return ops_for(ctx.workspace).dispatch.reassign(unit_id, int(incident_id))


@service("ops.release", permission="ops.dispatch", audit=False)
def release(ctx: ServiceContext, *, unit_id: str) -> Unit:
    """End a unit's assignment."""
    return ops_for(ctx.workspace).dispatch.release(unit_id)


@service("ops.alerts", permission="ops.read", audit_repeats=POLL_AUDIT_SECONDS)
def alerts(
    ctx: ServiceContext,
    *,
    since: int | None = None,
    unacked_only: bool = False,
    kind: str | None = None,
    limit: int = 50,
) -> list[Alert]:
    """Alerts, newest first; with ``since``, those after that id (for polling)."""
    center = ops_for(ctx.workspace).alerts
    if since is not None:
        return center.since(int(since), limit=limit)
    return center.list(unacked_only=unacked_only, kind=kind, limit=limit)


@service("ops.alert_ack", permission="alerts.ack", audit=False)
def alert_ack(ctx: ServiceContext, *, alert_id: int, note: str = "") -> Alert:
    """Acknowledge an alert (the first acknowledgement stands)."""
    return ops_for(ctx.workspace).alerts.ack(int(alert_id), note=note)


@service("ops.rescan", permission="ops.intake")
def rescan(
    ctx: ServiceContext,
    *,
    sources: list[str] | None = None,
    progress: Any = None,
    cancel: Any = None,
) -> int:
    """Run the alert rules over records already ingested; returns how many alerts rose."""
    n = ops_for(ctx.workspace).alerts.rescan(sources=sources, progress=progress, cancel=cancel)
    audit_detail(raised=n)
    return n


@service("ops.watch", permission="ops.dispatch", audit=False)
def watch(
    ctx: ServiceContext, *, kind: str, value: str, reason: str = "", remove: bool = False
) -> dict[str, Any]:
    """Put a plate, ID number or phone on the watchlist (or take it off with ``remove``)."""
    center = ops_for(ctx.workspace).alerts
    if remove:
        return {"removed": center.unwatch(kind, value)}
    return {"kind": kind, "key": center.watch(kind, value, reason=reason)}


@service("ops.saved_search", permission="search", audit=False)
def saved_search(
    ctx: ServiceContext,
    *,
    name: str,
    text: str = "",
    fields: dict[str, str] | None = None,
    sources: list[str] | None = None,
    delete: bool = False,
) -> dict[str, Any]:
    """Save (or ``delete``) an alerting saved search; only its owner (or an administrator)
    may change or delete it."""
    center = ops_for(ctx.workspace).alerts
    if delete:
        return {"name": name, "deleted": center.delete_search(name)}
    sid = center.save_search(name, text=text, fields=fields or {}, sources=sources or ())
    return {"id": sid, "name": name}


@service("ops.board", permission="ops.read", audit_repeats=POLL_AUDIT_SECONDS)
def board(ctx: ServiceContext, *, queue_limit: int | None = None) -> dict[str, Any]:
    """The status board: incidents and units per status, the open queue, unacked alerts."""
    return ops_for(ctx.workspace).board(queue_limit)


@service("ops.hotspots", permission="ops.read")
def hotspots_of(
    ctx: ServiceContext,
    *,
    start: Any = None,
    end: Any = None,
    days: float = 7,
    cell_m: float | None = None,
    category: str | None = None,
) -> dict[str, Any]:
    """Incident density per grid cell and district vs the previous period (default: the
    ``days`` up to just after the newest incident)."""
    from datetime import UTC, timedelta

    ops = ops_for(ctx.workspace)
    span = ops.incidents.time_range()
    t1 = _when(end, ctx) or (span[1] + timedelta(seconds=1) if span else datetime.now(UTC))
    t0 = _when(start, ctx) or t1 - timedelta(days=days)
    return ops.hotspots(t0, t1, cell_m=cell_m, category=category)


@service("ops.metrics", permission="ops.read")
def metrics_of(ctx: ServiceContext, *, start: Any = None, end: Any = None) -> dict[str, Any]:
    """Response times, SLA breaches, mediation success by area."""
    return ops_for(ctx.workspace).metrics(_when(start, ctx), _when(end, ctx))


@service("ops.evaluate", permission="ops.read")
def evaluate_of(
    ctx: ServiceContext, *, month: str | None = None, months: int = 13
) -> dict[str, Any]:
    """The evaluation dashboard: the indicators of ``evaluation.toml`` by district for
    ``months`` months up to ``month`` (YYYY-MM in the workspace's zone; default the newest
    complete month), each with its year-on-year change."""
    data = ops_for(ctx.workspace).evaluate(month, months)
    audit_detail(month=data["month"], indicators=len(data["indicators"]))
    return data


@service("ops.events", permission="ops.read", audit_repeats=POLL_AUDIT_SECONDS)
def events(ctx: ServiceContext, *, since: int = 0, limit: int = 100) -> list[OpsEvent]:
    """Journalled changes after an id, oldest first (for polling consoles)."""
    return ops_for(ctx.workspace).events_since(int(since), limit=limit)
