"""The mapping file's language: every key and value it accepts, validated strictly on load.

A misspelt key, an unknown role or a link the schema forbids is an error that names the file,
the line, the key and the nearest valid spelling. :data:`MAPPING_KEYS` lists every key; the
documentation test checks each is described in docs/PLUGINS.md.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import SchemaError
from core.model import FieldRole, FieldSpec
from core.normalize import NORMALIZERS
from core.schema import Schema, default_schema
from core.timezones import TimeZoneError, zone_named

#: Every key a mapping accepts, by table (``*`` = one table per field or entity alias).
MAPPING_KEYS: dict[str, tuple[str, ...]] = {
    "": ("source", "fields", "entities", "links"),
    "source": (
        "name",
        "version",
        "description",
        "record_type",
        "label",
        "id",
        "time",
        "geo",
        "timezone",
        "encoding",
        "formats",
    ),
    "source.time": ("column", "format"),
    "source.geo": ("lat", "lon"),
    "fields.*": ("column", "role", "label", "normalizer", "facet"),
    "entities.*": ("type", "key", "label", "props", "optional"),
    "links": ("type", "from", "to", "time"),
}

#: File kinds the generic readers understand.
READABLE_FORMATS = ("csv", "tsv", "txt", "jsonl", "ndjson", "json", "xlsx", "xlsm")

_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class EntityMapping:
    """One ``[entities.ALIAS]`` table: how a row names an entity."""

    alias: str
    type: str
    key: str
    label: str
    props: Mapping[str, str]
    optional: bool


@dataclass(frozen=True)
class LinkMapping:
    """One ``[[links]]`` entry: a link between two entity aliases."""

    type: str
    source: str
    target: str
    time: str | None  # column; None = the record's time


@dataclass(frozen=True)
class SourceMapping:
    """A validated mapping file.

    ``columns`` maps each field name to the column it is read from (the same name unless the
    field says ``column = "…"``). Anywhere else a column is expected (id, time, geo, entity
    keys, labels, props, link times), a field's name may be given instead of its column.
    """

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
    columns: Mapping[str, str] = field(default_factory=dict)
    timezone: str | None = None
    encoding: str | None = None
    digest: str = ""  # SHA-256 of the mapping's content: a changed mapping re-reads files

    def column(self, name: str) -> str:
        """The column behind ``name``: a field's column, else ``name`` itself."""
        return self.columns.get(name, name)

    def template_columns(self, template: str) -> list[str]:
        """The columns a ``"{col} template"`` or a bare column/field name reads."""
        found = _TEMPLATE.findall(template)
        return [self.column(n) for n in (found if found else [template])]

    def columns_used(self) -> dict[str, str]:
        """Every column the mapping reads → where it is named (for header checks)."""
        used: dict[str, str] = {}

        def add(names: Iterable[str], where: str) -> None:
            for n in names:
                used.setdefault(n, where)

        add((self.column(c) for c in self.id_columns), "[source] id")
        if self.time_column:
            add([self.column(self.time_column)], "[source] time")
        for col, key in ((self.lat, "lat"), (self.lon, "lon")):
            if col:
                add([self.column(col)], f"[source] geo {key}")
        for spec in self.fields:
            add([self.column(spec.name)], f"[fields] {spec.name}")
        for e in self.entities:
            ctx = f"[entities.{e.alias}]"
            add(self.template_columns(e.key), f"{ctx} key")
            add(self.template_columns(e.label), f"{ctx} label")
            for prop, col in e.props.items():
                add(self.template_columns(col), f"{ctx} props.{prop}")
        for i, link in enumerate(self.links):
            if link.time:
                add([self.column(link.time)], f"[[links]] #{i + 1} time")
        return used


def nearest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``."""
    near = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


class _Locator:
    """Finds the line of a key in the TOML text, so an error can say where to look."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str | None) -> None:
        self.lines = text.splitlines() if text else []
        self.sections: list[tuple[tuple[str, ...], int, int]] = []
        current: tuple[str, ...] = ()
        start, counts = 0, dict[tuple[str, ...], int]()
        for n, line in enumerate(self.lines):
            m = self._HEADER.match(line)
            if not m:
                continue
            self.sections.append((current, start, n))
            parts = tuple(p.strip().strip("\"'") for p in m.group(2).split("."))
            if m.group(1) == "[[":
                counts[parts] = counts.get(parts, -1) + 1
                parts = (*parts, str(counts[parts]))
            current, start = parts, n + 1
        self.sections.append((current, start, len(self.lines)))

    @staticmethod
    def _has_key(line: str, key: str, at_start: bool) -> bool:
        lead = r"^\s*" if at_start else r"(^|[{,\s])"
        return re.search(lead + r"[\"']?" + re.escape(key) + r"[\"']?\s*=", line) is not None

    def line_of(self, path: tuple[str, ...]) -> int | None:
        """1-based line where the key ``path`` (e.g. ``("fields", "plate", "facet")``) is."""
        for strict in (True, False):
            for split in range(len(path) - 1, -1, -1):
                table, rest = path[:split], path[split:]
                for section, start, end in self.sections:
                    if section != table:
                        continue
                    for n in range(start, end):
                        line = self.lines[n].split("#", 1)[0]
                        if self._has_key(line, rest[0], True) and (
                            not strict or all(self._has_key(line, k, False) for k in rest[1:])
                        ):
                            return n + 1
        for section, start, _end in self.sections:
            if section == path and start > 0:
                return start  # the table's header line
        return None


