"""Link chart (pyqtgraph): entities coloured and shaped by type, links coloured by type.

Click selects (Ctrl adds), double-click expands, drag moves and pins, right-click opens the node
menu (expand by link type, find path to…, pin, hide, pivots); the toolbar colours by centrality
or community and exports PNG or GraphML. The graph engine does the work in workers
(:func:`console.chart_model.grow`, ``graph.analysis``); this widget only draws the
:class:`~console.chart_model.ChartModel`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QCursor, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.chart_model import (
    HUB_TYPES,
    SCALE,
    ChartModel,
    chart_label,
    grow,
    grow_packed,
    path_graph,
    path_link_types,
    path_packed,
    place_labels,
    unpack,
    with_entities,
)
from console.context import ConsoleContext
from console.i18n import count, current_language, fill
from console.labels import data_label, plain_tooltip
from console.navigation import Focus
from console.notice import Notice, engine_unavailable_text
from console.offload import OffloadError, run_in_process, warm_up
from console.qtnone import present
from console.theme import DARK, Theme
from console.workers import Job
from core.schema import default_schema

log = logging.getLogger(__name__)

MAX_LABELS = 250
UNDO_DEPTH = 50  # chart edits that can be taken back
SYNC_NODES = 1500  # charts up to this size are drawn in one go
NODE_BATCH = 1000  # nodes per drawing slice of a bigger chart
LABEL_BATCH = 15  # labels per drawing slice
DRAW_BUDGET_S = 0.008  # drawing work per event-loop turn for a bigger chart


class _NoRecord:
    entities: tuple[Any, ...] = ()


_NO_RECORD = _NoRecord()
MAX_NODES = 2000


class NodesItem(pg.ScatterPlotItem):
    """Scatter of nodes that reports clicks, double-clicks, right-clicks and drags."""

    def __init__(self, panel: GraphPanel) -> None:
        # hoverable with a tip: the hover card (plain text, whatever the node's label holds)
        super().__init__(
            pxMode=True,
            hoverable=True,
            tip=lambda x, y, data: plain_tooltip(panel.hover_text(data)),
        )
        self.panel = panel
        self._drag: str | None = None

    def _node_at(self, pos: QPointF) -> str | None:
        pts = self.pointsAt(pos)
        return pts[0].data() if len(pts) else None

    def mouseClickEvent(self, ev: Any) -> None:
        nid = self._node_at(ev.pos())
        if nid is None:
            if ev.button() == Qt.MouseButton.LeftButton:
                self.panel.select([], additive=False)
            ev.ignore()
            return
        ev.accept()
        if ev.button() == Qt.MouseButton.RightButton:
            self.panel.node_menu(nid).popup(QCursor.pos())
        elif ev.double():
            self.panel.expand([nid])
        else:
            additive = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self.panel.select([nid], additive=additive)

    def mouseDragEvent(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._drag = self._node_at(ev.buttonDownPos())
            if self._drag is None:
                ev.ignore()
                return
            self.panel.begin_move()
        elif self._drag is None:
            ev.ignore()
            return
        ev.accept()
        pos = ev.pos()
        self.panel.drag_node(self._drag, pos.x(), pos.y())
        if ev.isFinish():
            self._drag = None


_SYMBOL_GLYPHS = {
    "o": "●",
    "s": "■",
    "t": "▼",
    "t1": "▲",
    "d": "◆",
    "h": "⬢",
    "star": "★",
    "p": "⬟",
    "+": "✚",
    "x": "✖",
    "line": "━",
}


class ChartLegend(QFrame):
    """The entity and link types on the chart, drawn over its top-left corner."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("chart-legend")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.rows = QVBoxLayout(self)
        self.rows.setContentsMargins(8, 6, 8, 6)
        self.rows.setSpacing(1)
        self.items: list[Any] = []

    def set_items(self, items: list[Any], theme: Theme, note: str = "") -> None:
        """Show ``items``; ``note`` (e.g. "colour: communities") replaces the type colours of
        the entity rows when nodes are coloured by something else."""
        self.items = items
        while self.rows.count():
            w = present(self.rows.takeAt(0)).widget()
            if w is not None:
                w.deleteLater()
        self.setStyleSheet(
            f"#chart-legend {{ background: {theme.panel}; "
            f"border: 1px solid {theme.border}; border-radius: 6px; }}"
        )
        rows = [(note, theme.muted)] if note else []
        rows += [
            (
                f"{_SYMBOL_GLYPHS.get(i.symbol, '●')}  {i.label} ({i.count})",
                theme.text if note and i.kind == "entity" else i.colour,
            )
            for i in items
        ]
        for text, colour in rows:
            row = QLabel(text)
            row.setTextFormat(Qt.TextFormat.PlainText)
            row.setStyleSheet(f"color: {colour}; background: transparent;")
            self.rows.addWidget(row)
            row.show()  # a child added to a shown parent stays hidden until shown
        self.setVisible(bool(items))
        self.rows.activate()
        self.resize(self.sizeHint())
        self.move(8, 8)


