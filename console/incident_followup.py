"""What came back on an incident, under the dispatch board's incident detail: each unit's
clearance feedback (outcome, notes), its photos and the citizen's rating and comment.

Everything comes from services (``ops.incident_followup``; each photo through ``ops.photo``,
permission-checked and audited on the engine's side, as a thumbnail of at most
:data:`THUMB_PX` a side; the full photo only when the commander clicks it). Submitted text is
shown as plain text (a label with ``PlainText`` format: markup or script is shown, never run).
Thumbnails are kept per photo id for the console's session (at most :data:`CACHE_PHOTOS`), so
re-selecting an incident does not fetch (and audit) them again.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from typing import Any

from PyQt6.QtCore import QCoreApplication, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QIcon, QPixmap
from PyQt6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.context import ConsoleContext
from console.i18n import fill
from console.labels import data_label, plain_tooltip
from console.workers import Job

THUMB_PX = 96
CACHE_PHOTOS = 200
FULL_PX = 1024  # the largest side the full-size view asks for (the service's bound)
OUTCOMES = ("resolved", "referred", "no_trace", "false_alarm", "other")


def outcome_label(outcome: str) -> str:
    """The unit's outcome in the UI language (an unknown one is shown as it came)."""
    labels = {
        "resolved": QCoreApplication.translate("Followup", "resolved"),
        "referred": QCoreApplication.translate("Followup", "referred"),
        "no_trace": QCoreApplication.translate("Followup", "no trace"),
        "false_alarm": QCoreApplication.translate("Followup", "false alarm"),
        "other": QCoreApplication.translate("Followup", "other"),
    }
    return labels.get(outcome, str(outcome))


def followup_text(data: dict[str, Any] | None, local: Any) -> str:
    """The follow-up as plain text: one paragraph per unit feedback and per citizen report;
    ``local(epoch)`` formats a time in the workspace's zone."""
    if not data:
        return ""
    parts: list[str] = []
    for f in data.get("feedback") or ():
        head = fill(
            QCoreApplication.translate(
                "Followup", "Feedback from {unit} ({account}), {time}: {outcome}"
            ),
            unit=f.get("unit_id", "?"),
            account=f.get("account", "?"),
            time=local(f.get("ts")),
            outcome=outcome_label(str(f.get("outcome", ""))),
        )
        notes = str(f.get("notes") or "").strip()
        photos = len(f.get("photos") or ())
        parts.append(
            "\n".join(
                p
                for p in (
                    head,
                    notes,
                    fill(QCoreApplication.translate("Followup", "{n} photo(s)"), n=photos)
                    if photos
                    else "",
                )
                if p
            )
        )
    for c in data.get("citizen") or ():
        if c.get("rating") is None:
            parts.append(
                fill(
                    QCoreApplication.translate("Followup", "Citizen report {code}: not rated yet"),
                    code=c.get("code", "?"),
                )
            )
            continue
        stars = "★" * int(c["rating"]) + "☆" * (5 - int(c["rating"]))
        head = fill(
            QCoreApplication.translate(
                "Followup", "Citizen rating {stars} {rating}/5 (report {code}), {time}"
            ),
            stars=stars,
            rating=c["rating"],
            code=c.get("code", "?"),
            time=local(c.get("rated_at")),
        )
        note = str(c.get("rating_note") or "").strip()
        parts.append("\n".join(p for p in (head, note) if p))
    if not parts:
        return QCoreApplication.translate("Followup", "No feedback, photos or rating yet.")
    return "\n\n".join(parts)


def owner_label(owner: str) -> str:
    """Where a photo came from, in words (``field:N`` or ``report:CODE``)."""
    kind, _, ref = owner.partition(":")
    if kind == "field":
        return fill(QCoreApplication.translate("Followup", "unit feedback #{ref}"), ref=ref)
    if kind == "report":
        return fill(QCoreApplication.translate("Followup", "citizen report {ref}"), ref=ref)
    return owner


def photo_bytes(found: dict[str, Any]) -> bytes:
    """The bytes of an ``ops.photo`` answer: in-process they are bytes, from a centre
    ``{"base64": …}``."""
    data = found.get("data")
    if isinstance(data, dict) and isinstance(data.get("base64"), str):
        return base64.b64decode(data["base64"])
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    raise ValueError(f"photo {found.get('id')!r}: no image data in the answer")


class PhotoDialog(QDialog):
    """One photo at full size (bounded to :data:`FULL_PX` a side), with where it came from."""

    def __init__(self, found: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(
            fill(QCoreApplication.translate("Followup", "Photo {id}"), id=found.get("id", "?"))
        )
        pixmap = QPixmap()
        pixmap.loadFromData(photo_bytes(found))
        self.image = QLabel()
        self.image.setPixmap(pixmap)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.image)
        scroll.setWidgetResizable(True)
        caption = data_label(
            fill(
                QCoreApplication.translate("Followup", "{owner} · SHA-256 of the original {sha}"),
                owner=owner_label(str(found.get("owner", ""))),
                sha=str(found.get("sha256", ""))[:16] + "…",
            )
        )
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(caption)
        self.resize(
            max(420, min(pixmap.width() + 40, 1100)), max(320, min(pixmap.height() + 80, 900))
        )


