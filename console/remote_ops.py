"""The operations engine as a client console sees it: ``ops.*`` services on the centre server,
shaped like :class:`ops.service.OpsService` so :class:`console.opsview.OpsView`, the alert tray
and the dispatch board work unchanged. Who acts and the audit are the server's (the ``user``
arguments the local engine takes are ignored here on purpose). No Qt here."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from console.errors import EngineUnavailableError
from console.remote_codec import decode
from core.remote import CentreClient


def _alerts(rows: Any) -> list[Any]:
    from ops.model import Alert

    return [decode(Alert, r) for r in rows or ()]


def _units(rows: Any) -> list[Any]:
    from ops.model import Unit

    return [decode(Unit, r) for r in rows or ()]


class _Alerts:
    def __init__(self, client: CentreClient) -> None:
        self.client = client

    def since(self, after_id: int = 0, *, limit: int = 500) -> list[Any]:
        return _alerts(self.client.call("ops.alerts", since=int(after_id), limit=limit))

    def list(self, *, unacked_only: bool = False, kind: str | None = None,
             limit: int = 50) -> list[Any]:
        return _alerts(self.client.call("ops.alerts", unacked_only=unacked_only, kind=kind,
                                        limit=limit))

    def last_id(self) -> int:
        newest = self.list(limit=1)
        return max((a.id for a in newest), default=0)

    def ack(self, alert_id: int, *, user: str | None = None, note: str = "") -> Any:
        from ops.model import Alert

        return decode(Alert, self.client.call("ops.alert_ack", alert_id=int(alert_id),
                                              note=note))


class _Incidents:
    def __init__(self, client: CentreClient) -> None:
        self.client = client

    def open_queue(self, limit: int | None = None) -> list[dict[str, Any]]:
        return list(self.client.call("ops.queue", limit=limit))

    def counts(self) -> dict[str, int]:
        return dict(self.client.call("ops.board", queue_limit=0)["incidents"])


class _Units:
    def __init__(self, client: CentreClient) -> None:
        self.client = client

    def list(self, **filters: Any) -> list[Any]:
        return _units(self.client.call("ops.units", **filters))

    def counts(self) -> dict[str, int]:
        return dict(self.client.call("ops.board", queue_limit=0)["units"])

    def set_status(self, unit_id: str, status: str, *, user: str | None = None,
                   expected_version: int | None = None) -> Any:
        from ops.model import Unit

        return decode(Unit, self.client.call("ops.unit_status", unit_id=unit_id, status=status,
                                             expected_version=expected_version))


class _Dispatch:
    def __init__(self, client: CentreClient) -> None:
        self.client = client

    def recommend(self, incident_id: int, **options: Any) -> list[Any]:
        from ops.model import Recommendation

        return [decode(Recommendation, r) for r in
                self.client.call("ops.recommend", incident_id=int(incident_id), **options)]

    def assign(self, incident_id: int, unit_ids: Any, *, user: str | None = None,
               expected_versions: dict[str, int] | None = None) -> list[Any]:
        from ops.model import Assignment

        return [decode(Assignment, a) for a in self.client.call(
            "ops.assign", incident_id=int(incident_id), unit_ids=list(unit_ids),
            expected_versions=expected_versions)]

    def release(self, unit_id: str, *, user: str | None = None) -> Any:
        from ops.model import Unit

        return decode(Unit, self.client.call("ops.release", unit_id=unit_id))


class RemoteOps:
    """``OpsService``'s shape over the ``ops.*`` services."""

    def __init__(self, client: CentreClient) -> None:
        self.client = client
        self.alerts = _Alerts(client)
        self.incidents = _Incidents(client)
        self.units = _Units(client)
        self.dispatch = _Dispatch(client)
        # the board's staleness rule and geofences are the server's configuration
        self.config = SimpleNamespace(stale_minutes=15, alerts=SimpleNamespace(geofences=()))

    def board(self, queue_limit: int | None = None) -> dict[str, Any]:
        return dict(self.client.call("ops.board", queue_limit=queue_limit))

    def last_event_id(self) -> int:
        events = self.client.call("ops.events", since=0, limit=1)
        return self._last(events)

    def _last(self, events: Any) -> int:
        return max((int(e["id"]) for e in events or ()), default=0)

    def events_since(self, after_id: int, limit: int = 100) -> list[Any]:
        from ops.model import OpsEvent

        return [decode(OpsEvent, e) for e in
                self.client.call("ops.events", since=int(after_id), limit=limit)]

    def hotspots(self, *_: Any, **__: Any) -> dict[str, Any]:
        raise EngineUnavailableError("ops", "hotspots are not offered to a client console yet")

    @property
    def ctx(self) -> Any:
        raise EngineUnavailableError("ops", "the operations database is the centre's")