class PathDialog(QDialog):
    """Find path from a node: the target picked from the chart (selected nodes first) or from
    a search of the workspace's entities; hub entity types and weak link types left out."""

    def __init__(self, panel: GraphPanel, source: str) -> None:
        super().__init__(panel)
        self.setWindowTitle(self.tr("Find path"))
        self.panel, self.source = panel, source
        model = panel.model
        zh = current_language().startswith("zh")
        self.targets = QComboBox()
        self.targets.setEditable(False)
        ordered = sorted(
            (n for n in model.node_ids() if n != source), key=lambda n: (n not in model.selected, n)
        )
        for nid in ordered:
            node = model.graph.nodes[nid]
            self.targets.addItem(f"{chart_label(nid, node.label)}  ({nid})", nid)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("or search the workspace: plate, phone, name …"))
        self.search.returnPressed.connect(self._search)
        self.hubs: dict[str, QCheckBox] = {}
        self.weak: dict[str, QCheckBox] = {}
        schema = default_schema()
        form = QVBoxLayout(self)
        form.addWidget(QLabel(fill(self.tr("Path from {source} to:"), source=source)))
        form.addWidget(self.targets)
        form.addWidget(self.search)
        form.addWidget(QLabel(self.tr("Do not pass through (hubs):")))
        row = QHBoxLayout()
        for name, et in sorted(schema.entities.items()):
            box = QCheckBox(et.label_zh if zh and et.label_zh else et.label)
            box.setChecked(name in HUB_TYPES)
            self.hubs[name] = box
            row.addWidget(box)
        form.addLayout(row)
        form.addWidget(QLabel(self.tr("Leave out weak link types:")))
        row = QHBoxLayout()
        for name, lt in sorted(schema.links.items()):
            box = QCheckBox(lt.label_zh if zh and lt.label_zh else lt.label)
            self.weak[name] = box
            row.addWidget(box)
        form.addLayout(row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addWidget(buttons)

    def _search(self) -> None:
        text = self.search.text().strip()
        if not text:
            return
        for row in self.panel.ctx.workspace.store.find_entities(text, limit=30):
            if row.id != self.source and self.targets.findData(row.id) < 0:
                self.targets.addItem(f"{row.label or row.key}  ({row.id})", row.id)
        found = next(
            (i for i in range(self.targets.count()) if text in self.targets.itemText(i)), -1
        )
        if found >= 0:
            self.targets.setCurrentIndex(found)

    def target(self) -> str:
        return str(self.targets.currentData() or "")

    def link_types(self) -> list[str] | None:
        return path_link_types(
            [n for n, b in self.hubs.items() if b.isChecked()],
            [n for n, b in self.weak.items() if b.isChecked()],
        )


class GraphPanel(QWidget):
    """The link chart with its toolbar."""

    title = "Link chart"
    changed = pyqtSignal()  # the chart was redrawn with new content
    depth: QSpinBox  # type: ignore[assignment]  # the expansion depth, in place of QWidget.depth()

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.model = ChartModel()
        self.job: Job | None = None
        self._asked: list[str] = []
        self.theme: Theme = DARK
        self._edge_items: dict[str, Any] = {}
        self._labels: list[Any] = []
        self._brushes: dict[str, Any] = {}
        # big charts are drawn a slice per event-loop turn (see redraw)
        self._drawing: Iterator[None] | None = None
        self._draw_timer = QTimer(self)
        self._draw_timer.setInterval(0)
        self._draw_timer.timeout.connect(self._continue_drawing)
        self._pin_pen = pg.mkPen("#ffffff", width=2)
        self._node_pen = pg.mkPen("#0d1117", width=1)
        self.available = ctx.engines.graph_expand.available()
        # expansions and paths run in the helper process, where they cannot hold the GUI's GIL
        # (docs/PERFORMANCE.md, "Console responsiveness"); False runs them in the worker thread
        self.offload = True
        if self.available:  # start the helper now, not on the analyst's first expansion
            Job(lambda _p, _c: warm_up(), "graph helper start").start()

        self.entity_box = QLineEdit()
        self.entity_box.setPlaceholderText(
            self.tr("entity id, plate, phone or ID number — Enter to chart")
        )
        self.entity_box.returnPressed.connect(self._chart_typed)
        self.depth = QSpinBox()
        self.depth.setRange(1, 4)
        self.depth.setPrefix(self.tr("depth "))
        self.colour = QComboBox()
        self.colour.addItems(
            [
                self.tr("colour by type"),
                self.tr("colour by centrality"),
                self.tr("show communities"),
            ]
        )
        self.colour.activated.connect(self._colour_changed)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self._fresh = False  # the running expansion starts a fresh chart
        self._undo: list[tuple[Any, ...]] = []
        self._redo: list[tuple[Any, ...]] = []
        self.undo_button = QPushButton(self.tr("Undo"))
        self.undo_button.setToolTip(self.tr("Undo the last chart edit (Ctrl+Z)"))
        self.undo_button.clicked.connect(self.undo)
        self.redo_button = QPushButton(self.tr("Redo"))
        self.redo_button.setToolTip(self.tr("Redo (Ctrl+Shift+Z)"))
        self.redo_button.clicked.connect(self.redo)
        for key, slot in (
            ("Ctrl+Z", self.undo),
            ("Ctrl+Shift+Z", self.redo),
            ("Ctrl+Y", self.redo),
        ):
            QShortcut(
                QKeySequence(key), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut
            ).activated.connect(slot)
        buttons = {
            self.tr("Moving together…"): lambda: self.moving_together(
                next(iter(sorted(self.model.selected)), "")
            ),
            self.tr("Clear"): self.clear,
            self.tr("Unhide all"): self.unhide_all,
            self.tr("PNG…"): self._export_png,
            self.tr("GraphML…"): self._export_graphml,
        }
        top = QHBoxLayout()
        top.addWidget(self.entity_box, 1)
        add_button = QPushButton(self.tr("Add"))
        add_button.setToolTip(
            self.tr("Add the typed entity to this chart (Shift+Enter); Enter starts a new chart")
        )
        add_button.clicked.connect(lambda: self._chart_typed(add=True))
        top.addWidget(add_button)
        top.addWidget(self.depth)
        top.addWidget(self.colour)
        for text, slot in buttons.items():
            b = QPushButton(text)
            b.clicked.connect(slot)
            top.addWidget(b)
        top.addWidget(self.undo_button)
        top.addWidget(self.redo_button)
        top.addWidget(self.cancel_button)
        self._update_undo_buttons()
        self.status = data_label(self.tr("Double-click a node to expand it; right-click for more."))
        self.status.setProperty("role", "muted")

        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.getPlotItem().hideButtons()
        self.legend = ChartLegend(self.plot)
        self.legend.hide()
        self.labelled: list[str] = []  # nodes whose label is drawn (no two overlap)
        self._relabel = QTimer(self)  # zooming places the labels again, once it settles
        self._relabel.setSingleShot(True)
        self._relabel.setInterval(120)
        self._relabel.timeout.connect(self._place_labels_again)
        self.plot.getViewBox().sigRangeChanged.connect(lambda *_: self._relabel.start())
        # link labels on hover: the link under the pointer is named in a tooltip
        self.plot.scene().sigMouseMoved.connect(self._hover_link)
        # one scatter per style group: uniform styles take pyqtgraph's fast path
        self.node_items: dict[Any, NodesItem] = {}
        self.rings = pg.ScatterPlotItem(pxMode=True)
        self.plot.addItem(self.rings)
        self.rings.setZValue(9)

        self.stack = QStackedLayout()
        self.notice = Notice(
            engine_unavailable_text("graph", self.ctx.engines.graph_expand.unavailable())
        )
        self.stack.addWidget(self.plot)
        self.stack.addWidget(self.notice)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.stack, 1)
        layout.addWidget(self.status)
        if not self.available:
            self.stack.setCurrentWidget(self.notice)
            for w in (self.entity_box, self.depth, self.colour):
                w.setEnabled(False)
        bus.entities_selected.connect(self._on_external_selection)
        bus.records_selected.connect(self._on_records_selected)
        self.apply_theme(DARK)

    # -- undo / redo --------------------------------------------------------------------------
    def _remember(self) -> None:
        """Call before an edit: the chart as it is goes on the undo stack."""
        self._undo.append(self.model.snapshot())
        del self._undo[:-UNDO_DEPTH]
        self._redo.clear()
        self._update_undo_buttons()

    def undo(self) -> bool:
        """Take back the last edit (expand, path, hide, unhide, move, pin, clear)."""
        return self._step(self._undo, self._redo)

    def redo(self) -> bool:
        """Make the last edit taken back again."""
        return self._step(self._redo, self._undo)

    def _step(self, back: list[tuple[Any, ...]], forth: list[tuple[Any, ...]]) -> bool:
        """Restore the newest chart on ``back``; the chart as it is goes on ``forth``. Undo
        and redo are this one move in opposite directions."""
        if not back:
            return False
        self.cancel()
        forth.append(self.model.snapshot())
        self.model.restore(back.pop())
        self.colour.setCurrentIndex(0)
        self.redraw()
        self._update_undo_buttons()
        return True

    def _update_undo_buttons(self) -> None:
        self.undo_button.setEnabled(bool(self._undo))
        self.redo_button.setEnabled(bool(self._redo))

    # -- building the chart -------------------------------------------------------------------
    def _chart_typed(self, *, add: bool | None = None) -> None:
        """Enter: a new chart of the typed entity; Shift+Enter or "Add": onto this chart."""
        if add is None:
            add = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier)
        text = self.entity_box.text().strip()
        if not text:
            return
        from graph.entities import resolve_entity

        try:  # a client console has no store to resolve in: the server resolves ids
            entity_id = text if self.ctx.remote else resolve_entity(self.ctx.workspace.store, text)
        except Exception as exc:  # the engine's message names what was not found
            self.status.setText(str(exc))
            return
        if add and self.model.graph is not None:
            self.add_entities([entity_id])
        else:
            self.show_entities([entity_id])

    def show_entities(self, ids: list[str], *, fresh: bool = True) -> Job | None:
        """Chart ``ids`` and their neighbourhood (a new chart unless ``fresh`` is False)."""
        if fresh:  # one undo step: clearing and charting the new entities
            self.cancel()
            self._remember()
            self.model.clear()
            self.redraw()
            self._fresh = True
        return self.expand(ids, depth=self.depth.value())

    def graph_store(self) -> Any:
        """Where the chart reads links: the workspace's store, or the cluster when its
        ``[graph] backend`` is Elasticsearch (then in a thread: the helper process only
        opens store files)."""
        from graph.backend import for_workspace

        chosen = None if self.ctx.remote else for_workspace(self.ctx.workspace)
        if chosen is not None and getattr(chosen, "name", "") == "elasticsearch":
            return chosen
        return self.ctx.workspace.store

    def expand(
        self,
        seeds: list[str],
        *,
        link_types: list[str] | None = None,
        depth: int = 1,
        max_nodes: int = MAX_NODES,
    ) -> Job | None:
        """Add the neighbours of ``seeds`` (in a worker); only new nodes move."""
        if not self.available or not seeds:
            return None
        self.cancel()
        self._asked = list(seeds)  # the entities the analyst asked to expand (growth_note)
        store = self.graph_store()
        current = self.model.node_ids()
        positions = dict(self.model.positions)
        keep = tuple(self.model.graph.seeds) if self.model.graph is not None else ()

        options: dict[str, Any] = {
            "positions": positions,
            "link_types": link_types,
            "depth": depth,
            "max_nodes": max_nodes,
            "keep_seeds": keep,
        }

        from graph.backend import default_fanout

        cap = None if self.ctx.remote else default_fanout(self.ctx.workspace)

        def compute(cancel: Any) -> Any:
            if cap is not None:  # hubs flagged, not expanded through (a cluster's default)
                return grow(store, current, seeds, cancel=cancel, max_fanout=cap, **options)
            if self.offload and store is self.ctx.workspace.store:
                try:
                    graph, pos, _ = unpack(
                        run_in_process(
                            grow_packed, str(store.path), current, seeds, cancel=cancel, **options
                        )
                    )
                    return graph, pos
                except OffloadError as exc:
                    log.warning("expanding in a thread instead: %s", exc)
            return grow(store, current, seeds, cancel=cancel, **options)

        remote_grow = getattr(self.ctx, "grow", None)  # a client console: the server expands
        chart = self.model.graph

        def work(_progress: Any, cancel: Any) -> Any:
            if remote_grow is not None:
                return remote_grow(chart, seeds, cancel=cancel, **options)
            # checked and audited by the graph.expand service, computed the chart's way
            return self.ctx.engines.graph_expand(
                entities=list(seeds),
                depth=depth,
                link_types=link_types,
                max_nodes=max_nodes,
                cancel=cancel,
                compute=lambda: compute(cancel),
            )

        what = ", ".join(seeds[:3]) + ("…" if len(seeds) > 3 else "")
        return self._run(work, f"expanding {what} …", self._apply_growth)

    def _run(self, work: Any, message: str, on_result: Any) -> Job:
        job = Job(work, "graph")
        job.result.connect(on_result)
        job.error.connect(
            lambda msg: self.status.setText(fill(self.tr("graph: {error}"), error=msg))
        )
        job.cancelled.connect(lambda: self.status.setText(self.tr("cancelled")))
        job.finished.connect(self._job_done)
        self.job = job
        self.cancel_button.setEnabled(True)
        self.status.setText(message)
        return job.start()

    def _job_done(self) -> None:
        self.job = None
        self._fresh = False
        self.cancel_button.setEnabled(False)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _apply_growth(self, value: tuple[Any, dict[str, tuple[float, float]]]) -> None:
        graph, positions = value
        if not self._fresh:  # a fresh chart's clear already remembered the previous one
            self._remember()
        self._fresh = False
        new = self.model.apply(graph, positions)
        self.colour.setCurrentIndex(0)
        self.redraw(fit=True)
        self.status.setText(
            self.chart_summary(len(graph.nodes), len(graph.edges), len(new))
            + self.growth_note(graph, self._asked)
        )

    def growth_note(self, graph: Any, asked: Sequence[str] = ()) -> str:
        """What an expansion left out: the node limit, and the hubs (entities with more links
        than the fan-out cap) kept in the chart but not expanded — with what to do when the
        entity the analyst asked to expand is one."""
        note = (
            self.tr(" (node limit reached: not every neighbour is shown)")
            if graph.truncated
            else ""
        )
        hubs = getattr(graph, "hubs", None) or {}
        if not hubs:
            return note
        shown = ", ".join(
            fill(self.tr("{entity} ({n} links)"), entity=h, n=f"{c:,}")
            for h, c in list(hubs.items())[:3]
        )
        note += (
            " ("
            + fill(
                count(
                    len(hubs),
                    self.tr("{n} hub not expanded: {hubs}"),
                    self.tr("{n} hubs not expanded: {hubs}"),
                ),
                hubs=shown,
            )
            + ")"
        )
        if set(hubs) & set(asked):
            note += self.tr(
                " — right-click it and choose Expand by link type to open one kind of link at "
                "a time, or raise [graph] max_fanout in superbrain.toml"
            )
        return note

    def chart_summary(self, entities: int, links: int, new: int) -> str:
        """'1 entity, 3 links, 1 new' (singular where it is one)."""
        return ", ".join(
            (
                count(entities, self.tr("{n} entity"), self.tr("{n} entities")),
                count(links, self.tr("{n} link"), self.tr("{n} links")),
                fill(self.tr("{n} new"), n=new),
            )
        )

    def clear(self) -> None:
        self.cancel()
        if self.model.graph is not None:
            self._remember()
        self.model.clear()
        self.redraw()

    def unhide_all(self) -> None:
        if self.model.hidden:
            self._remember()
        self.model.unhide_all()
        self.redraw()

    # -- drawing ------------------------------------------------------------------------------
    def _brush(self, colour: str) -> Any:
        brush = self._brushes.get(colour)
        if brush is None:
            brush = self._brushes[colour] = pg.mkBrush(colour)
        return brush

    def redraw(self, *, fit: bool = False) -> None:
        """Draw the model: one scatter per node style, one line item per link type, labels.

        A chart of up to :data:`SYNC_NODES` nodes is drawn at once. A bigger one is drawn a
        slice per event-loop turn (about :data:`DRAW_BUDGET_S` of work per turn: nodes in
        batches of :data:`NODE_BATCH`, labels :data:`LABEL_BATCH` at a time), so the window
        keeps responding while 5,000 nodes appear; :attr:`changed` is emitted when the last
        slice is drawn. Calling it again while drawing starts over with the current model. ``fit``
        zooms to the whole chart once the nodes are drawn.
        """
        self._drawing = self._draw_steps(fit)
        if len(self.model.positions) <= SYNC_NODES:
            self.finish_drawing()
        elif not self._draw_timer.isActive():
            self._draw_timer.start()

    def finish_drawing(self) -> None:
        """Draw whatever is still pending now (e.g. before exporting a picture)."""
        self._draw_timer.stop()
        drawing, self._drawing = self._drawing, None
        for _ in drawing or ():
            pass

    @property
    def drawing(self) -> bool:
        """True while a big chart is still being drawn slice by slice."""
        return self._drawing is not None

    def _continue_drawing(self) -> None:
        deadline = time.perf_counter() + DRAW_BUDGET_S
        while self._drawing is not None and time.perf_counter() < deadline:
            try:
                next(self._drawing)
            except StopIteration:
                self._drawing = None
        if self._drawing is None:
            self._draw_timer.stop()

    def _draw_steps(self, fit: bool = False) -> Iterator[None]:
        """The work of :meth:`redraw`, yielding between slices."""
        nodes = self.model.visible_nodes()
        positions = self.model.positions
        groups: dict[Any, list[Any]] = {}
        if nodes:
            styles = self.model.styles(nodes)
            pinned = self.model.pinned
            uniform = self.model.colour_mode == "type"
            for n, st in zip(nodes, styles, strict=True):
                key = (st.symbol, st.colour, st.size, n.id in pinned) if uniform else "mixed"
                groups.setdefault(key, []).append((n, st))
        for key in list(self.node_items):
            if key not in groups:
                self.node_items[key].setData(x=[], y=[])
        yield
        for key, members in groups.items():
            item = self.node_items.get(key)
            if item is None:
                item = self.node_items[key] = NodesItem(self)
                item.setZValue(10)
                self.plot.addItem(item)
            for lo in range(0, len(members), NODE_BATCH):
                batch = members[lo : lo + NODE_BATCH]
                xy = np.array([positions[n.id] for n, _ in batch], dtype=float) * SCALE
                style = self._batch_style(key, batch)
                ids = np.array([n.id for n, _ in batch], dtype=object)
                if lo == 0:
                    item.setData(x=xy[:, 0], y=xy[:, 1], data=ids, **style)
                else:
                    item.addPoints(x=xy[:, 0], y=xy[:, 1], data=ids, **style)
                yield
        if fit:
            self.plot.autoRange()
        by_type: dict[str, list[tuple[float, float]]] = {}
        for e in self.model.visible_edges():
            pts = by_type.setdefault(e.type, [])
            pts.append(positions[e.source])
            pts.append(positions[e.target])
        for ltype in list(self._edge_items):
            if ltype not in by_type:
                self._edge_items.pop(ltype).setData([], [])
        yield
        for ltype, pts in by_type.items():
            arr = np.asarray(pts, dtype=float) * SCALE
            item = self._edge_items.get(ltype)
            if item is None:
                item = pg.PlotCurveItem(pen=pg.mkPen(self.model.link_colour(ltype), width=1.2))
                item.setZValue(1)
                self.plot.addItem(item)
                self._edge_items[ltype] = item
            item.setData(arr[:, 0], arr[:, 1], connect="pairs")
            yield
        self._draw_selection()
        yield from self._label_steps(nodes)
        note = {
            "centrality": self.tr("colour and size: PageRank (red = most central)"),
            "community": self.tr("colour: community (Louvain)"),
        }.get(self.model.colour_mode, "")
        self.legend.set_items(
            self.model.legend(zh=current_language().startswith("zh")), self.theme, note
        )
        self.changed.emit()

    def _batch_style(self, key: Any, batch: list[Any]) -> dict[str, Any]:
        if key != "mixed":
            symbol, colour, size, is_pinned = key
            return {
                "size": size,
                "symbol": symbol,
                "brush": self._brush(colour),
                "pen": self._pin_pen if is_pinned else self._node_pen,
            }
        return {
            "size": np.array([st.size for _, st in batch]),
            "symbol": [st.symbol for _, st in batch],
            "brush": [self._brush(st.colour) for _, st in batch],
            "pen": [
                self._pin_pen if n.id in self.model.pinned else self._node_pen for n, _ in batch
            ],
        }

    def node_count(self) -> int:
        """Nodes drawn on the chart (hidden ones excluded)."""
        return sum(len(item.data) for item in self.node_items.values())

    def _label_steps(self, nodes: list[Any]) -> Iterator[None]:
        """Labels on the :data:`MAX_LABELS` most relevant nodes, :data:`LABEL_BATCH` per slice
        (creating a label item costs about half a millisecond; items are pooled and reused)."""
        degree: dict[str, int] = {}
        for e in self.model.visible_edges():
            degree[e.source] = degree.get(e.source, 0) + e.count
            degree[e.target] = degree.get(e.target, 0) + e.count
        seeds = set(self.model.graph.seeds) if self.model.graph is not None else set()
        ranked = sorted(
            nodes,
            key=lambda n: (
                n.id not in self.model.selected,
                n.id not in seeds,
                -degree.get(n.id, 0),
            ),
        )[: 4 * MAX_LABELS]
        # only labels that do not overlap (at this zoom; zooming in places them again)
        px_w, px_h = self.plot.getViewBox().viewPixelSize()
        texts = {n.id: self.model.label(n) for n in ranked}  # ✎ on nodes with case notes
        keep = set(
            place_labels(
                [
                    (
                        n.id,
                        self.model.xy(n.id)[0] / (px_w or 1.0),
                        -self.model.xy(n.id)[1] / (px_h or 1.0),
                        texts[n.id],
                    )
                    for n in ranked
                ],
                MAX_LABELS,
            )
        )
        ranked = [n for n in ranked if n.id in keep]
        self.labelled = [n.id for n in ranked]
        for i, n in enumerate(ranked):
            if i and i % LABEL_BATCH == 0:
                yield
            if i >= len(self._labels):
                item = pg.TextItem("", color=self.theme.text, anchor=(0.5, -0.4))
                item.setZValue(5)
                self.plot.addItem(item)
                self._labels.append(item)
            item = self._labels[i]
            text = texts[n.id]
            if item.toPlainText() != text:
                item.setText(text, color=self.theme.text)
            item.setPos(*self.model.xy(n.id))
            item.setVisible(True)
        for item in self._labels[len(ranked) :]:
            item.setVisible(False)

    def _place_labels_again(self) -> None:
        if self._drawing is None and self.model.graph is not None:
            for _ in self._label_steps(self.model.visible_nodes()):
                pass

    def _draw_selection(self) -> None:
        sel = [
            nid
            for nid in self.model.selected
            if nid in self.model.positions and nid not in self.model.hidden
        ]
        self.rings.setData(
            [
                {
                    "pos": self.model.xy(nid),
                    "size": 26,
                    "symbol": "o",
                    "brush": pg.mkBrush(0, 0, 0, 0),
                    "pen": pg.mkPen(self.theme.accent, width=3),
                }
                for nid in sel
            ]
        )

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.plot.setBackground(QColor(theme.base))
        self._node_pen = pg.mkPen(theme.base, width=1)
        for item in self._labels:
            item.setColor(theme.text)
        self.redraw()

    # -- interaction --------------------------------------------------------------------------
    def select(self, ids: list[str], *, additive: bool = False, emit: bool = True) -> None:
        if not additive:
            self.model.selected.clear()
        self.model.selected.update(
            i for i in ids if self.model.graph is not None and i in self.model.graph.nodes
        )
        self._draw_selection()
        if emit:
            self.bus.entities_selected.emit(sorted(self.model.selected), "graph")
            if len(ids) == 1:
                self.status.setText(self._describe(ids[0]))

    def edge_at(self, x: float, y: float, tolerance_px: float = 5.0) -> Any | None:
        """The visible link nearest to view point ``(x, y)`` within ``tolerance_px``."""
        edges = self.model.visible_edges()
        if not edges:
            return None
        pos = self.model.positions
        a = np.array([pos[e.source] for e in edges], dtype=float) * SCALE
        b = np.array([pos[e.target] for e in edges], dtype=float) * SCALE
        px_w, px_h = self.plot.getViewBox().viewPixelSize()
        scale = np.array([1.0 / (px_w or 1.0), 1.0 / (px_h or 1.0)])
        a, b, p = a * scale, b * scale, np.array([x, y]) * scale  # in screen pixels
        ab = b - a
        t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0.0, 1.0)
        dist = np.hypot(*(a + ab * t[:, None] - p).T)
        i = int(dist.argmin())
        return edges[i] if dist[i] <= tolerance_px else None

    def link_text(self, edge: Any) -> str:
        """A link's hover label: its ends, its type in the UI language and how often."""
        lt = default_schema().links.get(edge.type)
        zh = current_language().startswith("zh")
        label = (lt.label_zh if zh and lt.label_zh else lt.label) if lt else edge.type
        nodes = self.model.graph.nodes if self.model.graph is not None else {}

        def name(nid: str) -> str:
            node = nodes.get(nid)
            return chart_label(nid, node.label if node else None)

        return f"{name(edge.source)} — {label} → {name(edge.target)}  × {edge.count}"

    def _hover_link(self, scene_pos: Any) -> None:
        if self.model.graph is None or self._drawing is not None:
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return
        point = vb.mapSceneToView(scene_pos)
        edge = self.edge_at(point.x(), point.y())
        self.plot.setToolTip(plain_tooltip(self.link_text(edge)) if edge is not None else "")

    def hover_text(self, nid: Any) -> str:
        """The hover card of a node (plain text)."""
        return self.model.hover_text(str(nid), zh=current_language().startswith("zh"))

    def _describe(self, nid: str) -> str:
        node = self.model.graph.nodes.get(nid) if self.model.graph is not None else None
        if node is None:
            return nid
        links = sum(1 for e in self.model.graph.edges if nid in (e.source, e.target))
        return f"{node.type}: {node.label or nid} — " + count(
            links, self.tr("{n} link on the chart"), self.tr("{n} links on the chart")
        )

    def _on_external_selection(self, ids: list[str], origin: str) -> None:
        if origin != "graph":
            self.select(ids, emit=False)

    def _on_records_selected(self, uids: list[str], origin: str) -> None:
        """Selected search results / markers: select the entities they mention on the chart."""
        if origin == "graph" or self.model.graph is None:
            return
        store = self.ctx.workspace.store
        ids = [e.id for uid in uids[:50] for e in (store.get_record(uid) or _NO_RECORD).entities]
        self.select(ids, emit=False)

    def begin_move(self) -> None:
        """A drag starts: one undo step for the whole move."""
        self._remember()

    def drag_node(self, nid: str, x: float, y: float) -> None:
        self.model.move(nid, x, y)
        self.redraw()

    def node_menu(self, nid: str) -> QMenu:
        """The right-click menu of one node."""
        menu = QMenu(self)
        present(menu.addAction(self.tr("Expand"))).triggered.connect(lambda: self.expand([nid]))
        by_type = present(menu.addMenu(self.tr("Expand by link type")))
        for name, lt in sorted(default_schema().links.items()):
            present(by_type.addAction(f"{lt.label} ({name})")).triggered.connect(
                lambda _=False, t=name: self.expand([nid], link_types=[t])
            )
        present(menu.addAction(self.tr("Find path to…"))).triggered.connect(
            lambda: self.ask_path(nid)
        )
        present(menu.addAction(self.tr("Moving together…"))).triggered.connect(
            lambda: self.moving_together(nid)
        )
        pinned = nid in self.model.pinned
        present(menu.addAction(self.tr("Unpin") if pinned else self.tr("Pin"))).triggered.connect(
            lambda: (self._remember(), self.model.toggle_pin(nid), self.redraw())  # type: ignore[func-returns-value]
        )
        present(menu.addAction(self.tr("Hide"))).triggered.connect(lambda: self.hide_nodes([nid]))
        menu.addSeparator()
        present(menu.addAction(self.tr("Colour by centrality"))).triggered.connect(
            self.colour_by_centrality
        )
        present(menu.addAction(self.tr("Show communities"))).triggered.connect(
            self.show_communities
        )
        menu.addSeparator()
        for view, label in (("map", "Show on map"), ("timeline", "Show on timeline")):
            present(menu.addAction(label)).triggered.connect(
                lambda _=False, v=view: self.bus.pivot.emit(Focus(v, "entity", (nid,)))
            )
        present(menu.addAction(self.tr("Search its records"))).triggered.connect(
            lambda: self.bus.pivot.emit(Focus("search", "query", (nid.split(":", 1)[-1],)))
        )
        return menu

    def add_entities(self, ids: list[str]) -> Job | None:
        """Add ``ids`` and the links among them and the chart to the chart (in a worker)."""
        if not self.available or not ids:
            return None
        store = self.ctx.workspace.store
        current = self.model.node_ids()
        positions = dict(self.model.positions)
        keep = tuple(self.model.graph.seeds) if self.model.graph is not None else ()
        return self._run(
            lambda _p, _c: with_entities(store, current, ids, positions=positions, keep_seeds=keep),
            fill(self.tr("adding {n} entities …"), n=len(ids)),
            self._apply_growth,
        )

    def moving_together(self, nid: str = "") -> Any:
        """The Moving together dialog for ``nid`` (vehicles or phones seen with it)."""
        from console.cooccur_dialog import CooccurDialog

        dialog = CooccurDialog(self, nid)
        dialog.show()
        if nid:
            dialog.run()
        self._cooccur = dialog
        return dialog

    def hide_nodes(self, ids: list[str]) -> None:
        self._remember()
        self.model.hide(ids)
        self.redraw()

    def ask_path(self, source: str) -> Job | None:
        """The Find path dialog: the target from the chart or a search, hubs and weak link
        types to leave out."""
        dialog = PathDialog(self, source)
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.target():
            return None
        return self.find_path(source, dialog.target(), link_types=dialog.link_types())

    def find_path(
        self, source: str, target: str, link_types: list[str] | None = None
    ) -> Job | None:
        """Shortest path (graph engine) from ``source`` to ``target``, added to the chart;
        over ``link_types`` only when given (:func:`console.chart_model.path_link_types`)."""
        reason = self.ctx.engines.graph_path.unavailable()
        if reason:
            self.status.setText(reason)
            return None
        store = self.graph_store()
        current = self.model.node_ids()
        positions = dict(self.model.positions)
        keep = tuple(self.model.graph.seeds) if self.model.graph is not None else ()

        def compute(cancel: Any) -> Any:
            if self.offload and store is self.ctx.workspace.store:
                try:
                    return unpack(
                        run_in_process(
                            path_packed,
                            str(store.path),
                            current,
                            source,
                            target,
                            positions=positions,
                            keep_seeds=keep,
                            link_types=link_types,
                            cancel=cancel,
                        )
                    )
                except OffloadError as exc:
                    log.warning("finding the path in a thread instead: %s", exc)
            return path_graph(
                store,
                current,
                source,
                target,
                positions=positions,
                keep_seeds=keep,
                link_types=link_types,
                cancel=cancel,
            )

        remote_path = getattr(self.ctx, "path_graph", None)  # a client console
        chart = self.model.graph

        def work(_progress: Any, cancel: Any) -> Any:
            if remote_path is not None:
                return remote_path(
                    chart, source, target, positions=positions, keep_seeds=keep, cancel=cancel
                )
            # checked and audited by the graph.path service, computed the chart's way
            return self.ctx.engines.graph_path(
                source=source, target=target, cancel=cancel, compute=lambda: compute(cancel)
            )

        def done(value: Any) -> None:
            graph, pos, hops = value
            self._apply_growth((graph, pos))
            self.select(hops)
            self.status.setText(
                fill(self.tr("path of {n} hops: "), n=len(hops) - 1) + " → ".join(hops)
            )

        return self._run(work, f"finding a path {source} → {target} …", done)

    def _colour_changed(self, index: int) -> None:
        if index == 1:
            self.colour_by_centrality()
        elif index == 2:
            self.show_communities()
        else:
            self.model.colour_mode = "type"
            self.redraw()

    def colour_by_centrality(self) -> Job | None:
        graph = self.model.graph
        if graph is None or not self.ctx.engines.graph_centrality.available():
            return None

        def done(scores: dict[str, float]) -> None:
            self.model.scores = scores
            self.model.colour_mode = "centrality"
            self.colour.setCurrentIndex(1)
            self.redraw()
            self.status.setText("size and colour: PageRank (red = most central)")

        return self._run(
            lambda _p, _c: self.ctx.engines.graph_centrality(
                graph=graph, measures=["pagerank"]
            ).scores["pagerank"],
            "computing centrality …",
            done,
        )

    def show_communities(self) -> Job | None:
        graph = self.model.graph
        if graph is None or not self.ctx.engines.graph_communities.available():
            return None

        def done(groups: list[list[str]]) -> None:
            self.model.community = {nid: i for i, g in enumerate(groups) for nid in g}
            self.model.colour_mode = "community"
            self.colour.setCurrentIndex(2)
            self.redraw()
            self.status.setText(fill(self.tr("{n} communities (Louvain)"), n=len(groups)))

        return self._run(
            lambda _p, _c: self.ctx.engines.graph_communities(graph=graph),
            "finding communities …",
            done,
        )

    # -- export -------------------------------------------------------------------------------
    def export_png(self, path: Path) -> Path:
        """Save the chart as a picture: like any export, permission-checked and audited."""
        self.finish_drawing()  # the picture shows the whole chart, not a half-drawn one
        reason = self.ctx.engines.graph_export.unavailable()
        if not reason and self.ctx.remote:  # the grab is of this screen, the file the server's
            reason = (
                "not available in client mode: a picture of the chart is made on the "
                "centre server from a saved chart — save the chart to a case, then use "
                "Chart picture in the Cases dock"
            )
        if reason or self.model.graph is None:
            raise RuntimeError(reason or "nothing to export")

        def write() -> list[Path]:
            if not self.plot.grab().save(str(path), "PNG"):
                raise OSError(f"cannot write the picture {str(path)!r}")
            return [Path(path)]

        # the graph.export service checks the export permission and audits the picture
        self.ctx.engines.graph_export(
            graph=self.model.graph, output=str(path), format="png", write=write
        )
        return path

    def export_graphml(self, path: Path) -> list[Path]:
        reason = self.ctx.engines.graph_export.unavailable()
        if reason or self.model.graph is None:
            raise RuntimeError(reason or "nothing to export")
        # the graph.export service checks the export permission and audits the export
        out = self.ctx.engines.graph_export(
            graph=self.model.graph, output=str(path), format="graphml"
        )
        return [Path(f) for f in out["files"]]

    def _export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chart as PNG", "chart.png", "PNG (*.png)"
        )
        if path:
            self.export_png(Path(path))
            self.status.setText(fill(self.tr("saved {path}"), path=path))

    def _export_graphml(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chart as GraphML", "chart.graphml", "GraphML (*.graphml)"
        )
        if path:
            try:
                self.export_graphml(Path(path))
                self.status.setText(fill(self.tr("saved {path}"), path=path))
            except Exception as exc:  # shown to the user; the file is not written
                self.status.setText(fill(self.tr("export failed: {error}"), error=exc))

    # -- pivots -------------------------------------------------------------------------------
    def show_focus(self, focus: Focus) -> None:
        if focus.kind == "entity":
            self.show_entities(list(focus.ids))
        elif focus.kind == "record":
            ids: list[str] = []
            for uid in focus.ids:
                record = self.ctx.workspace.store.get_record(uid)
                if record is not None:
                    ids += [e.id for e in record.entities]
            if ids:
                self.show_entities(list(dict.fromkeys(ids)))

    def shutdown(self) -> None:
        self.cancel()
        self._draw_timer.stop()
        self._drawing = None
