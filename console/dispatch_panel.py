"""Dispatch board: the incident queue by priority with timers, its own map of the selected
incident and the recommended units, the unit board by status, and recommend / assign / release
actions — a view over the ``ops`` engine.

Every action runs in a worker through :class:`console.opsview.OpsView`; the engine decides and
audits, and when it refuses (the unit was taken by another console a moment ago, an invalid
status change) the board shows its message as it is. Changes from other consoles arrive by
polling the engine's event journal (on a centre, by the server's push).

Position fixes are pushed, never polled: from the engine's in-process bus (local mode) or the
server's event stream (:mod:`console.remote_app`) into :meth:`DispatchPanel.push_position`,
which keeps the newest fix per unit and shows them together every
:data:`console.opsview.POSITION_FLUSH_MS` (the row moves in place, the map redraws once), so
200 units reporting every 10 s cost the console a few small updates a second, not a reload each.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.context import ConsoleContext
from console.dispatch_map import DispatchMap
from console.dispatch_models import QueueModel, UnitsModel, incident_detail, state_label
from console.i18n import current_language, fill
from console.incident_followup import FollowupView
from console.labels import data_label, plain_tooltip
from console.navigation import Focus
from console.notice import Notice, engine_unavailable_text
from console.opsview import (
    POSITION_FLUSH_MS,
    OpsView,
    PositionFixes,
    unavailable_reason,
    unit_points,
)
from console.qtnone import present
from console.workers import Job, Poller

log = logging.getLogger(__name__)

#: How long the board's list of closed incidents is shown before it is read again (seconds).
CLOSED_REFRESH_S = 30.0


def _table(model: Any) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    present(view.verticalHeader()).hide()
    view.setAlternatingRowColors(True)
    present(view.horizontalHeader()).setStretchLastSection(True)
    # fixed widths: resizing to contents measures every row (thousands) on each update
    present(view.horizontalHeader()).setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    present(view.verticalHeader()).setDefaultSectionSize(24)
    return view


def status_choices(machine: Any, current: str) -> list[tuple[str, str]]:
    """(state, label) for every state the unit state machine allows from ``current``, labelled
    as the operators' table says ("下班 off duty"); staying put is not a choice."""
    zh = current_language().startswith("zh")
    return [
        (s, state_label(machine.label(s), zh)) for s in machine.allowed(current) if s != current
    ]


