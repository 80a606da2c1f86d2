"""Screenshots of every panel on a workspace, for docs/screenshots/ (and a visual check).

    python -m console.screenshots -w WORKSPACE -o docs/screenshots
    xvfb-run -a python -m console.screenshots -w WORKSPACE     # on a virtual X display

Drives the real panels (search, link chart on the planted convoy, map with tracks, faces with a
watchlist photo as probe, dispatch with a recommendation, alerts raised by the alert rules over
recent records) and saves ``widget.grab()`` images of the main window.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

log = logging.getLogger(__name__)

#: The planted convoy of the seed-7 demo (docs/DATA.md); any busy entity does otherwise.
CONVOY = ("浙F42633", "浙F50552", "浙F58471")

SHOTS = (
    "main-window",
    "link-chart",
    "map",
    "timeline",
    "dashboards",
    "evaluation",
    "faces",
    "dispatch-board",
    "board-mode",
    "alert-tray",
    "plugins",
    "light-theme",
)


def _wait(ms: int) -> None:
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _wait_until(predicate: Any, timeout_s: float = 120.0) -> bool:
    start = time.monotonic()
    while not predicate():
        _wait(50)
        if time.monotonic() - start > timeout_s:
            log.warning("screenshot step timed out")
            return False
    return True


def _idle() -> bool:
    from console.workers import running_jobs

    return running_jobs() == 0


def raise_rule_alerts(ctx: Any, limit: int = 3000) -> int:
    """Let the alert rules look at recent records (as an ingest would); returns alerts raised."""
    from console.opsview import OpsView
    from ops.alerts import AlertCenter

    ops = OpsView.open(ctx)
    if ops is None or not isinstance(ops.alerts, AlertCenter):  # the local engine's rules
        return 0
    raised = 0
    for source in ("checkpoint", "hotel", "ebike"):
        batch = []
        for record in ctx.workspace.store.iter_records(source):
            batch.append(record)
            if len(batch) >= limit:
                break
        if batch:
            raised += len(ops.alerts.evaluate(batch) or [])
    return raised


def grab_with_web_views(window: Any) -> Any:
    """What the window shows. On a real (or virtual X) display: the screen's pixels. Offscreen:
    ``window.grab()`` with the web views painted in (their surface is not part of the grab)."""
    from PyQt6.QtCore import QPoint
    from PyQt6.QtGui import QGuiApplication, QPainter

    from console.qtnone import present

    if QGuiApplication.platformName() not in ("offscreen", "minimal"):
        screen = window.screen() or QGuiApplication.primaryScreen()
        return present(screen, "screen").grabWindow(window.winId())
    pixmap = window.grab()
    try:
        from PyQt6.QtWebEngineWidgets import QWebEngineView
    except ImportError:
        return pixmap
    painter = QPainter(pixmap)
    for view in window.findChildren(QWebEngineView):
        if view.isVisible() and view.width() > 0:
            painter.drawPixmap(view.mapTo(window, QPoint(0, 0)), view.grab())
    painter.end()
    return pixmap


def pixelate_faces(window: Any, pixmap: Any, block: int = 12) -> Any:
    """Pixelate the probe photo and candidate thumbnails in a screenshot of the faces panel.

    The demo gallery holds LFW photos, which may be used here but not redistributed, and a
    screenshot committed to the repository is a redistribution.
    """
    from PyQt6.QtCore import QPoint, QRect, Qt
    from PyQt6.QtGui import QPainter

    faces = window.panels["faces"]
    rects = []
    if faces.probe.isVisible():
        rects.append(QRect(faces.probe.mapTo(window, QPoint(0, 0)), faces.probe.size()))
    view = faces.candidates
    for row in range(view.count()):
        item_rect = view.visualItemRect(view.item(row))
        top_left = view.viewport().mapTo(window, item_rect.topLeft())
        rects.append(
            QRect(top_left, item_rect.size()).intersected(
                QRect(view.viewport().mapTo(window, QPoint(0, 0)), view.viewport().size())
            )
        )
    ratio = pixmap.devicePixelRatio() or 1.0
    painter = QPainter(pixmap)
    for rect in rects:
        if rect.isEmpty():
            continue
        source = QRect(
            int(rect.x() * ratio),
            int(rect.y() * ratio),
            int(rect.width() * ratio),
            int(rect.height() * ratio),
        )
        region = pixmap.copy(source)
        small = region.scaled(
            max(1, region.width() // block),
            max(1, region.height() // block),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        painter.drawPixmap(
            rect,
            small.scaled(
                region.width(),
                region.height(),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.FastTransformation,
            ),
        )
    painter.end()
    return pixmap


def _zoom_to_streets(panel: Any, zoom: int = 14) -> None:
    """Zoom the map page to the city centre, where the tracks cross its named streets."""
    from console.map_panel import page_call
    from plugins.builtin.geo import SEATS

    if panel.view is not None and panel.loaded:
        lat, lon = SEATS["南湖区"]
        page_call(panel.view, "SB.map.setView", [lat + 0.004, lon - 0.004], zoom)
        _wait(1500)


def take(
    root: Path, out: Path, size: tuple[int, int] = (1600, 960), language: str = "en"
) -> list[Path]:
    """Open ``root`` in the console and save one PNG per panel into ``out``."""
    from console import qtinit

    qtinit.prepare()
    from console.app import create_application

    app = create_application()
    from PyQt6.QtCore import QSettings, Qt

    from console.i18n import install_translator

    install_translator(app, language)
    app._superbrain_language = language
    from console.app import use_cjk_font

    use_cjk_font(app, language)

    from console.context import ConsoleContext
    from console.mainwindow import MainWindow
    from console.navigation import Focus
    from core.workspace import Workspace

    out.mkdir(parents=True, exist_ok=True)
    ctx = ConsoleContext(Workspace.open(root))
    raise_rule_alerts(ctx)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "shots.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ctx, settings)
    window.resize(*size)
    window.show()
    _wait(3000)
    saved: list[Path] = []

    def shot(name: str) -> None:
        _wait_until(_idle)
        _wait(1500)
        path = out / f"{name}.png"
        pixmap = grab_with_web_views(window)
        if name == "faces":
            pixmap = pixelate_faces(window, pixmap)
        pixmap.save(str(path))
        saved.append(path)
        print(f"saved {path}")

    store = ctx.workspace.store
    search: Any = window.panels["search"]  # a plug-in panel (MainWindow: QWidget)
    search.run_query("入室盗窃")
    _wait_until(lambda: search.model.rowCount() > 0)
    search.table.selectRow(0)
    shot("main-window")

    convoy = [
        r[0]
        for r in store.connection.execute(
            "SELECT id FROM entities WHERE type='vehicle' AND key IN (?,?,?)", CONVOY
        )
    ]
    seeds = convoy or [
        store.connection.execute(
            "SELECT entity_id FROM record_entities GROUP BY entity_id ORDER BY count(*) DESC "
            "LIMIT 1"
        ).fetchone()[0]
    ]
    graph: Any = window.panels["graph"]
    window.apply_focus(Focus("graph", "entity", tuple(seeds)))
    _wait_until(_idle)
    graph.depth.setValue(2)
    graph.show_entities(seeds)
    _wait_until(_idle)
    graph.show_communities()
    _wait_until(_idle)
    graph.select(seeds[:1])
    shot("link-chart")

    window.apply_focus(Focus("map", "entity", tuple(seeds)))
    _wait_until(_idle)
    _wait_until(lambda: cast(Any, window.panels["map"]).loaded, 60)
    _wait(1000)
    cast(Any, window.panels["map"])._invalidate()
    _zoom_to_streets(window.panels["map"])
    shot("map")

    window.apply_focus(Focus("timeline", "entity", tuple(seeds)))
    shot("timeline")

    window.show_panel("dashboard")
    shot("dashboards")

    evaluation: Any = window.panels["evaluation"]
    window.show_panel("evaluation")
    _wait_until(lambda: evaluation.model.rowCount() > 0, 60)
    ids = [ind["id"] for ind in evaluation.model.indicators]
    if "response_p90" in ids:  # the trend of one district against all of them
        evaluation.table.setCurrentIndex(evaluation.model.index(ids.index("response_p90"), 5))
    shot("evaluation")

    faces: Any = window.panels["faces"]
    photo = store.connection.execute(
        "SELECT json_extract(attachments, '$.photo') FROM records WHERE source='watchlist' "
        "AND json_extract(attachments, '$.photo') IS NOT NULL LIMIT 1"
    ).fetchone()
    window.show_panel("faces")
    if photo and getattr(faces, "available", False):
        probe = Path(photo[0])
        others = sorted(p for p in probe.parent.glob("*.jpg") if p != probe)
        faces.load_file(others[0] if others else probe)
        _wait_until(_idle)
        faces.case.setText("2026-JX-0117")
        faces.purpose.setText("identify the suspect seen at the 入室盗窃 scene")
        faces.search()
        _wait_until(_idle)
        faces.candidates.setCurrentRow(0)
    shot("faces")

    dispatch: Any = window.panels["dispatch"]
    window.show_panel("dispatch")
    if hasattr(dispatch, "queue"):
        _wait_until(lambda: dispatch.queue_model.rowCount() > 0, 60)
        dispatch.select_incident(dispatch.queue_model.incident_id(0))
        dispatch.recommend_selected()
        _wait_until(_idle)
    shot("dispatch-board")
    window.toggle_board_mode(True)  # the commander's full-screen board
    window.setGeometry(0, 0, 1600, 1000)
    _wait(1000)
    shot("board-mode")
    window.toggle_board_mode(False)
    window.resize(*size)

    tray: Any = window.panels["alerts"]
    window.show_panel("alerts")
    window.resizeDocks([window.docks["alerts"]], [420], Qt.Orientation.Vertical)
    if hasattr(tray, "table") and tray.model.alerts:
        tray.table.selectRow(0)
    shot("alert-tray")

    window.show_panel("plugins")
    shot("plugins")

    window.toggle_theme()
    window.show_panel("graph")
    shot("light-theme")
    window.toggle_theme()
    window.close()
    from console import offload

    offload.shutdown()  # the graph helper process
    ctx.close()
    del app
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="save screenshots of every console panel")
    parser.add_argument("-w", "--workspace", type=Path, required=True)
    parser.add_argument("-o", "--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--language", default="en", help="UI language (en, zh_CN)")
    args = parser.parse_args(argv)
    os.environ.setdefault(
        "QT_QPA_PLATFORM",
        "offscreen" if not os.environ.get("DISPLAY") else os.environ.get("QT_QPA_PLATFORM", "xcb"),
    )
    take(args.workspace, args.out, language=args.language)
    return 0


if __name__ == "__main__":
    sys.exit(main())
