"""What the operations engine hands to the console and the CLI: plain frozen dataclasses.

Times are timezone-aware UTC datetimes; ``as_dict()`` gives JSON-ready dicts (ISO times).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


def from_epoch(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict | Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def asdict(obj: Any) -> dict[str, Any]:
    """Shallow field-by-field dict (``dataclasses.asdict`` deep-copies: too slow on ingest)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass(frozen=True)
class Incident:
    """An operational incident (警情).

    ``status`` follows the incident state machine; ``stamps`` holds the time each state was
    reached. ``routing`` is the rule that fired (rule_id, description, departments,
    capabilities, units). ``version`` increases on every change (compare-and-set).
    """

    id: int
    category: str
    priority: int
    status: str
    received_at: datetime
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    district: str = ""
    reporter: str = ""
    reporter_phone: str = ""
    text: str = ""
    routing: Mapping[str, Any] = field(default_factory=dict)
    stamps: Mapping[str, datetime] = field(default_factory=dict)
    dispute: bool = False
    mediation: str | None = None  # success | failed | pending
    feedback: str = ""
    assessment: str = ""
    source_uid: str | None = None
    created_by: str = ""
    units: tuple[str, ...] = ()  # units currently assigned
    version: int = 1

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Unit:
    """A precinct unit. ``position_at`` is when its position was last reported."""

    id: str
    name: str
    type: str
    capabilities: tuple[str, ...]
    precinct: str
    district: str
    status: str
    lat: float | None = None
    lon: float | None = None
    position_at: datetime | None = None
    status_at: datetime | None = None
    incident_id: int | None = None
    assigned_by: str | None = None
    version: int = 1

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Assignment:
    """One unit sent to one incident; ``ended_at`` is set when released, reassigned or cleared."""

    id: int
    incident_id: int
    unit_id: str
    assigned_at: datetime
    assigned_by: str
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None  # released | reassigned | cleared | off_duty

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Recommendation:
    """A unit offered for an incident, best first.

    Attributes
    ----------
    distance_m:
        Straight-line (haversine) distance.
    eta_s:
        Estimated travel time: distance × road factor ÷ the unit type's speed.
    stale:
        The unit's position is older than the configured ``stale_minutes`` (or unknown age).
    position_age_s:
        Seconds since the position was reported (``None`` if never).
    """

    unit_id: str
    name: str
    type: str
    district: str
    distance_m: float
    eta_s: float
    stale: bool
    position_age_s: float | None
    lat: float
    lon: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Alert:
    """An alert raised by a rule; ``acked_by``/``acked_at`` are set when acknowledged.

    ``id`` increases monotonically, so another process polls ``alerts_since(last_id)``.
    """

    id: int
    ts: datetime
    kind: str  # watchlist | saved_search | geofence | face_match | …
    rule: str
    severity: str
    title: str
    subject: str = ""
    record_uid: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_note: str = ""

    @property
    def acked(self) -> bool:
        return self.acked_by is not None

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class OpsEvent:
    """A change, journalled in ``ops_events`` (id increases) and pushed to subscribers.

    ``kind`` is one of ``incident.created``, ``incident.updated``, ``unit.created``,
    ``unit.updated``, ``unit.moved``, ``assignment.created``, ``assignment.ended``,
    ``alert.raised``, ``alert.acked``; from the field loop ``assignment.accepted``,
    ``incident.field_report``, ``incident.rated``, ``incident.mediation``, ``unit.device``
    (payload: ids and the values that changed). ``ref`` is the incident id, unit id or alert id
    (as text); ``payload`` carries the changed object's ``as_dict()``.
    """

    id: int
    ts: datetime
    kind: str
    ref: str
    user: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))
