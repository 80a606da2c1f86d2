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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QCursor
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
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
    SCALE,
    ChartModel,
    chart_label,
    grow,
    grow_packed,
    path_graph,
    path_packed,
    unpack,
)
from console.context import ConsoleContext
from console.i18n import count, fill
from console.labels import data_label
from console.navigation import Focus
from console.notice import Notice, engine_unavailable_text
from console.offload import OffloadError, run_in_process, warm_up
from console.theme import DARK, Theme
from console.workers import Job
from core.schema import default_schema

log = logging.getLogger(__name__)

MAX_LABELS = 250
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
        super().__init__(pxMode=True)
        self.panel = panel
        self._drag: str | None = None

    def _node_at(self, pos: QPointF) -> str | None:
        pts = self.pointsAt(pos)
        return pts[0].data() if len(pts) else None

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802
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

    def mouseDragEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._drag = self._node_at(ev.buttonDownPos())
            if self._drag is None:
                ev.ignore()
                return
        elif self._drag is None:
            ev.ignore()
            return
        ev.accept()
        pos = ev.pos()
        self.panel.drag_node(self._drag, pos.x(), pos.y())
        if ev.isFinish():
            self._drag = None


class GraphPanel(QWidget):
    """The link chart with its toolbar."""

    title = "Link chart"
    changed = pyqtSignal()  # the chart was redrawn with new content

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.model = ChartModel()
        self.job: Job | None = None
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
        self.available = ctx.api("graph.expand", "expand") is not None
        # expansions and paths run in the helper process, where they cannot hold the GUI's GIL
        # (docs/PERFORMANCE.md, "Console responsiveness"); False runs them in the worker thread
        self.offload = True
        if self.available:  # start the helper now, not on the analyst's first expansion
            Job(lambda _p, _c: warm_up(), "graph helper start").start()

        self.entity_box = QLineEdit()
        self.entity_box.setPlaceholderText(
            self.tr("entity id, plate, phone or ID number — Enter to chart"))
        self.entity_box.returnPressed.connect(self._chart_typed)
        self.depth = QSpinBox()
        self.depth.setRange(1, 4)
        self.depth.setPrefix(self.tr("depth "))
        self.colour = QComboBox()
        self.colour.addItems([self.tr("colour by type"), self.tr("colour by centrality"),
                              self.tr("show communities")])
        self.colour.activated.connect(self._colour_changed)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = {self.tr("Clear"): self.clear, self.tr("Unhide all"): self.unhide_all,
                   self.tr("PNG…"): self._export_png, self.tr("GraphML…"): self._export_graphml}
        top = QHBoxLayout()
        top.addWidget(self.entity_box, 1)
        top.addWidget(self.depth)
        top.addWidget(self.colour)
        for text, slot in buttons.items():
            b = QPushButton(text)
            b.clicked.connect(slot)
            top.addWidget(b)
        top.addWidget(self.cancel_button)
        self.status = data_label(self.tr("Double-click a node to expand it; right-click for more."))
        self.status.setProperty("role", "muted")

        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.getPlotItem().hideButtons()
        # one scatter per style group: uniform styles take pyqtgraph's fast path
        self.node_items: dict[Any, NodesItem] = {}
        self.rings = pg.ScatterPlotItem(pxMode=True)
        self.plot.addItem(self.rings)
        self.rings.setZValue(9)

        self.stack = QStackedLayout()
        self.notice = Notice(engine_unavailable_text(
            "graph", self.ctx.api_error("graph.expand", "expand")))
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

    # -- building the chart -------------------------------------------------------------------
    def _chart_typed(self) -> None:
        text = self.entity_box.text().strip()
        if not text:
            return
        resolve = self.ctx.api("graph.entities", "resolve_entity")
        try:
            entity_id = resolve(self.ctx.workspace.store, text) if resolve else text
        except Exception as exc:  # the engine's message names what was not found
            self.status.setText(str(exc))
            return
        self.show_entities([entity_id])

    def show_entities(self, ids: list[str], *, fresh: bool = True) -> Job | None:
        """Chart ``ids`` and their neighbourhood (a new chart unless ``fresh`` is False)."""
        if fresh:
            self.clear()
        return self.expand(ids, depth=self.depth.value())

    def graph_store(self) -> Any:
        """Where the chart reads links: the workspace's store, or the cluster when its
        ``[graph] backend`` is Elasticsearch (then in a thread: the helper process only
        opens store files)."""
        pick = self.ctx.api("graph.backend", "for_workspace")
        chosen = pick(self.ctx.workspace) if pick is not None else None
        if chosen is not None and getattr(chosen, "name", "") == "elasticsearch":
            return chosen
        return self.ctx.workspace.store

    def expand(self, seeds: list[str], *, link_types: list[str] | None = None,
               depth: int = 1, max_nodes: int = MAX_NODES) -> Job | None:
        """Add the neighbours of ``seeds`` (in a worker); only new nodes move."""
        if not self.available or not seeds:
            return None
        self.cancel()
        store = self.graph_store()
        current = self.model.node_ids()
        positions = dict(self.model.positions)
        keep = tuple(self.model.graph.seeds) if self.model.graph is not None else ()

        options = {"positions": positions, "link_types": link_types, "depth": depth,
                   "max_nodes": max_nodes, "keep_seeds": keep}

        fanout = self.ctx.api("graph.backend", "default_fanout")
        cap = fanout(self.ctx.workspace) if fanout is not None else None

        def compute(cancel: Any) -> Any:
            if cap is not None:  # hubs flagged, not expanded through (a cluster's default)
                return grow(store, current, seeds, cancel=cancel, max_fanout=cap, **options)
            if self.offload and store is self.ctx.workspace.store:
                try:
                    graph, pos, _ = unpack(run_in_process(
                        grow_packed, str(store.path), current, seeds, cancel=cancel, **options))
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
            return self.ctx.call("graph.expand", entities=list(seeds), depth=depth,
                                 link_types=link_types, max_nodes=max_nodes, cancel=cancel,
                                 compute=lambda: compute(cancel))

        what = ", ".join(seeds[:3]) + ("…" if len(seeds) > 3 else "")
        return self._run(work, f"expanding {what} …", self._apply_growth)

    def _run(self, work: Any, message: str, on_result: Any) -> Job:
        job = Job(work, "graph")
        job.result.connect(on_result)
        job.error.connect(
            lambda msg: self.status.setText(fill(self.tr("graph: {error}"), error=msg)))
        job.cancelled.connect(lambda: self.status.setText(self.tr("cancelled")))
        job.finished.connect(self._job_done)
        self.job = job
        self.cancel_button.setEnabled(True)
        self.status.setText(message)
        return job.start()

    def _job_done(self) -> None:
        self.job = None
        self.cancel_button.setEnabled(False)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _apply_growth(self, value: tuple[Any, dict[str, tuple[float, float]]]) -> None:
        graph, positions = value
        new = self.model.apply(graph, positions)
        self.colour.setCurrentIndex(0)
        self.redraw(fit=True)
        note = " (node limit reached: not every neighbour is shown)" if graph.truncated else ""
        hubs = getattr(graph, "hubs", None) or {}
        if hubs:
            shown = ", ".join(f"{h} ({c:,} links)" for h, c in list(hubs.items())[:3])
            note += f" ({len(hubs)} hubs not expanded: {shown})"
        self.status.setText(self.chart_summary(len(graph.nodes), len(graph.edges), len(new))
                            + note)

    def chart_summary(self, entities: int, links: int, new: int) -> str:
        """'1 entity, 3 links, 1 new' (singular where it is one)."""
        return ", ".join((count(entities, self.tr("{n} entity"), self.tr("{n} entities")),
                          count(links, self.tr("{n} link"), self.tr("{n} links")),
                          fill(self.tr("{n} new"), n=new)))

    def clear(self) -> None:
        self.cancel()
        self.model.clear()
        self.redraw()

    def unhide_all(self) -> None:
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
                batch = members[lo:lo + NODE_BATCH]
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
        self.changed.emit()

    def _batch_style(self, key: Any, batch: list[Any]) -> dict[str, Any]:
        if key != "mixed":
            symbol, colour, size, is_pinned = key
            return {"size": size, "symbol": symbol, "brush": self._brush(colour),
                    "pen": self._pin_pen if is_pinned else self._node_pen}
        return {"size": np.array([st.size for _, st in batch]),
                "symbol": [st.symbol for _, st in batch],
                "brush": [self._brush(st.colour) for _, st in batch],
                "pen": [self._pin_pen if n.id in self.model.pinned else self._node_pen
                        for n, _ in batch]}

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
        ranked = sorted(nodes, key=lambda n: (n.id not in self.model.selected, n.id not in seeds,
                                              -degree.get(n.id, 0)))[:MAX_LABELS]
        for i, n in enumerate(ranked):
            if i and i % LABEL_BATCH == 0:
                yield
            if i >= len(self._labels):
                item = pg.TextItem("", color=self.theme.text, anchor=(0.5, -0.4))
                item.setZValue(5)
                self.plot.addItem(item)
                self._labels.append(item)
            item = self._labels[i]
            text = chart_label(n.id, n.label)
            if item.toPlainText() != text:
                item.setText(text, color=self.theme.text)
            item.setPos(*self.model.xy(n.id))
            item.setVisible(True)
        for item in self._labels[len(ranked):]:
            item.setVisible(False)

    def _draw_selection(self) -> None:
        sel = [nid for nid in self.model.selected if nid in self.model.positions
               and nid not in self.model.hidden]
        self.rings.setData([{"pos": self.model.xy(nid), "size": 26, "symbol": "o",
                             "brush": pg.mkBrush(0, 0, 0, 0),
                             "pen": pg.mkPen(self.theme.accent, width=3)} for nid in sel])

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
        self.model.selected.update(i for i in ids if self.model.graph is not None
                                   and i in self.model.graph.nodes)
        self._draw_selection()
        if emit:
            self.bus.entities_selected.emit(sorted(self.model.selected), "graph")
            if len(ids) == 1:
                self.status.setText(self._describe(ids[0]))

    def _describe(self, nid: str) -> str:
        node = self.model.graph.nodes.get(nid) if self.model.graph is not None else None
        if node is None:
            return nid
        links = sum(1 for e in self.model.graph.edges if nid in (e.source, e.target))
        return f"{node.type}: {node.label or nid} — " + count(
            links, self.tr("{n} link on the chart"), self.tr("{n} links on the chart"))

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

    def drag_node(self, nid: str, x: float, y: float) -> None:
        self.model.move(nid, x, y)
        self.redraw()

    def node_menu(self, nid: str) -> QMenu:
        """The right-click menu of one node."""
        menu = QMenu(self)
        menu.addAction(self.tr("Expand")).triggered.connect(lambda: self.expand([nid]))
        by_type = menu.addMenu(self.tr("Expand by link type"))
        for name, lt in sorted(default_schema().links.items()):
            by_type.addAction(f"{lt.label} ({name})").triggered.connect(
                lambda _=False, t=name: self.expand([nid], link_types=[t]))
        menu.addAction(self.tr("Find path to…")).triggered.connect(lambda: self.ask_path(nid))
        pinned = nid in self.model.pinned
        menu.addAction(self.tr("Unpin") if pinned else "Pin").triggered.connect(
            lambda: (self.model.toggle_pin(nid), self.redraw()))
        menu.addAction(self.tr("Hide")).triggered.connect(lambda: self.hide_nodes([nid]))
        menu.addSeparator()
        menu.addAction(self.tr("Colour by centrality")).triggered.connect(self.colour_by_centrality)
        menu.addAction(self.tr("Show communities")).triggered.connect(self.show_communities)
        menu.addSeparator()
        for view, label in (("map", "Show on map"), ("timeline", "Show on timeline")):
            menu.addAction(label).triggered.connect(
                lambda _=False, v=view: self.bus.pivot.emit(Focus(v, "entity", (nid,))))
        menu.addAction(self.tr("Search its records")).triggered.connect(
            lambda: self.bus.pivot.emit(Focus("search", "query", (nid.split(":", 1)[-1],))))
        return menu

    def hide_nodes(self, ids: list[str]) -> None:
        self.model.hide(ids)
        self.redraw()

    def ask_path(self, source: str) -> None:
        others = [i for i in self.model.selected if i != source]
        default = others[0] if others else ""
        target, ok = QInputDialog.getText(self, "Find path", f"Path from {source} to:",
                                          text=default)
        if ok and target.strip():
            self.find_path(source, target.strip())

    def find_path(self, source: str, target: str) -> Job | None:
        """Shortest path (graph engine) from ``source`` to ``target``, added to the chart."""
        if self.ctx.api("graph.expand", "find_path") is None:
            self.status.setText(self.ctx.api_error("graph.expand", "find_path"))
            return None
        store = self.graph_store()
        current = self.model.node_ids()
        positions = dict(self.model.positions)
        keep = tuple(self.model.graph.seeds) if self.model.graph is not None else ()

        def compute(cancel: Any) -> Any:
            if self.offload and store is self.ctx.workspace.store:
                try:
                    return unpack(run_in_process(path_packed, str(store.path), current, source,
                                                 target, positions=positions, keep_seeds=keep,
                                                 cancel=cancel))
                except OffloadError as exc:
                    log.warning("finding the path in a thread instead: %s", exc)
            return path_graph(store, current, source, target, positions=positions,
                              keep_seeds=keep, cancel=cancel)

        def work(_progress: Any, cancel: Any) -> Any:
            # checked and audited by the graph.path service, computed the chart's way
            return self.ctx.call("graph.path", source=source, target=target, cancel=cancel,
                                 compute=lambda: compute(cancel))

        def done(value: Any) -> None:
            graph, pos, hops = value
            self._apply_growth((graph, pos))
            self.select(hops)
            self.status.setText(fill(self.tr("path of {n} hops: "), n=len(hops) - 1)
                                + " → ".join(hops))

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
        centrality = self.ctx.api("graph.analysis", "centrality")
        if graph is None or centrality is None:
            return None

        def done(scores: dict[str, float]) -> None:
            self.model.scores = scores
            self.model.colour_mode = "centrality"
            self.colour.setCurrentIndex(1)
            self.redraw()
            self.status.setText("size and colour: PageRank (red = most central)")

        return self._run(lambda _p, _c: self.ctx.call(
            "graph.centrality", graph=graph, measures=["pagerank"]).scores["pagerank"],
            "computing centrality …", done)

    def show_communities(self) -> Job | None:
        graph = self.model.graph
        communities = self.ctx.api("graph.analysis", "communities")
        if graph is None or communities is None:
            return None

        def done(groups: list[list[str]]) -> None:
            self.model.community = {nid: i for i, g in enumerate(groups) for nid in g}
            self.model.colour_mode = "community"
            self.colour.setCurrentIndex(2)
            self.redraw()
            self.status.setText(fill(self.tr("{n} communities (Louvain)"), n=len(groups)))

        return self._run(lambda _p, _c: self.ctx.call("graph.communities", graph=graph),
                         "finding communities …", done)

    # -- export -------------------------------------------------------------------------------
    def export_png(self, path: Path) -> Path:
        """Save the chart as a picture: like any export, permission-checked and audited."""
        self.finish_drawing()  # the picture shows the whole chart, not a half-drawn one
        audited = self.ctx.api("graph.export", "audited_export")
        if audited is None or self.model.graph is None:
            raise RuntimeError("nothing to export" if audited else
                               self.ctx.api_error("graph.export", "audited_export"))

        def write() -> list[Path]:
            if not self.plot.grab().save(str(path), "PNG"):
                raise OSError(f"cannot write the picture {str(path)!r}")
            return [Path(path)]

        # the graph.export service checks the export permission and audits the picture
        self.ctx.call("graph.export", graph=self.model.graph, output=str(path), format="png",
                      write=write)
        return path

    def export_graphml(self, path: Path) -> list[Path]:
        export = self.ctx.api("graph.export", "export_graph")
        if export is None or self.model.graph is None:
            raise RuntimeError("nothing to export" if export else
                               self.ctx.api_error("graph.export", "export_graph"))
        # the graph.export service checks the export permission and audits the export
        out = self.ctx.call("graph.export", graph=self.model.graph, output=str(path),
                            format="graphml")
        return [Path(f) for f in out["files"]]

    def _export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export chart as PNG", "chart.png",
                                              "PNG (*.png)")
        if path:
            self.export_png(Path(path))
            self.status.setText(fill(self.tr("saved {path}"), path=path))

    def _export_graphml(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export chart as GraphML", "chart.graphml",
                                              "GraphML (*.graphml)")
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
