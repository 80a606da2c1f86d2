"""Cases panel: pick a case, open / save / save as / duplicate its charts, read and add notes,
pin evidence, write the dossier, hand a case over. Notes are also added on a map place (a
right-click on the Map view, :meth:`CasesPanel.note_on_place`) and drawn on the map; saved
searches, face leads and co-occurrence results are pinned from their views (the bus's
``pin_evidence``, :meth:`CasesPanel.pin`). A thin view over :class:`CaseSession` and the
case services; every check and audit entry is theirs.

Another analyst's notes and chart saves appear live: changes made in this process arrive at
once (``cases.db.subscribe``), those of other consoles on the next poll of ``cases.events``.
A client console (``superbrain console --server URL``) calls the case services on the server
and receives every case event pushed by its event stream (:meth:`CasesPanel.pushed`, from
``console.remote_app.attach_push``); the poll is then only a safety net. Files (dossier,
picture, hand-over) are written by ``superbrain cases … -w centre.toml`` on the server.
A chart someone else saved is announced, never swapped in under the analyst's feet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.case_session import CaseSession
from console.context import ConsoleContext
from console.flow import FlowLayout
from console.i18n import fill
from console.qtnone import present
from console.workers import Job

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

POLL_MS = 3000
#: Events arriving together are shown together, after this long.
REFRESH_MS = 150


def _local(iso_time: str, tz: str) -> str:
    """An ISO UTC time as the workspace shows times (its time zone named)."""
    from datetime import datetime

    from cases.model import local_time

    return local_time(datetime.fromisoformat(iso_time).timestamp(), tz)


def _narrow(box: QComboBox) -> None:
    """Size ``box`` by a few characters, not by its longest entry (shown whole when open)."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(8)


def _button_row(buttons: tuple[tuple[str, Any], ...]) -> FlowLayout:
    """Buttons (text, slot) that wrap onto more rows in a narrow dock, so a row of them never
    sets the dock's width (six in one row made the main window wider than a 1600 px screen)."""
    row = FlowLayout()
    for text, slot in buttons:
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
    return row


