"""The generic mapping source: a TOML file maps columns of CSV / JSONL / Excel rows onto a record,
its entities and its links — a new tabular source needs no code (cf. followthemoney mappings).

Example::

    [source]
    name = "checkpoint"
    version = "1.0"
    description = "Vehicle checkpoint plate reads"
    record_type = "plate_read"
    label = "Plate read"
    id = ["read_id"]                              # columns forming the stable id
    time = { column = "read_time" }               # optional `format` (strptime); ISO by default
    geo = { lat = "lat", lon = "lon" }

    [fields]
    plate = { role = "identifier", normalizer = "plate", label = "Plate" }
    device_name = { role = "keyword", facet = true }

    [entities.car]
    type = "vehicle"
    key = "plate"                                 # column; normalised by the entity type
    label = "{plate}"                             # column name or "{col} template"
    props = { plate = "plate" }

    [[links]]
    type = "passed"
    from = "car"
    to = "cam"
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import RowError, SchemaError
from core.model import (
    EntityRef,
    FieldRole,
    FieldSpec,
    LinkRef,
    Record,
    RecordSchema,
    entity_id,
    to_utc,
)
from core.normalize import NORMALIZERS
from core.schema import Schema, default_schema
from plugins.contract import Row, SourcePlugin
from plugins.readers import read_any

_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class EntityMapping:
    alias: str
    type: str
    key: str
    label: str
    props: Mapping[str, str]
    optional: bool


@dataclass(frozen=True)
class LinkMapping:
    type: str
    source: str
    target: str
    time: str | None  # column; None = the record's time


@dataclass(frozen=True)
class SourceMapping:
    name: str
    version: str
    description: str
    record_type: str
    label: str
    id_columns: tuple[str, ...]
    time_column: str | None
    time_format: str | None
    lat: str | None
    lon: str | None
    fields: tuple[FieldSpec, ...]
    entities: tuple[EntityMapping, ...]
    links: tuple[LinkMapping, ...]
    formats: tuple[str, ...]


def _columns_of(template: str) -> list[str]:
    found = _TEMPLATE.findall(template)
    return found if found else [template]


def parse_mapping(
    data: Mapping[str, Any], where: str, schema: Schema | None = None
) -> SourceMapping:
    """Validate a mapping table (already parsed from TOML); errors name ``where`` and the key."""
    schema = schema or default_schema()
    src = data.get("source")
    if not isinstance(src, dict):
        raise SchemaError(f"{where}: missing [source] table")

    def need(table: Mapping[str, Any], key: str, ctx: str) -> Any:
        if key not in table or table[key] in ("", None):
            raise SchemaError(f"{where}: {ctx}: missing {key!r}")
        return table[key]

    # A hand-written TOML file can put any type anywhere: check shapes before using them.
    def table(value: Any, ctx: str, kind: type = dict) -> Any:
        if value is None:
            return kind()
        if not isinstance(value, kind):
            raise SchemaError(f"{where}: {ctx}: expected a {'table' if kind is dict else 'list'},"
                              f" got {type(value).__name__} {value!r}")
        return value

    def column(value: Any, ctx: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        raise SchemaError(f"{where}: {ctx}: expected a column name, got {value!r}")

    name = str(need(src, "name", "[source]"))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise SchemaError(f"{where}: [source] name {name!r} must be lower_snake_case")
    time_spec = table(src.get("time"), "[source] time")
    geo_spec = table(src.get("geo"), "[source] geo")
    fields: list[FieldSpec] = []
    for fname, spec in table(data.get("fields"), "[fields]").items():
        ctx = f"[fields] {fname}"
        if isinstance(spec, str):
            spec = {"role": spec}
        role_name = need(table(spec, ctx), "role", ctx)
        try:
            role = FieldRole(role_name)
        except (ValueError, TypeError):
            roles = ", ".join(r.value for r in FieldRole)
            raise SchemaError(
                f"{where}: {ctx}: unknown role {role_name!r}; one of {roles}") from None
        normalizer = spec.get("normalizer")
        if role is FieldRole.IDENTIFIER and not normalizer:
            raise SchemaError(f"{where}: {ctx}: an identifier needs a normalizer")
        if normalizer is not None and (not isinstance(normalizer, str)
                                       or normalizer not in NORMALIZERS):
            raise SchemaError(f"{where}: {ctx}: unknown normalizer {normalizer!r}; one of "
                              f"{', '.join(sorted(NORMALIZERS))}")
        fields.append(
            FieldSpec(fname, role, str(spec.get("label", "")), normalizer,
                      bool(spec.get("facet")))
        )
    entities: list[EntityMapping] = []
    for alias, spec in table(data.get("entities"), "[entities]").items():
        ctx = f"[entities.{alias}]"
        etype = str(need(table(spec, ctx), "type", ctx))
        if etype not in schema.entities:
            raise SchemaError(f"{where}: {ctx}: unknown entity type {etype!r}")
        key = str(need(spec, "key", ctx))
        entities.append(
            EntityMapping(
                alias, etype, key, str(spec.get("label", key)),
                {str(k): str(v) for k, v in table(spec.get("props"), f"{ctx} props").items()},
                bool(spec.get("optional", False)),
            )
        )
    aliases = {e.alias: e for e in entities}
    links: list[LinkMapping] = []
    for i, spec in enumerate(table(data.get("links"), "[[links]]", list)):
        ctx = f"[[links]] #{i + 1}"
        ltype = str(need(table(spec, ctx), "type", ctx))
        if ltype not in schema.links:
            raise SchemaError(f"{where}: {ctx}: unknown link type {ltype!r}")
        a, b = str(need(spec, "from", ctx)), str(need(spec, "to", ctx))
        for alias in (a, b):
            if alias not in aliases:
                raise SchemaError(f"{where}: {ctx}: unknown entity alias {alias!r}")
        if not schema.links[ltype].allows(aliases[a].type, aliases[b].type):
            raise SchemaError(
                f"{where}: {ctx}: link {ltype!r} cannot join {aliases[a].type} to {aliases[b].type}"
            )
        links.append(LinkMapping(ltype, a, b, column(spec.get("time"), f"{ctx} time")))
    id_columns = src.get("id") or []
    if isinstance(id_columns, str):
        id_columns = [id_columns]
    if not isinstance(id_columns, list) or not all(isinstance(c, str) for c in id_columns):
        raise SchemaError(f"{where}: [source] id must be a column name or a list of them")
    formats = src.get("formats", ("csv", "tsv", "jsonl", "ndjson", "xlsx"))
    if not isinstance(formats, list | tuple) or not all(isinstance(f, str) for f in formats):
        raise SchemaError(f"{where}: [source] formats must be a list of extensions")
    return SourceMapping(
        name=name,
        version=str(src.get("version", "1")),
        description=str(src.get("description", "")),
        record_type=str(src.get("record_type", name)),
        label=str(src.get("label", name)),
        id_columns=tuple(id_columns),
        time_column=column(time_spec.get("column"), "[source] time column"),
        time_format=column(time_spec.get("format"), "[source] time format"),
        lat=column(geo_spec.get("lat"), "[source] geo lat"),
        lon=column(geo_spec.get("lon"), "[source] geo lon"),
        fields=tuple(fields),
        entities=tuple(entities),
        links=tuple(links),
        formats=tuple(formats),
    )


def load_mapping(path: Path, schema: Schema | None = None) -> SourceMapping:
    """Read and validate a mapping TOML file."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SchemaError(f"{str(path)!r}: mapping file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"{str(path)!r}: {exc}") from None
    return parse_mapping(data, repr(str(path)), schema)


