"""Identities panel: the review queue of "same person?" proposals, side by side, with each
field's weight, and accept / reject / not sure.

A thin view over :class:`graph.er_review.ReviewQueue` on the console's typed endpoints
(``ctx.engines.graph_merge_*``): reads and decisions are service calls, checked and audited in
this process for a workspace or on the centre server for a client console, and they run in
:class:`console.workers.Job` workers, as does the matcher (slow). Nothing merges here without an
analyst's click, and an accepted merge can be split again (``Split…``).

Two analysts on one queue: the queue is read again whenever the view is shown, on Refresh and
after every decision, so what a colleague decided leaves it; a decision on a pair a colleague
decided first is refused by the service (it names who) and the queue is read again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QModelIndex, Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.context import ConsoleContext
from console.qtnone import present
from console.tables import ListTableModel
from console.workers import Job, describe_error, run_job
from graph.er_review import FieldRow, QueueRow, ReviewQueue, ReviewServices

log = logging.getLogger(__name__)
_DISPLAY = Qt.ItemDataRole.DisplayRole


class QueueModel(ListTableModel):
    """The queue: score, the two names, and who marked the pair "not sure"."""

    HEADERS = ("Score", "Person A", "Person B", "Not sure")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[QueueRow] = []

    def set_rows(self, rows: list[QueueRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def _length(self) -> int:
        return len(self.rows)

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        row = self.rows[index.row()]
        if role == _DISPLAY:
            return (f"{row.score:.3f}", row.name_a, row.name_b, row.unsure_by or "")[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.a}\n{row.b}"
        return None


class FieldsModel(ListTableModel):
    """The side-by-side comparison of the selected pair."""

    HEADERS = ("Field", "Record A", "Record B", "Level", "Weight")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[FieldRow] = []

    def set_rows(self, rows: tuple[FieldRow, ...] | list[FieldRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def _length(self) -> int:
        return len(self.rows)

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        row = self.rows[index.row()]
        if role == _DISPLAY:
            return (row.field, row.a or "—", row.b or "—", row.level, f"{row.weight:+.2f}")[
                index.column()
            ]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 4 and row.weight:
            return QColor("#3fb950" if row.weight > 0 else "#e5534b")
        if role == Qt.ItemDataRole.ToolTipRole:
            return (row.field, row.a, row.b, row.level, f"{row.weight:+.2f}")[index.column()]
        return None


def review_services(ctx: ConsoleContext) -> ReviewServices:
    """The review queue's services as the console's typed endpoints (local or the centre's)."""
    engines = ctx.engines
    return ReviewServices(
        queue=engines.graph_merge_queue,
        clusters=engines.graph_merge_clusters,
        proposals=engines.graph_merge_proposals,
        review=engines.graph_merge_review,
        split=engines.graph_merge_split,
    )


class ResolutionPanel(QWidget):
    """Review queue (left), the selected pair side by side (right), decision buttons."""

    title = "Identities"

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.queue = ReviewQueue(review_services(ctx))
        self.job: Job | None = None
        self.decision_job: Job | None = None
        self.queue_model = QueueModel()
        self.table = QTableView()
        self.table.setModel(self.queue_model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        present(self.table.verticalHeader()).hide()
        present(self.table.horizontalHeader()).setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        present(self.table.selectionModel()).currentRowChanged.connect(self._show_pair)
        self.fields_model = FieldsModel()
        self.fields = QTableView()
        self.fields.setModel(self.fields_model)
        present(self.fields.verticalHeader()).hide()
        self.fields.setWordWrap(True)
        header = present(self.fields.horizontalHeader())
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for col in (0, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.summary = QLabel(self.tr("Select a pair to compare the two records."))
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.run_button = QPushButton(self.tr("Run matching"))
        self.run_button.clicked.connect(self.run_matching)
        self.accept_button = QPushButton(self.tr("Accept: same person"))
        self.accept_button.setProperty("role", "primary")
        self.accept_button.clicked.connect(lambda: self._decide("accept"))
        self.reject_button = QPushButton(self.tr("Reject: different people"))
        self.reject_button.clicked.connect(lambda: self._decide("reject"))
        self.unsure_button = QPushButton(self.tr("Not sure"))
        self.unsure_button.clicked.connect(lambda: self._decide("unsure"))
        self.split_button = QPushButton(self.tr("Split…"))
        self.split_button.clicked.connect(self._split)
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        self.status = QLabel("")
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.summary)
        rl.addWidget(self.fields, 1)
        buttons = QHBoxLayout()
        for b in (self.accept_button, self.reject_button, self.unsure_button):
            buttons.addWidget(b)
        rl.addLayout(buttons)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(self.table, 1)
        tools = QHBoxLayout()
        tools.addWidget(self.run_button)
        tools.addWidget(self.split_button)
        tools.addStretch(1)
        tools.addWidget(self.refresh_button)
        ll.addLayout(tools)
        ll.addWidget(self.status)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([420, 640])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self._set_buttons(False)
        # The queue is read when the view is shown, in a worker: reading it (and the clusters,
        # with networkx) took ~0.5 s of CPU in the GUI thread at start-up (#15); in a client
        # console it is a round trip to the centre.
        self.loaded = False
        self.load_job: Job | None = None

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()  # each showing: a colleague may have decided pairs meanwhile

    def _load_failed(self, message: str) -> None:
        self.load_job = None
        self.loaded = True
        self.status.setText(message)

    # -- actions ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the queue again in a worker (what colleagues decided leaves it)."""
        if self.load_job is not None or self.decision_job is not None:
            return
        self.load_job = run_job(
            lambda _p, _c: self.queue.reload(),
            name="identity queue",
            on_result=self._show_rows,
            on_error=self._load_failed,
            parent=self,
        )

    def reload(self) -> None:
        """Read the queue again now, in the GUI thread (a docs helper and tests use it)."""
        try:
            rows = self.queue.reload()
        except Exception as exc:  # a refusal or a broken store: say so, keep the panel
            self.status.setText(describe_error(exc))
            return
        self._show_rows(rows)

    def _show_rows(self, rows: list[QueueRow], note: str = "") -> None:
        self.load_job = None
        self.loaded = True
        keep = self.selected()
        self.queue_model.set_rows(rows)
        waiting = self.tr("{n} pairs waiting for review").replace("{n}", str(len(rows)))
        self.status.setText(f"{note}\n{waiting}" if note else waiting)
        if rows:
            same = [i for i, r in enumerate(rows) if keep and (r.a, r.b) == (keep.a, keep.b)]
            self.table.selectRow(same[0] if same else 0)
        else:
            self.fields_model.set_rows([])
            self._set_buttons(False)

    def run_matching(self) -> None:
        """Score every person again in a worker (the queue stays usable meanwhile)."""
        if self.job is not None:
            return
        self.run_button.setEnabled(False)
        self.status.setText(self.tr("matching persons …"))
        self.job = run_job(
            lambda _p, _c: self.queue.run_matching(),
            name="identity matching",
            on_result=self._matched,
            on_error=self._failed,
            parent=self,
        )

    def selected(self) -> QueueRow | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.queue_model.rows):
            return None
        return self.queue_model.rows[index.row()]

    def _decide(self, what: str) -> None:
        row = self.selected()
        if row is not None:
            self._send(lambda queue: queue.decide(row, what))

    def _split(self) -> None:
        alias, ok = QInputDialog.getText(
            self, self.tr("Split"), self.tr("Entity to split off (e.g. person:…):")
        )
        if ok and alias.strip():
            self._send(lambda queue: queue.split(alias.strip()))

    def _send(self, action: Any) -> None:
        """Run ``action(queue)`` (a decision or a split) in a worker; the queue is read again
        after it, and after a refusal (a colleague decided the pair first: the message says
        who), which is shown above the count."""
        if self.decision_job is not None:
            return
        self._set_buttons(False)
        self.status.setText(self.tr("sending the decision …"))
        queue = self.queue

        def work(_p: Any, _c: Any) -> tuple[list[QueueRow], str]:
            try:
                action(queue)
            except Exception as exc:  # shown with the queue as read again (in ReviewQueue)
                return list(queue.rows), describe_error(exc)
            return list(queue.rows), ""

        self.decision_job = run_job(
            work,
            name="identity decision",
            on_result=self._decided,
            on_error=self._decision_failed,
            parent=self,
        )

    def _decided(self, value: tuple[list[QueueRow], str]) -> None:
        self.decision_job = None
        rows, note = value
        self._show_rows(rows, note)

    def _decision_failed(self, message: str) -> None:
        self.decision_job = None
        self.status.setText(message)
        self._set_buttons(self.selected() is not None)

    # -- view --------------------------------------------------------------------------------------
    def _show_pair(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.selected()
        self._set_buttons(row is not None)
        if row is None:
            return
        self.fields_model.set_rows(row.fields)
        self.fields.resizeRowsToContents()
        text = (
            f"{row.name_a}  ≈  {row.name_b}   score {row.score:.3f}   "
            f"(match weight {row.match_weight:+.1f} = prior {row.prior_weight:+.1f} "
            f"+ fields)\n{row.a}   {row.b}"
        )
        if row.unsure_by:
            text += "\n" + self.tr("marked 'not sure' by {user}").replace("{user}", row.unsure_by)
        cluster = None
        try:
            cluster = self.queue.cluster_of(row)
        except Exception as exc:  # clusters are extra information; the pair still shows
            log.warning("cluster of %s: %s", row.a, exc)
        if cluster is not None and len(cluster.members) > 2:
            weak = cluster.weakest
            text += "\n" + self.tr(
                "one cluster of {n} records; weakest link {a} ≈ {b} ({s})"
            ).replace("{n}", str(len(cluster.members))).replace("{a}", weak[0]).replace(
                "{b}", weak[1]
            ).replace("{s}", f"{weak[2]:.3f}")
        self.summary.setText(text)

    def _set_buttons(self, enabled: bool) -> None:
        for b in (self.accept_button, self.reject_button, self.unsure_button):
            b.setEnabled(enabled)

    def _matched(self, n: Any) -> None:
        self.job = None
        self.run_button.setEnabled(True)
        self.reload()

    def _failed(self, message: str) -> None:
        self.job = None
        self.run_button.setEnabled(True)
        self.status.setText(message)


def screenshot(root: str, out: str, size: tuple[int, int] = (1500, 720)) -> str:
    """Save a picture of the Identities view on workspace ``root`` (for docs/screenshots)::

    QT_QPA_PLATFORM=offscreen python -m console.resolution_panel WS OUT.png
    """
    from PyQt6.QtWidgets import QApplication

    from console.bus import Bus
    from console.theme import theme
    from core.workspace import Workspace

    app = QApplication.instance() or QApplication([])
    if isinstance(app, QApplication):
        app.setStyleSheet(theme("dark").style_sheet())
    ctx = ConsoleContext(Workspace.open(Path(root)))
    try:
        panel = ResolutionPanel(ctx, Bus())
        panel.resize(*size)
        panel.reload()
        rows = panel.queue_model.rows
        # a Latin-script pair in a cluster of three, if there is one
        pick = next(
            (
                i
                for i, r in enumerate(rows)
                if (r.name_a.isascii() or r.name_b.isascii())
                and (c := panel.queue.cluster_of(r)) is not None
                and len(c.members) > 2
            ),
            0,
        )
        panel.table.selectRow(pick)
        panel.show()
        app.processEvents()
        panel.grab().save(out)
        panel.close()
    finally:
        ctx.close()
    return out


if __name__ == "__main__":  # pragma: no cover - a docs helper
    import sys

    print(screenshot(sys.argv[1], sys.argv[2]))
