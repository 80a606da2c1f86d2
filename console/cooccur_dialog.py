"""Moving together: the entities seen with one entity at the same checkpoints within a time
window (``graph.cooccur``), as a table, and onto the link chart with the places they met.

A thin view: the engine's :func:`graph.cooccur.cooccurring_in_store` runs in a worker. **Pin to
case** hands the result (the pairs, the window and the minimum count) to the Cases dock, which
pins it to the open case (the bus's ``pin_evidence``).
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.i18n import fill
from console.labels import data_label
from console.qtnone import present
from console.workers import Job


class CooccurDialog(QDialog):
    """Pick an entity, a window and a minimum count; see who moves with it; chart them."""

    found = pyqtSignal(list)  # graph.cooccur.CoOccurrence results

    def __init__(self, panel: Any, entity: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent or panel)
        self.panel = panel
        self.results: list[Any] = []
        self._asked: tuple[str, int, int] = ("", 0, 0)  # entity, window, minimum of results
        self.job: Job | None = None
        self.setWindowTitle(self.tr("Moving together"))
        self.entity = QLineEdit(entity)
        self.entity.setPlaceholderText(self.tr("entity id, plate or phone"))
        self.window_s = QSpinBox()
        self.window_s.setRange(5, 3600)
        self.window_s.setValue(60)
        self.window_s.setSuffix(self.tr(" s apart at most"))
        self.min_count = QSpinBox()
        self.min_count.setRange(1, 100)
        self.min_count.setValue(2)
        self.min_count.setPrefix(self.tr("at least "))
        self.min_count.setSuffix(self.tr(" meetings"))
        run = QPushButton(self.tr("Find"))
        run.setProperty("role", "primary")
        run.clicked.connect(self.run)
        self.chart_button = QPushButton(self.tr("Add to chart"))
        self.chart_button.setEnabled(False)
        self.chart_button.clicked.connect(self.add_to_chart)
        self.pin_button = QPushButton(self.tr("Pin to case"))
        self.pin_button.setToolTip(self.tr("pin this result to the case open in the Cases dock"))
        self.pin_button.setEnabled(False)
        self.pin_button.clicked.connect(self.pin_to_case)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Entity"),
                self.tr("Meetings"),
                self.tr("Places"),
                self.tr("Days"),
                self.tr("Joint reads"),
            ]
        )
        present(self.table.horizontalHeader()).setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        present(self.table.verticalHeader()).hide()
        self.status = data_label("")
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Entity")))
        top.addWidget(self.entity, 1)
        top.addWidget(self.window_s)
        top.addWidget(self.min_count)
        top.addWidget(run)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.chart_button)
        bottom.addWidget(self.pin_button)
        layout.addLayout(bottom)
        self.resize(720, 420)

    def run(self) -> Job | None:
        """Ask the graph engine (in a worker) who was seen with the entity."""
        text = self.entity.text().strip()
        if not text:
            self.status.setText(self.tr("enter an entity first"))
            return None
        store = self.panel.ctx.workspace.store
        window, min_count = float(self.window_s.value()), int(self.min_count.value())

        def work(_p: Any, _c: Any) -> tuple[str, list[Any]]:
            from graph.cooccur import cooccurring_in_store
            from graph.entities import resolve_entity

            entity = resolve_entity(store, text)
            return entity, cooccurring_in_store(
                store, entity, window=window, min_count=min_count, top=50
            )

        job = Job(work, "co-occurrence")
        job.result.connect(self._show)
        job.error.connect(
            lambda msg: self.status.setText(fill(self.tr("not found: {error}"), error=msg))
        )
        self.status.setText(self.tr("searching …"))
        self.job = job
        return job.start()

    def _show(self, value: tuple[str, list[Any]]) -> None:
        entity, results = value
        self.entity.setText(entity)
        self.results = results
        self.table.setRowCount(len(results))
        for row, r in enumerate(results):
            other = r.b if r.a == entity else r.a
            for col, text in enumerate((other, r.count, r.places, r.days, r.sightings)):
                item = QTableWidgetItem(str(text))
                if col:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, col, item)
        self.chart_button.setEnabled(bool(results))
        self.pin_button.setEnabled(bool(results))
        self._asked = (entity, int(self.window_s.value()), int(self.min_count.value()))
        self.status.setText(
            fill(self.tr("{n} entities moved with {entity}"), n=len(results), entity=entity)
        )
        self.found.emit(results)

    def pin_evidence(self) -> tuple[str, str, dict[str, Any]] | None:
        """``(ref, title, data)`` of the result shown, as ``cases.pin`` takes a co-occurrence
        result: the entity, the window, the minimum count and every pair found (with up to
        five joint reads each, bounded); ``None`` before a result."""
        if not self.results:
            return None
        entity, window, min_count = self._asked
        pairs = []
        for r in self.results:
            pair = r.to_dict()
            pair["evidence"] = pair.get("evidence", [])[:5]
            pairs.append(pair)
        ref = f"{entity} ±{window}s ≥{min_count}"
        title = f"{entity}: {len(pairs)} moving together (±{window} s, ≥{min_count} meetings)"
        return (
            ref,
            title,
            {"entity": entity, "window_s": window, "min_count": min_count, "pairs": pairs},
        )

    def pin_to_case(self) -> None:
        """Pin the result to the case open in the Cases dock (it checks, audits and says)."""
        found = self.pin_evidence()
        bus = getattr(self.panel, "bus", None)
        if found is None or bus is None:
            return
        ref, title, data = found
        bus.pin_evidence.emit("cooccur", ref, title, data, self.status.setText)

    def add_to_chart(self) -> Job | None:
        """The entity, the ones it moved with (the selected rows, else all) and the places
        where they met, onto the link chart."""
        entity = self.entity.text().strip()
        rows = sorted({i.row() for i in self.table.selectedIndexes()}) or range(len(self.results))
        chosen = [self.results[r] for r in rows]
        ids = [entity]
        for r in chosen:
            ids.append(r.b if r.a == entity else r.a)
            ids += [ev.device for ev in r.evidence]
        return self.panel.add_entities(list(dict.fromkeys(ids)))