class DispatchPanel(QWidget):
    """The dispatch board."""

    title = "Dispatch board"
    loaded = pyqtSignal()  # the board shows fresh data
    action_done = pyqtSignal(str)  # the engine's answer (success or refusal) to an action
    recs_refreshed = pyqtSignal(list)  # recommendations recomputed after an assignment
    positions_shown = pyqtSignal(int)  # pushed fixes shown: how many units moved
    _moved = pyqtSignal(object)  # a fix from the engine's bus (any thread) to the GUI thread

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.ops: OpsView | None = None
        self.last_event = -1
        self._followup_event = -1
        self.recommendations: list[Any] = []
        self._recs_for: int | None = None  # the incident the recommendations are for
        self.fixes = PositionFixes()
        self._closed: tuple[float, list[dict[str, Any]]] | None = None  # (read at, rows)
        self._unsubscribe_moves: Any = None
        layout = QVBoxLayout(self)
        reason = unavailable_reason(ctx)
        if reason:
            self.notice = Notice(engine_unavailable_text("ops", reason))
            layout.addWidget(self.notice)
            self.queue_model = QueueModel()
            self.units_model = UnitsModel()
            return
        self.counts = data_label(self.tr("loading the board …"))
        self.counts.setProperty("role", "title")
        self.counts.setWordWrap(True)
        self.message = data_label("", role="")
        self.message.setWordWrap(True)

        self.queue_model = QueueModel()
        self.queue = _table(self.queue_model)
        present(self.queue.selectionModel()).currentRowChanged.connect(self._incident_selected)
        self.queue.doubleClicked.connect(self._open_incident_record)
        for col, width in enumerate((34, 76, 104, 72, 64, 90)):
            self.queue.setColumnWidth(col, width)
        self.recs = QTableWidget(0, 5)
        self.recs.setHorizontalHeaderLabels(
            [
                self.tr("Unit"),
                self.tr("Type"),
                self.tr("Distance"),
                self.tr("ETA"),
                self.tr("Position"),
            ]
        )
        self.recs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        present(self.recs.verticalHeader()).hide()
        present(self.recs.horizontalHeader()).setStretchLastSection(True)
        self.recommend_button = QPushButton(self.tr("Recommend"))
        self.recommend_button.clicked.connect(self.recommend_selected)
        self.assign_button = QPushButton(self.tr("Assign selected units"))
        self.assign_button.setProperty("role", "primary")
        self.assign_button.clicked.connect(self.assign_selected)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        self.scope = QComboBox()
        self.scope.addItem(self.tr("Incident queue (most urgent first)"), "open")
        self.scope.addItem(self.tr("Closed incidents (newest first)"), "closed")
        self.scope.currentIndexChanged.connect(self._scope_changed)
        lv.addWidget(self.scope)
        # what the selected incident is: text, reporter, the routing rule that fired, timers
        self.detail = data_label(self.tr("Select an incident in the queue."), role="")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # what came back: the units' feedback and photos, the citizen's rating; with the
        # detail in one scrolled box, so long notes never push the recommendations away
        self.followup = FollowupView(ctx, self._local_time)
        self.followup.hide()
        box = QWidget()
        bv = QVBoxLayout(box)
        bv.setContentsMargins(0, 0, 0, 0)
        bv.addWidget(self.detail, 1)  # fills the box; its text sits at the top
        bv.addWidget(self.followup)
        self.detail_scroll = QScrollArea()
        self.detail_scroll.setWidget(box)
        self.detail_scroll.setWidgetResizable(True)
        self.detail_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.detail_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        queue_split = QSplitter(Qt.Orientation.Vertical)
        queue_split.addWidget(self.queue)
        queue_split.addWidget(self.detail_scroll)
        queue_split.setSizes([240, 320])
        lv.addWidget(queue_split, 5)
        rb = QHBoxLayout()
        rb.addWidget(QLabel(self.tr("Recommended units")), 1)
        rb.addWidget(self.recommend_button)
        rb.addWidget(self.assign_button)
        lv.addLayout(rb)
        lv.addWidget(self.recs, 2)

        self.units_model = UnitsModel()
        self.units = _table(self.units_model)
        present(self.units.selectionModel()).currentRowChanged.connect(self._unit_selected)
        for col, width in enumerate((128, 78, 74, 60, 60)):
            self.units.setColumnWidth(col, width)
        self.release_button = QPushButton(self.tr("Release"))
        self.release_button.clicked.connect(self.release_selected)
        self.status_box = QComboBox()
        self.status_box.setPlaceholderText(self.tr("set status…"))
        self.status_box.activated.connect(self._status_chosen)
        middle = QWidget()
        mv = QVBoxLayout(middle)
        mv.setContentsMargins(0, 0, 0, 0)
        mv.addWidget(QLabel(self.tr("Units by status")))
        mv.addWidget(self.units, 1)
        ub = QHBoxLayout()
        ub.addWidget(self.status_box, 1)
        ub.addWidget(self.release_button)
        mv.addLayout(ub)

        # the board's own map beside the queue: the selected incident and its recommended
        # units (the Map view, "Show in Map view", has every layer)
        self.map = DispatchMap(ctx, bus)
        self.map.unit_clicked.connect(self._map_unit_clicked)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.map)
        right.addWidget(middle)
        right.setSizes([360, 300])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([560, 520])
        self.split = split
        self.map_button = QPushButton(self.tr("Show in Map view"))
        self.map_button.setToolTip(
            self.tr(
                "The Map view shows every layer; pop it out "
                "(Ctrl+Shift+D) to keep it beside the board"
            )
        )
        self.map_button.clicked.connect(self.show_on_map)
        mv.addWidget(self.map_button)
        self.unit_points: list[dict[str, Any]] = []
        layout.addWidget(self.counts)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)

        self._reloads = 0  # reloads started
        self._shown = 0  # the newest reload shown
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self.queue_model.tick)
        self.ticker.timeout.connect(self._tick_units)
        self.ticker.start()
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(POSITION_FLUSH_MS)
        self._flush.timeout.connect(self._flush_positions)
        self._moved.connect(self.push_position)
        self.poller = Poller(self._poll, 2000, self)
        self.poller.result.connect(self._on_poll)
        self.poller.start()
        bus.data_changed.connect(self.reload)
        # the commander's keys (also in board mode): recommend, assign, status, acknowledge
        for key, slot in (
            ("F2", self.recommend_selected),
            ("F3", self.assign_selected),
            ("F4", self.open_status_menu),
            ("F6", self.acknowledge_selected),
        ):
            QShortcut(
                QKeySequence(key), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut
            ).activated.connect(slot)
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    def _view(self) -> OpsView:
        if self.ops is None:
            self.ops = OpsView.open(self.ctx)
            if self.ops is None:
                raise RuntimeError(f"engine not available: ops: {unavailable_reason(self.ctx)}")
        return self.ops

    def _poll(self) -> int:
        return self._view().last_event_id()

    def _on_poll(self, last: int) -> None:
        if last != self.last_event:
            self.reload()

    def _scope_changed(self, _index: int) -> None:
        self._closed = None  # read the closed list now
        self.reload()

    def reload(self) -> Job:
        closed = hasattr(self, "scope") and self.scope.currentData() == "closed"
        # the closed list (three audited reads) is re-read at most every CLOSED_REFRESH_S,
        # not on every change of the journal
        cached = (
            self._closed[1]
            if closed
            and self._closed is not None
            and time.monotonic() - self._closed[0] < CLOSED_REFRESH_S
            else None
        )

        def work(_p: Any, _c: Any) -> dict[str, Any]:
            view = self._view()
            board = view.board()
            if closed:
                board["queue"] = cached if cached is not None else view.closed_incidents()
                board["closed_read"] = cached is None
            board["unit_list"] = view.units()
            board["unit_points"] = view.unit_points()
            board["last_event"] = view.last_event_id()
            board["stale_after_s"] = view.stale_after_s()
            return board

        self._reloads += 1
        job = Job(work, "dispatch board")
        job.setProperty("reload", self._reloads)
        # bound methods, not lambdas: Qt drops the connection when the panel is destroyed, so a
        # reload that ends after its window closed (a server gone, a test's window torn down)
        # does not write into deleted widgets
        job.result.connect(self._reload_arrived)
        job.error.connect(self._reload_failed)
        return job.start()

    def _reload_arrived(self, board: dict[str, Any]) -> None:
        job = self.sender()
        n = job.property("reload") if job is not None else None
        self._show_if_newer(board, int(n) if n is not None else self._reloads)

    def _reload_failed(self, msg: str) -> None:
        self.message.setText(fill(self.tr("board: {error}"), error=msg))

    def _show_if_newer(self, board: dict[str, Any], n: int) -> None:
        """Reloads run in workers and may finish out of order (a poll's reload started before
        an assignment can land after the assignment's): a board never goes back in time."""
        if n < self._shown:
            return
        self._shown = n
        self._show(board)

    def _show(self, board: dict[str, Any]) -> None:
        self.last_event = board["last_event"]
        if board.get("closed_read"):
            self._closed = (time.monotonic(), board["queue"])
        if self.ops is not None and self._unsubscribe_moves is None:
            self._unsubscribe_moves = self.ops.subscribe_moves(self._moved.emit) or False
        if self.ops is not None:
            self.units_model.labels = self._labels(self.ops.config.unit_states)
            self.queue_model.labels = self._labels(self.ops.config.incident_states)
        current = self.selected_incident()
        self.queue_model.set_rows(board["queue"])
        self.units_model.stale_after_s = board["stale_after_s"]
        selected_unit = self.selected_unit()
        self.units_model.set_units(board["unit_list"])
        inc = " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in board["incidents"].items() if v)
        units = " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in board["units"].items() if v)
        self.counts.setText(
            fill(
                self.tr(
                    "Open incidents {open}   |   units: {units}   |   unacknowledged alerts "
                    "{alerts}"
                ),
                open=len(board["queue"]),
                units=units,
                alerts=board["alerts_unacked"],
            )
        )
        self.counts.setToolTip(plain_tooltip(f"incidents: {inc}"))
        if current is not None:
            self.select_incident(current)
        if selected_unit is not None:
            self.select_unit(selected_unit.id)
        self.unit_points = board["unit_points"]
        self._update_detail()
        self._update_map()
        self.loaded.emit()

    # -- pushed positions ---------------------------------------------------------------------
    def push_position(self, payload: Any) -> None:
        """A ``unit.moved`` payload pushed to this console (GUI thread); shown with the others
        that arrive within :data:`POSITION_FLUSH_MS`."""
        if not hasattr(self, "_flush"):
            return  # the engine is not available: there is no board to move
        if self.fixes.offer(payload) and not self._flush.isActive():
            self._flush.start()

    def _flush_positions(self) -> None:
        moved = sum(
            self.units_model.move(unit, lat, lon, at)
            for unit, (lat, lon, at) in self.fixes.take().items()
        )
        if moved:
            self.unit_points = unit_points(self.units_model.units, self.units_model.stale_after_s)
            self._update_map()
        self.positions_shown.emit(moved)

    def _tick_units(self) -> None:
        """Every second: position ages move on in the list; the map redraws only when a unit
        went stale (or fresh) since it was drawn."""
        self.units_model.tick()
        if not self.unit_points:
            return
        points = unit_points(self.units_model.units, self.units_model.stale_after_s)
        if {p["id"] for p in points if p["stale"]} != {
            p["id"] for p in self.unit_points if p["stale"]
        }:
            self.unit_points = points
            self._update_map()

    # -- selection ----------------------------------------------------------------------------
    def selected_incident(self) -> int | None:
        index = self.queue.currentIndex()
        return self.queue_model.incident_id(index.row()) if index.isValid() else None

    def selected_unit(self) -> Any | None:
        index = self.units.currentIndex()
        return self.units_model.unit(index.row()) if index.isValid() else None

    def select_incident(self, incident_id: int) -> bool:
        for row, d in enumerate(self.queue_model.rows):
            if int(d["id"]) == int(incident_id):
                self.queue.selectRow(row)
                return True
        return False

    def select_unit(self, unit_id: str) -> bool:
        for row, u in enumerate(self.units_model.units):
            if u.id == unit_id:
                self.units.selectRow(row)
                return True
        return False

    def _incident_selected(self, *_: Any) -> None:
        iid = self.selected_incident()
        if iid != self._recs_for:  # a reload re-selects the same incident: keep its list
            self.recs.setRowCount(0)
            self.recommendations = []
            self._recs_for = None
        if iid is not None:
            self.bus.records_selected.emit([str(iid), *self._source_uids([iid])], "dispatch")
        self._update_detail()
        self._update_map()

    @staticmethod
    def _labels(machine: Any) -> dict[str, str]:
        zh = current_language().startswith("zh")
        return {s: state_label(machine.label(s), zh) for s in machine.states}

    def _update_detail(self) -> None:
        iid = self.selected_incident()
        row = next((d for d in self.queue_model.rows if d["id"] == iid), None)
        labels = self._labels(self.ops.config.incident_states) if self.ops is not None else {}
        self.detail.setText(
            incident_detail(
                row, self.queue_model.age(row) if row else 0.0, self.ctx.time_zone, labels
            )
        )
        if hasattr(self, "followup") and (
            iid != self.followup.incident_id or self.last_event != self._followup_event
        ):
            self._followup_event = self.last_event  # re-read when the journal moved on
            self.followup.show_incident(iid)

    def _local_time(self, epoch: Any) -> str:
        """An epoch time in the workspace's zone, with the zone."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        if epoch is None:
            return "—"
        zone = ZoneInfo(self.ctx.time_zone)
        return (
            datetime.fromtimestamp(float(epoch), zone).strftime("%Y-%m-%d %H:%M")
            + f" ({self.ctx.time_zone})"
        )

    def _update_map(self) -> None:
        """The map shows the selected incident, its recommendations and the other units."""
        if not hasattr(self, "map"):
            return
        iid = self.selected_incident()
        row = next((d for d in self.queue_model.rows if d["id"] == iid), None)
        recs = self.recommendations if iid is not None and iid == self._recs_for else []
        self.map.show_dispatch(row, recs, self.unit_points)

    def _map_unit_clicked(self, unit_id: str) -> None:
        """A unit clicked on the board's map: select it in the units and recommendations."""
        self.select_unit(unit_id)
        for row, r in enumerate(self.recommendations):
            if r.unit_id == unit_id:
                self.recs.selectRow(row)

    def _unit_selected(self, *_: Any) -> None:
        unit = self.selected_unit()
        self.status_box.clear()
        if unit is None or self.ops is None:
            return
        for status, label in status_choices(self.ops.config.unit_states, unit.status):
            self.status_box.addItem(label, status)
        self.release_button.setEnabled(unit.incident_id is not None)

    def _source_uids(self, incident_ids: list[int]) -> list[str]:
        rows = [d for d in self.queue_model.rows if d["id"] in incident_ids]
        return [d["source_uid"] for d in rows if d.get("source_uid")]

    def show_on_map(self) -> None:
        """Switch to the Map view with the selected incident highlighted."""
        iid = self.selected_incident()
        self.bus.pivot.emit(
            Focus(
                "map",
                "record",
                tuple(self._source_uids([iid]))
                if iid is not None and self._source_uids([iid])
                else (),
            )
        )

    def _open_incident_record(self, *_: Any) -> None:
        iid = self.selected_incident()
        row = next((d for d in self.queue_model.rows if d["id"] == iid), None)
        if row and row.get("source_uid"):
            self.bus.pivot.emit(Focus("records", "record", (row["source_uid"],)))

    # -- actions ------------------------------------------------------------------------------
    def _act(self, work: Any, name: str, on_result: Any = None) -> Job:
        job = Job(lambda _p, _c: work(self._view()), name)
        if on_result is not None:
            job.result.connect(on_result)
        job.error.connect(self._refused)
        job.finished.connect(self.reload)
        return job.start()

    def _refused(self, message: str) -> None:
        self.message.setText(f"⚠ {message}")
        self.message.setStyleSheet("color: #e5534b;")
        self.action_done.emit(message)

    def _said(self, message: str) -> None:
        self.message.setText(message)
        self.message.setStyleSheet("")
        self.bus.message.emit(message, 6000)
        self.action_done.emit(message)

    def recommend_selected(self) -> Job | None:
        iid = self.selected_incident()
        if iid is None:
            self._refused("select an incident first")
            return None
        self._recs_for = iid
        return self._act(lambda v: v.recommend(iid), f"recommend {iid}", self._show_recs)

    def _show_recs(self, recs: list[Any]) -> None:
        self.recommendations = recs
        self._fill_recs(recs)
        self._update_map()
        self._said(
            f"{len(recs)} units recommended (nearest available with the needed "
            "capabilities; stale positions flagged)"
            if recs
            else "no available unit has the needed capabilities"
        )

    def _fill_recs(self, recs: list[Any]) -> None:
        self.recs.setRowCount(len(recs))
        for row, r in enumerate(recs):
            eta_min = r.eta_s / 60.0
            stale = "stale" if r.stale else "fresh"
            for col, text in enumerate(
                (
                    r.name or r.unit_id,
                    r.type,
                    f"{r.distance_m / 1000:.1f} km",
                    f"{eta_min:.0f} min",
                    stale,
                )
            ):
                item = QTableWidgetItem(text)
                if col == 4 and r.stale:
                    item.setForeground(Qt.GlobalColor.darkYellow)
                self.recs.setItem(row, col, item)
        if recs:
            self.recs.selectRow(0)

    def assign_selected(self) -> Job | None:
        iid = self.selected_incident()
        rows = sorted({i.row() for i in self.recs.selectedIndexes()})
        unit_ids = [self.recommendations[r].unit_id for r in rows if r < len(self.recommendations)]
        if iid is None or not unit_ids:
            self._refused("select an incident and at least one recommended unit")
            return None
        return self.assign(iid, unit_ids)

    def assign(self, incident_id: int, unit_ids: list[str]) -> Job:
        def done(_assignment: Any) -> None:
            self._said(f"assigned {', '.join(unit_ids)} to incident #{incident_id}")
            # the assigned units are no longer free: the list must not offer them again
            if self._recs_for == incident_id:
                self._act(
                    lambda v: v.recommend(incident_id),
                    f"recommend {incident_id}",
                    self._refresh_recs,
                )

        return self._act(lambda v: v.assign(incident_id, unit_ids), "assign", done)

    def _refresh_recs(self, recs: list[Any]) -> None:
        self.recommendations = recs
        self._fill_recs(recs)
        self._update_map()
        self.recs_refreshed.emit(recs)

    def open_status_menu(self) -> None:
        """F4: the selected unit's status choices, ready for the arrow keys."""
        if self.selected_unit() is None:
            self._refused("select a unit first")
            return
        self.status_box.setFocus()
        self.status_box.showPopup()

    def acknowledge_selected(self) -> Job | None:
        """F6: acknowledge the selected incident (received → accepted, audited by the engine)."""
        iid = self.selected_incident()
        if iid is None:
            self._refused("select an incident first")
            return None
        return self._act(
            lambda v: v.accept_incident(iid),
            f"accept {iid}",
            lambda inc: self._said(f"incident #{iid} acknowledged: now {inc.status}"),
        )

    def release_selected(self) -> Job | None:
        unit = self.selected_unit()
        if unit is None:
            self._refused("select a unit first")
            return None
        return self._act(
            lambda v: v.release(unit.id),
            "release",
            lambda u: self._said(f"released {u.name or u.id}: now {u.status}"),
        )

    def _status_chosen(self, index: int) -> None:
        unit = self.selected_unit()
        status = self.status_box.itemData(index)
        if unit is None or not status:
            return
        self._act(
            lambda v: v.set_unit_status(unit.id, status),
            "unit status",
            lambda u: self._said(f"{u.name or u.id} is now {u.status}"),
        )

    def set_board_mode(self, on: bool) -> None:
        """Full-screen board: queue with detail and recommendations left, map over the unit
        board right, sized for 1600×1000."""
        if hasattr(self, "split"):
            self.split.setSizes([760, 840] if on else [560, 520])

    def apply_theme(self, theme: Any) -> None:
        if hasattr(self, "map"):
            self.map.apply_theme(theme)

    def shutdown(self) -> None:
        if self._unsubscribe_moves:
            self._unsubscribe_moves()
            self._unsubscribe_moves = None
        if hasattr(self, "poller"):
            self.poller.stop()
        if hasattr(self, "map"):
            self.map.shutdown()
