"""The status bar's backend label: a long backend error must not widen the main window."""

from __future__ import annotations

import pytest

from tests.console_fixtures import ctx, demo_root, drain, settings  # noqa: F401 - fixtures

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("drain")]


def test_a_long_backend_error_does_not_widen_the_window(qtbot, ctx, settings) -> None:
    """A copied workspace's audit-anchor error (≈ 300 characters) in the backend label made
    the main window 3116 px wide; the label is cut and the whole message is in its tooltip."""
    from PyQt6.QtCore import Qt

    from console.mainwindow import MainWindow

    window = MainWindow(ctx, settings)
    qtbot.addWidget(window)
    window.show()
    window.resize(1600, 960)
    # the window's own backend check first (a worker): arriving after the error below, it
    # replaced it on a busy machine
    waiting = window.status_backend.text()
    qtbot.waitUntil(lambda: window.status_backend.text() != waiting, timeout=30_000)
    qtbot.wait(300)
    assert window.width() <= 1600
    error = (
        "store '/tmp/ws/store.sqlite': cannot be checked: the anchor key "
        "'/root/.local/state/superbrain/anchors/78bafcb12636be0b7ad68153.key' is missing "
        "(workspace moved or copied, or key deleted); appends stop until `superbrain audit "
        "repair` re-anchors the log <b>; run `superbrain audit verify` then see docs"
    )
    window._show_backend_error(error)
    qtbot.wait(300)
    assert window.width() <= 1600
    assert window.status_backend.text().endswith("…")
    assert window.status_backend.textFormat() == Qt.TextFormat.PlainText
    assert "&lt;b&gt;" in window.status_backend.toolTip()  # shown as text, never as markup
    assert "superbrain audit verify" in window.status_backend.toolTip()
