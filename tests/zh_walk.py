"""Walk what a window shows and find English words in it (for the zh_CN test).

Data (search hits, record fields, entity names, identifiers, file names) is not translated:
table cells, tree children, data labels (``console.labels.data_label``, property ``data``) and
text typed by the user are skipped. Everything else the window shows — menus, tab and dock
titles, buttons, labels, placeholders, headers, combo boxes, check boxes — is walked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: Words that are names, not English prose: products, algorithms, formats, keys.
NAMES = frozenset(
    {
        "superbrain",
        "PNG",
        "GraphML",
        "PageRank",
        "Louvain",
        "LFW",
        "Ctrl",
        "Shift",
        "Alt",
        "Leaflet",
        "OpenStreetMap",
        "CSV",
        "JSON",
        "GBK",
        "ETA",
        "embedded",
        "elasticsearch",
        "Enter",
        "Esc",
        "Tab",
        "OSM",
        "MBTiles",
    }
)
NAMES = NAMES | {"English"}  # a language is offered in its own name (English / 简体中文)
_WORD = re.compile(r"[A-Za-z]{3,}")
_QUERY_SYNTAX = re.compile(r"\b\w+:\w+")  # field:value examples of the query language


def english_words(text: str) -> list[str]:
    """English words of three letters or more in ``text`` that are not :data:`NAMES` (query
    syntax such as ``source:incidents`` is the language itself, not prose)."""
    return [w for w in _WORD.findall(_QUERY_SYNTAX.sub(" ", text or "")) if w not in NAMES]


def _visible(widget: Any) -> bool:
    return widget.isVisible() and widget.window().isVisible()


def visible_texts(window: Any) -> Iterator[tuple[str, str]]:
    """(where, text) for every piece of interface text ``window`` shows now."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QDockWidget,
        QLabel,
        QLineEdit,
        QMenu,
        QTabBar,
        QTreeWidget,
    )

    for action in window.menuBar().actions():
        yield "menu", action.text()
        menu = action.menu()
        stack = [menu] if menu else []
        while stack:
            m = stack.pop()
            for a in m.actions():
                if a.text():
                    yield f"menu {action.text()}", a.text()
                if a.menu():
                    stack.append(a.menu())
    for w in window.findChildren(QDockWidget):
        if _visible(w):
            yield "dock title", w.windowTitle()
    for w in window.findChildren(QTabBar):
        if _visible(w):
            for i in range(w.count()):
                yield "tab", w.tabText(i)
    for w in window.findChildren(QLabel):
        if _visible(w) and not w.property("data") and w.text():
            yield f"label {w.objectName() or type(w.parent()).__name__}", w.text()
    for w in window.findChildren(QAbstractButton):
        if _visible(w) and w.text():
            yield f"button {type(w.parent()).__name__}", w.text()
    for w in window.findChildren(QLineEdit):
        if _visible(w) and not w.text() and w.placeholderText():
            yield f"placeholder {type(w.parent()).__name__}", w.placeholderText()
    for w in window.findChildren(QComboBox):
        if _visible(w) and not w.isEditable() and not w.property("data"):
            yield "combo", w.currentText() or w.placeholderText()
    for w in window.findChildren(QAbstractItemView):
        model = w.model()
        if not _visible(w) or model is None:
            continue
        header = getattr(w, "horizontalHeader", None)
        columns = (
            header().count()
            if callable(header)
            else (model.columnCount() if isinstance(w, QTreeWidget) else 0)
        )
        for col in range(columns):
            text = model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
            if text and not (hasattr(w, "isHeaderHidden") and w.isHeaderHidden()):
                yield f"header {type(model).__name__}", str(text)
        if isinstance(w, QTreeWidget):  # facet names; their values are data
            for i in range(w.topLevelItemCount()):
                yield "facet", w.topLevelItem(i).text(0)
    for w in window.findChildren(QMenu):
        _ = w  # menus are walked from the menu bar above
