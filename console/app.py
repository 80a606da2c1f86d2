"""Start the console: ``run(root)`` opens the workspace, shows the main window, returns the code."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from console import qtinit
from console.qtnone import present

if TYPE_CHECKING:
    from PyQt6.QtGui import QGuiApplication

log = logging.getLogger(__name__)

CJK_FONT_HINT = (
    "No Chinese (CJK) font found: Chinese text will show as empty boxes. "
    "Install one, e.g. `apt-get install fonts-noto-cjk` on Debian/Ubuntu."
)


def cjk_font_families() -> list[str]:
    """Installed font families that can render Simplified Chinese (needs a QApplication)."""
    from PyQt6.QtGui import QFontDatabase

    return QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)


def use_cjk_font(app: QGuiApplication, language: str) -> str | None:
    """In a Chinese UI, make a CJK font the application's first font: Qt sizes title bars and
    rows from the first font's metrics, and CJK glyphs drawn from a fallback font were clipped
    (dock titles). Returns the family used, or None."""
    if not language.startswith("zh"):
        return None
    families = cjk_font_families()
    preferred = next((f for f in families if "Sans CJK SC" in f), families[0] if families else None)
    if preferred is None:
        log.warning(CJK_FONT_HINT)
        return None
    font = app.font()
    font.setFamilies([preferred, *font.families()])
    app.setFont(font)
    return preferred


def create_application(argv: list[str] | None = None):
    """The QApplication (created once, with WebEngine prepared first)."""
    qtinit.prepare()
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("superbrain")
        app.setOrganizationName("superbrain")
        app.setApplicationDisplayName("superbrain")
    return app


def run(root: Path) -> int:
    """Open the workspace at ``root`` in the console and return the exit code."""
    app = create_application()
    from PyQt6.QtCore import QLocale, QSettings, Qt
    from PyQt6.QtWidgets import QMessageBox

    from console.context import ConsoleContext
    from console.i18n import choose_language, install_translator
    from console.mainwindow import MainWindow
    from core.errors import SuperbrainError
    from core.workspace import Workspace

    if not getattr(app, "_superbrain_language", None):
        language = choose_language(
            QSettings("superbrain", "console").value("language"), QLocale.system().name()
        )
        install_translator(app, language)
        app._superbrain_language = language
        use_cjk_font(app, language)
    try:
        workspace = Workspace.open(Path(root))
    except SuperbrainError as exc:
        box = QMessageBox(
            QMessageBox.Icon.Critical, "superbrain", f"Cannot open the workspace:\n{exc}"
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the error quotes a path: data
        box.exec()
        return 2
    from console.login import ensure_session

    if not ensure_session(workspace):
        workspace.close()
        return 1
    ctx = ConsoleContext(workspace)
    from console.stall import GcSettler

    settler = GcSettler(app)  # full GCs held back during start-up, then freeze: see its docstring
    settler.start()
    window = MainWindow(ctx)
    window.settings.setValue("last_workspace", str(workspace.root))
    window.show()
    if not cjk_font_families():
        log.warning(CJK_FONT_HINT)
        present(window.statusBar()).showMessage(CJK_FONT_HINT, 30000)
    try:
        return int(app.exec())
    finally:
        from PyQt6.QtCore import QThreadPool

        from console import offload

        # let workers finish with the store
        present(QThreadPool.globalInstance()).waitForDone(10_000)
        offload.shutdown()  # the graph helper process
        ctx.close()


def run_default(default: Path) -> int:
    """``superbrain`` with no arguments: open the last workspace, else ``default`` when it is a
    workspace, else offer to build the demo there (console.startup)."""
    app = create_application()
    from PyQt6.QtCore import QLocale, QSettings
    from PyQt6.QtWidgets import QDialog

    from console.i18n import choose_language, install_translator
    from console.startup import StartDialog, pick_workspace

    settings = QSettings("superbrain", "console")
    language = choose_language(settings.value("language"), QLocale.system().name())
    install_translator(app, language)
    app._superbrain_language = language
    use_cjk_font(app, language)
    last = settings.value("last_workspace")
    choice, path = pick_workspace(str(last) if last else None, default)
    if choice == "offer_demo":
        dialog = StartDialog(path)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.workspace is None:
            return 0
        path = dialog.workspace
    return run(path)
