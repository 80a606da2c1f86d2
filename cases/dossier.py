"""The case dossier as one self-contained HTML document (the PDF is this page, printed).

Sections: title page (case, classification, author, date), each saved chart as a picture with
its legend, a timeline, a map snapshot, entity profiles, notes, face leads (similarity,
threshold, false-match rate, review decision and reviewer), other pinned evidence, and the
sources. Every fact taken from a record carries a footnote ``[n]`` naming the record's source,
file, row/line, ingest time and record id. Every text from data is HTML-escaped; pictures are
inline SVG built here. Sizes are bounded (:data:`MAX_TIMELINE`, :data:`MAX_PROFILES`).
"""

from __future__ import annotations

import json
import time
from html import escape
from pathlib import Path
from typing import Any

from cases.chart import chart_svg, record_uids
from cases.db import (
    case_charts,
    case_notes,
    case_pins,
    load_case,
)
from cases.model import local_time, workspace_tz
from cases.places import note_points

MAX_TIMELINE = 400
MAX_PROFILES = 150
MAX_CHART_CITES = 300
DISTRICTS = Path(__file__).resolve().parent.parent / "resources" / "geo" / "districts.geojson"

CSS = """
@page { size: A4; margin: 18mm 14mm 16mm 14mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; font-size: 10.5pt;
       color: #111; }
.mark { position: fixed; top: -12mm; left: 0; right: 0; font-size: 8.5pt; color: #b00020;
        display: flex; justify-content: space-between; }
.title { page-break-after: always; padding-top: 50mm; text-align: center; }
.title h1 { font-size: 24pt; margin-bottom: 4mm; }
.title .cls { color: #b00020; font-size: 16pt; font-weight: bold; margin: 8mm 0; }
h2 { border-bottom: 1px solid #999; padding-bottom: 1mm; page-break-after: avoid; }
section { page-break-before: always; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
td, th { border: 1px solid #bbb; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
.note { border-left: 3px solid #4e79a7; padding: 1mm 3mm; margin: 2mm 0; }
.note .text { white-space: pre-wrap; }
.meta { color: #555; font-size: 8.5pt; }
.warn { border: 1px solid #b00020; padding: 2mm; color: #b00020; }
sup { font-size: 7pt; }
svg { max-width: 100%; height: auto; }
"""


class Citations:
    """Footnote numbers for records: the first citation of a record gets the next number."""

    def __init__(self, workspace: Any) -> None:
        self.ws = workspace
        self.numbers: dict[str, int] = {}
        self._ingest: dict[tuple[str, str], float | None] = {}

    def cite(self, uid: str | None) -> str:
        if not uid:
            return ""
        n = self.numbers.setdefault(uid, len(self.numbers) + 1)
        return f"<sup>[{n}]</sup>"

    def _ingested(self, source: str, file: str) -> str:
        key = (source, file)
        if key not in self._ingest:
            from datetime import datetime

            when = None
            for cp_path, finished in self.ws.store.connection.execute(
                "SELECT path, coalesce(finished, started) AS at FROM ingest_files "
                "WHERE source=? ORDER BY at",
                (source,),
            ):
                if Path(cp_path).name == file and finished:
                    when = datetime.fromisoformat(finished).timestamp()
            self._ingest[key] = when
        when = self._ingest[key]
        return local_time(when, workspace_tz(self.ws)) if when else "not recorded"

    def footnotes(self) -> str:
        rows = []
        for uid, n in sorted(self.numbers.items(), key=lambda kv: kv[1]):
            record = self.ws.store.get_records([uid])
            if not record:
                rows.append(
                    f"<tr><td>[{n}]</td><td>{escape(uid)}</td>"
                    "<td colspan=4>record no longer in this workspace</td></tr>"
                )
                continue
            r = record[0]
            file, _, line = r.origin.rpartition(":")
            if not file:
                file, line = r.origin, ""
            rows.append(
                f"<tr><td>[{n}]</td><td>{escape(uid)}</td><td>{escape(r.source)}</td>"
                f"<td>{escape(file or '—')}</td><td>{escape(line or '—')}</td>"
                f"<td>{escape(self._ingested(r.source, file))}</td></tr>"
            )
        return (
            "<table><tr><th>#</th><th>record id</th><th>source</th><th>file</th>"
            "<th>row/line</th><th>ingested</th></tr>" + "".join(rows) + "</table>"
        )