def parse_time(value: Any, fmt: str | None = None) -> datetime:
    """Parse a timestamp cell: datetime, epoch seconds, ISO 8601 or common Chinese formats.

    Raises ValueError for anything unparseable, out-of-range dates included.
    """
    try:
        return _parse_time(value, fmt)
    except (OverflowError, OSError):  # e.g. epoch 1e17, year 1 shifted out of range by UTC+8
        raise ValueError(f"time out of range: {value!r}") from None


def _parse_time(value: Any, fmt: str | None = None) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=UTC)
    text = str(value).strip()
    if fmt:
        return to_utc(datetime.strptime(text, fmt))
    try:
        return to_utc(datetime.fromisoformat(text))
    except ValueError:
        pass
    for candidate in _TIME_FORMATS:
        try:
            return to_utc(datetime.strptime(text, candidate))
        except ValueError:
            continue
    raise ValueError(f"unrecognised time {text!r}")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class MappingSource(SourcePlugin):
    """A source defined entirely by a mapping file; built-in sources are instances of this."""

    def __init__(self, mapping: SourceMapping, schema: Schema | None = None) -> None:
        self.mapping = mapping
        self.schema = schema or default_schema()
        self.name = mapping.name
        self.version = mapping.version
        self.description = mapping.description
        self.formats = mapping.formats
        self._record_schema = RecordSchema(mapping.record_type, mapping.label, mapping.fields)

    @classmethod
    def from_file(cls, path: Path) -> MappingSource:
        """Build a source from a mapping TOML file."""
        return cls(load_mapping(path))

    def record_schemas(self) -> Sequence[RecordSchema]:
        """The single record type this mapping produces."""
        return [self._record_schema]

    def read(self, path: Path) -> Iterator[Row | RowError]:
        """Stream CSV, JSONL or Excel rows by extension."""
        return read_any(path)

    def _template(self, template: str, values: Mapping[str, Any]) -> str:
        if "{" not in template:
            value = values.get(template)
            return "" if _blank(value) else str(value).strip()
        return _TEMPLATE.sub(lambda m: str(values.get(m.group(1)) or "").strip(), template).strip()

    def to_record(self, row: Row, path: Path) -> Record:
        """Map one row by the mapping file; a missing or invalid value raises RowError."""
        m, v = self.mapping, row.values
        line = row.line
        if m.id_columns:
            parts = []
            for col in m.id_columns:
                if _blank(v.get(col)):
                    raise RowError("missing id value", line=line, column=col)
                parts.append(str(v[col]).strip())
            rid = "|".join(parts)
        else:
            canon = "\x1f".join(f"{k}={v[k]}" for k in sorted(v))
            rid = hashlib.blake2b(canon.encode(), digest_size=10).hexdigest()
        time = None
        if m.time_column:
            raw = v.get(m.time_column)
            if _blank(raw):
                raise RowError("missing time", line=line, column=m.time_column)
            try:
                time = parse_time(raw, m.time_format)
            except ValueError as exc:
                raise RowError(str(exc), line=line, column=m.time_column) from None
        geo = None
        if m.lat and m.lon and not (_blank(v.get(m.lat)) or _blank(v.get(m.lon))):
            try:
                lat, lon = float(str(v[m.lat])), float(str(v[m.lon]))
            except (TypeError, ValueError):
                raise RowError(
                    f"invalid coordinates {v[m.lat]!r}, {v[m.lon]!r}", line=line, column=m.lat
                ) from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise RowError(f"coordinates out of range ({lat}, {lon})", line=line, column=m.lat)
            geo = (lat, lon)
        text: dict[str, str] = {}
        fields: dict[str, Any] = {}
        attachments: dict[str, str] = {}
        for spec in m.fields:
            raw = v.get(spec.name)
            if _blank(raw):
                continue
            if spec.role is FieldRole.TEXT:
                text[spec.name] = str(raw).strip()
            elif spec.role is FieldRole.NUMBER:
                try:
                    text_value = str(raw).strip()
                    fields[spec.name] = (float(text_value) if "." in text_value or "e" in text_value
                                         else int(text_value))
                except ValueError:
                    raise RowError(f"not a number: {raw!r}", line=line, column=spec.name) from None
            elif spec.role is FieldRole.TIME:
                try:
                    fields[spec.name] = parse_time(raw).isoformat()
                except ValueError as exc:
                    raise RowError(str(exc), line=line, column=spec.name) from None
            elif spec.role is FieldRole.PHOTO:
                photo = Path(str(raw).strip())
                attachments[spec.name] = str(photo if photo.is_absolute() else path.parent / photo)
            else:
                fields[spec.name] = str(raw).strip()
        entities: dict[str, EntityRef] = {}
        for em in m.entities:
            key_raw = self._template(em.key, v)
            if not key_raw:
                if em.optional:
                    continue
                raise RowError(f"missing key for {em.type}", line=line, column=em.key)
            etype = self.schema.entities[em.type]
            key = etype.normalize_key(key_raw)
            if not key:
                raise RowError(f"empty {em.type} key after normalising {key_raw!r}",
                               line=line, column=em.key)
            props = {p: val for p, col in em.props.items()
                     if (val := self._template(col, v))}
            entities[em.alias] = EntityRef(em.type, key, self._template(em.label, v) or key_raw,
                                           props)
        links: list[LinkRef] = []
        for lm in m.links:
            a, b = entities.get(lm.source), entities.get(lm.target)
            if a is None or b is None:
                continue  # an optional entity was absent
            ltime = time
            if lm.time and not _blank(v.get(lm.time)):
                try:
                    ltime = parse_time(v[lm.time])
                except ValueError as exc:
                    raise RowError(str(exc), line=line, column=lm.time) from None
            links.append(LinkRef(lm.type, entity_id(a.type, a.key), entity_id(b.type, b.key),
                                 ltime))
        return Record(
            source=m.name, id=rid, type=m.record_type, time=time, geo=geo, text=text,
            fields=fields, attachments=attachments, entities=tuple(entities.values()),
            links=tuple(links), origin=f"{path.name}:{line}",
        )
