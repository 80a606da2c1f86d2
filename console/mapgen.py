"""The map page: folium builds it, every script and style comes from ``resources/vendor``.

folium's defaults point at CDNs, which an operations centre cannot reach; :func:`localize`
rewrites each element's JS/CSS links to the vendored files (and drops the ones the console does
not use), and :func:`external_urls` lets a test prove no http(s) script or stylesheet is left.
Layers are plain data (:class:`MapLayers`); the interactive parts (click a marker to open its
record, track playback, selection) are in ``console/web/superbrain-map.js``. No Qt here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.errors import MapError

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
VENDOR_DIR = REPO / "resources" / "vendor"
WEB_DIR = Path(__file__).resolve().parent / "web"
DISTRICTS_PATH = REPO / "resources" / "geo" / "districts.geojson"
BASEMAP_PATH = REPO / "resources" / "geo" / "basemap.geojson"

#: folium asset (matched by a substring of its CDN URL) -> vendored file; None drops it.
_ASSETS: tuple[tuple[str, str | None], ...] = (
    ("leaflet.markercluster", None),  # resolved per file below
    ("leaflet_heat", "leaflet.heat/leaflet-heat.js"),
    ("leaflet-heat", "leaflet.heat/leaflet-heat.js"),
    ("leaflet.css", "leaflet/leaflet.css"),
    ("leaflet.js", "leaflet/leaflet.js"),
    ("jquery", None),
    ("bootstrap", None),
    ("awesome", None),
    ("fontawesome", None),
    ("glyphicons", None),
)
_CLUSTER = {
    "leaflet.markercluster.js": "leaflet.markercluster/leaflet.markercluster.js",
    "MarkerCluster.css": "leaflet.markercluster/MarkerCluster.css",
    "MarkerCluster.Default.css": "leaflet.markercluster/MarkerCluster.Default.css",
}

_EXTERNAL = re.compile(
    r"<(?:script|link)\b[^>]*?(?:src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)[\"']", re.IGNORECASE
)


def vendored(relative: str) -> str:
    """The ``file://`` URL of a vendored asset; a missing file is an error naming it."""
    path = VENDOR_DIR / relative
    if not path.is_file():
        raise MapError(
            f"{str(path)!r}: vendored map asset missing (see resources/vendor/README.md)"
        )
    return path.as_uri()


def local_asset(url: str) -> str | None:
    """The vendored replacement of a folium CDN ``url``, or ``None`` to drop it."""
    name = url.rsplit("/", 1)[-1]
    if name in _CLUSTER:
        return vendored(_CLUSTER[name])
    for needle, target in _ASSETS:
        if needle in url:
            return vendored(target) if target else None
    if url.startswith("file:"):
        return url
    log.info("map: dropping unvendored asset %s", url)
    return None


def localize(element: Any) -> None:
    """Rewrite the JS/CSS links of ``element`` and all its children to vendored files."""
    for attr in ("default_js", "default_css"):
        links = getattr(element, attr, None)
        if links:
            local = [(name, local_asset(url)) for name, url in links]
            setattr(element, attr, [(name, url) for name, url in local if url])
    for child in list(getattr(element, "_children", {}).values()):
        localize(child)


def page_json(value: Any) -> str:
    """``value`` as JSON that is also safe inside an HTML ``<script>`` element: ``<``, ``>`` and
    ``&`` are escaped, so data such as ``<!--<script>`` or ``</script>`` cannot end or change
    the script it is embedded in."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def external_urls(html: str) -> list[str]:
    """Every http(s) or protocol-relative URL used by a ``<script>`` or ``<link>`` tag."""
    return _EXTERNAL.findall(html)


@dataclass
class MapLayers:
    """What the map shows, as plain data.

    Attributes
    ----------
    incidents:
        ``{"id", "lat", "lon", "label", "priority", "category", "record"}`` dicts.
    units:
        ``{"id", "lat", "lon", "label", "status", "stale"}`` dicts.
    heat:
        ``[lat, lon, weight]`` triples (hotspot density).
    tracks:
        ``{"id", "label", "points": [[lat, lon, epoch_seconds, record_uid], ...]}`` dicts.
    geofences:
        GeoJSON features (polygons) with a ``name`` property.
    records:
        Other located records: ``{"id", "lat", "lon", "label", "type"}``.
    streets, places:
        The readable offline basemap (:func:`console.mapdata.basemap_features`): named street
        lines ``{"name", "cls", "points", "minzoom", "labelzoom"}`` (drawn from ``minzoom``,
        named from ``labelzoom``) and named places ``{"name", "kind", "lat", "lon",
        "labelzoom"}``.
    """

    incidents: list[dict[str, Any]] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)
    heat: list[list[float]] = field(default_factory=list)
    tracks: list[dict[str, Any]] = field(default_factory=list)
    geofences: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    streets: list[dict[str, Any]] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)

    def points(self) -> list[tuple[float, float]]:
        pts = [
            (p["lat"], p["lon"])
            for group in (self.incidents, self.units, self.records)
            for p in group
        ]
        pts += [(p[0], p[1]) for t in self.tracks for p in t["points"]]
        pts += [(h[0], h[1]) for h in self.heat]
        return pts


def load_districts(path: Path = DISTRICTS_PATH) -> dict[str, Any] | None:
    """The offline basemap (district outlines), or ``None`` when the file is absent or invalid."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable offline basemap: %s", path, exc)
        return None
    return data if isinstance(data, dict) and data.get("features") else None


