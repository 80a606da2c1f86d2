"""The wrapping button row (console.flow.FlowLayout) that keeps the Cases dock narrow."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def _row(qtbot, texts):
    from PyQt6.QtWidgets import QPushButton, QWidget

    from console.flow import FlowLayout

    host = QWidget()
    qtbot.addWidget(host)
    layout = FlowLayout(host)
    buttons = [QPushButton(text) for text in texts]
    for button in buttons:
        layout.addWidget(button)
    return host, layout, buttons


def test_a_row_of_buttons_is_only_as_wide_as_its_widest_button(qtbot) -> None:
    texts = ["Open", "Save", "Save as…", "Duplicate…", "Group selected…", "Picture…"]
    host, layout, buttons = _row(qtbot, texts)
    widest = max(b.sizeHint().width() for b in buttons)
    together = sum(b.sizeHint().width() for b in buttons)
    assert layout.minimumSize().width() == widest < together
    assert host.minimumSizeHint().width() <= widest + 20


def test_buttons_wrap_onto_more_rows_when_narrow_and_none_overlap(qtbot) -> None:
    host, layout, buttons = _row(qtbot, ["Dossier…", "Export case…", "Import case…"])
    wide = sum(b.sizeHint().width() for b in buttons) + 100
    narrow = max(b.sizeHint().width() for b in buttons)
    assert layout.heightForWidth(wide) == buttons[0].sizeHint().height()  # one row
    assert layout.heightForWidth(narrow) >= 3 * buttons[0].sizeHint().height()  # three rows
    host.resize(narrow, layout.heightForWidth(narrow))
    host.show()
    qtbot.waitExposed(host)
    rects = [b.geometry() for b in buttons]
    assert all(r.right() < narrow for r in rects)
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :])
