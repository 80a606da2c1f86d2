"""Where a case's notes sit on a map.

- a note on a **place** sits at its point (``lat,lon``, checked when the note is written:
  :func:`parse_place`);
- a note on an **entity** sits where the entity is: its own coordinates (``lat``/``lon`` in its
  properties) when it has them, else the most recent located record that names it;
- a note on a **record** or a **timeline point** naming a record sits at the record's place.

Notes on the case, on links and on bare times have no place and are left out. No Qt here; the
console's Map view and any other caller get the points through the ``cases.note_places``
service.
"""

from __future__ import annotations

from typing import Any

from cases.errors import CaseInvalidError

#: Records of one entity looked at for its latest position (a hub may have thousands).
MAX_RECORDS_PER_ENTITY = 5000
#: Notes placed at most in one answer.
MAX_POINTS = 2000


def parse_place(target: str) -> tuple[float, float]:
    """``"lat,lon"`` as two floats in range, or :class:`CaseInvalidError` naming the text."""
    lat_text, sep, lon_text = (target or "").partition(",")
    try:
        if not sep:
            raise ValueError
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise CaseInvalidError(
            f"map place {target!r} must be 'lat,lon' in degrees, e.g. 30.274150,120.155070"
        ) from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise CaseInvalidError(
            f"map place {target!r} is off the globe (latitude -90..90, longitude -180..180)"
        )
    return lat, lon


def place_key(target: str) -> str:
    """A map place as the notes store it: ``lat,lon`` with six decimals (about 0.1 m)."""
    lat, lon = parse_place(target)
    return f"{lat:.6f},{lon:.6f}"


def _record_point(store: Any, uid: str) -> tuple[float, float] | None:
    record = store.get_record(uid)
    return (float(record.geo[0]), float(record.geo[1])) if record and record.geo else None


def entity_point(store: Any, entity_id: str) -> tuple[float, float] | None:
    """Where entity ``entity_id`` is, or ``None`` (unknown entity, or never located)."""
    entity = store.get_entity(entity_id)
    if entity is None:
        return None
    props = entity.props or {}
    try:
        if props.get("lat") is not None and props.get("lon") is not None:
            return parse_place(f"{props['lat']},{props['lon']}")
    except CaseInvalidError:
        pass  # bad coordinates in the data: fall back to its records
    uids = store.entity_record_uids(entity_id)[-MAX_RECORDS_PER_ENTITY:]
    best: tuple[float, float, float] | None = None  # time, lat, lon
    for record in store.get_records(uids):
        if record.geo is None:
            continue
        when = record.time.timestamp() if record.time else float("-inf")
        if best is None or when >= best[0]:
            best = (when, float(record.geo[0]), float(record.geo[1]))
    return (best[1], best[2]) if best else None


def note_points(store: Any, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The located ones of ``notes`` (``cases.notes`` dicts), each with ``lat``, ``lon`` and
    ``placed_by`` (``place``, ``entity`` or ``record``), in the order given."""
    out: list[dict[str, Any]] = []
    entities: dict[str, tuple[float, float] | None] = {}
    for note in notes:
        kind, target = note["target_kind"], note["target"]
        point: tuple[float, float] | None = None
        if kind == "place":
            try:
                point = parse_place(target)
            except CaseInvalidError:
                point = None  # written before places were checked: not placed
        elif kind == "entity":
            if target not in entities:
                entities[target] = entity_point(store, target)
            point = entities[target]
        elif kind in ("record", "timeline") and ":" in target:
            point = _record_point(store, target)
        if point is None:
            continue
        placed_by = "place" if kind == "place" else "entity" if kind == "entity" else "record"
        out.append({**note, "lat": point[0], "lon": point[1], "placed_by": placed_by})
        if len(out) >= MAX_POINTS:
            break
    return out
