"""Dashboards (pyqtgraph): counts by category over time, year-over-year change per indicator,
top places, and the operations engine's hotspot change by district.

Numbers come from :mod:`console.analytics` (read-only store aggregations) and
``ops.OpsService.hotspots`` (period against the previous period); the widget only draws them.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console import analytics
from console.bus import Bus
from console.chart_model import COMMUNITY_COLOURS
from console.context import ConsoleContext
from console.i18n import fill
from console.labels import data_label
from console.opsview import OpsView
from console.theme import DARK, Theme
from console.workers import Job

log = logging.getLogger(__name__)


def collect(ctx: ConsoleContext, field: str) -> dict[str, Any]:
    """Every dashboard number for category field ``field`` (blocking: call from a worker)."""
    store = ctx.workspace.store
    series = analytics.counts_over_time(store, field, by="month", zone=ZoneInfo(ctx.time_zone))
    out: dict[str, Any] = {
        "field": field,
        "series": series,
        "yoy": analytics.year_over_year(store, field, days=30),
        "places": analytics.top_values(store, "district", 10),
        "sources": analytics.record_counts(store),
        "hotspots": None,
        "hotspots_error": "",
    }
    ops = OpsView.open(ctx)
    if ops is None:
        out["hotspots_error"] = "operations engine not available"
    else:
        try:
            out["hotspots"] = ops.hotspot_cells(days=14)
        except Exception as exc:  # the other charts still show
            out["hotspots_error"] = str(exc)
    return out


def _bars(
    plot: pg.PlotWidget,
    labels: list[str],
    values: list[float],
    colours: list[str],
    *,
    horizontal: bool = False,
) -> None:
    plot.clear()
    if not values:
        return
    x = np.arange(len(values))
    brushes = [pg.mkBrush(c) for c in colours]
    if horizontal:
        item = pg.BarGraphItem(x0=0, y=x, height=0.7, width=values, brushes=brushes)
        plot.getAxis("left").setTicks([[(i, t[:12]) for i, t in enumerate(labels)]])
    else:
        item = pg.BarGraphItem(x=x, height=values, width=0.7, brushes=brushes)
        plot.getAxis("bottom").setTicks([[(i, t[:8]) for i, t in enumerate(labels)]])
    plot.addItem(item)
    plot.autoRange()


class DashboardPanel(QWidget):
    """Four charts over the whole workspace."""

    title = "Dashboards"

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.data: dict[str, Any] | None = None
        self.theme: Theme = DARK
        self.field = QComboBox()
        self.field.setProperty("data", True)  # the workspace's field names: data
        self.field.addItem("category")
        self.field.activated.connect(lambda _i: self.refresh())
        refresh = QPushButton(self.tr("Refresh"))
        refresh.clicked.connect(self.refresh)
        self.summary = data_label("")
        self.summary.setProperty("role", "muted")
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("indicator field")))
        top.addWidget(self.field)
        top.addWidget(self.summary, 1)
        top.addWidget(refresh)
        self.trend = pg.PlotWidget(
            title=self.tr("records per month by category"),
            axisItems={"bottom": pg.AxisItem("bottom")},
        )
        self.trend.addLegend(offset=(10, 5), labelTextSize="8pt")
        self.yoy = pg.PlotWidget(title=self.tr("last 30 days vs a year before (%)"))
        self.places = pg.PlotWidget(title=self.tr("top places (records by district)"))
        self.hot = pg.PlotWidget(
            title=self.tr("hotspots: incidents by district, 14 days vs the 14 before")
        )
        self.yoy_note = data_label("")
        self.yoy_note.setProperty("role", "muted")
        self.yoy_note.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(self.trend, 0, 0)
        yoy_box = QVBoxLayout()
        yoy_box.addWidget(self.yoy, 1)
        yoy_box.addWidget(self.yoy_note)
        grid.addLayout(yoy_box, 0, 1)
        grid.addWidget(self.places, 1, 0)
        grid.addWidget(self.hot, 1, 1)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        self.assess = data_label("")  # mediation success by district and mediator, ratings
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        layout.addWidget(self.assess)
        for plot in self._plots():
            plot.setMenuEnabled(False)
            plot.showGrid(x=False, y=True, alpha=0.15)
        bus.data_changed.connect(self.refresh)
        self.apply_theme(DARK)
        self._fields_loaded = False
        self.refresh()

    def _plots(self) -> tuple[pg.PlotWidget, ...]:
        return (self.trend, self.yoy, self.places, self.hot)

    def refresh(self) -> Job:
        field = self.field.currentText() or "category"
        store = self.ctx.workspace.store

        def work(_p: Any, _c: Any) -> dict[str, Any]:
            data = collect(self.ctx, field)
            data["fields"] = analytics.keyword_fields(store)
            return data

        def assess(_p: Any, _c: Any) -> str:  # a service: also on a centre's client console
            return analytics.assessment_summary(dict(self.ctx.engines.ops_metrics()))

        assessing = Job(assess, "assessment")
        assessing.result.connect(self.assess.setText)
        assessing.error.connect(lambda msg: self.assess.setText(f"assessment: {msg}"))
        assessing.start()
        job = Job(work, "dashboards")
        job.result.connect(self._show)
        job.error.connect(lambda msg: self.summary.setText(f"⚠ {msg}"))
        return job.start()

    def _show(self, data: dict[str, Any]) -> None:
        self.data = data
        if not self._fields_loaded and data["fields"]:
            current = self.field.currentText()
            self.field.clear()
            self.field.addItems(data["fields"])
            self.field.setCurrentText(current if current in data["fields"] else "category")
            self._fields_loaded = True
        total = sum(data["sources"].values())
        self.summary.setText(
            fill(
                self.tr("{n} records in {sources} sources"),
                n=f"{total:,}",
                sources=len(data["sources"]),
            )
        )
        series = data["series"]
        self.trend.clear()
        x = np.arange(len(series.periods))
        for i, (name, counts) in enumerate(series.counts.items()):
            colour = COMMUNITY_COLOURS[i % len(COMMUNITY_COLOURS)]
            self.trend.plot(
                x,
                counts,
                pen=pg.mkPen(colour, width=2),
                name=name,
                symbol="o",
                symbolSize=4,
                symbolBrush=colour,
            )
        step = max(1, len(series.periods) // 5)
        self.trend.getAxis("bottom").setTicks(
            [[(i, p) for i, p in enumerate(series.periods) if i % step == 0]]
        )
        changes = data["yoy"]
        known = [c for c in changes if c.percent is not None]
        _bars(
            self.yoy,
            [c.indicator for c in known],
            [c.percent or 0.0 for c in known],
            ["#e5534b" if (c.percent or 0) > 0 else "#3fb950" for c in known],
        )
        missing = [c.indicator for c in changes if c.percent is None]
        self.yoy_note.setText(
            "no records a year before for: " + ", ".join(missing[:8]) if missing else ""
        )
        places = data["places"]
        _bars(
            self.places,
            [p for p, _ in places][::-1],
            [n for _, n in places][::-1],
            [self.theme.accent] * len(places),
            horizontal=True,
        )
        hot = data["hotspots"]
        if hot is None:
            self.hot.clear()
            self.hot.setTitle(f"hotspots: {data['hotspots_error']}")
        else:
            districts = hot.get("districts", [])[:10]
            labels = [d["district"] for d in districts]
            self.hot.clear()
            x = np.arange(len(districts))
            self.hot.addItem(
                pg.BarGraphItem(
                    x=x - 0.18,
                    height=[d["previous"] for d in districts],
                    width=0.34,
                    brush=pg.mkBrush(self.theme.muted),
                )
            )
            self.hot.addItem(
                pg.BarGraphItem(
                    x=x + 0.18,
                    height=[d["count"] for d in districts],
                    width=0.34,
                    brush=pg.mkBrush("#f0883e"),
                )
            )
            self.hot.getAxis("bottom").setTicks([[(i, t[:6]) for i, t in enumerate(labels)]])
            self.hot.autoRange()

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for plot in self._plots():
            plot.setBackground(QColor(theme.base))
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(theme.muted)
                plot.getAxis(axis).setPen(theme.border)
        if self.data is not None:
            self._show(self.data)
