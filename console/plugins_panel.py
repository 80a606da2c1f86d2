"""Plugins panel: every source with version, status and errors; ingest a file with progress.

A thin view over :meth:`core.workspace.Workspace.discover_sources` (discovery never raises: a
broken plugin is a row with its error) and :class:`core.ingest.Ingestor` run in a
:class:`console.workers.Job` with a Cancel button.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QModelIndex, Qt, pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.context import ConsoleContext
from console.i18n import fill
from console.labels import data_label, plain_tooltip
from console.qtnone import present
from console.tables import ListTableModel
from console.workers import Job
from core.ingest import IngestReport
from core.progress import CancelToken, Progress, ProgressCallback
from plugins.registry import Discovery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceRow:
    """One line of the plugins table."""

    name: str
    version: str
    status: str  # "ok" or "broken"
    formats: str
    description: str
    origin: str
    error: str = ""
    detail: str = ""


def source_rows(found: Discovery) -> list[SourceRow]:
    """Loaded plugins first (by name), then the broken ones with their errors."""
    rows = [
        SourceRow(
            name,
            lp.plugin.version,
            "ok",
            ", ".join(lp.plugin.formats),
            lp.plugin.description,
            lp.origin,
        )
        for name, lp in sorted(found.loaded.items())
    ]
    rows += [
        SourceRow(f.name, "", "broken", "", "", f.origin, f.error, f.detail) for f in found.failed
    ]
    return rows


class SourcesModel(ListTableModel):
    """Table model of :class:`SourceRow`."""

    HEADERS = ("Source", "Version", "Status", "Formats", "Description / error")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[SourceRow] = []

    def set_rows(self, rows: list[SourceRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def _length(self) -> int:
        return len(self.rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                row.name,
                row.version,
                row.status.upper() if row.status != "ok" else "ok",
                row.formats,
                row.error or row.description,
            )[col]
        if role == Qt.ItemDataRole.ForegroundRole and row.status != "ok" and col in (2, 4):
            return QColor("#e5534b")
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(f"{row.origin}\n{row.detail or row.error or row.description}")
        return None


def ingest_job(ctx: ConsoleContext, source: str, path: Path, force: bool = False) -> Job:
    """A job that ingests ``path`` with ``source``; result is the :class:`IngestReport`."""

    def work(progress: ProgressCallback, cancel: CancelToken) -> IngestReport:
        # the ingest.file service checks the permission; the ingest audits the file's hash
        report: IngestReport = ctx.engines.ingest_file(
            source=source, path=str(path), force=force, progress=progress, cancel=cancel
        )
        return report

    return Job(work, f"ingest {source} {path.name}")


class PluginsPanel(QWidget):
    """Sources table, details of the selected one, and ingest with progress and cancel."""

    title = "Plugins"
    ingest_progress = pyqtSignal(object)  # core.progress.Progress
    ingest_finished = pyqtSignal(object)  # IngestReport (also for a cancelled ingest)

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.job: Job | None = None
        self.model = SourcesModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        present(self.table.verticalHeader()).hide()
        present(self.table.horizontalHeader()).setSectionResizeMode(
            4, QHeaderView.ResizeMode.Stretch
        )
        present(self.table.selectionModel()).currentRowChanged.connect(self._show_detail)
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText(
            self.tr("Select a source to see where it came from and its errors.")
        )
        self.reload_button = QPushButton(self.tr("Reload"))
        self.reload_button.clicked.connect(self.reload)
        self.ingest_button = QPushButton(self.tr("Ingest file…"))
        self.ingest_button.setProperty("role", "primary")
        self.ingest_button.clicked.connect(self._choose_file)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = data_label("")
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)

        buttons = QHBoxLayout()
        for w in (self.reload_button, self.ingest_button, self.cancel_button):
            buttons.addWidget(w)
        buttons.addWidget(self.progress, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setSizes([300, 120])
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        # Sources are discovered when the view is first shown, in a worker: discovery imports
        # every plugin (~0.3 s of CPU, seconds on a busy machine) and delayed start-up (#15).
        self.loaded = False
        self.load_job: Job | None = None

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self.loaded and self.load_job is None:
            job = Job(
                lambda _p, _c: source_rows(self.ctx.workspace.discover_sources()),
                "plugin discovery",
                self,
            )
            job.result.connect(self._show_rows)
            job.error.connect(self._load_failed)
            self.load_job = job.start()

    def _load_failed(self, message: str) -> None:
        self.load_job = None
        self.loaded = True
        self.status.setText(message)

    # -- sources ------------------------------------------------------------------------------
    def reload(self) -> None:
        self._show_rows(source_rows(self.ctx.workspace.discover_sources()))

    def _show_rows(self, rows: list[SourceRow]) -> None:
        self.load_job = None
        self.loaded = True
        self.model.set_rows(rows)
        ok = sum(1 for r in self.model.rows if r.status == "ok")
        broken = len(self.model.rows) - ok
        self.status.setText(
            fill(self.tr("{ok} sources loaded, {broken} broken"), ok=ok, broken=broken)
        )

    def selected_source(self) -> SourceRow | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.model.rows[current.row()]
        lines = [f"{row.name} {row.version}  [{row.status}]", f"from: {row.origin}"]
        if row.description:
            lines.append(row.description)
        if row.error:
            lines += ["", row.detail or row.error]
        self.detail.setPlainText("\n".join(lines))
        self.ingest_button.setEnabled(row.status == "ok" and self.job is None)

    # -- ingest -------------------------------------------------------------------------------
    def _choose_file(self) -> None:
        row = self.selected_source()
        if row is None or row.status != "ok":
            self.status.setText("Select a working source first, then choose its file.")
            return
        patterns = " ".join(f"*.{f}" for f in row.formats.split(", ") if f) or "*"
        path, _ = QFileDialog.getOpenFileName(
            self, f"Ingest with {row.name}", "", f"{row.name} files ({patterns});;All files (*)"
        )
        if path:
            self.start_ingest(row.name, Path(path))

    def start_ingest(self, source: str, path: Path, force: bool = False) -> Job:
        """Ingest ``path`` with ``source`` in a worker; the panel shows progress and Cancel."""
        job = ingest_job(self.ctx, source, path, force)
        job.progress.connect(self._on_progress)
        job.result.connect(self._on_report)
        job.error.connect(self._on_error)
        job.finished.connect(self._on_finished)
        self.job = job
        self.ingest_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText(
            fill(self.tr("ingesting {file} with {source} …"), file=path.name, source=source)
        )
        return job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("cancelling after the current batch …")

    def _on_progress(self, p: Progress) -> None:
        self.ingest_progress.emit(p)
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(min(p.done, p.total))
        self.status.setText(p.describe())

    def _on_report(self, report: IngestReport) -> None:
        self.status.setText(report.summary())
        self.ingest_finished.emit(report)
        self.bus.message.emit(report.summary(), 8000)
        self.bus.data_changed.emit()

    def _on_error(self, message: str) -> None:
        self.status.setText(fill(self.tr("ingest failed: {error}"), error=message))

    def _on_finished(self) -> None:
        self.job = None
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.ingest_button.setEnabled(True)
