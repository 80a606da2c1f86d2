"""Issue #15, start-up to a usable window: what a view needs only when it is seen is not done
while the window starts (bench/console/startup.py measures the time; this checks the shape).
The Map view and the board's map build their pages, the Identities view reads its review
queue and the Plugins view imports the plugins when each is first shown, in workers."""

from __future__ import annotations

import pytest

from tests.console_fixtures import ctx, demo_root, drain, settings  # noqa: F401 - fixtures

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("drain")]
WAIT = 60_000  # ms; a slow shared machine


def test_views_load_when_first_shown_not_while_the_window_starts(qtbot, ctx, settings) -> None:
    from console import qtinit
    from console.mainwindow import MainWindow

    window = MainWindow(ctx, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.wait(200)
    map_panel = window.panels["map"]
    resolution = window.panels["identities"]
    plugins = window.panels["plugins"]
    dispatch = window.panels["dispatch"]
    assert not map_panel.isVisible() and not map_panel.started and map_panel.job is None
    assert not resolution.isVisible() and not resolution.loaded
    if hasattr(dispatch, "map") and not dispatch.isVisible():
        assert not dispatch.map.built
    if not plugins.isVisible():
        assert not plugins.loaded
    window.show_panel("identities")
    qtbot.waitUntil(lambda: resolution.loaded, timeout=WAIT)
    window.show_panel("plugins")
    qtbot.waitUntil(lambda: plugins.loaded and bool(plugins.model.rows), timeout=WAIT)
    if qtinit.webengine_available():
        with qtbot.waitSignal(map_panel.page_ready, timeout=WAIT) as ready:
            window.show_panel("map")
        assert ready.args[0] is True and map_panel.layers is not None
        assert map_panel.layers.streets  # the offline basemap's streets came with it
