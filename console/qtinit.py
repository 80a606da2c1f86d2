"""Process-wide Qt set-up that must happen before the first QApplication exists.

Qt WebEngine needs ``AA_ShareOpenGLContexts`` set (and its module imported) before the
application object is created; as root Chromium refuses to start without ``--no-sandbox``.
Tests and :func:`console.app.run` both call :func:`prepare` first.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

_prepared = False
WEBENGINE_ERROR: str | None = None


def prepare() -> None:
    """Set the attributes and environment Qt WebEngine needs; safe to call more than once."""
    global _prepared, WEBENGINE_ERROR
    if _prepared:
        return
    _prepared = True
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--no-sandbox" not in flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --no-sandbox").strip()
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    from PyQt6.QtCore import QCoreApplication, Qt

    if QCoreApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    try:
        import PyQt6.QtWebEngineWidgets  # noqa: F401 - must be imported before QApplication
    except ImportError as exc:
        WEBENGINE_ERROR = f"Qt WebEngine is not available: {exc}"
        log.warning(WEBENGINE_ERROR)
        return
    if QCoreApplication.instance() is None:
        register_tile_scheme()


#: The URL scheme of the workspace's own MBTiles tiles (console.tiles serves it).
TILE_SCHEME = b"sbtiles"


def register_tile_scheme() -> None:
    """Declare :data:`TILE_SCHEME` to Qt WebEngine (only possible before the QApplication):
    a local scheme that the map pages, loaded from local files, may fetch images from."""
    from PyQt6.QtWebEngineCore import QWebEngineUrlScheme

    if QWebEngineUrlScheme.schemeByName(TILE_SCHEME).name():
        return
    scheme = QWebEngineUrlScheme(TILE_SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Path)
    flag = QWebEngineUrlScheme.Flag
    scheme.setFlags(flag.LocalScheme | flag.LocalAccessAllowed | flag.SecureScheme)
    QWebEngineUrlScheme.registerScheme(scheme)


def webengine_available() -> bool:
    """True when QtWebEngineWidgets imported (the map panel falls back to a notice otherwise)."""
    prepare()
    return WEBENGINE_ERROR is None