def load_basemap(path: Path = BASEMAP_PATH) -> dict[str, list[dict[str, Any]]]:
    """The shipped streets and named places (``resources/geo/basemap.geojson``, written by
    ``python -m plugins.builtin.streets``) as :class:`MapLayers` ``streets`` and ``places``;
    empty lists (logged) when the file is absent or unreadable, and features that are not a
    named line or point are skipped."""
    streets: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    if not path.is_file():
        log.info("%s: no offline street basemap", path)
        return {"streets": streets, "places": places}
    try:
        features = json.loads(path.read_text(encoding="utf-8")).get("features") or []
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("%s: unreadable offline street basemap: %s", path, exc)
        return {"streets": streets, "places": places}
    skipped = 0
    for feature in features:
        try:
            props = feature.get("properties") or {}
            geometry = feature.get("geometry") or {}
            coords = geometry.get("coordinates")
            name = str(props.get("name") or "")
            if not name or not coords:
                continue
            if geometry.get("type") == "LineString":
                streets.append(
                    {
                        "name": name,
                        "cls": str(props.get("class", "residential")),
                        "points": [[float(c[1]), float(c[0])] for c in coords],
                        "minzoom": int(props.get("minzoom", 14)),
                        "labelzoom": int(props.get("labelzoom", 16)),
                    }
                )
            elif geometry.get("type") == "Point":
                places.append(
                    {
                        "name": name,
                        "kind": str(props.get("kind", "place")),
                        "lat": float(coords[1]),
                        "lon": float(coords[0]),
                        "labelzoom": int(props.get("labelzoom", 14)),
                    }
                )
        except (AttributeError, IndexError, TypeError, ValueError):
            skipped += 1
    if skipped:
        log.warning("%s: %d malformed features skipped", path, skipped)
    return {"streets": streets, "places": places}


def _bounds(
    points: list[tuple[float, float]], districts: dict[str, Any] | None
) -> list[list[float]]:
    if not points and districts:
        for feature in districts.get("features", []):
            points += list(_geometry_points(feature.get("geometry") or {}))
    if not points:
        return [[30.15, 120.0], [30.40, 120.35]]  # the demo city; any view beats a grey page
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _geometry_points(geometry: dict[str, Any]) -> Any:
    coords = geometry.get("coordinates")

    def walk(c: Any) -> Any:
        if isinstance(c, list) and c and isinstance(c[0], (int, float)):
            yield (float(c[1]), float(c[0]))
        elif isinstance(c, list):
            for item in c:
                yield from walk(item)

    yield from walk(coords)


