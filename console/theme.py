"""The two themes: a dark operations-room theme (default) and a light one for daylight rooms.

A theme is a palette of named colours; the Qt style sheet, pyqtgraph charts and the map page all
take their colours from it, so a switch restyles everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    panel: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    border: str
    danger: str
    warning: str
    ok: str
    selection: str

    def style_sheet(self) -> str:
        """The application style sheet for this theme."""
        return _QSS.format(t=self)


DARK = Theme(
    name="dark",
    window="#11161d",
    panel="#171e27",
    base="#0d1117",
    alt_base="#141b24",
    text="#d7dee8",
    muted="#7d8a99",
    accent="#3d8bfd",
    border="#273241",
    danger="#e5534b",
    warning="#d29922",
    ok="#3fb950",
    selection="#1f4f8f",
)

LIGHT = Theme(
    name="light",
    window="#f4f6f8",
    panel="#ffffff",
    base="#ffffff",
    alt_base="#f3f6f9",
    text="#1b232d",
    muted="#5e6b78",
    accent="#0b62d6",
    border="#ccd5df",
    danger="#c9302c",
    warning="#b7791f",
    ok="#2f8a3e",
    selection="#cfe2ff",
)

THEMES = {t.name: t for t in (DARK, LIGHT)}

PRIORITY_COLOURS = {1: "#e5534b", 2: "#f0883e", 3: "#d29922", 4: "#3d8bfd", 5: "#7d8a99"}


def theme(name: str) -> Theme:
    """The theme called ``name`` (unknown names give the dark theme)."""
    return THEMES.get(name, DARK)


_QSS = """
QWidget {{ background: {t.window}; color: {t.text}; font-size: 10pt; }}
QMainWindow::separator {{ background: {t.border}; width: 3px; height: 3px; }}
QDockWidget {{ titlebar-close-icon: none; color: {t.text}; }}
QDockWidget::title {{ background: {t.panel}; padding: 5px 8px; border-bottom: 1px solid {t.border};
    text-transform: uppercase; font-weight: 600; color: {t.muted}; }}
QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser, QSpinBox, QComboBox, QDateTimeEdit {{
    background: {t.base}; border: 1px solid {t.border}; border-radius: 4px; padding: 4px 6px;
    selection-background-color: {t.selection}; }}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus {{ border: 1px solid {t.accent}; }}
QLineEdit[invalid="true"] {{ border: 1px solid {t.danger}; }}
QPushButton, QToolButton {{ background: {t.panel}; border: 1px solid {t.border};
    border-radius: 4px; padding: 4px 10px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {t.accent}; }}
QPushButton:pressed, QToolButton:checked {{ background: {t.selection}; }}
QPushButton:disabled {{ color: {t.muted}; }}
QPushButton[role="primary"] {{ background: {t.accent}; color: white; border: none; }}
QPushButton[role="danger"] {{ background: {t.danger}; color: white; border: none; }}
QTableView, QTreeView, QListView, QListWidget, QTreeWidget, QTableWidget {{
    background: {t.base}; alternate-background-color: {t.alt_base}; border: 1px solid {t.border};
    gridline-color: {t.border}; selection-background-color: {t.selection};
    selection-color: {t.text}; }}
QHeaderView::section {{ background: {t.panel}; color: {t.muted}; border: none;
    border-right: 1px solid {t.border}; border-bottom: 1px solid {t.border}; padding: 4px 6px; }}
QTabWidget::pane {{ border: 1px solid {t.border}; }}
QTabBar::tab {{ background: {t.panel}; color: {t.muted}; padding: 5px 12px;
    border: 1px solid {t.border}; border-bottom: none; }}
QTabBar::tab:selected {{ color: {t.text}; border-top: 2px solid {t.accent}; }}
QStatusBar {{ background: {t.panel}; color: {t.muted}; border-top: 1px solid {t.border}; }}
QStatusBar QLabel {{ background: transparent; padding: 0 8px; }}
QMenuBar {{ background: {t.panel}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {t.selection}; }}
QMenu {{ background: {t.panel}; border: 1px solid {t.border}; }}
QToolBar {{ background: {t.panel}; border-bottom: 1px solid {t.border}; spacing: 4px; }}
QProgressBar {{ background: {t.base}; border: 1px solid {t.border}; border-radius: 3px;
    text-align: center; }}
QProgressBar::chunk {{ background: {t.accent}; }}
QScrollBar:vertical, QScrollBar:horizontal {{ background: {t.base}; border: none; }}
QScrollBar::handle {{ background: {t.border}; border-radius: 3px; min-height: 20px; }}
QLabel[role="muted"] {{ color: {t.muted}; }}
QLabel[role="warning"] {{ color: {t.warning}; }}
QLabel[role="notice"] {{ color: {t.warning}; padding: 12px; font-size: 11pt; }}
QLabel[role="title"] {{ font-size: 12pt; font-weight: 600; }}
QFrame[role="card"] {{ background: {t.panel}; border: 1px solid {t.border}; border-radius: 6px; }}
QToolTip {{ background: {t.panel}; color: {t.text}; border: 1px solid {t.border}; }}
"""
