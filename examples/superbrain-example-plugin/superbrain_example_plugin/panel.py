"""An example third-party console panel: how many patrol-log records the workspace holds.

Declared in this package's ``superbrain.panels`` entry-point group; the console builds it like
its own panels, ``Panel(ctx, bus)``, and places it from the class attributes below.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class GridLogPanel(QWidget):
    """Counts the workspace's ``gridlog`` records; Refresh counts again."""

    panel_title = "Grid logs"
    panel_place = "bottom"
    panel_shortcut = ""

    def __init__(self, ctx: Any, bus: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("gridlog-panel")
        self.label = QLabel(self)
        refresh = QPushButton("Refresh", self)
        refresh.clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(refresh)
        self.refresh()

    def refresh(self) -> None:
        n = self.ctx.workspace.store.count("records", source="gridlog")
        self.label.setText(f"{n} grid-worker patrol log records")