def build_map_html(
    layers: MapLayers,
    *,
    tile_url: str = "",
    dark: bool = True,
    districts: dict[str, Any] | None = None,
    tile_attribution: str = "operations-centre tile server",
    time_zone: str = "Asia/Shanghai",
    labels: dict[str, str] | None = None,
) -> str:
    """The complete map page: vendored Leaflet, the basemap, and the layers.

    Parameters
    ----------
    tile_url:
        The workspace's ``[map] tile_url``; empty uses the offline basemap (district outlines,
        or a coordinate grid when even those are missing).
    districts:
        The offline basemap GeoJSON (default: :func:`load_districts`).
    time_zone:
        The workspace's time zone: the page shows times in it, on a 24-hour clock.
    labels:
        The page's texts in the UI language (legend, layer names; see
        ``map_panel.page_labels``); English where missing.

    The page zooms to the tracks when it has any (Show on map of an entity), else to
    everything; its scale bar is metric only, and a layer switcher turns incidents, units,
    records, hotspots, tracks, geofences and the basemap on and off.
    """
    import folium
    from folium.plugins import HeatMap

    if districts is None:
        districts = load_districts()
    if not (districts and districts.get("features")):
        districts = None  # no usable outlines: the page draws a coordinate grid instead
    track_points = [(p[0], p[1]) for t in layers.tracks for p in t["points"]]
    bounds = _bounds(track_points or layers.points(), districts)
    m = folium.Map(
        location=[(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2],
        zoom_start=12,
        tiles=None,
        prefer_canvas=True,
        control_scale=False,
        max_zoom=19,
    )
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=tile_attribution, name="tiles", max_zoom=19).add_to(m)
    if districts:
        line = "#4b5d73" if dark else "#8a9bb0"
        fill = "#1a2430" if dark else "#eef2f6"
        opacity = 0.0 if tile_url else 0.9  # over a tile server's tiles: outlines only
        folium.GeoJson(
            districts,
            name="districts",
            control=False,
            style_function=lambda _f: {
                "color": line,
                "weight": 1.5,
                "fillColor": fill,
                "fillOpacity": opacity,
                "className": "sb-basemap",
            },
            tooltip=_district_tooltip(districts),
        ).add_to(m)
    if layers.heat:
        HeatMap(layers.heat, name="hotspots", radius=22, blur=18, min_opacity=0.3).add_to(m)
    if layers.geofences:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": layers.geofences},
            name="geofences",
            style_function=lambda _f: {
                "color": "#d29922",
                "weight": 2,
                "dashArray": "6 4",
                "fillOpacity": 0.08,
                "className": "sb-geofences",
            },
        ).add_to(m)
    m.fit_bounds(bounds)
    # after Leaflet itself: the page's own code and the clustering plugin need ``L``
    m.default_js = [
        *m.default_js,
        ("sb_cluster_js", vendored("leaflet.markercluster/leaflet.markercluster.js")),
        ("sb_map_js", (WEB_DIR / "superbrain-map.js").as_uri()),
        ("sb_notes_js", (WEB_DIR / "superbrain-notes.js").as_uri()),
    ]
    m.default_css = [
        *m.default_css,
        ("sb_cluster_css", vendored("leaflet.markercluster/MarkerCluster.css")),
        ("sb_cluster_default_css", vendored("leaflet.markercluster/MarkerCluster.Default.css")),
        ("sb_map_css", (WEB_DIR / "superbrain-map.css").as_uri()),
        ("sb_notes_css", (WEB_DIR / "superbrain-notes.css").as_uri()),
    ]
    figure = m.get_root()
    assert isinstance(figure, folium.Figure)  # a map's root is its page
    payload = {
        "incidents": layers.incidents,
        "units": layers.units,
        "tracks": layers.tracks,
        "records": layers.records,
        "dark": dark,
        "offline": not tile_url,
        "streets": layers.streets,
        "places": layers.places,
        "basemap": "tiles" if tile_url else ("districts" if districts else "grid"),
        "tz": time_zone,
        "fit": bounds,
        "labels": dict(labels or {}),
    }
    data = page_json(payload)
    # the map variable is created by a script rendered after this one: start once parsed
    figure.script.add_child(
        folium.Element(
            f"document.addEventListener('DOMContentLoaded', function () "
            f"{{ sbInit({m.get_name()}, {data}); }});"
        ),
        name="sb_init",
    )
    localize(figure)
    html = figure.render()
    leftover = external_urls(html)
    if leftover:
        raise MapError(f"map page still links to external assets: {', '.join(leftover)}")
    return html


def _district_tooltip(districts: dict[str, Any]) -> Any:
    import folium

    props = (districts.get("features") or [{}])[0].get("properties") or {}
    for key in ("name", "name_zh", "district", "NAME"):
        if key in props:
            return folium.GeoJsonTooltip(fields=[key], labels=False)
    return None


def dispatch_view(
    incident: dict[str, Any] | None,
    recommendations: Sequence[Any],
    units: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """What the dispatch board's map draws (``sbDispatch`` in ``console/web``), as plain data.

    Parameters
    ----------
    incident:
        The selected queue row (``IncidentDesk.open_queue`` dict) or ``None``; an incident
        without a location is left off the map.
    recommendations:
        ``ops`` :class:`~ops.model.Recommendation` objects, best first (numbered from 1).
    units:
        Every unit position (``{"id", "label", "lat", "lon", "status", "stale"}``), drawn
        faintly; the recommended ones are drawn as recommendations instead.
    """
    inc = None
    if incident is not None and incident.get("lat") is not None and incident.get("lon") is not None:
        inc = {
            "id": incident["id"],
            "lat": incident["lat"],
            "lon": incident["lon"],
            "priority": incident.get("priority"),
            "category": incident.get("category", ""),
            "label": incident.get("address") or (incident.get("text") or "")[:60],
            "record": incident.get("source_uid") or None,
        }
    recs = [
        {
            "id": r.unit_id,
            "label": r.name or r.unit_id,
            "lat": r.lat,
            "lon": r.lon,
            "rank": i,
            "stale": bool(r.stale),
            "eta": f"ETA {r.eta_s / 60:.0f} min",
        }
        for i, r in enumerate(recommendations, 1)
        if r.lat is not None and r.lon is not None
    ]
    chosen = {r["id"] for r in recs}
    others = [u for u in units if u.get("id") not in chosen]
    return {"incident": inc, "units": recs, "others": others}
