"""The open case's notes as the map page draws them (``sbNotes`` in
``console/web/superbrain-notes.js``). No Qt here.

The points come from the ``cases.note_places`` service (checked and audited there); this only
picks what the page shows and formats each note's time in the workspace's time zone. The page
sets every text as text, never as HTML, and :func:`console.mapgen.page_json` makes the data
safe inside the page's script.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: Characters of a note's text shown in its popup (the Cases dock shows it whole).
MAX_TEXT = 2000


def note_markers(points: list[dict[str, Any]], tz: str) -> list[dict[str, Any]]:
    """``cases.note_places`` dicts as page markers: ``id``, ``lat``, ``lon``, ``author``,
    ``when`` (``YYYY-MM-DD HH:MM Zone/Name``), ``text``, ``target_kind``, ``target`` and
    ``placed_by``."""
    from cases.model import local_time

    out = []
    for p in points:
        text = str(p.get("text", ""))
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT] + " …"
        created = p.get("created_at")
        when = local_time(datetime.fromisoformat(created).timestamp(), tz) if created else "—"
        out.append(
            {
                "id": str(p["id"]),
                "lat": float(p["lat"]),
                "lon": float(p["lon"]),
                "author": str(p.get("author", "")),
                "when": when,
                "text": text,
                "target_kind": str(p.get("target_kind", "")),
                "target": str(p.get("target", "")),
                "placed_by": str(p.get("placed_by", "place")),
            }
        )
    return out
