"""What the map shows for a request: located records, tracks, and the operations layers.

Runs in a worker thread. Operations layers (incidents, units, hotspots, geofences) come from the
``ops`` engine through :mod:`console.opsview`; when it is not available the map still shows the
records (the reason is logged). A client console shows the operations layers over its centre's
tiles (or the offline basemap); the record layers read the store, which it does not open.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from console import analytics
from console.context import ConsoleContext
from console.mapgen import MapLayers
from core.progress import CancelToken
from core.schema import default_schema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MapRequest:
    """The map's scope: everything (default), some records, or tracks of some entities."""

    records: tuple[str, ...] = ()
    track_entities: tuple[str, ...] = ()
    include_records: bool = True  # False: operations layers only (the dispatch board's map)

    def describe(self) -> str:
        if self.track_entities:
            return "tracks of " + ", ".join(self.track_entities)
        if self.records:
            return f"{len(self.records)} selected records"
        return ""


def _type_colour(record_type: str) -> str:
    schema = default_schema()
    entity = schema.entities.get(record_type)
    return entity.color if entity else "#8b98a8"


def collect_layers(
    ctx: ConsoleContext, request: MapRequest, cancel: CancelToken | None = None
) -> MapLayers:
    """Build the :class:`MapLayers` for ``request`` (blocking: call from a worker)."""
    from console import opsview

    store = ctx.workspace.store
    layers = MapLayers()
    ops = opsview.OpsView.open(ctx)
    if ops is not None:
        try:
            layers.incidents = ops.incident_points()
            layers.units = ops.unit_points()
            layers.heat = ops.hotspot_points()
            layers.geofences = ops.geofence_features()
        except Exception as exc:  # the map still shows records; the reason goes to the log
            log.warning("map: operations layers unavailable: %s", exc)
    if cancel is not None and cancel.cancelled:
        return layers
    if ctx.remote:
        # A client console opens no store: located records, tracks and the workspace's own
        # places are not offered to it yet; the basemap and the operations layers are.
        base = basemap_features()
        layers.streets, layers.places = base["streets"], base["places"]
        return layers
    try:
        base = basemap_features(store)
        layers.streets, layers.places = base["streets"], base["places"]
    except Exception as exc:  # the map still shows everything else; the reason is logged
        log.warning("map: streets and places unavailable: %s", exc)
    incident_records = {p.get("record") for p in layers.incidents if p.get("record")}
    records = analytics.located_records(
        store,
        uids=request.records,
        limit=0 if request.track_entities or not request.include_records else 3000,
    )
    layers.records = [
        dict(r, colour=_type_colour(r["type"])) for r in records if r["id"] not in incident_records
    ]
    for eid in request.track_entities:
        points = analytics.entity_track(store, eid)
        if points:
            entity = store.get_entity(eid)
            label = (entity.label or entity.key) if entity else eid
            layers.tracks.append({"id": eid, "label": label, "points": points})
    return layers


def basemap_features(store: Any = None, limit: int = 2000) -> dict[str, list[dict[str, Any]]]:
    """The readable offline basemap: the shipped streets (by class) and named places of the
    synthetic city (:func:`console.mapgen.load_basemap`), and, with a ``store``, the places the
    workspace itself knows (located checkpoints and hotels, by name, at the mean position of
    their records; names already on the basemap are not repeated)."""
    from console.mapgen import load_basemap

    base = load_basemap()
    if store is None:
        return base
    known = {p["name"] for p in base["places"]}
    rows = store.connection.execute(
        "SELECT e.id, e.type, e.label, avg(r.lat), avg(r.lon) FROM entities e "
        "JOIN record_entities re ON re.entity_id = e.id JOIN records r ON r.uid = re.record_uid "
        "WHERE e.type IN ('device', 'hotel') AND r.lat IS NOT NULL "
        "GROUP BY e.id LIMIT ?",
        (limit,),
    ).fetchall()
    for eid, etype, label, lat, lon in rows:
        name = label or eid.split(":", 1)[-1]
        if name not in known:
            known.add(name)
            base["places"].append(
                {
                    "id": eid,
                    "kind": etype,
                    "name": name,
                    "lat": lat,
                    "lon": lon,
                    "labelzoom": PLACE_LABEL_ZOOM.get(etype, 15),
                }
            )
    return base


#: From which zoom the names of the workspace's own places are written.
PLACE_LABEL_ZOOM = {"device": 16, "hotel": 15}


def unit_point(unit: Any) -> dict[str, Any] | None:
    """A unit as a map marker dict, or ``None`` without a position."""
    if getattr(unit, "lat", None) is None:
        return None
    return {
        "id": unit.id,
        "label": unit.name,
        "lat": unit.lat,
        "lon": unit.lon,
        "status": unit.status,
        "stale": bool(getattr(unit, "stale", False)),
    }