def build(workspace: Any, number: str, *, author: str, chart_ids: list[str] | None = None) -> str:
    """The dossier of case ``number`` as HTML (the caller has checked access)."""
    con = workspace.store.connection
    tz = workspace_tz(workspace)
    case = load_case(con, number)
    assert case is not None
    charts = case_charts(con, number)
    if chart_ids is not None:
        charts = [c for c in charts if c.id in chart_ids]
    notes = case_notes(con, number)
    pins = _refreshed(workspace, case_pins(con, number))
    cites = Citations(workspace)
    made = time.time()
    date_text = local_time(made, tz)
    mark = (
        f'<div class="mark"><span>{escape(case.classification)}</span>'
        f"<span>{escape(case.number)}</span></div>"
    )
    parts = [mark, _title_page(case, author, date_text)]
    parts.append(_charts(case, charts, notes, date_text))
    parts.append(_timeline(workspace, charts, notes, pins, cites, tz))
    parts.append(_map(workspace, notes, pins, cites))
    parts.append(_profiles(workspace, charts, notes, cites))
    parts.append(_notes(workspace, notes, cites, tz))
    parts.append(_face_leads(pins, cites, tz))
    parts.append(_other_pins(pins, cites, tz))
    parts.append(
        "<section><h2>Sources</h2><p class=meta>Every footnote names the record a "
        "fact was taken from: its source, file, row/line, when the file was ingested, "
        "and the record id.</p>" + cites.footnotes() + "</section>"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(case.number)} {escape(case.title)}</title>"
        f"<style>{CSS}</style></head><body>" + "".join(parts) + "</body></html>"
    )


def _refreshed(workspace: Any, pins: list[Any]) -> list[Any]:
    """Pins with their evidence as it stands now (a face lead's review, a search's hits)."""
    from dataclasses import replace

    from cases.evidence import refresh

    fresh = refresh(workspace, [p.to_dict() for p in pins])
    return [replace(p, data=f["data"]) for p, f in zip(pins, fresh, strict=True)]


def _title_page(case: Any, author: str, date_text: str) -> str:
    members = ", ".join(f"{escape(m.user)} ({escape(m.role)})" for m in case.members)
    return (
        f'<div class="title"><div class="cls">{escape(case.classification)}</div>'
        f"<h1>{escape(case.title)}</h1><p>Case {escape(case.number)} · status "
        f"{escape(case.status)}</p><p>Dossier prepared by {escape(author)}</p>"
        f"<p>{escape(date_text)}</p><p class=meta>Members: {members}</p>"
        f'<div class="cls">{escape(case.classification)}</div></div>'
    )


def _charts(case: Any, charts: list[Any], notes: list[Any], date_text: str) -> str:
    if not charts:
        return "<section><h2>Link charts</h2><p>No saved chart.</p></section>"
    noted = {n.target for n in notes if n.target_kind == "entity"}
    out = ["<section><h2>Link charts</h2>"]
    for c in charts:
        svg = chart_svg(
            c.data,
            title=c.name,
            case=case.number,
            classification=case.classification,
            date_text=date_text,
            noted=noted,
        )
        origin = c.data.get("origin") or {}
        how = ", ".join(
            f"{escape(str(k))}: {escape(json.dumps(v, ensure_ascii=False))}"
            for k, v in origin.items()
        )
        out.append(
            f"<h3>{escape(c.name)}</h3><p class=meta>saved by {escape(c.updated_by)}, "
            f"version {c.version}{'; built from ' + how if how else ''}</p>{svg}"
        )
    out.append("</section>")
    return "".join(out)


