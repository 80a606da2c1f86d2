"""``superbrain ingest --dry-run``: what a source would make of a file's first rows, written
nowhere — the plugin author's loop in seconds.

It checks the file as a real ingest does (the header against the mapping), maps the first N
rows, and reports the records, entities and links it would make, the rows it would reject with
their reasons, and warnings about a mapping that reads nothing useful (a field empty in every
row, an entity never made, an ID number that fails its check digit).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import RowError, SuperbrainError
from core.model import Record
from core.timezones import DEFAULT_ZONE, format_local, reading_in, zone_named

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from plugins.contract import SourcePlugin

DEFAULT_ROWS = 10


@dataclass
class DryRunReject:
    """A row the ingest would quarantine."""

    line: int | None
    column: str | None
    reason: str
    row: Any = None


@dataclass
class DryRun:
    """What :func:`dry_run` found; :meth:`render` turns it into text."""

    source: str
    path: str
    rows: int = 0
    records: list[Record] = field(default_factory=list)
    rejects: list[DryRunReject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def render(self, zone: ZoneInfo, *, limit: int = 80) -> str:
        """Plain text for a terminal; times in ``zone``, each value cut to ``limit`` chars."""

        def cut(value: Any) -> str:
            text = str(value)
            return text if len(text) <= limit else text[: limit - 1] + "…"

        out = [f"dry run of source {self.source!r} on {self.path} (nothing is written)"]
        if self.error:
            out.append(f"error: {self.error}")
            return "\n".join(out)
        out.append(
            f"{self.rows} rows read: {len(self.records)} would be records, "
            f"{len(self.rejects)} rejected"
        )
        for rec in self.records:
            out.append(f"\nrecord {rec.uid}  ({rec.origin})")
            out.append(f"  time: {format_local(rec.time, zone, seconds=True)}")
            if rec.geo:
                out.append(f"  geo: {rec.geo[0]}, {rec.geo[1]}")
            for name, value in {**rec.fields, **rec.text, **rec.attachments}.items():
                out.append(f"  {name}: {cut(value)}")
            for e in rec.entities:
                flag = (
                    "  (ID check digit invalid: kept, flagged)"
                    if e.props.get("id_valid") is False
                    else ""
                )
                out.append(f"  entity {e.id}  label {cut(e.label)!s}{flag}")
            for link in rec.links:
                out.append(f"  link {link.source} --{link.type}--> {link.target}")
        for rej in self.rejects:
            where = f"line {rej.line}" if rej.line is not None else "?"
            col = f" column {rej.column!r}" if rej.column else ""
            out.append(f"\nREJECT {where}{col}: {rej.reason}")
            if rej.row is not None:
                out.append(f"  row: {cut(rej.row)}")
        for w in self.warnings:
            out.append(f"warning: {w}")
        return "\n".join(out)


def dry_run(
    plugin: SourcePlugin, path: Path, *, rows: int = DEFAULT_ROWS, zone: ZoneInfo | None = None
) -> DryRun:
    """Map the first ``rows`` rows of ``path`` with ``plugin``; never writes, never raises
    for a bad file or row (the error is in the result). Naive times without a source zone are
    read in ``zone``, the workspace's, as the ingest would (default Asia/Shanghai)."""
    path = Path(path)
    result = DryRun(plugin.name, str(path))
    zone = zone or zone_named(DEFAULT_ZONE)
    with reading_in(zone):
        return _map_rows(plugin, path, rows, result, zone)


def _map_rows(
    plugin: SourcePlugin, path: Path, rows: int, result: DryRun, zone: ZoneInfo
) -> DryRun:
    from core.ingest import with_aware_times

    try:
        plugin.check_file(path)
        for item in plugin.read(path):
            if result.rows >= rows:
                break
            result.rows += 1
            if isinstance(item, RowError):
                result.rejects.append(DryRunReject(item.line, item.column, item.reason, item.raw))
                continue
            try:
                result.records.append(with_aware_times(plugin.to_record(item, path), zone))
            except RowError as exc:
                result.rejects.append(
                    DryRunReject(
                        exc.line if exc.line is not None else item.line,
                        exc.column,
                        exc.reason,
                        dict(item.values),
                    )
                )
    except SuperbrainError as exc:
        result.error = str(exc)
        return result
    except Exception as exc:  # a plugin's own bug: shown to its author, not raised
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.warnings = _warnings(plugin, result)
    return result


def _warnings(plugin: SourcePlugin, result: DryRun) -> list[str]:
    if not result.records:
        return [] if not result.rows else ["no row became a record: see the rejects above"]
    out = []
    filled: Counter[str] = Counter()
    for rec in result.records:
        filled.update({*rec.fields, *rec.text, *rec.attachments})
    mapping = getattr(plugin, "mapping", None)
    for schema in plugin.record_schemas():
        for spec in schema.fields:
            if not filled[spec.name]:
                column = mapping.column(spec.name) if mapping is not None else spec.name
                out.append(
                    f"field {spec.name!r} (column {column!r}) is empty in all "
                    f"{len(result.records)} records"
                )
    header_of = getattr(plugin, "header", None)  # a mapping source can list the file's columns
    header = header_of(Path(result.path)) if header_of is not None else None
    if mapping is not None and header:
        unread = [c for c in header if c not in mapping.columns_used()]
        if unread:
            out.append(f"columns the mapping does not read: {', '.join(unread)}")
    if mapping is not None:
        made: Counter[str] = Counter()
        for rec in result.records:
            made.update(e.type for e in rec.entities)
        for em in mapping.entities:
            if not made[em.type]:
                out.append(
                    f"entity {em.alias!r} ({em.type}) was made for none of the "
                    f"{len(result.records)} records"
                )
    return out
