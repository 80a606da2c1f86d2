"""Geofence crossings: a vehicle entering a restricted zone or leaving its route corridor.

State per (fence, vehicle) lives in ``ops_geofence_state``, so a crossing is noticed across
batches, ingests and processes; reads are taken in time order and a read older than the last one
seen for a vehicle does not move it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from core import normalize
from core.model import Record
from ops.config import Geofence
from ops.geo import point_in_polygon

if TYPE_CHECKING:
    from ops.events import Tx

A = TypeVar("A")


def crossings(
    tx: Tx,
    fences: Sequence[Geofence],
    records: Sequence[Record],
    alert: Callable[[Geofence, str, Record, float, float], A | None],
) -> list[A]:
    """Call ``alert(fence, vehicle, record, lat, lon)`` for each crossing the records show;
    returns what it returned (``None`` results dropped) and saves the vehicles' new state.

    A vehicle never seen by an exit fence is taken to be inside (on its route), one never seen
    by an entry fence outside (away from the zone), so the first read can already alert.
    """
    if not fences:
        return []
    located = sorted(
        (r for r in records if r.geo is not None),
        key=lambda r: r.time.timestamp() if r.time else 0.0,
    )
    state: dict[tuple[str, str], tuple[bool, float]] = {}
    raised: list[A] = []
    for rec in located:
        subjects = vehicle_subjects(rec)
        if not subjects:
            continue
        lat, lon = rec.geo  # type: ignore[misc]
        t = rec.time.timestamp() if rec.time else tx.now
        for fence in fences:
            if (
                fence.match_field
                and str(rec.fields.get(fence.match_field, "")) != fence.match_value
            ):
                continue
            inside = point_in_polygon(lat, lon, fence.polygon)
            for subject in subjects:
                if fence.plates and subject not in fence.plates:
                    continue
                key = (fence.id, subject)
                if key not in state:
                    row = tx.con.execute(
                        "SELECT inside, seen_at FROM ops_geofence_state "
                        "WHERE fence_id=? AND subject=?",
                        key,
                    ).fetchone()
                    state[key] = (
                        (bool(row[0]), row[1] or 0.0) if row else (fence.alert_on == "exit", 0.0)
                    )
                before, seen = state[key]
                if t < seen:
                    continue  # an older read arriving late does not move the vehicle
                state[key] = (inside, t)
                crossed = (
                    (before and not inside) if fence.alert_on == "exit" else (inside and not before)
                )
                if crossed:
                    made = alert(fence, subject, rec, lat, lon)
                    if made is not None:
                        raised.append(made)
    tx.con.executemany(
        "INSERT INTO ops_geofence_state VALUES (?,?,?,?,NULL) ON CONFLICT(fence_id, subject) "
        "DO UPDATE SET inside=excluded.inside, seen_at=excluded.seen_at",
        [(f, s, int(inside), t) for (f, s), (inside, t) in state.items() if t],
    )
    return raised


def vehicle_subjects(rec: Record) -> set[str]:
    """The normalised plates a record is about: its vehicle entities and its ``plate`` field."""
    subjects = {e.key for e in rec.entities if e.type == "vehicle"}
    plate = rec.fields.get("plate")
    if plate:
        subjects.add(normalize.plate(str(plate)))
    return subjects
