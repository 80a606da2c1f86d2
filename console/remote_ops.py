"""The operations view of a client console: :class:`console.opsview.OpsView` whose calls all
go to the centre's ``ops.*`` services (through ``ctx.engines`` of a client console), so
the alert tray, the dispatch board and the map work unchanged. The engine's configuration and
the change journal's head are the server's. No Qt here."""

from __future__ import annotations

from typing import Any

from console.opsview import OpsView


class _CentreOps:
    """What OpsView asks of ``self.service`` besides the services: the journal's head, and the
    rules the board shows (unit state machine, staleness) from the shipped operations
    configuration (a centre's own overrides stay on the server, which enforces them)."""

    def __init__(self, ctx: Any) -> None:
        from ops.config import load_config

        self.ctx = ctx
        self.config = load_config()

    def last_event_id(self) -> int:
        health = self.ctx.client.health()
        return int((health.get("store") or {}).get("last_event") or 0)


class _Alerts:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def last_id(self) -> int:
        newest = self.ctx.engines.ops_alerts(limit=1)
        return max((a.id for a in newest), default=0)


class RemoteOpsView(OpsView):
    """OpsView over the centre (see the module docstring)."""

    def __init__(self, ctx: Any) -> None:  # no local engine, no database
        self.console = ctx
        self.service = _CentreOps(ctx)
        self.desk = self.roster = self.dispatcher = None
        self.alerts = _Alerts(ctx)
