"""Faces panel: open, drop or paste a photo; faces are boxed; pick one; with a case number and
a purpose, search the gallery; candidates show their similarity against the calibrated threshold
and its false-match rate, labelled as leads a person must confirm or reject.

A view over ``facematch.gallery.Gallery`` (which enforces the safeguards and audits): the panel
checks case and purpose with the engine's own ``require_case`` before anything runs.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

from PyQt6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QPoint,
    QRect,
    QSize,
    Qt,
    pyqtSignal,
)
from PyQt6.QtGui import QColor, QIcon, QImage, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.context import ConsoleContext
from console.i18n import fill
from console.labels import data_label, plain_tooltip
from console.navigation import Focus
from console.notice import Notice, engine_unavailable_text
from console.qtnone import present
from console.record_view import photo_paths
from console.workers import Job

log = logging.getLogger(__name__)

THUMB = 112


class ProbeView(QLabel):
    """The probe photo with its faces boxed; a click picks the face under the cursor."""

    face_clicked = pyqtSignal(int)

    def __init__(self) -> None:
        super().__init__(self.tr("Open, drop or paste (Ctrl+V) a photo"))
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(320, 260)
        self.image: QImage | None = None
        self.boxes: list[tuple[int, int, int, int]] = []
        self.selected: int | None = None
        self._scale = 1.0
        self._offset = QPoint(0, 0)

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.boxes = []
        self.selected = None
        self._render()

    def set_faces(self, boxes: list[tuple[int, int, int, int]], selected: int | None) -> None:
        self.boxes = boxes
        self.selected = selected
        self._render()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._render()

    def _render(self) -> None:
        if self.image is None or self.image.isNull():
            return
        area = self.size()
        pix = QPixmap.fromImage(self.image).scaled(
            area, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self._scale = pix.width() / max(1, self.image.width())
        self._offset = QPoint(
            (area.width() - pix.width()) // 2, (area.height() - pix.height()) // 2
        )
        painter = QPainter(pix)
        for i, (left, top, right, bottom) in enumerate(self.boxes):
            chosen = i == self.selected
            painter.setPen(QPen(QColor("#3fb950" if chosen else "#f0883e"), 3 if chosen else 2))
            s = self._scale
            painter.drawRect(
                QRect(int(left * s), int(top * s), int((right - left) * s), int((bottom - top) * s))
            )
            painter.drawText(int(left * s) + 3, int(top * s) - 4, f"face {i + 1}")
        painter.end()
        self.setPixmap(pix)

    def mousePressEvent(self, event: Any) -> None:
        if not self.boxes:
            return
        p = event.position().toPoint() - self._offset
        x, y = p.x() / self._scale, p.y() / self._scale
        for i, (left, top, right, bottom) in enumerate(self.boxes):
            if left <= x <= right and top <= y <= bottom:
                self.face_clicked.emit(i)
                return


def _thumbnail(path: str, box: tuple[int, int, int, int]) -> QIcon:
    image = QImage(path)
    if image.isNull():
        return QIcon()
    left, top, right, bottom = box
    pad = int((right - left) * 0.25)
    crop = image.copy(
        QRect(max(0, left - pad), max(0, top - pad), right - left + 2 * pad, bottom - top + 2 * pad)
    )
    return QIcon(
        QPixmap.fromImage(crop).scaled(
            THUMB,
            THUMB,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    )


class FacesPanel(QWidget):
    """Face search with its safeguards."""

    title = "Faces"
    searched = pyqtSignal(object)  # facematch SearchResult
    refused = pyqtSignal(str)  # why a search did not run

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.probe_bytes: bytes | None = None
        self.probe_name = ""
        self.faces: Any = None  # facematch ImageFaces
        self.face_index: int | None = None
        self.result: Any = None
        self.job: Job | None = None
        self.warm_job: Job | None = None  # loads the gallery and models when first shown
        self.warm_report: dict[str, Any] | None = None  # what it loaded (Gallery.warm_up)
        layout = QVBoxLayout(self)
        reason = ctx.engines.faces_search.unavailable()
        if reason:
            layout.addWidget(Notice(engine_unavailable_text("facematch", reason)))
            self.available = False
            return
        self.available = True
        from facematch.results import LEAD_NOTICE

        self.setAcceptDrops(True)
        open_button = QPushButton(self.tr("Open photo…"))
        open_button.clicked.connect(self._choose)
        paste_button = QPushButton(self.tr("Paste"))
        paste_button.clicked.connect(self.paste)
        QShortcut(QKeySequence.StandardKey.Paste, self).activated.connect(self.paste)
        self.case = QLineEdit()
        self.case.setPlaceholderText(self.tr("case number (required)"))
        self.purpose = QLineEdit()
        self.purpose.setPlaceholderText(self.tr("purpose of this search (required)"))
        self.search_button = QPushButton(self.tr("Search gallery"))
        self.search_button.setProperty("role", "primary")
        self.search_button.clicked.connect(self.search)
        top = QHBoxLayout()
        for w in (open_button, paste_button):
            top.addWidget(w)
        top.addWidget(self.case, 1)
        top.addWidget(self.purpose, 2)
        top.addWidget(self.search_button)
        self.notice = QLabel(self.tr("⚠ ") + lead_notice(LEAD_NOTICE))
        self.notice.setWordWrap(True)
        self.notice.setProperty("role", "notice")
        self.probe = ProbeView()
        self.probe.face_clicked.connect(self.pick_face)
        self.candidates = QListWidget()
        self.candidates.setViewMode(QListWidget.ViewMode.IconMode)
        self.candidates.setIconSize(QSize(THUMB, THUMB))
        self.candidates.setGridSize(QSize(THUMB + 70, THUMB + 62))
        self.candidates.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.candidates.setWordWrap(True)
        self.candidates.currentRowChanged.connect(self._candidate_selected)
        self.note = QLineEdit()
        self.note.setPlaceholderText(self.tr("review note (why)"))
        self.confirm_button = QPushButton(self.tr("Confirm"))
        self.reject_button = QPushButton(self.tr("Reject"))
        self.confirm_button.clicked.connect(lambda: self.review("confirmed"))
        self.reject_button.clicked.connect(lambda: self.review("rejected"))
        self.graph_button = QPushButton(self.tr("Open in graph"))
        self.graph_button.clicked.connect(self._open_graph)
        self.record_button = QPushButton(self.tr("Open record"))
        self.record_button.clicked.connect(self._open_record)
        self.pin_button = QPushButton(self.tr("Pin lead to case"))
        self.pin_button.setToolTip(
            self.tr(
                "pin this candidate, with its similarity, the "
                "threshold, its false-match rate and its review "
                "state, to the case the search was made for"
            )
        )
        self.pin_button.clicked.connect(self.pin_lead)
        actions = QHBoxLayout()
        actions.addWidget(self.note, 1)
        for w in (
            self.confirm_button,
            self.reject_button,
            self.graph_button,
            self.record_button,
            self.pin_button,
        ):
            actions.addWidget(w)
        self.status = data_label("")
        self.status.setWordWrap(True)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        self.threshold_label = data_label(self.tr("Candidates"), role="")
        self.show_below = QCheckBox(self.tr("show candidates below the threshold"))
        self.show_below.setChecked(False)  # weak matches are hidden unless asked for
        self.show_below.toggled.connect(lambda _on: self._render_candidates())
        self.shown: list[Any] = []  # the candidates in the list, in its order
        self.decisions: dict[int, str] = {}  # face id -> earlier review decision
        self.pictures: dict[int, bytes] = {}  # face id -> JPEG crop (client console)
        self.pictures_job: Job | None = None
        rv.addWidget(self.threshold_label)
        rv.addWidget(self.show_below)
        rv.addWidget(self.candidates, 1)
        rv.addLayout(actions)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.probe)
        split.addWidget(right)
        split.setSizes([420, 620])
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self._enable_review(False)

    # -- engine -------------------------------------------------------------------------------
    def gallery(self) -> Any:
        """The workspace's gallery (opened once, in whichever worker asks first)."""
        from facematch.service import gallery_for  # the one the face services use

        return self.ctx.service("faces.gallery", lambda: gallery_for(self.ctx.workspace))

    @property
    def remote(self) -> bool:
        """A client console: the gallery is the centre server's, reached by service calls."""
        return bool(getattr(self.ctx, "remote", False))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.available and self.warm_job is None and not self.remote:
            self.warm_up()  # (a client console has no gallery of its own to load)

    def warm_up(self) -> Job:
        """Open the gallery and load the models in a worker while the user finds a probe, so
        the first search does not wait for them; a failure to open shows now, not then."""
        job = Job(lambda _p, _c: self.gallery().warm_up(), "faces-warm-up")
        job.result.connect(lambda report: setattr(self, "warm_report", report))
        job.error.connect(self._failed)
        self.warm_job = job
        return job.start()

    def _run(self, work: Any, message: str, on_result: Any) -> Job:
        job = Job(work, "faces")
        job.result.connect(on_result)
        job.error.connect(self._failed)
        job.finished.connect(self._done)
        self.job = job
        self.status.setText(message)
        self.status.setStyleSheet("")
        return job.start()

    def _done(self) -> None:
        self.job = None

    def _failed(self, message: str) -> None:
        self.status.setText(f"⚠ {message}")
        self.status.setStyleSheet("color: #e5534b;")

    # -- the probe ----------------------------------------------------------------------------
    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Probe photo", "", "Images (*.jpg *.jpeg *.png *.bmp *.webp)"
        )
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> Job | None:
        """Read a photo file (a regular file, bounded, an image by its first bytes: nothing
        else is read or sent to a server) and find its faces."""
        from core.remote_files import TransferError, read_upload

        try:
            data = read_upload(path)
        except TransferError as exc:
            self._failed(str(exc))
            return None
        return self.load_bytes(data, str(path))

    def paste(self) -> Job | None:
        mime = present(QApplication.clipboard()).mimeData()
        if mime is not None and mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    return self.load_file(Path(url.toLocalFile()))
        image = present(QApplication.clipboard()).image()
        if image.isNull():
            self._failed("the clipboard holds no image")
            return None
        return self.load_bytes(_png_bytes(image), "pasted image")

    def dragEnterEvent(self, event: Any) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        mime = event.mimeData()
        if mime.hasUrls() and mime.urls()[0].isLocalFile():
            self.load_file(Path(mime.urls()[0].toLocalFile()))
        elif mime.hasImage():
            self.load_bytes(_png_bytes(QImage(mime.imageData())), "dropped image")

    def load_bytes(self, data: bytes, name: str) -> Job:
        """Show the photo and find its faces (in a worker)."""
        self.probe_bytes = data
        self.probe_name = name
        self.faces = None
        self.face_index = None
        self.result = None
        self.candidates.clear()
        self.probe.set_image(QImage.fromData(data))
        # the faces.detect service checks the permission and audits the probe's hash
        return self._run(
            lambda _p, _c: self.ctx.engines.faces_detect(photo=data),
            f"finding faces in {name} …",
            self._show_faces,
        )

    def _show_faces(self, faces: Any) -> None:
        self.faces = faces
        n = len(faces.faces)
        self.face_index = 0 if n == 1 else None
        self.probe.set_faces([tuple(f.box) for f in faces.faces], self.face_index)
        if n == 0:
            self._failed(f"{self.probe_name}: no face found")
        else:
            self.status.setText(
                fill(self.tr("{n} faces found; click one to search it"), n=n)
                if n > 1
                else fill(self.tr("{n} face found"), n=n)
            )

    def pick_face(self, index: int) -> None:
        self.face_index = index
        self.probe.set_faces(self.probe.boxes, index)

    # -- search -------------------------------------------------------------------------------
    def search(self) -> Job | None:
        """Search the chosen face; refused (nothing runs) without a photo, a case number and a
        purpose — the message names every missing piece in the console's words."""
        from facematch.gallery import require_case

        missing = search_problems(
            self.faces is not None and bool(self.faces.faces),
            self.face_index is not None,
            self.case.text(),
            self.purpose.text(),
        )
        if missing:
            text = fill(self.tr("Not searched: {missing}."), missing="; ".join(missing))
            self._failed(text)
            self.refused.emit(text)
            for field, empty in (
                (self.case, not self.case.text().strip()),
                (self.purpose, not self.purpose.text().strip()),
            ):
                field.setProperty("invalid", empty)
                present(field.style()).unpolish(field)
                present(field.style()).polish(field)
            return None
        try:  # the engine's own safeguard too (it audits refusals on its side)
            case, purpose = require_case(self.case.text(), self.purpose.text())
        except Exception as exc:  # shown as it is
            self._failed(str(exc))
            self.refused.emit(str(exc))
            return None
        # a client console sends the photo itself: the server describes it again, so a probe
        # is always what the server saw (the detected faces hold no descriptor over the wire)
        faces = self.probe_bytes if self.remote else self.faces
        index = self.face_index
        assert index is not None  # search_problems refused a search with no face chosen
        return self._run(  # the faces.search service: checked, audited (failures too)
            lambda _p, _c: self.ctx.engines.faces_search(
                probe=faces, case=case, purpose=purpose, k=12, faces=[index]
            ),
            f"searching face {index + 1} for case {case} …",
            self._show_result,
        )

    def _show_result(self, result: Any) -> None:
        self.result = result
        faces = [c.face_id for c in result.candidates]
        try:
            self.decisions = {} if self.remote else self.gallery().store.face_decisions(faces)
        except Exception as exc:  # the badges are a help; the result still shows
            log.warning("earlier reviews unavailable: %s", exc)
            self.decisions = {}
        pairs = impostor_pairs()
        self.threshold_label.setText(
            fill(
                self.tr("Candidates — threshold {t}: {fm} on LFW; gallery of {n} faces"),
                t=f"{result.threshold:.3f}",
                fm=fmr_text(result.threshold_fmr, pairs),
                n=f"{result.gallery_size:,}",
            )
        )
        self.pictures = {}
        self._render_candidates()
        if self.remote and result.candidates:
            self.fetch_pictures(result)
        above = sum(1 for c in result.candidates if c.above_threshold)
        hidden = 0 if self.show_below.isChecked() else len(result.candidates) - above
        self.status.setText(
            fill(
                self.tr(
                    "{n} candidates, {above} above the threshold — leads "
                    "only; confirm or reject each (audited)"
                ),
                n=len(result.candidates),
                above=above,
            )
            + (
                fill(self.tr(" · {hidden} below the threshold hidden"), hidden=hidden)
                if hidden
                else ""
            )
        )
        self.searched.emit(result)

    def fetch_pictures(self, result: Any) -> Job:
        """A client console: the candidates' face pictures and earlier decisions from the
        server (``faces.candidates``; the gallery's photos stay there), then drawn."""
        ids = [c.face_id for c in result.candidates]
        job = Job(
            lambda _p, _c: self.ctx.engines.faces_candidates(
                search_id=result.search_id, face_ids=ids
            ),
            "faces-pictures",
        )

        def arrived(rows: list[dict[str, Any]]) -> None:
            if self.result is not result:
                return  # a newer search is shown
            self.pictures = {int(r["face_id"]): r["jpeg"] for r in rows if r.get("jpeg")}
            self.decisions = {
                int(r["face_id"]): str(r["decision"]) for r in rows if r.get("decision")
            }
            self._render_candidates()

        job.result.connect(arrived)
        job.error.connect(lambda message: log.warning("candidate pictures: %s", message))
        self.pictures_job = job
        return job.start()

    def _icon(self, c: Any) -> QIcon:
        if self.remote:
            data = self.pictures.get(c.face_id)
            if not data:
                return QIcon()
            return QIcon(
                QPixmap.fromImage(QImage.fromData(data)).scaled(
                    THUMB,
                    THUMB,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        return _thumbnail(c.photo_path, tuple(c.box))

    def _render_candidates(self) -> None:
        """Candidates above the threshold; below it only when asked, greyed and unnamed."""
        self.candidates.clear()
        self.shown = []
        if self.result is None:
            return
        pairs = impostor_pairs()
        for c in self.result.candidates:
            if not c.above_threshold and not self.show_below.isChecked():
                continue
            mark = "≥" if c.above_threshold else "<"
            who = (
                (c.entity_label or c.record_uid)
                if c.above_threshold
                else self.tr("below the threshold: not named")
            )
            badge = {
                "confirmed": self.tr("✔ confirmed before"),
                "rejected": self.tr("✖ rejected before"),
            }.get(self.decisions.get(c.face_id, ""), "")
            text = (
                f"#{c.rank} {c.similarity:.3f} {mark} {c.threshold:.2f}\n"
                f"{fmr_text(c.score_fmr, pairs, short=True)}\n{who}"
                + (f"\n{badge}" if badge else "")
            )
            item = QListWidgetItem(self._icon(c), text)
            item.setForeground(QColor("#3fb950" if c.above_threshold else "#6e7681"))
            item.setToolTip(
                plain_tooltip(
                    (f"{c.record_uid}\n" if c.above_threshold else "")
                    + "lead: needs human confirmation"
                )
            )
            self.candidates.addItem(item)
            self.shown.append(c)

    def selected_candidate(self) -> Any | None:
        row = self.candidates.currentRow()
        if self.result is None or row < 0:
            return None
        return self.shown[row] if row < len(self.shown) else None

    def _candidate_selected(self, _row: int) -> None:
        cand = self.selected_candidate()
        self._enable_review(cand is not None)
        # a candidate below the threshold is shown unnamed; it is no lead to pin as evidence
        self.pin_button.setEnabled(cand is not None and bool(cand.above_threshold))

    def _enable_review(self, on: bool) -> None:
        for w in (
            self.confirm_button,
            self.reject_button,
            self.graph_button,
            self.record_button,
            self.pin_button,
        ):
            w.setEnabled(on)

    def review(self, decision: str) -> Job | None:
        cand = self.selected_candidate()
        if cand is None:
            return None
        note = self.note.text().strip()
        return self._run(
            lambda _p, _c: self.ctx.engines.faces_review(
                search_id=cand.search_id, face_id=cand.face_id, decision=decision, note=note
            ),
            f"recording {decision} …",
            lambda _r: self._reviewed(cand, decision),
        )

    def _reviewed(self, cand: Any, decision: str) -> None:
        item = self.candidates.item(self.candidates.currentRow())
        if item is not None:
            item.setText(item.text() + f"\n[{decision}]")
        self.note.clear()
        self.status.setText(
            fill(
                self.tr("candidate #{rank} {decision} (audited)"), rank=cand.rank, decision=decision
            )
        )

    def pin_lead(self) -> Job | None:
        """Pin the selected candidate as a face lead to the case the search was made for
        (``cases.pin``: membership checked, audited; the review state is read from the face
        store there and shown again as it changes)."""
        cand = self.selected_candidate()
        if cand is None or self.result is None or not cand.above_threshold:
            return None
        case = self.result.case
        data = {
            "similarity": float(cand.similarity),
            "threshold": float(cand.threshold),
            "threshold_fmr": float(cand.threshold_fmr),
            "score_fmr": float(cand.score_fmr),
            "calibration": {"impostor_pairs": impostor_pairs()},
        }
        return self._run(
            lambda _p, _c: self.ctx.engines.cases_pin(
                case=case, kind="face_lead", ref=f"{cand.search_id}:{cand.face_id}", data=data
            ),
            fill(self.tr("pinning candidate #{rank} to case {case} …"), rank=cand.rank, case=case),
            lambda pin: self.status.setText(
                fill(
                    self.tr("candidate #{rank} pinned to case {case} as a lead (audited)"),
                    rank=cand.rank,
                    case=case,
                )
            ),
        )

    def _open_graph(self) -> None:
        cand = self.selected_candidate()
        if cand is not None and cand.entity_id:
            self.bus.pivot.emit(Focus("graph", "entity", (cand.entity_id,)))
        elif cand is not None:
            self.bus.pivot.emit(Focus("graph", "record", (cand.record_uid,)))

    def _open_record(self) -> None:
        cand = self.selected_candidate()
        if cand is not None:
            self.bus.open_record.emit(cand.record_uid)

    def show_focus(self, focus: Focus) -> None:
        """Pivot: a record's photo becomes the probe."""
        if focus.kind != "record" or not focus.ids:
            return
        record = self.ctx.workspace.store.get_record(focus.ids[0])
        photos = photo_paths(record) if record is not None else []
        if photos:
            self.load_file(photos[0])
        else:
            self._failed(f"record {focus.ids[0]} has no photo")


_LEAD_NOTICE_EN = (
    "Investigative lead only: a face match is not an identification. A trained "
    "examiner must confirm or reject each candidate; nothing is done "
    "automatically."
)


def lead_notice(engine_notice: str) -> str:
    """The engine's lead-only warning in the UI language; a notice the console does not know
    (the engine reworded it) is shown as the engine words it, never dropped."""
    if engine_notice != _LEAD_NOTICE_EN:
        return engine_notice
    return QCoreApplication.translate(
        "FacesPanel",
        "Investigative lead only: a face match is not an identification. A "
        "trained examiner must confirm or reject each candidate; nothing is done "
        "automatically.",
    )


@functools.lru_cache(maxsize=1)
def impostor_pairs() -> int:
    """How many different-person pairs the calibrated false-match rates were measured on
    (``impostor_pairs`` of the calibration file; 0 when it does not say)."""
    try:
        from facematch.calibration import CALIBRATION_FILE

        return int(
            json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")).get("impostor_pairs", 0)
        )
    except (ImportError, OSError, ValueError) as exc:
        log.warning("calibration sample size unavailable: %s", exc)
        return 0


def fmr_text(rate: float, pairs: int, *, short: bool = False) -> str:
    """A false-match rate with its sample: '541,970 of 69,572,579 impostor pairs (0.78%)'
    rather than 'FMR 0.78%'; a measured zero says how many pairs it is zero of."""
    if not pairs:
        return fill(
            QCoreApplication.translate(
                "FacesPanel", "false-match rate {rate} (sample size unknown)"
            ),
            rate=f"{rate:.2%}",
        )
    matches = round(rate * pairs)
    if short:
        template = QCoreApplication.translate("FacesPanel", "{m} of {n} impostor pairs")
    else:
        template = QCoreApplication.translate(
            "FacesPanel", "false matches: {m} of {n} impostor pairs ({rate})"
        )
    return fill(template, m=f"{matches:,}", n=f"{pairs:,}", rate=f"{rate:.3%}")


def search_problems(has_photo: bool, face_chosen: bool, case: str, purpose: str) -> list[str]:
    """What stops a face search, in the console's words (empty when it may run)."""
    missing = []
    if not has_photo:
        missing.append(
            QCoreApplication.translate("FacesPanel", "open, drop or paste a photo with a face")
        )
    elif not face_chosen:
        missing.append(
            QCoreApplication.translate(
                "FacesPanel", "click the face to search (the photo holds several)"
            )
        )
    if not case.strip():
        missing.append(QCoreApplication.translate("FacesPanel", "enter the case number"))
    if not purpose.strip():
        missing.append(QCoreApplication.translate("FacesPanel", "state the purpose of the search"))
    return missing


def _png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())