def _record_times(workspace: Any, uids: list[str]) -> dict[str, tuple[float | None, str]]:
    out: dict[str, tuple[float | None, str]] = {}
    con = workspace.store.connection
    for i in range(0, len(uids), 400):
        chunk = uids[i : i + 400]
        for uid, t, text, rtype, rid in con.execute(
            f"SELECT uid, time, text, type, id FROM records WHERE uid IN "
            f"({','.join('?' * len(chunk))})",
            chunk,
        ):
            title = next((v for v in json.loads(text).values() if v), f"{rtype} {rid}")
            out[uid] = (t, title[:120])
    return out


def _timeline(
    workspace: Any, charts: list[Any], notes: list[Any], pins: list[Any], cites: Citations, tz: str
) -> str:
    uids: dict[str, None] = {}
    for p in pins:
        if p.kind == "record":
            uids.setdefault(p.ref, None)
    for c in charts:
        for uid in record_uids(c.data)[:MAX_CHART_CITES]:
            uids.setdefault(uid, None)
    times = _record_times(workspace, list(uids))
    rows: list[tuple[float, str]] = []
    for uid, (t, title) in times.items():
        if t is not None:
            rows.append(
                (
                    t,
                    f"<tr><td>{escape(local_time(t, tz))}</td><td>{escape(title)}"
                    f"{cites.cite(uid)}</td><td>{escape(uid)}</td></tr>",
                )
            )
    for n in notes:
        if n.target_kind == "timeline":
            t = _note_time(n.target, times)
            if t is not None:
                rows.append(
                    (
                        t,
                        f"<tr><td>{escape(local_time(t, tz))}</td><td>✎ "
                        f"{escape(n.text[:200])} <span class=meta>({escape(n.author)})"
                        f"</span></td><td>note</td></tr>",
                    )
                )
    rows.sort(key=lambda r: r[0])
    more = len(rows) - MAX_TIMELINE
    body = "".join(r[1] for r in rows[:MAX_TIMELINE])
    tail = f"<p class=meta>{more} later events not shown.</p>" if more > 0 else ""
    return (
        f"<section><h2>Timeline</h2><p class=meta>Times in {escape(tz)}.</p>"
        "<table><tr><th>when</th><th>what</th><th>record</th></tr>"
        + body
        + "</table>"
        + tail
        + "</section>"
    )


def _note_time(target: str, times: dict[str, tuple[float | None, str]]) -> float | None:
    from datetime import datetime

    if target in times:
        return times[target][0]
    try:
        return datetime.fromisoformat(target).timestamp()
    except ValueError:
        return None


def _map(workspace: Any, notes: list[Any], pins: list[Any], cites: Citations) -> str:
    points: list[tuple[float, float, str, str]] = []  # lat, lon, label, footnote
    for p in pins:
        geo = p.data.get("geo")
        if p.kind == "record" and geo:
            points.append((geo[0], geo[1], p.title, cites.cite(p.ref)))
    # notes where the console's map draws them: places, located entities, records
    for n in note_points(workspace.store, [n.to_dict() for n in notes]):
        cite = cites.cite(n["target"]) if n["placed_by"] == "record" else ""
        points.append((n["lat"], n["lon"], f"✎ {n['author']}: {n['text'][:60]}", cite))
    if not points:
        return (
            "<section><h2>Map</h2><p>No pinned record or noted place has a location.</p></section>"
        )
    svg = map_svg(points)
    rows = "".join(
        f"<tr><td>{i}</td><td>{lat:.5f}, {lon:.5f}</td><td>{escape(label)}{fn}</td></tr>"
        for i, (lat, lon, label, fn) in enumerate(points, start=1)
    )
    return (
        "<section><h2>Map</h2>" + svg + "<table><tr><th>#</th><th>lat, lon</th>"
        "<th>what</th></tr>" + rows + "</table></section>"
    )


