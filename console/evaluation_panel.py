"""The evaluation dashboard (issue #15): the indicators of ``evaluation.toml`` × districts for a
chosen month, each with its year-on-year arrow coloured by whether the change is better or
worse, and a 13-month trend of the selected indicator (all districts and the selected one).

Numbers come from the ``ops.evaluate`` service (permission-checked and audited there, also on a
centre's client console); :class:`EvaluationModel` turns them into table cells and is tested
without a window; the widget only draws.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.context import ConsoleContext
from console.i18n import current_language, fill
from console.labels import data_label, plain_tooltip
from console.theme import DARK, Theme
from console.workers import Job
from ops.evaluation import shift_month

log = logging.getLogger(__name__)

TREND_MONTHS = 13
#: How many months back the month picker offers (from the newest complete month).
PICKER_MONTHS = 36
BETTER, WORSE = "#3fb950", "#e5534b"
#: The most pixels the indicator column takes at first (the user can widen it).
LABEL_WIDTH = 220


def number(value: float | None) -> str:
    """A value to about three significant digits (2 decimals below 10, 1 below 100, none
    above), with thousands separators; "–" for no value."""
    if value is None:
        return "–"
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def change_text(cell: dict[str, Any]) -> str:
    """The year-on-year arrow: ``▲3.7%`` / ``▼12%`` / ``=0.0%``; empty without a year
    before (relative change; the absolute one when the year before was 0)."""
    delta = cell.get("yoy_delta")
    if delta is None:
        return ""
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
    pct = cell.get("yoy_pct")
    if pct is None:
        return f"{arrow}{number(abs(delta))}"
    return f"{arrow}{abs(pct):.1f}%" if abs(pct) < 10 else f"{arrow}{abs(pct):,.0f}%"


class EvaluationModel(QAbstractTableModel):
    """Indicators (rows) × districts then all districts (columns) of one ``ops.evaluate``
    result. Column 0 names the indicator and its unit in the UI language."""

    def __init__(self) -> None:
        super().__init__()
        self.data_: dict[str, Any] = {"indicators": [], "districts": []}
        self.zh = False

    def load(self, data: dict[str, Any], *, zh: bool) -> None:
        self.beginResetModel()
        self.data_ = data
        self.zh = zh
        self.endResetModel()

    @property
    def indicators(self) -> list[dict[str, Any]]:
        return list(self.data_.get("indicators", []))

    @property
    def districts(self) -> list[str]:
        return list(self.data_.get("districts", []))

    def label(self, ind: dict[str, Any]) -> str:
        return str(ind["label_zh"] if self.zh else ind["label"])

    def unit(self, ind: dict[str, Any]) -> str:
        return str(ind.get("unit_zh") or ind["unit"]) if self.zh else str(ind["unit"])

    def district_title(self, district: str) -> str:
        return self.tr("All districts") if district == "all" else district

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return len(self.indicators)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 1 + len(self.districts) if self.indicators else 0

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if section == 0:
            return self.tr("Indicator")
        return self.district_title(self.districts[section - 1])

    def cell(self, row: int, column: int) -> dict[str, Any] | None:
        """The service's cell (value, n, previous, yoy_delta, yoy_pct, better) or None."""
        if column == 0:
            return None
        return dict(self.indicators[row]["cells"][self.districts[column - 1]])

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        ind = self.indicators[index.row()]
        cell = self.cell(index.row(), index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if cell is None:
                return f"{self.label(ind)} ({self.unit(ind)})"
            change = change_text(cell)
            return number(cell["value"]) + (f" {change}" if change else "")
        if role == Qt.ItemDataRole.ForegroundRole and cell is not None:
            better = cell.get("better")
            return None if better is None else QColor(BETTER if better else WORSE)
        if role == Qt.ItemDataRole.TextAlignmentRole and cell is not None:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(self.tooltip(index.row(), index.column()))
        return None

    def tooltip(self, row: int, column: int) -> str:
        ind = self.indicators[row]
        better = (
            self.tr("higher is better")
            if ind["direction"] == "higher"
            else self.tr("lower is better")
        )
        cell = self.cell(row, column)
        if cell is None:
            return f"{self.label(ind)} — {better}"
        verdict = {True: self.tr("better"), False: self.tr("worse"), None: ""}[cell.get("better")]
        return fill(
            self.tr(
                "{value} {unit}; a year before: {previous} {unit}; change {change} "
                "{verdict}; sample {n}"
            ),
            value=number(cell["value"]),
            unit=self.unit(ind),
            previous=number(cell.get("previous")),
            change=number(cell.get("yoy_delta")),
            verdict=verdict,
            n=cell["n"],
        )


class EvaluationPanel(QWidget):
    """The indicator table for a month and the trend of the selected indicator."""

    title = "Evaluation"

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.theme: Theme = DARK
        self.data: dict[str, Any] | None = None
        self.month = QComboBox()
        self.month.setProperty("data", True)  # months (YYYY-MM) are data
        self.month.activated.connect(lambda _i: self.refresh(self.month.currentText()))
        refresh = QPushButton(self.tr("Refresh"))
        refresh.clicked.connect(lambda: self.refresh(self.month.currentText() or None))
        self.summary = data_label("")
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Month")))
        top.addWidget(self.month)
        top.addWidget(self.summary, 1)
        top.addWidget(refresh)
        self.model = EvaluationModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)  # one line per indicator: all twelve fit above the trend
        rows, header = self.table.verticalHeader(), self.table.horizontalHeader()
        selection = self.table.selectionModel()
        assert rows is not None and header is not None and selection is not None  # set above
        self.header: QHeaderView = header
        rows.setVisible(False)
        self.header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.header.setMinimumSectionSize(60)
        selection.currentChanged.connect(lambda *_: self._draw_trend())
        self.trend = pg.PlotWidget()
        self.trend.setMenuEnabled(False)
        self.trend.showGrid(x=False, y=True, alpha=0.15)
        self.trend.addLegend(offset=(10, 5), labelTextSize="8pt")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.trend)
        split.setSizes([640, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.apply_theme(DARK)
        self.refresh()

    def refresh(self, month: str | None = None) -> Job:
        """Compute the indicators for ``month`` (default: the newest complete month) in a
        worker; the table and trend follow when it is done."""

        def work(_p: Any, _c: Any) -> dict[str, Any]:
            return dict(self.ctx.engines.ops_evaluate(month=month, months=TREND_MONTHS))

        self.summary.setText(self.tr("computing the indicators …"))
        job = Job(work, "evaluation")
        job.result.connect(self.show_data)
        job.error.connect(lambda msg: self.summary.setText(f"⚠ {msg}"))
        return job.start()

    def show_data(self, data: dict[str, Any]) -> None:
        """Show one ``ops.evaluate`` result (keeps the selected cell when it still exists)."""
        current = self.table.currentIndex()
        row, column = (current.row(), current.column()) if current.isValid() else (0, -1)
        self.data = data
        self.model.load(data, zh=current_language().startswith("zh"))
        if self.month.count() == 0:
            self.month.addItems([shift_month(data["month"], -k) for k in range(PICKER_MONTHS)])
        self.month.setCurrentText(data["month"])
        source = (
            self.tr("the workspace's own")
            if data.get("config_source") == "workspace"
            else self.tr("the shipped set")
        )
        self.summary.setText(
            fill(
                self.tr("{month} against {before} · months in {zone} · indicators: {source}"),
                month=data["month"],
                before=shift_month(data["month"], -12),
                zone=data["zone"],
                source=source,
            )
        )
        self.summary.setToolTip(plain_tooltip(data["config"]))
        if self.model.rowCount():
            column = (
                column if 0 < column < self.model.columnCount() else self.model.columnCount() - 1
            )
            self.table.setCurrentIndex(
                self.model.index(min(row, self.model.rowCount() - 1), column)
            )
        if self.model.columnCount():  # names elided with "…" (the tooltip has them whole)
            self.header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
            self.header.resizeSection(0, min(self.table.sizeHintForColumn(0), LABEL_WIDTH))
        self.table.resizeRowsToContents()
        self._draw_trend()

    def selected(self) -> tuple[dict[str, Any] | None, str]:
        """The selected indicator and district ("all" when the indicator column is)."""
        index = self.table.currentIndex()
        if not index.isValid() or not self.model.rowCount():
            return None, "all"
        ind = self.model.indicators[index.row()]
        district = "all" if index.column() == 0 else self.model.districts[index.column() - 1]
        return ind, district

    def _draw_trend(self) -> None:
        self.trend.clear()
        ind, district = self.selected()
        if ind is None or self.data is None:
            return
        months = list(self.data["months"])
        x = np.arange(len(months))
        lines = [("all", self.theme.accent)] + (
            [(district, "#f0883e")] if district != "all" else []
        )
        for name, colour in lines:
            y = np.array([np.nan if v is None else v for v in ind["series"][name]], dtype=float)
            self.trend.plot(
                x,
                y,
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=5,
                symbolBrush=colour,
                connect="finite",
                name=self.model.district_title(name),
            )
        self.trend.getAxis("bottom").setTicks(
            [[(i, m) for i, m in enumerate(months) if i % 3 == 0 or i == len(months) - 1]]
        )
        self.trend.setTitle(
            fill(
                self.tr("{indicator} ({unit}), last {n} months"),
                indicator=self.model.label(ind),
                unit=self.model.unit(ind),
                n=len(months),
            ),
            color=self.theme.text,
        )

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.trend.setBackground(QColor(theme.base))
        for axis in ("left", "bottom"):
            self.trend.getAxis(axis).setTextPen(theme.muted)
            self.trend.getAxis(axis).setPen(theme.border)
        if self.data is not None:
            self._draw_trend()
