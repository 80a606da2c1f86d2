"""Timeline and time-wheel of the selected entities (pyqtgraph).

Events come from the graph engine (``graph.timeline.timeline``: every record about an entity,
merged aliases included) and the day × hour matrix from ``graph.timeline.day_hour_matrix``.
The top plot has one lane per entity (click a point to open its record); the bottom one is the
time-wheel: weekday × hour counts, China Standard Time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from console.analytics import dense_span
from console.bus import Bus
from console.chart_model import COMMUNITY_COLOURS, chart_label
from console.context import ConsoleContext
from console.i18n import fill
from console.labels import data_label
from console.navigation import Focus
from console.notice import Notice, engine_unavailable_text
from console.theme import DARK, Theme
from console.workers import Job

log = logging.getLogger(__name__)

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_ENTITIES = 8


def _seconds_west(zone: str) -> int:
    """pyqtgraph's ``utcOffset`` of a zone (seconds west of UTC), as the zone is now."""
    offset = datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset()
    return -int(offset.total_seconds()) if offset is not None else 0


class TimelinePanel(QWidget):
    """Timeline lanes and the day × hour heat matrix for up to eight entities."""

    title = "Timeline"

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.entities: list[str] = []
        self.events: dict[str, list[Any]] = {}
        self.matrix: list[list[int]] = []
        self.theme: Theme = DARK
        layout = QVBoxLayout(self)
        reason = ctx.engines.graph_timeline.unavailable()
        self.available = not reason
        if not self.available:
            layout.addWidget(Notice(engine_unavailable_text("graph", reason)))
            return
        self.box = QLineEdit()
        self.box.setPlaceholderText(
            self.tr("entity ids (comma separated), or select nodes in the link chart")
        )
        self.box.returnPressed.connect(self._typed)
        follow = QPushButton(self.tr("Use chart selection"))
        follow.clicked.connect(self._use_selection)
        top = QHBoxLayout()
        top.addWidget(self.box, 1)
        top.addWidget(follow)
        self.summary = data_label("")
        self.summary.setProperty("role", "muted")
        self.lanes = pg.PlotWidget(
            axisItems={"bottom": pg.DateAxisItem(utcOffset=_seconds_west(ctx.time_zone))}
        )  # the axis in the workspace's zone
        self.lanes.setMenuEnabled(False)
        self.lanes.showGrid(x=True, y=False, alpha=0.2)
        self.points = pg.ScatterPlotItem(size=9, hoverable=True)
        self.points.sigClicked.connect(self._clicked)
        self.lanes.addItem(self.points)
        self.wheel = pg.PlotWidget()
        self.wheel.setMenuEnabled(False)
        self.wheel.setMouseEnabled(False, False)
        self.heat = pg.ImageItem()
        self.wheel.addItem(self.heat)
        self.wheel.getAxis("left").setTicks([[(i + 0.5, d) for i, d in enumerate(DAYS)]])
        self.wheel.getAxis("bottom").setTicks([[(h + 0.5, str(h)) for h in range(0, 24, 2)]])
        self.wheel.invertY(True)
        self.wheel.setTitle(self.tr("time-wheel: records by weekday × hour (local time)"))
        self._selection: list[str] = []
        bus.entities_selected.connect(self._remember_selection)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.lanes, 3)
        layout.addWidget(self.wheel, 2)
        self.apply_theme(DARK)

    # -- subjects -----------------------------------------------------------------------------
    def _typed(self) -> None:
        ids = [t.strip() for t in self.box.text().split(",") if t.strip()]
        if ids:
            self.show_entities(ids)

    def _remember_selection(self, ids: list[str], _origin: str) -> None:
        self._selection = list(ids)
        if self.isVisible() and ids:
            self.show_entities(ids)

    def _use_selection(self) -> None:
        if self._selection:
            self.show_entities(self._selection)

    def show_focus(self, focus: Focus) -> None:
        if focus.kind == "entity":
            self.show_entities(list(focus.ids))
        elif focus.kind == "record":
            record = self.ctx.workspace.store.get_record(focus.ids[0])
            if record is not None:
                self.show_entities([e.id for e in record.entities])

    def show_entities(self, ids: list[str]) -> Job | None:
        """Load the timelines of ``ids`` (first eight) in a worker."""
        if not self.available:
            return None
        ids = list(dict.fromkeys(ids))[:MAX_ENTITIES]
        self.box.setText(", ".join(ids))
        from graph.timeline import day_hour_matrix as matrix_of

        def work(_p: Any, _c: Any) -> tuple[dict[str, list[Any]], list[list[int]]]:
            # each timeline through the graph.timeline service: checked and audited
            events = {
                eid: self.ctx.engines.graph_timeline(entity=eid, limit=5000)["events"]
                for eid in ids
            }
            every = [e for evs in events.values() for e in evs]
            return events, matrix_of(every, ZoneInfo(self.ctx.time_zone))

        job = Job(work, "timeline")
        job.result.connect(lambda value: self._show(ids, *value))
        job.error.connect(lambda msg: self.summary.setText(f"⚠ {msg}"))
        self.summary.setText("loading …")
        return job.start()

    # -- drawing ------------------------------------------------------------------------------
    def _show_span(self, times: list[float]) -> tuple[float, float, int, int]:
        span = dense_span(times)
        self.span = span
        return span

    def _show(self, ids: list[str], events: dict[str, list[Any]], matrix: list[list[int]]) -> None:
        self.entities, self.events, self.matrix = ids, events, matrix
        noted = self.noted_records() if self.noted_records is not None else set()
        spots = []
        times = [ev.time for evs in events.values() for ev in evs if ev.time is not None]
        lo, hi, early, late = self._show_span(times)
        for lane, eid in enumerate(ids):
            colour = COMMUNITY_COLOURS[lane % len(COMMUNITY_COLOURS)]
            for ev in events.get(eid, []):
                if ev.time is None:
                    continue
                # an outlier (one 2001 record among 2026's) is drawn at the edge, as a triangle
                # pointing the way it lies, instead of squashing the dense span to a line
                x, symbol = ev.time, "o"
                if ev.time < lo:
                    x, symbol = lo, "t3"
                elif ev.time > hi:
                    x, symbol = hi, "t2"
                mark = ev.record_uid in noted  # a case note on it: a ringed star
                if mark and symbol == "o":
                    symbol = "star"
                spots.append(
                    {
                        "pos": (x, lane),
                        "data": ev.record_uid,
                        "brush": pg.mkBrush(colour),
                        "pen": pg.mkPen("#e15759", width=2) if mark else pg.mkPen(None),
                        "symbol": symbol,
                        "size": 9 if symbol == "o" else 13,
                    }
                )
        self.points.setData(spots)
        labels = []
        for lane, eid in enumerate(ids):
            node = self.ctx.workspace.store.get_entity(eid)
            labels.append((lane, chart_label(eid, node.label if node else None, limit=18)))
        self.lanes.getAxis("left").setTicks([labels])
        self.lanes.setYRange(-0.8, max(0.8, len(ids) - 0.2))
        if spots:
            pad = max(60.0, (hi - lo) * 0.03)
            self.lanes.setXRange(lo - pad, hi + pad, padding=0)
        arr = np.asarray(matrix, dtype=float).T  # x = hour, y = weekday
        self.heat.setImage(arr, autoLevels=True)
        self.heat.setRect(0, 0, 24, 7)
        self.heat.setColorMap(pg.colormap.get("inferno"))
        total = sum(len(v) for v in events.values())
        summary = fill(
            self.tr("{n} records about {entities} entities; click a point to open its record"),
            n=f"{total:,}",
            entities=len(ids),
        )
        if early or late:
            summary += " · " + fill(
                self.tr(
                    "{early} earlier and {late} later records lie far "
                    "outside and are drawn at the edges (▶ ◀)"
                ),
                early=early,
                late=late,
            )
        self.summary.setText(summary)

    #: Record uids with case notes (set by the main window from the Cases panel).
    noted_records: Any = None

    def _clicked(self, _item: Any, points: Any, _ev: Any = None) -> None:
        if len(points):
            self.bus.open_record.emit(points[0].data())

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        if not self.available:
            return
        for plot in (self.lanes, self.wheel):
            plot.setBackground(QColor(theme.base))
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(theme.muted)
                plot.getAxis(axis).setPen(theme.border)
        self.lanes.getPlotItem().setContentsMargins(4, 4, 4, 4)
        self.wheel.setAspectLocked(False)