def map_svg(
    points: list[tuple[float, float, str, str]], width: int = 640, height: int = 440
) -> str:
    """Numbered points over the district outlines (the offline basemap), equirectangular."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    pad = 0.06
    la0, la1 = min(lats) - pad, max(lats) + pad
    lo0, lo1 = min(lons) - pad, max(lons) + pad
    span = max(la1 - la0, lo1 - lo0)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (
            10 + (lon - lo0) / span * (width - 20),
            height - 10 - (lat - la0) / span * (height - 20),
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" '
        'fill="#f4f6f8" stroke="#999"/>'
    ]
    try:
        features = json.loads(DISTRICTS.read_text("utf-8"))["features"]
    except (OSError, ValueError, KeyError):
        features = []
    for f in features:
        ring = f.get("geometry", {}).get("coordinates", [[]])[0]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(lat, lon) for lon, lat in ring))
        out.append(f'<polygon points="{pts}" fill="none" stroke="#9aa7b4"/>')
        name = f.get("properties", {}).get("name", "")
        sx, sy = xy(f["properties"].get("seat_lat", 0), f["properties"].get("seat_lon", 0))
        if 0 < sx < width and 0 < sy < height:
            out.append(
                f'<text x="{sx:.1f}" y="{sy:.1f}" font-size="10" fill="#7a8794">'
                f"{escape(name)}</text>"
            )
    for i, (lat, lon, _label, _fn) in enumerate(points, start=1):
        x, y = xy(lat, lon)
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#e15759" stroke="#333"/>'
            f'<text x="{x + 7:.1f}" y="{y + 4:.1f}" font-size="11">{i}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _profiles(workspace: Any, charts: list[Any], notes: list[Any], cites: Citations) -> str:
    ids: dict[str, None] = {}
    for n in notes:
        if n.target_kind == "entity":
            ids.setdefault(n.target, None)
        for m in n.mentions:
            ids.setdefault(m, None)
    for c in charts:
        hidden = set(c.data.get("hidden", ()))
        for node in c.data.get("nodes", ()):
            if node["id"] not in hidden:
                ids.setdefault(node["id"], None)
    store = workspace.store
    out = ["<section><h2>Entity profiles</h2>"]
    for eid in list(ids)[:MAX_PROFILES]:
        e = store.get_entity(eid)
        if e is None:
            out.append(f"<h3>{escape(eid)}</h3><p class=meta>not in this workspace</p>")
            continue
        uids = store.entity_record_uids(eid)
        props = "; ".join(
            f"{escape(str(k))}: {escape(str(v))}" for k, v in list(e.props.items())[:12]
        )
        seen = " – ".join(
            local_time(t.timestamp() if t else None, workspace_tz(workspace))
            for t in (e.first_seen, e.last_seen)
        )
        evidence = "".join(cites.cite(u) for u in uids[:3])
        out.append(
            f"<h3>{escape(e.label or e.key)} <span class=meta>{escape(eid)}</span></h3>"
            f"<p>{escape(e.type)}; {len(uids)} records; seen {escape(seen)}{evidence}"
            f"</p>" + (f"<p class=meta>{props}</p>" if props else "")
        )
    if len(ids) > MAX_PROFILES:
        out.append(f"<p class=meta>{len(ids) - MAX_PROFILES} more entities not profiled.</p>")
    out.append("</section>")
    return "".join(out)


def _notes(workspace: Any, notes: list[Any], cites: Citations, tz: str) -> str:
    out = ["<section><h2>Notes</h2>"]
    if not notes:
        out.append("<p>No notes.</p>")
    for n in notes:
        target = f"{n.target_kind} {n.target}"
        is_record = n.target_kind in ("record", "timeline") and bool(
            workspace.store.get_records([n.target])
        )
        cite = cites.cite(n.target) if is_record else ""
        mentions = ", ".join(escape(m) for m in n.mentions)
        out.append(
            f'<div class="note"><div class="meta">{escape(n.author)} · '
            f"{escape(local_time(n.created_at, tz))} · on {escape(target)}{cite} · "
            f"note {escape(n.id)}</div><div class=text>{escape(n.text)}</div>"
            + (f"<div class=meta>links to: {mentions}</div>" if mentions else "")
            + "</div>"
        )
    out.append("</section>")
    return "".join(out)


def _face_leads(pins: list[Any], cites: Citations, tz: str) -> str:
    leads = [p for p in pins if p.kind == "face_lead"]
    out = [
        "<section><h2>Face leads</h2><p class=warn>A face match is a lead for a human to "
        "confirm, never an identification. Similarities are compared with a threshold "
        "calibrated on LFW; the false-match rate is the share of different-person pairs "
        "scoring at or above it.</p>"
    ]
    if not leads:
        out.append("<p>No face lead pinned.</p></section>")
        return "".join(out)
    out.append(
        "<table><tr><th>lead</th><th>similarity</th><th>threshold</th>"
        "<th>false-match rate</th><th>review</th><th>reviewer</th><th>pinned</th></tr>"
    )
    for p in leads:
        d = p.data
        fmr = d.get("threshold_fmr")
        score_fmr = d.get("score_fmr")
        fmr_text = f"{fmr:.4%} at threshold" if isinstance(fmr, int | float) else "—"
        if isinstance(score_fmr, int | float):
            fmr_text += f"; {score_fmr:.4%} at this score"
        out.append(
            f"<tr><td>{escape(p.title)}{cites.cite(d.get('record_uid'))}<br>"
            f"<span class=meta>{escape(p.ref)}</span></td>"
            f"<td>{d.get('similarity', 0):.4f}</td><td>{d.get('threshold', 0):.4f}</td>"
            f"<td>{escape(fmr_text)}</td><td>{escape(str(d.get('review', '—')))}</td>"
            f"<td>{escape(str(d.get('reviewer') or '—'))}</td>"
            f"<td>{escape(p.pinned_by)}, {escape(local_time(p.pinned_at, tz))}</td></tr>"
        )
    out.append("</table></section>")
    return "".join(out)


def _cooccur(p: Any) -> str:
    """A co-occurrence result: who moved with whom, how often, where and on how many days."""
    d = p.data
    pairs = [x for x in d.get("pairs", []) if isinstance(x, dict)]
    rows = "".join(
        f"<tr><td>{escape(str(x.get('a', '')))}</td><td>{escape(str(x.get('b', '')))}</td>"
        f"<td>{escape(str(x.get('count', '')))}</td><td>{escape(str(x.get('places', '')))}</td>"
        f"<td>{escape(str(x.get('days', '')))}</td></tr>"
        for x in pairs[:50]
    )
    more = f"<p class=meta>{len(pairs) - 50} more pairs not shown.</p>" if len(pairs) > 50 else ""
    window = (
        f" (seen within {escape(str(d['window_s']))} s of each other, at least "
        f"{escape(str(d.get('min_count', '?')))} meetings)"
        if "window_s" in d
        else ""
    )
    return (
        f"co-occurrence: {escape(p.title)}{window}<table><tr><th>entity</th>"
        "<th>moved with</th><th>meetings</th><th>places</th><th>days</th></tr>"
        f"{rows}</table>{more}"
    )


def _other_pins(pins: list[Any], cites: Citations, tz: str) -> str:
    others = [p for p in pins if p.kind != "face_lead"]
    out = ["<section><h2>Pinned evidence</h2>"]
    if not others:
        out.append("<p>Nothing else pinned.</p>")
    for p in others:
        who = f"pinned by {escape(p.pinned_by)}, {escape(local_time(p.pinned_at, tz))}"
        if p.kind == "record":
            body = f"{escape(p.title)}{cites.cite(p.ref)} <span class=meta>{escape(p.ref)}</span>"
        elif p.kind == "search":
            now = p.data.get("hits_now")
            body = (
                f"search <code>{escape(p.data.get('query', p.ref))}</code>: "
                f"{p.data.get('hits_at_pin')} hits when pinned"
                + (f", {now} now" if now is not None else "")
            )
        else:
            body = _cooccur(p)
        out.append(f"<p>{body}<br><span class=meta>{who}</span></p>")
    out.append("</section>")
    return "".join(out)