class CasesPanel(QWidget):
    """The analyst's case: charts, notes, pins, dossier."""

    title = "Cases"
    #: A case event from this process (marshalled onto the GUI thread).
    event_arrived = pyqtSignal(object)

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        #: A client console: every call goes to the centre server, events come pushed.
        self.remote = bool(getattr(ctx, "remote", False))
        self.session = CaseSession(ctx.workspace, ctx.engines)
        self.graph: Any = None  # the link chart panel (set by the main window)
        self.records: Any = None  # the record pane (set by the main window)
        self.timeline: Any = None  # the timeline view (set by the main window)
        self.map: Any = None  # the Map view (set by the main window): draws the notes
        self._notes_cache: list[dict[str, Any]] = []
        self._recounts = 0  # the latest pins recount asked for (older answers are dropped)
        self.recount_job: Job | None = None
        self._selected_entities: list[str] = []
        self._selected_records: list[str] = []
        from cases.model import workspace_tz

        self.tz = workspace_tz(ctx.workspace)

        self.case_box = QComboBox()
        _narrow(self.case_box)  # a long case title must not widen the dock (and the window)
        self.case_box.activated.connect(self._case_chosen)
        new_case = QPushButton(self.tr("New case…"))
        new_case.clicked.connect(self.new_case)
        self.case_info = QLabel("")
        self.case_info.setProperty("role", "muted")
        self.case_info.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.case_box, 1)
        top.addWidget(new_case)

        self.charts = QListWidget()
        self.charts.itemDoubleClicked.connect(lambda _i: self.open_selected_chart())
        chart_buttons = _button_row(
            (
                (self.tr("Open"), self.open_selected_chart),
                (self.tr("Save"), self.save_chart),
                (self.tr("Save as…"), self.save_chart_as),
                (self.tr("Duplicate…"), self.duplicate_chart),
                (self.tr("Group selected…"), self.group_selected),
                (self.tr("Picture…"), self.chart_picture),
            )
        )
        self.offered = QLabel("")
        self.offered.setWordWrap(True)
        charts_box = QGroupBox(self.tr("Charts"))
        lay = QVBoxLayout(charts_box)
        lay.addWidget(self.charts)
        lay.addLayout(chart_buttons)
        lay.addWidget(self.offered)

        self.notes = QListWidget()
        self.notes.setWordWrap(True)
        self.note_target = QComboBox()
        _narrow(self.note_target)
        self.note_text = QLineEdit()
        self.note_text.setPlaceholderText(self.tr("note — @type:key links an entity"))
        self.note_text.returnPressed.connect(self.add_note)
        add_note = QPushButton(self.tr("Add note"))
        add_note.clicked.connect(self.add_note)
        note_row = QHBoxLayout()  # what the note is on, above the note and its button
        note_row.addWidget(self.note_text, 1)
        note_row.addWidget(add_note)
        notes_box = QGroupBox(self.tr("Notes"))
        lay = QVBoxLayout(notes_box)
        lay.addWidget(self.notes)
        lay.addWidget(self.note_target)
        lay.addLayout(note_row)

        self.pins = QListWidget()
        pin_record = QPushButton(self.tr("Pin selected record"))
        pin_record.clicked.connect(self.pin_selected_record)
        pins_box = QGroupBox(self.tr("Pinned evidence"))
        lay = QVBoxLayout(pins_box)
        lay.addWidget(self.pins)
        lay.addWidget(pin_record)

        out_row = _button_row(
            (
                (self.tr("Dossier…"), self.write_dossier),
                (self.tr("Export case…"), self.export_case),
                (self.tr("Import case…"), self.import_case),
            )
        )
        if self.remote:  # the dossier and the case file are made on the server and come
            # down to the path picked here (server.downloads); an import would upload a file
            b = present(present(out_row.itemAt(2)).widget())
            b.setEnabled(False)
            b.setToolTip(
                self.tr(
                    "not available in client mode: run `superbrain cases "
                    "import … -w centre.toml` on the server"
                )
            )
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setProperty("role", "muted")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.case_info)
        layout.addWidget(charts_box, 2)
        layout.addWidget(notes_box, 3)
        layout.addWidget(pins_box, 1)
        layout.addLayout(out_row)
        layout.addWidget(self.status)

        bus.entities_selected.connect(self._on_entities)
        bus.records_selected.connect(self._on_records)
        bus.open_record.connect(lambda uid: self._on_records([uid], "record"))
        bus.pin_evidence.connect(self.pin)
        self.event_arrived.connect(
            self._on_event,  # type: ignore[call-arg]  # the stub lacks
            Qt.ConnectionType.QueuedConnection,
        )  # the connection type
        if self.remote:  # the server pushes case events (pushed)
            self._unsubscribe: Any = lambda: None
        else:
            from cases.db import subscribe

            self._unsubscribe = subscribe(ctx.workspace.store, self.event_arrived.emit)
        # A burst of events (a reconnect's replay, the journal's history at the first poll)
        # makes one refresh, not one round of service calls per event.
        self._stale: set[str] = set()
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._refresh_stale)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)
        self._poll.start()
        self.refresh_cases()
        self._fill_targets()

    # -- helpers --------------------------------------------------------------------------------
    def _try(self, what: str, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R | None:
        """Run a service call; its refusal or error is shown, never raised into Qt."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # the service's message names the culprit
            self.status.setText(fill(self.tr("{what}: {error}"), what=what, error=exc))
            log.info("cases panel: %s failed: %s", what, exc)
            return None

    def _chart_model(self) -> Any:
        return getattr(self.graph, "model", None)

    # -- cases ---------------------------------------------------------------------------------
    def refresh_cases(self) -> None:
        rows = self._try(self.tr("cases"), self.session.cases) or []
        current = self.session.case
        self.case_box.clear()
        self.case_box.addItem(self.tr("— no case —"), None)
        for c in rows:
            self.case_box.addItem(f"{c['number']}  {c['title']}", c["number"])
        index = self.case_box.findData(current)
        self.case_box.setCurrentIndex(max(0, index))

    def _case_chosen(self, index: int) -> None:
        number = self.case_box.itemData(index)
        if number == self.session.case:
            return
        if not self.confirm_discard():
            self.case_box.setCurrentIndex(max(0, self.case_box.findData(self.session.case)))
            return
        self.choose_case(number)

    def choose_case(self, number: str | None) -> None:
        case = self._try(self.tr("open case"), self.session.choose, number)
        self.case_box.setCurrentIndex(max(0, self.case_box.findData(number)))
        if case:
            self.case_info.setText(
                fill(
                    self.tr("{classification} · {status} · you are {role} · members: {members}"),
                    classification=case["classification"],
                    status=case["status"],
                    role=case["my_role"],
                    members=", ".join(f"{m['user']} ({m['role']})" for m in case["members"]),
                )
            )
        else:
            self.case_info.setText("")
        self.refresh_contents()

    def new_case(self) -> None:
        number, ok = QInputDialog.getText(
            self, self.tr("New case"), self.tr("Case number (e.g. 2026-JX-0117):")
        )
        if not ok or not number.strip():
            return
        title, ok = QInputDialog.getText(self, self.tr("New case"), self.tr("Title:"))
        if not ok:
            return
        made = self._try(
            self.tr("new case"),
            self.session.engines.cases_create,
            case=number.strip().upper(),
            title=title,
        )
        if made:
            self.refresh_cases()
            self.choose_case(made["number"])

    def refresh_contents(self) -> None:
        self.charts.clear()
        self.notes.clear()
        self.pins.clear()
        number = self.session.case
        model = self._chart_model()
        if number is None:
            if model is not None:
                model.noted = set()
            self.refresh_map_notes()
            return
        for c in self._try(self.tr("charts"), self.session.engines.cases_charts, case=number) or []:
            item = QListWidgetItem(
                f"{c['name']}  (v{c['version']}, {c['nodes']} nodes, {c['updated_by']})"
            )
            item.setData(Qt.ItemDataRole.UserRole, c["id"])
            self.charts.addItem(item)
        noted: set[str] = set()
        self._notes_cache = (
            self._try(self.tr("notes"), self.session.engines.cases_notes, case=number) or []
        )
        for n in self._notes_cache:
            if n["target_kind"] == "entity":
                noted.add(n["target"])
            self.notes.addItem(
                f"✎ {n['author']} · {_local(n['created_at'], self.tz)} · "
                f"{n['target_kind']} {n['target']}\n{n['text']}"
            )
        pins = self._try(self.tr("pins"), self.session.engines.cases_pins, case=number) or []
        self._show_pins(pins)
        if any(p["kind"] in ("search", "face_lead") for p in pins):
            self._recount(number)
        self.refresh_map_notes()
        if model is not None and model.noted != noted:
            model.noted = noted
            self.graph.redraw()
        if self.records is not None and getattr(self.records, "record", None) is not None:
            self.records._render()  # its notes may have changed
        if self.timeline is not None and getattr(self.timeline, "events", None):
            self.timeline._show(self.timeline.entities, self.timeline.events, self.timeline.matrix)

    def _show_pins(self, pins: list[dict[str, Any]]) -> None:
        self.pins.clear()
        for p in pins:
            item = QListWidgetItem(self.pin_text(p))
            item.setData(Qt.ItemDataRole.UserRole, p["id"])
            self.pins.addItem(item)

    def _recount(self, number: str) -> Job:
        """Saved searches' hit counts now and face leads' review state now, in a worker (a
        count asks the search engine: ~0.3 s each on the demo, too long for the GUI thread);
        the list is shown again when they arrive, unless the case changed meanwhile."""
        self._recounts += 1
        ticket = self._recounts

        def show(pins: list[dict[str, Any]]) -> None:
            if ticket == self._recounts and number == self.session.case:
                self._show_pins(pins)

        job = Job(
            lambda _p, _c: self.session.engines.cases_pins(case=number, recount=True), "case-pins"
        )
        job.result.connect(show)
        job.error.connect(lambda msg: log.info("cases panel: recount failed: %s", msg))
        self.recount_job = job
        return job.start()

    def pin_text(self, p: dict[str, Any]) -> str:
        """A pin as the dock lists it (plain text): what it is, what it held when pinned (a
        search's hits then and now, a face lead's similarity, threshold, false-match rate and
        review), who pinned it and when (workspace time)."""
        d = p.get("data") or {}
        kind = p["kind"]
        if kind == "search":
            now = d.get("hits_now")  # "…" until the count now arrives (_recount)
            what = fill(
                self.tr("saved search “{query}”: {then} hits when pinned, {now} now"),
                query=d.get("query", p["ref"]),
                then=d.get("hits_at_pin", "?"),
                now="…" if now is None else now,
            )
        elif kind == "face_lead":
            fmr = d.get("threshold_fmr")
            what = fill(
                self.tr(
                    "face lead {title}: similarity {s}, threshold {t} "
                    "(false-match rate {fmr}); review: {review}{by}"
                ),
                title=p["title"],
                s=f"{float(d.get('similarity', 0)):.3f}",
                t=f"{float(d.get('threshold', 0)):.3f}",
                fmr=f"{fmr:.3%}" if isinstance(fmr, int | float) else "—",
                review={"confirmed": self.tr("confirmed"), "rejected": self.tr("rejected")}.get(
                    d.get("review") or "", self.tr("not reviewed")
                ),
                by=fill(self.tr(" by {user}"), user=d["reviewer"]) if d.get("reviewer") else "",
            )
        elif kind == "cooccur":
            what = fill(
                self.tr("co-occurrence {title}: {n} entities moved together"),
                title=p["title"],
                n=len(d.get("pairs") or []),
            )
        else:
            what = fill(self.tr("record {title} ({ref})"), title=p["title"], ref=p["ref"])
        return (
            what
            + "\n"
            + fill(
                self.tr("pinned by {user}, {when}"),
                user=p["pinned_by"],
                when=_local(p["pinned_at"], self.tz),
            )
        )

    def refresh_map_notes(self) -> None:
        """Draw the open case's located notes on the Map view (none without a case)."""
        if self.map is None:
            return
        from console.mapnotes import note_markers

        points: list[dict[str, Any]] = []
        if self.session.case is not None:
            points = (
                self._try(
                    self.tr("notes on the map"),
                    self.session.engines.cases_note_places,
                    case=self.session.case,
                )
                or []
            )
        self.map.set_notes(note_markers(points, self.tz))

    def noted_record_uids(self) -> set[str]:
        """Records the open case has notes on (marked on the timeline)."""
        return {
            n["target"] for n in self._notes_cache if n["target_kind"] in ("record", "timeline")
        }

    def record_notes_html(self, record: Any) -> str:
        """The case's notes on ``record`` and on its entities, as HTML for the record pane
        (every text escaped)."""
        from html import escape

        if self.session.case is None:
            return ""
        ids = {record.uid, *(e.id for e in record.entities)}
        mine = [n for n in self._notes_cache if n["target"] in ids]
        if not mine:
            return ""
        items = "".join(
            f"<li><b>{escape(n['author'])}</b> · {escape(_local(n['created_at'], self.tz))} · "
            f"{escape(n['target_kind'])} {escape(n['target'])}<br>{escape(n['text'])}</li>"
            for n in mine
        )
        return (
            f"<h4>✎ {escape(fill(self.tr('Notes in case {case}'), case=self.session.case))}"
            f"</h4><ul>{items}</ul>"
        )

    # -- charts ---------------------------------------------------------------------------------
    def open_selected_chart(self) -> None:
        item = self.charts.currentItem()
        if item is not None:
            self.open_chart(item.data(Qt.ItemDataRole.UserRole))

    def open_chart(self, chart_id: str) -> bool:
        model = self._chart_model()
        if model is None or not self.confirm_discard():
            return False
        found = self._try(self.tr("open chart"), self.session.open, chart_id)
        if found is None:
            return False
        doc, offered = found
        noted = model.noted
        model.load(doc)
        model.noted = noted
        self.graph.redraw(fit=True)
        self.offered.setText(
            fill(
                self.tr(
                    "{n} links were added to the data since this chart "
                    "was saved; expand the chart to bring them in."
                ),
                n=len(offered),
            )
            if offered
            else ""
        )
        self.status.setText(
            fill(
                self.tr("opened {name} (version {v})"),
                name=self.session.chart_name,
                v=self.session.version,
            )
        )
        return True

    def save_chart(self) -> bool:
        model = self._chart_model()
        if model is None or self.session.case is None:
            self.status.setText(self.tr("choose a case first"))
            return False
        if self.session.chart_id is None:
            return self.save_chart_as()
        return self._save(model.to_dict(), None)

    def save_chart_as(self) -> bool:
        model = self._chart_model()
        if model is None or self.session.case is None:
            self.status.setText(self.tr("choose a case first"))
            return False
        name, ok = QInputDialog.getText(self, self.tr("Save chart as"), self.tr("Chart name:"))
        if not ok or not name.strip():
            return False
        return self._save(model.to_dict(), name.strip())

    def _save(self, doc: dict[str, Any], name: str | None) -> bool:
        saved = self._try(self.tr("save chart"), self.session.save, doc, name)
        if saved is None:
            return False
        self.status.setText(
            fill(self.tr("saved {name} (version {v})"), name=saved["name"], v=saved["version"])
        )
        self.refresh_contents()
        return True

    def duplicate_chart(self) -> None:
        item = self.charts.currentItem()
        if item is None or self.session.case is None:
            return
        name, ok = QInputDialog.getText(self, self.tr("Duplicate chart"), self.tr("New name:"))
        if ok and name.strip():
            self._try(
                self.tr("duplicate"),
                self.session.engines.cases_chart_duplicate,
                case=self.session.case,
                chart_id=item.data(Qt.ItemDataRole.UserRole),
                name=name.strip(),
            )
            self.refresh_contents()

    def chart_picture(self) -> None:
        """The open saved chart as an SVG with title, case, legend, date and classification."""
        if self.session.case is None or self.session.chart_id is None:
            self.status.setText(self.tr("open or save a chart of the case first"))
            return
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Chart picture"), f"{self.session.chart_name}.svg", "SVG (*.svg)"
        )
        if path:
            done = self._try(
                self.tr("picture"),
                self.session.engines.cases_chart_image,
                case=self.session.case,
                chart_id=self.session.chart_id,
                path=path,
            )
            if done:
                self.status.setText(fill(self.tr("picture written: {file}"), file=done["file"]))

    def group_selected(self) -> None:
        model = self._chart_model()
        if model is None or not model.selected:
            self.status.setText(self.tr("select entities on the chart first"))
            return
        name, ok = QInputDialog.getText(self, self.tr("Group"), self.tr("Group name:"))
        if ok and name.strip():
            model.groups.append(
                {"name": name.strip(), "members": sorted(model.selected), "colour": "#e15759"}
            )
            self.status.setText(
                fill(
                    self.tr("group {name}: {n} entities (save the chart to keep it)"),
                    name=name.strip(),
                    n=len(model.selected),
                )
            )

    def confirm_discard(self) -> bool:
        """Ask before an unsaved chart is dropped: True to go on (saved or discarded)."""
        model = self._chart_model()
        if model is None or self.session.case is None or not self.session.is_dirty(model.to_dict()):
            return True
        answer = QMessageBox.question(
            self,
            self.tr("Unsaved chart"),
            self.tr("The link chart has changes that are not saved in the case. Save them?"),
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save_chart()
        return answer == QMessageBox.StandardButton.Discard

    def confirm_close(self) -> bool:
        """The main window asks every panel before it closes."""
        return self.confirm_discard()

    # -- notes and pins -------------------------------------------------------------------------
    def _on_entities(self, ids: list[str], origin: str) -> None:
        self._selected_entities = list(ids)
        self._fill_targets()

    def _on_records(self, uids: list[str], origin: str) -> None:
        self._selected_records = list(uids)
        self._fill_targets()

    def _fill_targets(self) -> None:
        self.note_target.clear()
        self.note_target.addItem(self.tr("on the case"), ("case", ""))
        for eid in self._selected_entities[:5]:
            self.note_target.addItem(fill(self.tr("on {id}"), id=eid), ("entity", eid))
        for uid in self._selected_records[:5]:
            self.note_target.addItem(fill(self.tr("on record {id}"), id=uid), ("record", uid))
        if self.note_target.count() > 1:
            self.note_target.setCurrentIndex(1)

    def add_note(self) -> None:
        text = self.note_text.text().strip()
        if not text or self.session.case is None:
            return
        kind, target = self.note_target.currentData() or ("case", "")
        made = self._try(
            self.tr("note"),
            self.session.engines.cases_note_add,
            case=self.session.case,
            target_kind=kind,
            target=target,
            text=text,
        )
        if made:
            self.note_text.clear()
            self.refresh_contents()

    def note_on_place(self, lat: float, lon: float) -> None:
        """A right-click on the map: ask for the note's text and add it on that place."""
        if self.session.case is None:
            self._tell(
                self.tr(
                    "choose a case in the Cases dock first, then right-click the "
                    "map to note a place"
                )
            )
            return
        text, ok = QInputDialog.getText(
            self,
            self.tr("Note on this place"),
            fill(
                self.tr("Note at {lat}, {lon} in case {case} (@type:key links an entity):"),
                lat=f"{lat:.5f}",
                lon=f"{lon:.5f}",
                case=self.session.case,
            ),
        )
        if ok and text.strip():
            self.add_place_note(lat, lon, text)

    def add_place_note(self, lat: float, lon: float, text: str) -> dict[str, Any] | None:
        """Add a note on the map place ``lat, lon`` to the open case (``cases.note_add``:
        checked and audited there); the dock and the map show it at once."""
        if self.session.case is None:
            return None
        try:
            made = self.session.engines.cases_note_add(
                case=self.session.case,
                target_kind="place",
                target=f"{lat:.6f},{lon:.6f}",
                text=text,
            )
        except Exception as exc:  # e.g. a reader, a mention no record has: said, not raised
            self._tell(fill(self.tr("{what}: {error}"), what=self.tr("note"), error=exc))
            return None
        self._tell(fill(self.tr("note added on {lat}, {lon}"), lat=f"{lat:.5f}", lon=f"{lon:.5f}"))
        self.refresh_contents()
        return made

    def _tell(self, text: str) -> None:
        """A message in the dock and on the status bar (the dock may be behind another)."""
        self.status.setText(text)
        self.bus.message.emit(text, 6000)

    def pin(
        self,
        kind: str,
        ref: str,
        title: str = "",
        data: dict[str, Any] | None = None,
        reply: Any = None,
    ) -> dict[str, Any] | None:
        """Pin evidence to the open case (``cases.pin``: checked, audited and snapshotted
        there): a record, a saved search, a face lead or a co-occurrence result. What happened
        is shown here, on the status bar and told to ``reply(text)`` when given."""
        made = None
        if self.session.case is None:
            text = self.tr("choose a case in the Cases dock first, then pin")
        else:
            try:
                made = self.session.engines.cases_pin(
                    case=self.session.case, kind=kind, ref=ref, title=title, data=dict(data or {})
                )
                text = fill(
                    self.tr("pinned to {case}: {title}"),
                    case=self.session.case,
                    title=made["title"],
                )
            except Exception as exc:  # the service's message names the culprit
                text = fill(self.tr("{what}: {error}"), what=self.tr("pin"), error=exc)
        self._tell(text)
        if callable(reply):
            reply(text)
        if made is not None:
            self.refresh_contents()
        return made

    def pin_selected_record(self) -> None:
        if self.session.case is None or not self._selected_records:
            self.status.setText(self.tr("select a record first"))
            return
        self.pin("record", self._selected_records[0])

    # -- out and in -----------------------------------------------------------------------------
    def write_dossier(self) -> None:
        if self.session.case is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Write the dossier"),
            f"{self.session.case}.pdf",
            "PDF (*.pdf);;HTML (*.html)",
        )
        if path:
            self.dossier_to(Path(path))

    def dossier_to(self, path: Path) -> dict[str, Any] | None:
        done = self._try(
            self.tr("dossier"),
            lambda: self.session.engines.cases_dossier(case=self.session.number(), path=str(path)),
        )
        if done:
            self.status.setText(
                fill(
                    self.tr("dossier written: {file} (sha256 {sha})"),
                    file=done["file"],
                    sha=done["sha256"][:16],
                )
            )
        return done

    def export_case(self) -> None:
        if self.session.case is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export case"), f"{self.session.case}.sbcase", "*.sbcase"
        )
        if path:
            done = self._try(
                self.tr("export"),
                self.session.engines.cases_handover_export,
                case=self.session.case,
                path=path,
            )
            if done:
                self.status.setText(fill(self.tr("case file written: {file}"), file=done["file"]))

    def import_case(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Import case"), "", "*.sbcase")
        if path:
            done = self._try(
                self.tr("import"), self.session.engines.cases_handover_import, path=path
            )
            if done:
                self.refresh_cases()
                self.choose_case(done["number"])

    # -- live updates ---------------------------------------------------------------------------
    def poll(self) -> None:
        for event in self._try(self.tr("updates"), self.session.events) or []:
            self._on_event(event)

    def pushed(self, data: dict[str, Any]) -> None:
        """A case event from the centre's event stream (the server sends a console only the
        events of cases its user is a member of); ``None`` after ``event: reset``."""
        if data is None:
            self._later("cases", "contents")
            return
        self._on_event(data)

    def _later(self, *what: str) -> None:
        self._stale.update(what)
        if not self._refresh.isActive():
            self._refresh.start()

    def _refresh_stale(self) -> None:
        stale, self._stale = self._stale, set()
        if "cases" in stale:
            self.refresh_cases()
        if "contents" in stale:
            self.refresh_contents()

    def _on_event(self, event: Any) -> None:
        data = event.to_dict() if hasattr(event, "to_dict") else event
        self.session.last_event = max(self.session.last_event, int(data["id"]))
        if data["case"] != self.session.case:
            if data["kind"] in ("case.member", "case.created", "case.imported"):
                self._later("cases")
            return
        self._later("contents")
        if (
            data["kind"] == "case.chart_saved"
            and data["ref"] == self.session.chart_id
            and data["payload"].get("version") != self.session.version
        ):
            self.status.setText(
                fill(
                    self.tr(
                        "{user} saved this chart (version {v}); reopen it to see their changes"
                    ),
                    user=data["user"],
                    v=data["payload"].get("version"),
                )
            )
        elif data["user"] != self.ctx.user:
            self.status.setText(
                fill(self.tr("{user}: {kind}"), user=data["user"], kind=data["kind"])
            )

    def shutdown(self) -> None:
        self._poll.stop()
        self._refresh.stop()
        self._unsubscribe()
