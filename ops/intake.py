"""Ingested records → operational incidents, by the field names listed in ``intake.toml``.

Idempotent: an incident is keyed by its record's uid; re-ingesting updates its description,
adds lifecycle stamps it did not have, and never moves its status backwards.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core import normalize
from core.model import Record
from core.timezones import as_utc
from ops.config import OpsConfig
from ops.db import dumps
from ops.errors import InvalidIncidentError
from ops.events import OpsContext
from ops.incidents import nearest_district, validate_incident

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "y", "是", "t"}
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
)


def parse_time(value: Any, zone: ZoneInfo | None = None) -> float | None:
    """Epoch seconds from a datetime, an epoch number or a date-time string.

    A time without an offset is wall-clock time in ``zone``, the workspace's (``Workspace.zone``;
    :class:`Intake` passes it); a time with an offset (``+08:00``, ``Z``) is honoured.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value, zone).timestamp()
    if isinstance(value, int | float):
        return float(value)
    text = normalize.fold(str(value))
    try:
        return as_utc(datetime.fromisoformat(text), zone).timestamp()
    except ValueError:
        pass
    for fmt in _TIME_FORMATS:
        try:
            return as_utc(datetime.strptime(text, fmt), zone).timestamp()
        except ValueError:
            continue
    raise InvalidIncidentError(f"unreadable time {value!r}")


def handles(config: OpsConfig, rec: Record) -> bool:
    """Whether the record is an incident by ``intake.toml`` (its source or record type)."""
    return rec.source in config.intake.sources or rec.type in config.intake.record_types


@dataclass(frozen=True)
class MappedIncident:
    source_uid: str
    category: str
    priority: int
    lat: float | None
    lon: float | None
    address: str
    district: str
    reporter: str
    reporter_phone: str
    text: str
    received_at: float
    stamps: dict[str, float]
    status: str
    dispute: bool
    mediation: str | None


def map_record(
    config: OpsConfig, rec: Record, now: float, zone: ZoneInfo | None = None
) -> MappedIncident:
    """Map one record; :class:`InvalidIncidentError` names the record and the bad field.

    Times without an offset (the record's own, the lifecycle stamps' fields) are wall-clock
    time in ``zone``, the workspace's."""
    intake = config.intake
    where = f"record {rec.uid}"

    def look(name: str) -> Any:
        for candidate in intake.fields.get(name, ()):
            for bag in (rec.fields, rec.text):
                value = bag.get(candidate)
                if value is not None and value != "":
                    return value
        return None

    category = str(look("category") or intake.default_category).strip()
    raw_p = look("priority")
    priority = intake.default_priority
    if isinstance(raw_p, float) and raw_p.is_integer():
        raw_p = int(raw_p)
    if raw_p is not None:
        key = normalize.text(str(raw_p))
        if key.isdigit() and int(key) in config.sla:
            priority = int(key)
        elif key in intake.priority_map:
            priority = intake.priority_map[key]
        else:
            raise InvalidIncidentError(
                f"{where}: priority {raw_p!r} is neither 1–4 nor listed in [intake.priority_map]"
            )
    lat: float | None
    lon: float | None
    if rec.geo is not None:
        lat, lon = rec.geo
    else:
        raw_lat, raw_lon = look("lat"), look("lon")
        try:
            lat = float(raw_lat) if raw_lat is not None else None
            lon = float(raw_lon) if raw_lon is not None else None
        except (TypeError, ValueError):
            raise InvalidIncidentError(
                f"{where}: position ({raw_lat!r}, {raw_lon!r}) is not numeric"
            ) from None
        if lat is not None and lon is not None and (math.isnan(lat) or math.isnan(lon)):
            lat = lon = None
    validate_incident(config, category=category, priority=priority, lat=lat, lon=lon, where=where)
    district = str(look("district") or "")
    if not district and lat is not None and lon is not None:
        district = nearest_district(config, lat, lon)
    received = as_utc(rec.time, zone).timestamp() if rec.time else now
    stamps = {"received": received}
    for state, candidates in intake.stamps.items():
        for c in candidates:
            value = rec.fields.get(c, rec.text.get(c))
            if value not in (None, ""):
                try:
                    stamps[state] = parse_time(value, zone)  # type: ignore[assignment]
                except InvalidIncidentError as exc:
                    raise InvalidIncidentError(f"{where}: field {c!r}: {exc}") from None
                break
    stamps = dict(sorted(stamps.items()))
    states = list(config.incident_states.transitions)
    status = max((s for s in stamps if s in states), key=states.index)
    raw_status = look("status")
    if raw_status is not None:
        key = normalize.text(str(raw_status))
        mapped = intake.status_map.get(key, key if key in states else None)
        if mapped is not None and states.index(mapped) > states.index(status):
            status = mapped
    raw_med = look("mediation")
    mediation = intake.mediation_map.get(normalize.text(str(raw_med))) if raw_med else None
    raw_dispute = look("dispute")
    dispute = mediation is not None or (
        raw_dispute is not None and normalize.text(str(raw_dispute)) in _TRUE
    )
    return MappedIncident(
        rec.uid,
        category,
        priority,
        lat,
        lon,
        str(look("address") or ""),
        district,
        str(look("reporter") or ""),
        str(look("reporter_phone") or ""),
        str(look("text") or ""),
        received,
        stamps,
        status,
        dispute,
        mediation,
    )


