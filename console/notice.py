"""The calm "this is not available, and why" state a panel shows instead of fake data."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget


class Notice(QWidget):
    """A centred, word-wrapped message (e.g. ``engine not available: graph: …``)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # engine errors quote data
        self.label.setProperty("role", "notice")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)

    def set_text(self, text: str) -> None:
        self.label.setText(text)

    def text(self) -> str:
        return self.label.text()


def engine_unavailable_text(engine: str, reason: str) -> str:
    return f"engine not available: {engine}\n\n{reason or 'not installed'}"
