"""The generic mapping source: a TOML file maps columns of CSV / JSONL / Excel rows onto a record,
its entities and its links — a new tabular source needs no code (cf. followthemoney mappings).

The file's language (every key, its validation, error messages with line and nearest spelling)
is :mod:`plugins.mapping_spec`; this module turns rows into records by it. docs/PLUGINS.md
describes every key. Example::

    [source]
    name = "checkpoint"
    record_type = "plate_read"
    id = ["read_id"]                              # columns (or fields) forming the stable id
    time = { column = "过车时间" }                 # optional `format` (strptime); ISO by default
    timezone = "Asia/Shanghai"                    # zone of naive times (default: the workspace's)
    geo = { lat = "lat", lon = "lon" }

    [fields]
    plate = { column = "号牌", role = "identifier", normalizer = "plate" }
    device = { role = "keyword", facet = true }   # column "device"

    [entities.car]
    type = "vehicle"
    key = "plate"                                 # a field or column; normalised by the type
    optional = true                               # rows without a plate make no vehicle

    [entities.cam]
    type = "device"
    key = "device"

    [[links]]
    type = "passed"
    from = "car"
    to = "cam"
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import PluginError, RowError
from core.model import EntityRef, FieldRole, LinkRef, Record, RecordSchema, entity_id
from core.normalize import id_number_valid
from core.paths import confined_file
from core.schema import Schema, default_schema
from core.timezones import as_utc, zone_named
from plugins.contract import Row, SourcePlugin
from plugins.mapping_spec import (
    MAPPING_KEYS,
    EntityMapping,
    LinkMapping,
    SourceMapping,
    load_mapping,
    nearest,
    parse_mapping,
)
from plugins.readers import read_any, read_header

__all__ = [
    "MAPPING_KEYS",
    "EntityMapping",
    "LinkMapping",
    "MappingSource",
    "SourceMapping",
    "load_mapping",
    "parse_mapping",
    "parse_time",
]

_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y-%m-%d %H:%M")


def parse_time(value: Any, fmt: str | None = None, zone: Any = None) -> datetime:
    """Parse a timestamp cell: datetime, epoch seconds, ISO 8601 or common Chinese formats.

    A time without a zone is wall-clock time in ``zone`` (a ``ZoneInfo``; default: the zone of
    naive times where this runs, :func:`core.timezones.naive_zone` — the workspace's during an
    ingest). Raises ValueError for anything unparseable, out-of-range dates included.
    """
    try:
        return _parse_time(value, fmt, zone)
    except (OverflowError, OSError):  # e.g. epoch 1e17, year 1 shifted out of range by UTC+8
        raise ValueError(f"time out of range: {value!r}") from None


def _parse_time(value: Any, fmt: str | None, zone: Any) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value, zone)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=UTC)
    text = str(value).strip()
    if fmt:
        return as_utc(datetime.strptime(text, fmt), zone)
    try:
        return as_utc(datetime.fromisoformat(text), zone)
    except ValueError:
        pass
    for candidate in _TIME_FORMATS:
        try:
            return as_utc(datetime.strptime(text, candidate), zone)
        except ValueError:
            continue
    raise ValueError(f"unrecognised time {text!r}")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def safe_photo(raw: str, data_dir: Path, extra_roots: Sequence[Path] = ()) -> Path:
    """The photo ``raw`` names, checked by :func:`core.paths.confined_file`: inside
    ``data_dir`` (or one of ``extra_roots``), a regular file, at most 20 MiB; ValueError says
    why not. A relative path is taken from ``data_dir``; the file is never opened."""
    return confined_file(raw, data_dir, extra_roots)


def _geo_cell(raw: Any) -> tuple[float, float]:
    parts = re.split(r"[,，\s;]+", str(raw).strip())
    if len(parts) != 2:
        raise ValueError(f"expected 'lat,lon', got {raw!r}")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"expected 'lat,lon', got {raw!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"coordinates out of range ({lat}, {lon})")
    return lat, lon


class MappingSource(SourcePlugin):
    """A source defined entirely by a mapping file; built-in sources are instances of this.

    Photos must lie in the input file's folder; ``photo_roots`` may name more folders.
    """

    photo_roots: tuple[Path, ...] = ()

    def __init__(self, mapping: SourceMapping, schema: Schema | None = None) -> None:
        self.mapping = mapping
        self.schema = schema or default_schema()
        self.name = mapping.name
        self.version = mapping.version
        self.description = mapping.description
        self.formats = mapping.formats
        # the file's declared zone wins; without one, naive times are the workspace's (the
        # ingest binds it: core.timezones.reading_in)
        self.zone = zone_named(mapping.timezone) if mapping.timezone else None
        self._record_schema = RecordSchema(mapping.record_type, mapping.label, mapping.fields)
        # Resolved once: to_record runs for every row, and names → columns never change.
        self._field_columns = [(spec, mapping.column(spec.name)) for spec in mapping.fields]
        self._plain = {
            t: mapping.column(t)
            for e in mapping.entities
            for t in (e.key, e.label, *e.props.values())
            if "{" not in t
        }

    @classmethod
    def from_file(cls, path: Path) -> MappingSource:
        """Build a source from a mapping TOML file."""
        return cls(load_mapping(path))

    def record_schemas(self) -> Sequence[RecordSchema]:
        """The single record type this mapping produces."""
        return [self._record_schema]

    def read(self, path: Path) -> Iterator[Row | RowError]:
        """Stream CSV, JSONL or Excel rows by extension."""
        return read_any(path, encoding=self.mapping.encoding)

    def mapping_digest(self) -> str:
        """The SHA-256 of the mapping: a file read under another mapping is read again."""
        return self.mapping.digest

    def header(self, path: Path) -> list[str] | None:
        """The file's column names (CSV and Excel), None for JSON Lines."""
        return read_header(path, encoding=self.mapping.encoding)

    def check_file(self, path: Path) -> None:
        """Check the file's header names every column the mapping reads (CSV and Excel).

        Raises :class:`~core.errors.PluginError` naming the missing column, the mapping key
        that names it and the header's nearest names, before any row is read.
        """
        header = self.header(path)
        if header is None:  # JSON Lines: no header; a missing key shows row by row
            return
        missing = [
            (col, where) for col, where in self.mapping.columns_used().items() if col not in header
        ]
        if not missing:
            return
        lines = [
            f"column {col!r} (named by {where}) is not in the header{nearest(col, header)}"
            for col, where in missing
        ]
        raise PluginError(
            f"{str(path)!r}: the mapping of source {self.name!r} does not fit "
            f"this file: " + "; ".join(lines) + f". The header has: "
            f"{', '.join(header)}"
        )

    def _value(self, name: str, values: Mapping[str, Any]) -> Any:
        return values.get(self.mapping.column(name))

    def _template(self, template: str, values: Mapping[str, Any]) -> str:
        column = self._plain.get(template)
        if column is not None or "{" not in template:
            value = values.get(column if column is not None else self.mapping.column(template))
            return "" if _blank(value) else str(value).strip()
        return _TEMPLATE.sub(
            lambda m: str(self._value(m.group(1), values) or "").strip(), template
        ).strip()

    def _time(self, raw: Any, fmt: str | None, line: int, column: str) -> datetime:
        try:
            return parse_time(raw, fmt, self.zone)
        except ValueError as exc:
            raise RowError(str(exc), line=line, column=column) from None

    def to_record(self, row: Row, path: Path) -> Record:
        """Map one row by the mapping file; a missing or invalid value raises RowError."""
        m, v = self.mapping, row.values
        line = row.line
        if m.id_columns:
            parts = []
            for col in m.id_columns:
                value = self._value(col, v)
                if _blank(value):
                    raise RowError("missing id value", line=line, column=m.column(col))
                parts.append(str(value).strip())
            rid = "|".join(parts)
        else:
            canon = "\x1f".join(f"{k}={v[k]}" for k in sorted(v))
            rid = hashlib.blake2b(canon.encode(), digest_size=10).hexdigest()
        time = None
        if m.time_column:
            raw = self._value(m.time_column, v)
            if _blank(raw):
                raise RowError("missing time", line=line, column=m.column(m.time_column))
            time = self._time(raw, m.time_format, line, m.column(m.time_column))
        geo = None
        if m.lat and m.lon:
            raw_lat, raw_lon = self._value(m.lat, v), self._value(m.lon, v)
            if not (_blank(raw_lat) or _blank(raw_lon)):
                try:
                    lat, lon = float(str(raw_lat)), float(str(raw_lon))
                except (TypeError, ValueError):
                    raise RowError(
                        f"invalid coordinates {raw_lat!r}, {raw_lon!r}",
                        line=line,
                        column=m.column(m.lat),
                    ) from None
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise RowError(
                        f"coordinates out of range ({lat}, {lon})",
                        line=line,
                        column=m.column(m.lat),
                    )
                geo = (lat, lon)
        text: dict[str, str] = {}
        fields: dict[str, Any] = {}
        attachments: dict[str, str] = {}
        for spec, column in self._field_columns:
            raw = v.get(column)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            if spec.role is FieldRole.TEXT:
                text[spec.name] = str(raw).strip()
            elif spec.role is FieldRole.NUMBER:
                try:
                    text_value = str(raw).strip()
                    fields[spec.name] = (
                        float(text_value)
                        if "." in text_value or "e" in text_value
                        else int(text_value)
                    )
                except ValueError:
                    raise RowError(f"not a number: {raw!r}", line=line, column=column) from None
            elif spec.role is FieldRole.TIME:
                fields[spec.name] = self._time(raw, None, line, column).isoformat()
            elif spec.role is FieldRole.GEO:
                try:
                    point = _geo_cell(raw)
                except ValueError as exc:
                    raise RowError(str(exc), line=line, column=column) from None
                fields[spec.name] = f"{point[0]},{point[1]}"
                geo = geo or point
            elif spec.role is FieldRole.PHOTO:
                try:
                    attachments[spec.name] = str(
                        safe_photo(str(raw).strip(), path.parent, self.photo_roots)
                    )
                except ValueError as exc:
                    raise RowError(str(exc), line=line, column=column) from None
            else:
                fields[spec.name] = str(raw).strip()
        entities: dict[str, EntityRef] = {}
        for em in m.entities:
            key_raw = self._template(em.key, v)
            if not key_raw:
                if em.optional:
                    continue
                raise RowError(
                    f"missing key for {em.type} (entity {em.alias!r}; add "
                    f"`optional = true` to [entities.{em.alias}] if rows may lack it)",
                    line=line,
                    column=", ".join(m.template_columns(em.key)),
                )
            etype = self.schema.entities[em.type]
            key = etype.normalize_key(key_raw)
            if not key:
                raise RowError(
                    f"empty {em.type} key after normalising {key_raw!r}",
                    line=line,
                    column=", ".join(m.template_columns(em.key)),
                )
            props: dict[str, Any] = {
                p: val for p, col in em.props.items() if (val := self._template(col, v))
            }
            if etype.key_normalizer == "id_number" and not id_number_valid(key):
                props["id_valid"] = False  # flagged for the analyst, never dropped
            entities[em.alias] = EntityRef(
                em.type, key, self._template(em.label, v) or key_raw, props
            )
        links: list[LinkRef] = []
        for lm in m.links:
            a, b = entities.get(lm.source), entities.get(lm.target)
            if a is None or b is None:
                continue  # an optional entity was absent
            ltime = time
            if lm.time and not _blank(self._value(lm.time, v)):
                ltime = self._time(self._value(lm.time, v), None, line, m.column(lm.time))
            links.append(
                LinkRef(lm.type, entity_id(a.type, a.key), entity_id(b.type, b.key), ltime)
            )
        return Record(
            source=m.name,
            id=rid,
            type=m.record_type,
            time=time,
            geo=geo,
            text=text,
            fields=fields,
            attachments=attachments,
            entities=tuple(entities.values()),
            links=tuple(links),
            origin=f"{path.name}:{line}",
        )
