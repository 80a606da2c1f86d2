"""Screenshots of a case for docs/CASES.md: the console with the Cases dock, and a dossier page.

    python -m console.case_screenshots -w WORKSPACE -o docs/screenshots

On a demo workspace: opens the demo case (2026-JX-0117), charts the planted convoy, saves the
chart in the case, adds notes and pins, grabs the window (``case.png``), shows the Map view on
the convoy's track with the case's notes (a place note added as a right-click would, the
vehicle's note at its latest position, one popup open: ``map-notes.png``), then writes the
dossier PDF and renders its chart page with ``pdftoppm`` (poppler-utils) as ``dossier.png``.
Run it under ``xvfb-run -a`` for the map (offscreen, the web view is painted in).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CASE = "2026-JX-0117"


def take(root: Path, out: Path) -> list[Path]:
    """Write ``case.png`` and ``dossier.png`` into ``out``; returns the files written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from console.app import create_application
    from console.context import ConsoleContext
    from console.mainwindow import MainWindow
    from console.screenshots import CONVOY, _idle, _wait, _wait_until
    from core.workspace import Workspace

    app = create_application()
    ctx = ConsoleContext(Workspace.open(root))
    from PyQt6.QtCore import QSettings

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ctx, settings)
    window.resize(1600, 960)
    window.show()
    _wait(300)
    cases: Any = window.panels["cases"]  # plug-in panels (MainWindow: QWidget)
    graph: Any = window.panels["graph"]
    cases.refresh_cases()
    cases.choose_case(CASE)
    plate = f"vehicle:{CONVOY[0]}"
    if ctx.workspace.store.get_entity(plate) is None:
        plate = ctx.workspace.store.connection.execute(
            "SELECT source FROM links GROUP BY source ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    window.show_panel("graph")
    graph.show_entities([plate])
    _wait_until(lambda: graph.model.graph is not None and _idle())
    _wait(500)
    ids = list(graph.model.graph.nodes)
    members = [f"vehicle:{p}" for p in CONVOY if f"vehicle:{p}" in graph.model.graph.nodes]
    if members:
        graph.model.groups.append(
            {"name": "同行车辆 convoy", "members": members, "colour": "#e15759"}
        )
    session = cases.session
    charts = session.engines.cases_charts(case=CASE)
    if charts:
        session.open(charts[0]["id"])
        session.save(graph.model.to_dict())
    else:
        session.save(graph.model.to_dict(), "同行车辆 convoy")
    record = ctx.workspace.store.entity_record_uids(plate)[:2]
    notes = [
        ("entity", plate, f"嫌疑车辆，三次与 @{ids[1]} 同行" if len(ids) > 1 else "嫌疑车辆"),
        ("case", "", "下一步：调取南湖区卡口 3 月录像 (next: pull checkpoint video)"),
    ]
    if record:
        notes.append(("record", record[0], "案发当晚经过卡口 — passes the checkpoint that night"))
    existing = {n["text"] for n in session.engines.cases_notes(case=CASE)}
    for kind, target, text in notes:
        if text not in existing:
            session.engines.cases_note_add(case=CASE, target_kind=kind, target=target, text=text)
    pinned = {p["ref"] for p in session.engines.cases_pins(case=CASE)}
    for uid in record:
        if uid not in pinned:
            session.engines.cases_pin(case=CASE, kind="record", ref=uid)
    cases.refresh_contents()
    window.docks["cases"].show()
    window.docks["cases"].raise_()
    graph.redraw(fit=True)
    _wait_until(lambda: not graph.drawing)
    _wait(800)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    case_png = out / "case.png"
    window.grab().save(str(case_png), "PNG")
    written.append(case_png)
    written.append(map_notes_shot(window, ctx, plate, out))
    pdf = Path(tempfile.mkdtemp()) / "dossier.pdf"
    session.engines.cases_dossier(case=CASE, path=str(pdf))
    if shutil.which("pdftoppm"):
        stem = pdf.with_suffix("")
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "2", "-l", "2", str(pdf), str(stem)], check=True
        )
        page = next(pdf.parent.glob("dossier-*2.png"))
        shutil.copyfile(page, out / "dossier.png")
        written.append(out / "dossier.png")
    else:
        log.warning("pdftoppm (poppler-utils) is not installed: no dossier.png")
    window.close()
    ctx.close()
    app.processEvents()
    return written


def map_notes_shot(window: Any, ctx: Any, plate: str, out: Path) -> Path:
    """The Map view on ``plate``'s track with the case's notes, a place note's popup open."""
    from console.analytics import entity_track
    from console.map_panel import page_call
    from console.navigation import Focus
    from console.screenshots import _idle, _wait, _wait_until, grab_with_web_views

    cases, map_panel = window.panels["cases"], window.panels["map"]
    track = entity_track(ctx.workspace.store, plate)
    text = "两车在此会合后分头离开 — the convoy split here (see @" + plate + ")"
    place = None
    for n in cases.session.engines.cases_notes(case=CASE, target_kind="place"):
        if n["text"] == text:
            place = n
    if place is None and track:
        # beside the track, clear of the vehicle's own notes (at its first and last records)
        lat, lon = track[len(track) // 2][0] + 0.02, track[len(track) // 2][1] - 0.03
        place = cases.add_place_note(lat, lon, text)  # what a right-click on the map does
    window.apply_focus(Focus("map", "entity", (plate,)))
    _wait_until(_idle)
    _wait_until(lambda: map_panel.loaded, 60)
    _wait(1500)
    map_panel._invalidate()
    _wait(800)
    if place is not None:
        page_call(map_panel.view, "sbNoteOpen", place["id"])
    _wait(800)
    path = out / "map-notes.png"
    grab_with_web_views(window).save(str(path), "PNG")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-w", "--workspace", type=Path, required=True)
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    for path in take(args.workspace, args.output):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