class FollowupView(QWidget):
    """Feedback, photos and rating of one incident (see the module docstring).

    Signals
    -------
    shown(int):
        The follow-up of this incident id is on screen (thumbnails included).
    photo_opened(object):
        The full-size :class:`PhotoDialog` opened for a clicked thumbnail.
    """

    shown = pyqtSignal(int)
    photo_opened = pyqtSignal(object)

    def __init__(self, ctx: ConsoleContext, local: Any) -> None:
        super().__init__()
        self.ctx = ctx
        self.local = local
        self.incident_id: int | None = None
        self.data: dict[str, Any] | None = None
        self.thumbs: OrderedDict[int, bytes] = OrderedDict()
        self.buttons: list[QToolButton] = []
        self.text = data_label("", role="")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.strip = QHBoxLayout()
        self.strip.setContentsMargins(0, 0, 0, 0)
        self.strip.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addLayout(self.strip)
        self._n = 0  # loads started: only the newest one is shown

    def show_incident(self, incident_id: int | None) -> Job | None:
        """Load and show the follow-up of ``incident_id`` (None clears it)."""
        self._n += 1
        self.incident_id = incident_id
        if incident_id is None:
            self._show(None, {}, self._n)
            return None
        cached = dict(self.thumbs)
        ctx, n = self.ctx, self._n

        def work(_p: Any, _c: Any) -> tuple[dict[str, Any], dict[int, bytes], int]:
            data = dict(ctx.engines.ops_incident_followup(incident_id=int(incident_id)))
            thumbs: dict[int, bytes] = {}
            for photo in self._photos(data):
                pid = int(photo["id"])
                thumbs[pid] = cached.get(pid) or photo_bytes(
                    ctx.engines.ops_photo(photo_id=pid, max_px=THUMB_PX)
                )
            return data, thumbs, n

        # bound slots only: Qt drops them with this widget, so a load that ends after the
        # window closed touches nothing deleted
        job = Job(work, f"follow-up of incident {incident_id}")
        job.result.connect(self._loaded)
        job.error.connect(self._failed)
        return job.start()

    def _loaded(self, got: tuple[dict[str, Any], dict[int, bytes], int]) -> None:
        self._show(*got)

    def _failed(self, message: str) -> None:
        self.text.setText(
            fill(QCoreApplication.translate("Followup", "follow-up: {error}"), error=message)
        )

    @staticmethod
    def _photos(data: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            p
            for part in ("feedback", "citizen")
            for item in data.get(part) or ()
            for p in item.get("photos") or ()
        ]

    def _show(self, data: dict[str, Any] | None, thumbs: dict[int, bytes], n: int) -> None:
        if n != self._n:
            return  # another incident was selected meanwhile
        self.data = data
        for pid, raw in thumbs.items():
            self.thumbs[pid] = raw
            self.thumbs.move_to_end(pid)
        while len(self.thumbs) > CACHE_PHOTOS:
            self.thumbs.popitem(last=False)
        self.text.setText(followup_text(data, self.local))
        for button in self.buttons:
            self.strip.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        for i, photo in enumerate(self._photos(data or {})):
            pid = int(photo["id"])
            pixmap = QPixmap()
            pixmap.loadFromData(thumbs.get(pid, b""))
            button = QToolButton()
            button.setIcon(QIcon(pixmap))
            button.setIconSize(QSize(THUMB_PX, THUMB_PX))
            button.setToolTip(
                plain_tooltip(
                    fill(
                        QCoreApplication.translate("Followup", "Photo {id}: click for full size"),
                        id=pid,
                    )
                )
            )
            button.setProperty("photo_id", pid)
            button.clicked.connect(lambda _=False, p=pid: self.open_photo(p))
            self.strip.insertWidget(i, button)
            self.buttons.append(button)
        self.setVisible(data is not None)
        if data is not None:
            self.shown.emit(int(data.get("incident_id") or 0))

    def open_photo(self, photo_id: int) -> Job:
        """Fetch one photo (bounded to :data:`FULL_PX`) and show it in a dialog."""
        ctx = self.ctx
        job = Job(
            lambda _p, _c: dict(ctx.engines.ops_photo(photo_id=int(photo_id), max_px=FULL_PX)),
            f"photo {photo_id}",
        )
        job.result.connect(self._opened)
        job.error.connect(self._photo_failed)
        return job.start()

    def _photo_failed(self, message: str) -> None:
        self.text.setText(
            fill(QCoreApplication.translate("Followup", "photo: {error}"), error=message)
        )

    def _opened(self, found: dict[str, Any]) -> None:
        dialog = PhotoDialog(found, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.photo_opened.emit(dialog)
