"""Fixtures for the console tests: a small demo workspace built once per test module.

Imported explicitly by ``tests/test_console_*.py`` (not a conftest): Qt WebEngine must be
prepared before pytest-qt creates the QApplication, which :func:`console.qtinit.prepare` does at
import time here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from console import qtinit

qtinit.prepare()


def build_demo(root: Path) -> Path:
    """A ``tiny`` demo workspace (seven built-in sources, 200 rows each) with demo units."""
    from core.cli import main as cli_main
    from core.workspace import Workspace

    rc = cli_main(["demo", "--no-console", "-w", str(root), "--size", "tiny"])
    assert rc == 0, f"demo build failed with exit code {rc}"
    ws = Workspace.open(root)
    try:
        from ops.seed import seed_demo_units
        from ops.service import OpsService

        seed_demo_units(OpsService(ws))
    except ModuleNotFoundError:
        pass  # the dispatch tests skip, saying why
    finally:
        ws.close()
    return root


def open_main_window(qtbot: Any, ctx: Any, settings: Any) -> Any:
    """The console's main window on ``ctx`` with ``settings``, shown (pytest-qt closes it)."""
    from console.mainwindow import MainWindow

    window = MainWindow(ctx, settings)
    qtbot.addWidget(window)
    window.show()
    return window


def show_map_page(
    qtbot: Any, path: Path, html: str, size: tuple[int, int] = (600, 400), timeout: int = 30_000
) -> Any:
    """The console's map view (``make_map_view``) on ``html``, written to ``path`` and loaded
    from there as the map panel does, shown at ``size``: returned once the page says it is
    ready (its title), within ``timeout`` ms."""
    from PyQt6.QtCore import QUrl

    from console.map_panel import make_map_view

    path.write_text(html, encoding="utf-8")
    view = make_map_view(lambda *_: None, lambda _ok: None)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    view.load(QUrl.fromLocalFile(str(path)))
    qtbot.waitUntil(lambda: view.title() == "superbrain-map-ready", timeout=timeout)
    return view


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as patch:  # the user is "tester" for this module only
        patch.setenv("SUPERBRAIN_USER", "tester")
        yield build_demo(tmp_path_factory.mktemp("console-demo") / "ws")


@pytest.fixture
def ctx(demo_root: Path) -> Iterator[object]:
    from console.context import ConsoleContext
    from core.workspace import Workspace

    context = ConsoleContext(Workspace.open(demo_root))
    yield context
    context.close()


@pytest.fixture
def settings(tmp_path: Path, qapp: object) -> object:
    """Window settings in a temporary file; the default QSettings also point there."""
    from PyQt6.QtCore import QSettings

    QSettings.setPath(
        QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings")
    )
    return QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def drain(qtbot: object, ctx: object) -> Iterator[None]:
    """After the test, wait for background jobs to finish before widgets are destroyed and
    before the workspace closes (this fixture's teardown runs before theirs)."""
    yield
    import time

    from PyQt6.QtWidgets import QApplication

    from console.workers import running_jobs

    # Plain processEvents, not qtbot.waitUntil: a nested event loop would run the closed
    # windows' deleteLater while their jobs still deliver results to them.
    deadline = time.monotonic() + 60
    while running_jobs() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    assert running_jobs() == 0, "background jobs still running 60 s after the test"
    destroy_windows()


def destroy_windows() -> None:
    """Close and really delete every top-level widget now, inside the console test.

    ``deleteLater`` alone is not run by ``processEvents``, so closed windows would otherwise
    live on, their timers firing into later, unrelated tests.
    """
    from PyQt6.QtCore import QCoreApplication, QEvent
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    app.processEvents()
