"""Alert tray: alerts as they happen (watchlist hits, saved searches, geofences, face matches),
with a sound, a desktop notification where the desktop has a tray, and acknowledgement.

A view over the ``ops`` engine's alert centre: new alerts are found by polling
``alerts.since(last_id)`` in a worker (so alerts raised by another console or an ingest in
another process arrive too); acknowledging calls ``alerts.ack``, which audits it.
"""

from __future__ import annotations

import logging
from typing import Any

from PyQt6.QtCore import QCoreApplication, QModelIndex, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSystemTrayIcon,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.context import ConsoleContext
from console.i18n import fill
from console.labels import data_label, plain_tooltip
from console.notice import Notice, engine_unavailable_text
from console.opsview import OpsView, unavailable_reason
from console.qtnone import present
from console.tables import ListTableModel
from console.workers import Job, Poller

log = logging.getLogger(__name__)

SEVERITY_COLOURS = {
    "critical": "#e5534b",
    "high": "#f0883e",
    "medium": "#d29922",
    "low": "#3d8bfd",
    "info": "#7d8a99",
}
_DISPLAY = Qt.ItemDataRole.DisplayRole


def severity_label(severity: str) -> str:
    """An alert severity in the UI language."""
    return {
        "critical": QCoreApplication.translate("Alerts", "critical"),
        "high": QCoreApplication.translate("Alerts", "high"),
        "medium": QCoreApplication.translate("Alerts", "medium"),
        "low": QCoreApplication.translate("Alerts", "low"),
        "info": QCoreApplication.translate("Alerts", "info"),
    }.get(severity, severity)


class AlertsModel(ListTableModel):
    """Alerts (``ops.model.Alert``), newest first."""

    HEADERS = ("Time", "Severity", "Kind", "Alert", "Subject", "Acknowledged")

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[Any] = []

    def merge(self, alerts: list[Any]) -> list[Any]:
        """Add or update alerts by id; returns the ones not seen before.

        ``alerts`` may name an alert more than once (the first load reads the unacknowledged
        ones and the most recent ones, which overlap): each id is listed once, the last copy
        wins.
        """
        alerts = list({a.id: a for a in alerts}.values())
        known = {a.id: i for i, a in enumerate(self.alerts)}
        new = [a for a in alerts if a.id not in known]
        self.beginResetModel()
        for a in alerts:
            if a.id in known:
                self.alerts[known[a.id]] = a
        self.alerts = sorted(new + self.alerts, key=lambda a: -a.id)
        self.endResetModel()
        return new

    def unacked(self) -> int:
        return sum(1 for a in self.alerts if not a.acked)

    def _length(self) -> int:
        return len(self.alerts)

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        a = self.alerts[index.row()]
        col = index.column()
        if role == _DISPLAY:
            if col == 0:
                return a.ts.astimezone().strftime("%m-%d %H:%M:%S")
            if col == 1:
                return severity_label(a.severity)
            if col == 2:
                return a.kind
            if col == 3:
                return a.title
            if col == 4:
                return a.subject
            return f"{a.acked_by} {a.ack_note}".strip() if a.acked else "—"
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return QColor(SEVERITY_COLOURS.get(a.severity, "#8b98a8"))
        if role == Qt.ItemDataRole.FontRole and not a.acked:
            from PyQt6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(f"rule {a.rule}\nrecord {a.record_uid or '—'}\n{a.title}")
        return None


def _tray_icon() -> QIcon:
    pix = QPixmap(32, 32)
    pix.fill(QColor("#e5534b"))
    return QIcon(pix)


