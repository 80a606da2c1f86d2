"""What leaves the workspace: the dossier (PDF or HTML), a chart picture, and the hand-over file.

Each is a service that needs the ``export`` permission *and* membership of the case, and whose
audit entry names the file written and its SHA-256 (``audit_detail(file=..., sha256=...)``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cases.access import case_for
from cases.chart import chart_svg
from cases.db import load_chart
from cases.errors import CaseInvalidError
from cases.model import check_number, local_time, workspace_tz
from cases.render import sha256_file, write_html, write_pdf
from cases.service import ServiceContext, _con, audit_detail, service

DOSSIER_FORMATS = ("pdf", "html")


def _output(path: str | Path, suffixes: tuple[str, ...]) -> Path:
    out = Path(path).expanduser()
    if out.suffix.lower() not in suffixes:
        raise CaseInvalidError(f"{str(out)!r}: the file name must end in {' or '.join(suffixes)}")
    if out.is_dir():
        raise CaseInvalidError(f"{str(out)!r} is a folder; give a file name")
    if not out.parent.is_dir():
        raise CaseInvalidError(f"{str(out.parent)!r}: no such folder")
    return out


@service("cases.dossier", permission="export")
def dossier(
    ctx: ServiceContext, *, case: str, path: str, chart_ids: list[str] | None = None
) -> dict[str, Any]:
    """Write the case's dossier to ``path`` (``.pdf`` or ``.html``): title page, charts with
    legends, timeline, map, entity profiles, notes, face leads and pinned evidence, every fact
    footnoted to its source record. Returns the file, its SHA-256 and size."""
    from cases import dossier as builder

    number = check_number(case)
    out = _output(path, (".pdf", ".html", ".htm"))
    case_for(_con(ctx), number, ctx.session.user, "read")
    html = builder.build(ctx.workspace, number, author=ctx.session.user, chart_ids=chart_ids)
    if out.suffix.lower() == ".pdf":
        write_pdf(html, out)
    else:
        write_html(html, out)
    return _written(out)


def _written(out: Path) -> dict[str, Any]:
    digest = sha256_file(out)
    size = out.stat().st_size
    audit_detail(file=str(out.resolve()), sha256=digest, bytes=size)
    return {"file": str(out.resolve()), "sha256": digest, "bytes": size}


@service("cases.chart_image", permission="export")
def chart_image(ctx: ServiceContext, *, case: str, chart_id: str, path: str) -> dict[str, Any]:
    """Write a saved chart as an SVG picture carrying its title, the case number, the legend,
    the date and the classification."""
    number = check_number(case)
    out = _output(path, (".svg",))
    con = _con(ctx)
    found = case_for(con, number, ctx.session.user, "read")
    chart = load_chart(con, number, chart_id)
    noted = {
        r[0]
        for r in con.execute(
            "SELECT target FROM case_notes WHERE case_number=? AND target_kind='entity'", (number,)
        )
    }
    svg = chart_svg(
        chart.data,
        title=f"{found.title} — {chart.name}",
        case=number,
        classification=found.classification,
        date_text=local_time(time.time(), workspace_tz(ctx.workspace)),
        noted=noted,
    )
    write_html(svg, out)
    return _written(out)
