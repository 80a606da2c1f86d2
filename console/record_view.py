"""A record as HTML for the record pane: highlighted text, fields, photos, entities, links.

Pure functions (no Qt): the pane only puts the string in a text browser and routes the
``entity:`` / ``record:`` / ``pivot:`` links the HTML contains.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PyQt6.QtCore import QCoreApplication

from core.model import Record
from core.schema import default_schema

_OPERATORS = {"AND", "OR", "NOT", "TO"}


def query_terms(query: str) -> list[str]:
    """The words and phrases of a query worth highlighting (no operators, fields or syntax)."""
    terms = re.findall(r'"([^"]+)"', query)
    rest = re.sub(r'"[^"]*"', " ", query)
    for token in rest.split():
        token = token.split(":", 1)[-1].strip("()[]{}~*?^+-!")
        token = re.sub(r"~\d*$", "", token)
        if token and token.upper() not in _OPERATORS and len(token) > 1:
            terms.append(token)
    return sorted(set(terms), key=len, reverse=True)


def highlight(text: str, terms: Sequence[str]) -> str:
    """``text`` HTML-escaped with every occurrence of ``terms`` (case-insensitive) in <mark>."""
    if not terms:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _zh() -> bool:
    from console.i18n import current_language

    return current_language().startswith("zh")


def _entity_label(entity_type: str) -> tuple[str, str]:
    """An entity type's label in the UI language, and its colour."""
    schema = default_schema()
    et = schema.entities.get(entity_type)
    if et is None:
        return entity_type, "#888888"
    return (et.label_zh if _zh() and et.label_zh else et.label), et.color


def _link_label(link_type: str) -> str:
    lt = default_schema().links.get(link_type)
    if lt is None:
        return link_type
    return lt.label_zh if _zh() and lt.label_zh else lt.label


def photo_paths(record: Record) -> list[Path]:
    """Attachments that are image files present on disk."""
    out = []
    for value in record.attachments.values():
        path = Path(value)
        if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".webp") and path.is_file():
            out.append(path)
    return out


def record_html(record: Record, terms: Iterable[str] = (), *, muted: str = "#7d8a99") -> str:
    """The record pane's HTML for ``record`` with ``terms`` highlighted (headings in the UI
    language)."""
    terms = list(terms)
    pivot_names = {
        "graph": QCoreApplication.translate("RecordView", "Graph"),
        "map": QCoreApplication.translate("RecordView", "Map"),
        "timeline": QCoreApplication.translate("RecordView", "Timeline"),
        "faces": QCoreApplication.translate("RecordView", "Faces"),
    }
    heading = {
        "location": QCoreApplication.translate("RecordView", "location"),
        "entities": QCoreApplication.translate("RecordView", "Entities"),
        "links": QCoreApplication.translate("RecordView", "Links"),
        "from": QCoreApplication.translate("RecordView", "from"),
    }
    e = html.escape
    when = record.time.astimezone().strftime("%Y-%m-%d %H:%M") if record.time else "—"
    parts = [
        f"<h3 style='margin:0'>{highlight(record.title(), terms)}</h3>",
        f"<p style='color:{muted};margin-top:2px'>{e(record.type)} · {e(record.source)} · "
        f"{e(when)} · <code>{e(record.uid)}</code></p>",
    ]
    pivots = ["graph", "map", "timeline"]
    if photo_paths(record):
        pivots.append("faces")
    parts.append(
        "<p>"
        + " · ".join(f"<a href='pivot:{p}'>{e(pivot_names[p])} ›</a>" for p in pivots)
        + "</p>"
    )
    for name, value in record.text.items():
        if value:
            parts.append(f"<p><b>{e(name)}</b><br>{highlight(value, terms)}</p>")
    photos = photo_paths(record)
    if photos:
        parts.append(
            "<p>"
            + "".join(
                f"<img src='{p.as_uri()}' height='120' style='margin-right:6px'>" for p in photos
            )
            + "</p>"
        )
    if record.fields:
        rows = "".join(
            f"<tr><td style='color:{muted};padding-right:10px'>{e(k)}</td>"
            f"<td>{highlight(str(v), terms)}</td></tr>"
            for k, v in record.fields.items()
            if v not in (None, "")
        )
        parts.append(f"<table cellspacing='0' cellpadding='2'>{rows}</table>")
    if record.geo:
        parts.append(
            f"<p style='color:{muted}'>{e(heading['location'])} {record.geo[0]:.5f}, "
            f"{record.geo[1]:.5f}</p>"
        )
    if record.entities:
        items = []
        for ent in record.entities:
            label, colour = _entity_label(ent.type)
            items.append(
                f"<li><span style='color:{colour}'>●</span> {e(label)}: "
                f"<a href='entity:{quote(ent.id)}'>{e(ent.label or ent.key)}</a></li>"
            )
        parts.append(
            f"<p><b>{e(heading['entities'])}</b></p><ul style='margin-top:0'>"
            + "".join(items)
            + "</ul>"
        )
    if record.links:
        items = []
        for link in record.links:
            items.append(
                f"<li><a href='entity:{quote(link.source)}'>{e(link.source)}</a> "
                f"— {e(_link_label(link.type))} → "
                f"<a href='entity:{quote(link.target)}'>{e(link.target)}</a></li>"
            )
        parts.append(
            f"<p><b>{e(heading['links'])}</b></p><ul style='margin-top:0'>"
            + "".join(items)
            + "</ul>"
        )
    if record.origin:
        parts.append(f"<p style='color:{muted}'>{e(heading['from'])} {e(record.origin)}</p>")
    return "".join(parts)


def entity_html(
    entity: Any, records: Sequence[Record], total: int, *, muted: str = "#7d8a99"
) -> str:
    """The record pane's card for a chart node: the entity, its properties and the records that
    mention it (most recent first, ``total`` in all), each a link that opens the record."""
    e = html.escape
    label, colour = _entity_label(entity.type)

    def when(t: Any) -> str:
        return t.astimezone().strftime("%Y-%m-%d %H:%M") if t else "—"

    pivots = QCoreApplication.translate("RecordView", "Link chart, map, timeline, search")
    parts = [
        f"<h3 style='margin:0'><span style='color:{colour}'>●</span> "
        f"{e(entity.label or entity.key)}</h3>",
        f"<p style='color:{muted};margin-top:2px'>{e(label)} · <code>{e(entity.id)}</code>"
        f" · {e(when(entity.first_seen))} – {e(when(entity.last_seen))}</p>",
        f"<p><a href='entity:{quote(entity.id)}'>{e(pivots)} ›</a></p>",
    ]
    props = {k: v for k, v in (entity.props or {}).items() if v not in (None, "")}
    if props:
        rows = "".join(
            f"<tr><td style='color:{muted};padding-right:10px'>{e(str(k))}</td>"
            f"<td>{e(str(v))}</td></tr>"
            for k, v in props.items()
        )
        parts.append(f"<table cellspacing='0' cellpadding='2'>{rows}</table>")
    heading = (
        QCoreApplication.translate("RecordView", "Records ({shown} of {total})")
        .replace("{shown}", str(len(records)))
        .replace("{total}", str(total))
    )
    items = "".join(
        f"<li>{e(when(r.time))} <a href='record:{quote(r.uid)}'>{e(r.title())}</a> "
        f"<span style='color:{muted}'>{e(r.source)}</span></li>"
        for r in records
    )
    parts.append(f"<p><b>{e(heading)}</b></p><ul style='margin-top:0'>{items}</ul>")
    return "".join(parts)