class _Validator:
    def __init__(self, where: str, text: str | None, schema: Schema) -> None:
        self.where = where
        self.locator = _Locator(text)
        self.schema = schema

    def fail(self, path: tuple[str, ...], message: str) -> SchemaError:
        line = self.locator.line_of(path) if path else None
        at = f": line {line}" if line else ""
        return SchemaError(f"{self.where}{at}: {message}")

    def keys(
        self, table: Mapping[str, Any], allowed: tuple[str, ...], path: tuple[str, ...], ctx: str
    ) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(
                    (*path, key),
                    f"{ctx}: unknown key {key!r}{nearest(key, allowed)}"
                    f" (keys: {', '.join(allowed)})",
                )

    def table(self, value: Any, path: tuple[str, ...], ctx: str, kind: type = dict) -> Any:
        if value is None:
            return kind()
        if not isinstance(value, kind):
            raise self.fail(
                path,
                f"{ctx}: expected a {'table' if kind is dict else 'list'}, "
                f"got {type(value).__name__} {value!r}",
            )
        return value

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        path: tuple[str, ...],
        ctx: str,
        *,
        required: bool = False,
    ) -> str | None:
        value = table.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(path, f"{ctx}: missing {key!r}")
            return None
        if not isinstance(value, str):
            raise self.fail((*path, key), f"{ctx}: {key!r} must be a string, got {value!r}")
        return value

    def flag(self, table: Mapping[str, Any], key: str, path: tuple[str, ...], ctx: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail((*path, key), f"{ctx}: {key!r} must be true or false, got {value!r}")
        return value

    def choice(
        self, value: str, choices: Iterable[str], path: tuple[str, ...], what: str, ctx: str
    ) -> str:
        choices = list(choices)
        if value not in choices:
            raise self.fail(
                path,
                f"{ctx}: unknown {what} {value!r}{nearest(value, choices)} "
                f"(one of {', '.join(sorted(choices))})",
            )
        return value


def parse_mapping(
    data: Mapping[str, Any], where: str, schema: Schema | None = None, text: str | None = None
) -> SourceMapping:
    """Validate a mapping table (already parsed from TOML).

    Errors name ``where``, the line (when ``text``, the file's TOML, is given), the key and
    the nearest valid spelling.
    """
    v = _Validator(where, text, schema or default_schema())
    v.keys(data, MAPPING_KEYS[""], (), "top level")
    if not isinstance(data.get("source"), dict):
        raise v.fail((), "missing [source] table")
    src = data["source"]
    p = ("source",)
    v.keys(src, MAPPING_KEYS["source"], p, "[source]")
    name = v.text(src, "name", p, "[source]", required=True) or ""
    if not _NAME.fullmatch(name):
        raise v.fail((*p, "name"), f"[source] name {name!r} must be lower_snake_case")
    time_spec = v.table(src.get("time"), (*p, "time"), "[source] time")
    v.keys(time_spec, MAPPING_KEYS["source.time"], (*p, "time"), "[source] time")
    geo_spec = v.table(src.get("geo"), (*p, "geo"), "[source] geo")
    v.keys(geo_spec, MAPPING_KEYS["source.geo"], (*p, "geo"), "[source] geo")
    if bool(geo_spec.get("lat")) != bool(geo_spec.get("lon")):
        raise v.fail((*p, "geo"), "[source] geo: give both 'lat' and 'lon'")
    time_format = v.text(time_spec, "format", (*p, "time"), "[source] time")
    if time_format is not None and "%" not in time_format:
        raise v.fail(
            (*p, "time", "format"),
            f'[source] time format {time_format!r} has no strptime directive (e.g. "%Y%m%d%H%M%S")',
        )
    timezone = v.text(src, "timezone", p, "[source]")
    if timezone is not None:
        try:
            zone_named(timezone)
        except TimeZoneError as exc:
            raise v.fail((*p, "timezone"), f"[source] timezone: {exc}") from None
    encoding = v.text(src, "encoding", p, "[source]")
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise v.fail(
                (*p, "encoding"),
                f"[source] encoding: unknown encoding {encoding!r} "
                "(e.g. utf-8, gb18030, utf-16-le)",
            ) from None

    fields: list[FieldSpec] = []
    columns: dict[str, str] = {}
    for fname, spec in v.table(data.get("fields"), ("fields",), "[fields]").items():
        path, ctx = ("fields", fname), f"[fields] {fname}"
        if isinstance(spec, str):
            spec = {"role": spec}
        spec = v.table(spec, path, ctx)
        v.keys(spec, MAPPING_KEYS["fields.*"], path, ctx)
        role_name = v.text(spec, "role", path, ctx, required=True) or ""
        role = FieldRole(
            v.choice(role_name, [r.value for r in FieldRole], (*path, "role"), "role", ctx)
        )
        normalizer = v.text(spec, "normalizer", path, ctx)
        if role is FieldRole.IDENTIFIER and not normalizer:
            raise v.fail(
                path,
                f"{ctx}: an identifier needs a normalizer (one of "
                f"{', '.join(sorted(NORMALIZERS))})",
            )
        if normalizer is not None:
            v.choice(normalizer, NORMALIZERS, (*path, "normalizer"), "normalizer", ctx)
        facet = v.flag(spec, "facet", path, ctx)
        if facet and role not in (FieldRole.KEYWORD, FieldRole.IDENTIFIER, FieldRole.NUMBER):
            raise v.fail(
                (*path, "facet"),
                f"{ctx}: a {role.value} field cannot be a facet "
                "(keyword, identifier and number fields can)",
            )
        column = v.text(spec, "column", path, ctx) or fname
        columns[fname] = column
        fields.append(
            FieldSpec(fname, role, v.text(spec, "label", path, ctx) or "", normalizer, facet)
        )

    entities: list[EntityMapping] = []
    for alias, spec in v.table(data.get("entities"), ("entities",), "[entities]").items():
        path, ctx = ("entities", alias), f"[entities.{alias}]"
        spec = v.table(spec, path, ctx)
        v.keys(spec, MAPPING_KEYS["entities.*"], path, ctx)
        etype = v.choice(
            v.text(spec, "type", path, ctx, required=True) or "",
            v.schema.entities,
            (*path, "type"),
            "entity type",
            ctx,
        )
        key = v.text(spec, "key", path, ctx, required=True) or ""
        props = v.table(spec.get("props"), (*path, "props"), f"{ctx} props")
        for prop, col in props.items():
            if not isinstance(col, str):
                raise v.fail(
                    (*path, "props"), f"{ctx} props: {prop!r} must name a column, got {col!r}"
                )
        entities.append(
            EntityMapping(
                alias,
                etype,
                key,
                v.text(spec, "label", path, ctx) or key,
                dict(props),
                v.flag(spec, "optional", path, ctx),
            )
        )

    aliases = {e.alias: e for e in entities}
    links: list[LinkMapping] = []
    for i, spec in enumerate(v.table(data.get("links"), ("links",), "[[links]]", list)):
        path, ctx = ("links", str(i)), f"[[links]] #{i + 1}"
        spec = v.table(spec, path, ctx)
        v.keys(spec, MAPPING_KEYS["links"], path, ctx)
        ltype = v.choice(
            v.text(spec, "type", path, ctx, required=True) or "",
            v.schema.links,
            (*path, "type"),
            "link type",
            ctx,
        )
        ends = []
        for end in ("from", "to"):
            alias = v.text(spec, end, path, ctx, required=True) or ""
            ends.append(v.choice(alias, aliases, (*path, end), "entity alias", ctx))
        a, b = ends
        if not v.schema.links[ltype].allows(aliases[a].type, aliases[b].type):
            raise v.fail(
                path, f"{ctx}: link {ltype!r} cannot join {aliases[a].type} to {aliases[b].type}"
            )
        links.append(LinkMapping(ltype, a, b, v.text(spec, "time", path, ctx)))

    id_columns = src.get("id") or []
    if isinstance(id_columns, str):
        id_columns = [id_columns]
    if not isinstance(id_columns, list) or not all(isinstance(c, str) for c in id_columns):
        raise v.fail((*p, "id"), "[source] id must be a column name or a list of them")
    formats = src.get("formats", ["csv", "tsv", "jsonl", "ndjson", "xlsx"])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise v.fail((*p, "formats"), "[source] formats must be a list of extensions")
    for fmt in formats:
        v.choice(fmt, READABLE_FORMATS, (*p, "formats"), "format", "[source] formats")
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return SourceMapping(
        name=name,
        version=str(src.get("version", "1")),
        description=str(src.get("description", "")),
        record_type=str(src.get("record_type", name)),
        label=str(src.get("label", name)),
        id_columns=tuple(id_columns),
        time_column=v.text(time_spec, "column", (*p, "time"), "[source] time"),
        time_format=time_format,
        lat=v.text(geo_spec, "lat", (*p, "geo"), "[source] geo"),
        lon=v.text(geo_spec, "lon", (*p, "geo"), "[source] geo"),
        fields=tuple(fields),
        entities=tuple(entities),
        links=tuple(links),
        formats=tuple(formats),
        columns=columns,
        timezone=timezone,
        encoding=encoding,
        digest=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def read_mapping_name(path: Path) -> str | None:
    """The ``[source] name`` of a mapping file, when it can be read at all (for error listings)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = data.get("source", {}).get("name") if isinstance(data.get("source"), dict) else None
    return name if isinstance(name, str) and _NAME.fullmatch(name) else None


def load_mapping(path: Path, schema: Schema | None = None) -> SourceMapping:
    """Read and validate a mapping TOML file; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(f"{str(path)!r}: mapping file not found") from None
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{str(path)!r}: a mapping file must be UTF-8 ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"{str(path)!r}: {exc}") from None
    return parse_mapping(data, repr(str(path)), schema, text)