class AlertTray(QWidget):
    """The alert list with acknowledge, sound and desktop notification."""

    title = "Alerts"
    alerts_arrived = pyqtSignal(list)  # new Alert objects
    acknowledged = pyqtSignal(object)  # the acknowledged Alert

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.model = AlertsModel()
        self.last_id = 0
        self.unacked_total = 0  # in the whole workspace (the list shows the recent ones)
        self.first_load = True
        self.ops: OpsView | None = None
        self.tray: QSystemTrayIcon | None = None
        self.notifications: list[str] = []  # what was announced (also shown in the status bar)
        layout = QVBoxLayout(self)
        reason = unavailable_reason(ctx)
        if reason:
            layout.addWidget(Notice(engine_unavailable_text("ops", reason)))
            return
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        present(self.table.verticalHeader()).hide()
        present(self.table.horizontalHeader()).setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch
        )
        self.table.doubleClicked.connect(self._open_record)
        present(self.table.selectionModel()).selectionChanged.connect(
            lambda *_: self.message.clear()
        )
        self.note = QLineEdit()
        self.note.setPlaceholderText(self.tr("note for the acknowledgement (what was done)"))
        self.ack_button = QPushButton(self.tr("Acknowledge"))
        self.ack_button.setProperty("role", "primary")
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.sound = QCheckBox(self.tr("sound"))
        self.sound.setChecked(True)
        self.summary = data_label("")
        self.summary.setProperty("role", "muted")
        # what the tray says about the user's own action: the periodic refresh rewrites the
        # summary, never this (it is cleared when the selection changes)
        self.message: QLabel = data_label("", role="warning")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setProperty("role", "warning")
        row = QHBoxLayout()
        row.addWidget(self.summary, 3)
        row.addWidget(self.message, 2)
        row.addWidget(self.note, 2)
        row.addWidget(self.ack_button)
        row.addWidget(self.sound)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(_tray_icon(), self)
            self.tray.setToolTip(self.tr("superbrain alerts"))
            self.tray.show()
        self.poller = Poller(self._fetch, 2000, self)
        self.poller.result.connect(self._on_alerts)
        self.poller.error.connect(
            lambda msg: self.message.setText(fill(self.tr("alerts: {error}"), error=msg))
        )
        self.poller.start()
        self.poller.poll()

    def _view(self) -> OpsView:
        if self.ops is None:
            self.ops = OpsView.open(self.ctx)
            if self.ops is None:
                raise RuntimeError(f"engine not available: ops: {unavailable_reason(self.ctx)}")
        return self.ops

    def _fetch(self) -> tuple[list[Any], int | None]:
        view = self._view()
        if self.first_load:
            alerts = view.open_alerts() + view.alerts_since(max(0, view.alerts.last_id() - 200))
        else:
            alerts = view.alerts_since(self.last_id)
        # the workspace-wide count costs a status-board read: only when something changed
        count = view.unacked_count() if alerts or self.first_load else None
        return alerts, count

    def _on_alerts(self, value: tuple[list[Any], int | None]) -> None:
        alerts, count = value
        if count is not None:
            self.unacked_total = count
        if alerts:
            self.last_id = max(self.last_id, *(a.id for a in alerts))
        new = self.model.merge(alerts)
        self._update_summary()
        if new and not self.first_load:
            self.announce(new)
        self.first_load = False

    def _update_summary(self) -> None:
        n = max(self.unacked_total, self.model.unacked())
        self.summary.setText(
            fill(
                self.tr("{n} to acknowledge · {shown} most recent shown"),
                n=f"{n:,}",
                shown=f"{len(self.model.alerts):,}",
            )
        )
        dock = self.parentWidget()
        if dock is not None and hasattr(dock, "setWindowTitle"):
            title = QCoreApplication.translate("Panels", "Alerts")
            dock.setWindowTitle(f"{title} ({n:,})" if n else title)

    def announce(self, alerts: list[Any]) -> None:
        """Sound and desktop notification for newly arrived alerts."""
        top = alerts[0]
        text = top.title + (f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else "")
        self.notifications.append(text)
        if self.sound.isChecked():
            QApplication.beep()
        if self.tray is not None:
            self.tray.showMessage(
                f"superbrain: {top.kind} alert", text, QSystemTrayIcon.MessageIcon.Warning, 8000
            )
        self.bus.message.emit(f"ALERT: {text}", 10000)
        self.alerts_arrived.emit(alerts)

    def selected_alerts(self) -> list[Any]:
        rows = sorted({i.row() for i in present(self.table.selectionModel()).selectedRows()})
        return [self.model.alerts[r] for r in rows]

    def acknowledge_selected(self) -> Job | None:
        todo = [a for a in self.selected_alerts() if not a.acked]
        if not todo:
            self.message.setText(self.tr("select an alert that is not acknowledged yet"))
            return None
        note = self.note.text().strip()

        def work(_p: Any, _c: Any) -> list[Any]:
            return [self._view().ack(a.id, note) for a in todo]

        job = Job(work, "ack")
        job.result.connect(self._acked)
        job.error.connect(
            lambda msg: self.message.setText(fill(self.tr("not acknowledged: {error}"), error=msg))
        )
        return job.start()

    def _acked(self, alerts: list[Any]) -> None:
        self.model.merge(alerts)
        self.unacked_total = max(0, self.unacked_total - len(alerts))
        self.note.clear()
        self.message.setText(fill(self.tr("{n} acknowledged"), n=len(alerts)))
        self._update_summary()
        for a in alerts:
            self.acknowledged.emit(a)

    def _open_record(self, index: QModelIndex) -> None:
        alert = self.model.alerts[index.row()]
        if alert.record_uid:
            self.bus.open_record.emit(alert.record_uid)

    def shutdown(self) -> None:
        if hasattr(self, "poller"):
            self.poller.stop()
        if self.tray is not None:
            self.tray.hide()
