"""Operations data files (``resources/ops/*.toml``), validated on load into typed settings.

A workspace may override any of them by putting a file of the same name in ``WORKSPACE/ops/``
(e.g. its own routing rules), so a deployment changes behaviour without changing code.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import normalize
from ops.errors import OpsConfigError
from ops.routing import Router, parse_routing
from ops.states import StateMachine, parse_state_machine

RESOURCE_DIR = Path(__file__).resolve().parent.parent / "resources" / "ops"
FILES = (
    "states.toml",
    "routing.toml",
    "units.toml",
    "sla.toml",
    "districts.toml",
    "intake.toml",
    "alerts.toml",
)


@dataclass(frozen=True)
class UnitType:
    name: str
    label: str
    speed_kmh: float
    capabilities: tuple[str, ...]


@dataclass(frozen=True)
class District:
    code: str
    name: str
    precinct: str
    center: tuple[float, float]
    demo_units: int
    #: Residents (``population``; 0 when not given): the denominator of per-10k indicators.
    population: int = 0


@dataclass(frozen=True)
class SlaTarget:
    priority: int
    label: str
    respond_min: float
    resolve_min: float


@dataclass(frozen=True)
class Geofence:
    id: str
    name: str
    alert_on: str  # "entry" | "exit"
    polygon: tuple[tuple[float, float], ...]
    plates: frozenset[str] = frozenset()
    match_field: str | None = None
    match_value: str | None = None


@dataclass(frozen=True)
class IntakeConfig:
    sources: frozenset[str]
    record_types: frozenset[str]
    default_priority: int
    default_category: str
    fields: Mapping[str, tuple[str, ...]]
    stamps: Mapping[str, tuple[str, ...]]
    priority_map: Mapping[str, int]
    mediation_map: Mapping[str, str]
    status_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertConfig:
    watch_sources: frozenset[str]
    watch_entity_types: frozenset[str]
    watch_ignore_sources: frozenset[str]
    watch_fields: Mapping[str, str]  # record field → normaliser name
    face_threshold: float
    severity: Mapping[str, str]
    geofences: tuple[Geofence, ...]


@dataclass(frozen=True)
class OpsConfig:
    """Everything the operations engine reads from its data files."""

    unit_states: StateMachine
    incident_states: StateMachine
    router: Router
    unit_types: Mapping[str, UnitType]
    road_factor: float
    stale_minutes: float
    default_limit: int
    sla: Mapping[int, SlaTarget]
    districts: Mapping[str, District]
    cell_m: float
    grid_origin: tuple[float, float]
    intake: IntakeConfig
    alerts: AlertConfig
    files: Mapping[str, Path] = field(default_factory=dict)
    #: District name → outline rings of [lat, lon] (from ``outlines`` in districts.toml).
    outlines: Mapping[str, tuple[tuple[tuple[float, float], ...], ...]] = field(
        default_factory=dict
    )

    def district_by_name(self, name: str) -> District | None:
        for d in self.districts.values():
            if name in (d.code, d.name):
                return d
        return None


def _read(name: str, override_dir: Path | None) -> tuple[dict[str, Any], Path]:
    path = RESOURCE_DIR / name
    if override_dir is not None and (override_dir / name).is_file():
        path = override_dir / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), path
    except FileNotFoundError:
        raise OpsConfigError(f"{str(path)!r}: operations data file missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OpsConfigError(f"{str(path)!r}: {exc}") from None


def _num(table: Mapping[str, Any], key: str, where: str, *, positive: bool = True) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OpsConfigError(f"{where}: {key!r} must be a number, got {value!r}")
    if positive and value <= 0:
        raise OpsConfigError(f"{where}: {key!r} must be positive, got {value!r}")
    return float(value)


def _point(value: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) for v in value)
        or not -90 <= value[0] <= 90
        or not -180 <= value[1] <= 180
    ):
        raise OpsConfigError(f"{where}: expected [lat, lon], got {value!r}")
    return float(value[0]), float(value[1])


def load_config(override_dir: Path | None = None) -> OpsConfig:
    """Read and validate every operations data file (``override_dir`` files win)."""
    raw: dict[str, dict[str, Any]] = {}
    paths: dict[str, Path] = {}
    for name in FILES:
        raw[name], paths[name] = _read(name, override_dir)

    def where(name: str) -> str:
        return repr(str(paths[name]))

    states = raw["states.toml"]
    unit_states = parse_state_machine("unit", states.get("unit") or {}, where("states.toml"))
    incident_states = parse_state_machine(
        "incident", states.get("incident") or {}, where("states.toml")
    )
    router = parse_routing(raw["routing.toml"], where("routing.toml"))

    units = raw["units.toml"]
    unit_types: dict[str, UnitType] = {}
    for tname, t in (units.get("types") or {}).items():
        ctx = f"{where('units.toml')}: [types.{tname}]"
        unit_types[tname] = UnitType(
            tname,
            str(t.get("label", tname)),
            _num(t, "speed_kmh", ctx),
            tuple(t.get("capabilities") or ()),
        )
    if not unit_types:
        raise OpsConfigError(f"{where('units.toml')}: no [types.*] declared")
    rec = units.get("recommend") or {}
    ctx = f"{where('units.toml')}: [recommend]"

    sla: dict[int, SlaTarget] = {}
    for key, t in (raw["sla.toml"].get("priority") or {}).items():
        ctx_s = f"{where('sla.toml')}: [priority.{key}]"
        if not str(key).isdigit():
            raise OpsConfigError(f"{ctx_s}: priority must be a number")
        sla[int(key)] = SlaTarget(
            int(key),
            str(t.get("label", key)),
            _num(t, "respond_min", ctx_s),
            _num(t, "resolve_min", ctx_s),
        )

    dist = raw["districts.toml"]
    districts: dict[str, District] = {}
    for code, d in (dist.get("districts") or {}).items():
        ctx_d = f"{where('districts.toml')}: [districts.{code}]"
        if not d.get("name"):
            raise OpsConfigError(f"{ctx_d}: missing 'name'")
        population = d.get("population", 0)
        if isinstance(population, bool) or not isinstance(population, int) or population < 0:
            raise OpsConfigError(
                f"{ctx_d}: 'population' must be a whole number of residents, got {population!r}"
            )
        districts[code] = District(
            code,
            str(d["name"]),
            str(d.get("precinct", d["name"])),
            _point(d.get("center"), f"{ctx_d} center"),
            int(d.get("demo_units", 0)),
            population,
        )
    outlines = _read_outlines(dist.get("outlines"), where("districts.toml"))
    hs = dist.get("hotspots") or {}
    ctx_h = f"{where('districts.toml')}: [hotspots]"

    intake = _parse_intake(raw["intake.toml"], where("intake.toml"))
    for text, state in intake.status_map.items():
        if state not in incident_states.transitions:
            raise OpsConfigError(
                f"{where('intake.toml')}: [intake.status_map] {text!r}: "
                f"{state!r} is not an incident state"
            )
    return OpsConfig(
        unit_states=unit_states,
        incident_states=incident_states,
        router=router,
        unit_types=unit_types,
        road_factor=_num(rec, "road_factor", ctx),
        stale_minutes=_num(rec, "stale_minutes", ctx),
        default_limit=int(_num(rec, "default_limit", ctx)),
        sla=sla,
        districts=districts,
        cell_m=_num(hs, "cell_m", ctx_h),
        grid_origin=_point(hs.get("origin"), f"{ctx_h} origin"),
        intake=intake,
        alerts=_parse_alerts(raw["alerts.toml"], where("alerts.toml")),
        files=paths,
        outlines=outlines,
    )


def _read_outlines(name: Any, where: str) -> dict[str, tuple[tuple[tuple[float, float], ...], ...]]:
    """District outlines from a GeoJSON FeatureCollection (Polygon / MultiPolygon)."""
    if not name:
        return {}
    path = RESOURCE_DIR.parent / str(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise OpsConfigError(f"{where}: outlines {str(path)!r}: {exc}") from None
    out: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {}
    for feature in data.get("features", []):
        district = (feature.get("properties") or {}).get("name")
        geom = feature.get("geometry") or {}
        coords = geom.get("coordinates") or []
        polys = (
            [coords]
            if geom.get("type") == "Polygon"
            else coords
            if geom.get("type") == "MultiPolygon"
            else []
        )
        rings = tuple(
            tuple((float(lat), float(lon)) for lon, lat, *_ in poly[0]) for poly in polys if poly
        )
        if district and rings:
            out[str(district)] = out.get(str(district), ()) + rings
    return out


def _parse_intake(data: Mapping[str, Any], where: str) -> IntakeConfig:
    t = data.get("intake")
    if not isinstance(t, Mapping):
        raise OpsConfigError(f"{where}: missing [intake] table")

    def lists(table: Any, ctx: str) -> dict[str, tuple[str, ...]]:
        out = {}
        for k, v in (table or {}).items():
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise OpsConfigError(f"{where}: [{ctx}] {k}: expected a list of field names")
            out[k] = tuple(v)
        return out

    pmap = {}
    for k, v in (t.get("priority_map") or {}).items():
        if not isinstance(v, int) or not 1 <= v <= 9:
            raise OpsConfigError(f"{where}: [intake.priority_map] {k!r}: expected 1..9")
        pmap[normalize.text(k)] = v
    mmap = {}
    for k, v in (t.get("mediation_map") or {}).items():
        if v not in ("success", "failed", "pending"):
            raise OpsConfigError(
                f"{where}: [intake.mediation_map] {k!r}: expected success, failed or pending"
            )
        mmap[normalize.text(k)] = v
    smap = {normalize.text(k): str(v) for k, v in (t.get("status_map") or {}).items()}
    return IntakeConfig(
        sources=frozenset(t.get("sources") or ()),
        record_types=frozenset(t.get("record_types") or ()),
        default_priority=int(t.get("default_priority", 3)),
        default_category=str(t.get("default_category", "other")),
        fields=lists(t.get("fields"), "intake.fields"),
        stamps=lists(t.get("stamps"), "intake.stamps"),
        priority_map=pmap,
        mediation_map=mmap,
        status_map=smap,
    )


def _parse_alerts(data: Mapping[str, Any], where: str) -> AlertConfig:
    wl = data.get("watchlist") or {}
    fields = {}
    for fname, norm in (wl.get("fields") or {}).items():
        if norm not in normalize.NORMALIZERS:
            raise OpsConfigError(
                f"{where}: [watchlist.fields] {fname}: unknown normaliser "
                f"{norm!r}; known: {', '.join(sorted(normalize.NORMALIZERS))}"
            )
        fields[fname] = norm
    fences: list[Geofence] = []
    seen: set[str] = set()
    for n, g in enumerate(data.get("geofences") or [], start=1):
        ctx = f"{where}: geofence #{n} ({g.get('id')!r})"
        gid = g.get("id")
        if not gid or gid in seen:
            raise OpsConfigError(f"{ctx}: missing or duplicate 'id'")
        seen.add(gid)
        if g.get("alert_on") not in ("entry", "exit"):
            raise OpsConfigError(f"{ctx}: alert_on must be 'entry' or 'exit'")
        poly = g.get("polygon")
        if not isinstance(poly, list) or len(poly) < 3:
            raise OpsConfigError(f"{ctx}: polygon needs at least 3 [lat, lon] points")
        points = tuple(_point(p, f"{ctx} polygon") for p in poly)
        match = g.get("match") or {}
        fences.append(
            Geofence(
                str(gid),
                str(g.get("name", gid)),
                g["alert_on"],
                points,
                frozenset(normalize.plate(p) for p in g.get("plates") or ()),
                match.get("field"),
                None if match.get("equals") is None else str(match["equals"]),
            )
        )
    face = data.get("face_match") or {}
    threshold = float(face.get("threshold", 0.6))
    return AlertConfig(
        watch_sources=frozenset(wl.get("sources") or ()),
        watch_entity_types=frozenset(wl.get("entity_types") or ("person", "vehicle", "phone")),
        watch_ignore_sources=frozenset(wl.get("ignore_sources") or ()),
        watch_fields=fields,
        face_threshold=threshold,
        severity=dict(data.get("severity") or {}),
        geofences=tuple(fences),
    )