def _summary(incident_id: int, m: MappedIncident, status: str) -> dict[str, Any]:
    """The journal payload of a bulk-ingested incident: enough for a board to decide whether
    to reload it (a full incident per row would make the journal as big as the data)."""
    return {
        "id": incident_id,
        "source_uid": m.source_uid,
        "category": m.category,
        "priority": m.priority,
        "status": status,
        "district": m.district,
    }


class Intake:
    """Turns batches of ingested records into incidents (used by the ops ingest stage)."""

    def __init__(self, ctx: OpsContext) -> None:
        self.ctx = ctx
        self.config = ctx.config

    def ingest_records(
        self, records: Sequence[Record], *, user: str = "ingest"
    ) -> tuple[int, int, list[str]]:
        """Upsert incidents for the records this intake handles.

        Returns (created, updated, problems); a record that cannot be mapped is skipped and
        described in ``problems`` (record uid and reason), the others go on.
        """
        created = updated = 0
        problems: list[str] = []
        states = list(self.config.incident_states.transitions)
        zone = self.ctx.workspace.zone
        with self.ctx.tx() as tx:
            for rec in records:
                if not handles(self.config, rec):
                    continue
                try:
                    m = map_record(self.config, rec, tx.now, zone)
                except InvalidIncidentError as exc:
                    problems.append(str(exc))
                    continue
                decision = self.config.router.route(m.category, m.text, m.priority, m.district)
                row = tx.con.execute(
                    "SELECT id, status, stamps FROM ops_incidents WHERE source_uid=?",
                    (m.source_uid,),
                ).fetchone()
                values = (
                    m.category,
                    m.priority,
                    m.lat,
                    m.lon,
                    m.address,
                    m.district,
                    m.reporter,
                    m.reporter_phone,
                    m.text,
                    dumps(decision.as_dict()),
                    int(m.dispute or decision.dispute),
                )
                if row is None:
                    cur = tx.con.execute(
                        "INSERT INTO ops_incidents (category, priority, lat, lon, address, "
                        "district, reporter, reporter_phone, text, routing, dispute, source_uid, "
                        "status, received_at, stamps, mediation, created_by, updated_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            *values,
                            m.source_uid,
                            m.status,
                            m.received_at,
                            dumps(m.stamps),
                            m.mediation,
                            user,
                            tx.now,
                        ),
                    )
                    iid = int(cur.lastrowid or 0)
                    tx.event("incident.created", iid, user, _summary(iid, m, m.status))
                    created += 1
                    continue
                iid, status, old_stamps = row
                stamps = dict(sorted({**m.stamps, **json.loads(old_stamps)}.items()))  # kept win
                if states.index(m.status) > states.index(status):
                    status = m.status
                cur = tx.con.execute(
                    "UPDATE ops_incidents SET category=?, priority=?, lat=?, lon=?, address=?, "
                    "district=?, reporter=?, reporter_phone=?, text=?, routing=?, dispute=?, "
                    "status=?, stamps=?, mediation=coalesce(?, mediation), version=version+1, "
                    "updated_at=? WHERE id=? AND NOT (category IS ? AND priority IS ? AND "
                    "lat IS ? AND lon IS ? AND address IS ? AND district IS ? AND reporter IS ? "
                    "AND reporter_phone IS ? AND text IS ? AND routing IS ? AND dispute IS ? "
                    "AND status IS ? AND stamps IS ? AND mediation IS coalesce(?, mediation))",
                    (
                        *values,
                        status,
                        dumps(stamps),
                        m.mediation,
                        tx.now,
                        iid,
                        *values,
                        status,
                        dumps(stamps),
                        m.mediation,
                    ),
                )
                if cur.rowcount:
                    tx.event("incident.updated", iid, user, _summary(iid, m, status))
                    updated += 1
        for p in problems:
            log.warning("incident intake skipped %s", p)
        return created, updated, problems
