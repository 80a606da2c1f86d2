"""Labels that show data: plain text, and never wider than the space they are given.

A ``QLabel`` guesses rich text from its content (``Qt.TextFormat.AutoText``), so an incident
address such as ``<img src=…>`` or ``<b style='color:red'>CANCELLED</b>`` was drawn as markup
(issue #16, item 14); and a label's width hint is its whole text on one line, so a six-hop
path in a status line widened the main window past the screen (issue #15, bug 4).
"""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QSizePolicy


def data_label(text: str = "", *, role: str = "muted") -> QLabel:
    """A plain-text, word-wrapping label that takes the width its layout gives it.

    Parameters
    ----------
    text:
        The first text (shown as text, never as markup).
    role:
        The style-sheet role (``muted``, ``warning`` …); empty for none.
    """
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    # Ignored: the layout's width wins over the text's; the label grows downwards instead
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(40)
    if role:
        label.setProperty("role", role)
    label.setProperty("data", True)  # shows data: not interface text (tests/zh_walk.py)
    label.setText(text)
    return label


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` exactly as written.

    Qt renders a tooltip as rich text whenever it looks like markup, and an escaped string
    without tags would show its ``&lt;`` entities; so the text is escaped *and* marked up as one
    pre-wrapped paragraph: an address ``<img src=…>`` is shown as those characters, never as a
    picture.
    """
    return f"<p style='white-space:pre-wrap'>{html.escape(str(text))}</p>"
