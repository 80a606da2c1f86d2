"""The workspace's own map tiles in the console: an MBTiles file served to the map pages
through the ``sbtiles:`` URL scheme (:data:`console.qtinit.TILE_SCHEME`), never over a network.

A workspace with ``[map] tile_url`` uses that tile server. Without one, a file dropped at
``WORKSPACE/map/<name>.mbtiles`` (or named in ``[map] mbtiles``) is opened read-only
(:class:`core.mbtiles.MBTiles`) and the map pages ask for ``sbtiles:tile/{z}/{x}/{y}``; the
handler answers from the file, checking the coordinates first (:mod:`core.mbtiles`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from core.mbtiles import MBTiles, TileError, find_mbtiles, parse_tile_path

log = logging.getLogger(__name__)

#: The tile URL template of the map pages when the workspace's MBTiles are served.
LOCAL_TILE_URL = "sbtiles:tile/{z}/{x}/{y}"

_lock = threading.Lock()
_served: MBTiles | None = None
_handler: Any = None


def local_tiles(root: Any, configured: str = "") -> MBTiles | None:
    """Open the workspace's MBTiles file (or ``None`` without one) and serve it from now on.

    Raises
    ------
    TileError
        The configured or dropped file cannot be served (the message names it).
    """
    global _served
    path = find_mbtiles(root, configured)
    with _lock:
        if path is None:
            _served = None
            return None
        if _served is not None and _served.path == path:
            return _served
        old, _served = _served, MBTiles(path)
    if old is not None:
        old.close()
    log.info("map: serving the tiles of %s", path)
    return _served


def tile_url_for(ctx: Any) -> str:
    """The tile URL template for the workspace's map pages: its tile server, else its own
    MBTiles file (:data:`LOCAL_TILE_URL`), else "" (the offline basemap). Call it off the GUI
    thread; a file that cannot be served is logged and the offline basemap is used."""
    if ctx.tile_url:
        return str(ctx.tile_url)
    config = ctx.workspace.config.get("map", {}) or {}
    try:
        tiles = local_tiles(ctx.workspace.root, str(config.get("mbtiles", "") or ""))
    except TileError as exc:
        log.warning("map: %s; the offline basemap is shown instead", exc)
        return ""
    return LOCAL_TILE_URL if tiles is not None else ""


def answer(path: str) -> tuple[int, str, bytes]:
    """(HTTP-like status, media type, body) for the tile path ``tile/z/x/y``: 200 with the
    tile, 404 where there is none (or no file is served), 400 for a path outside the grid."""
    served = _served
    if served is None or not path.startswith("tile/"):
        return 404, "text/plain", b"no tiles"
    coords = parse_tile_path(path[len("tile/") :])
    if coords is None:
        return 400, "text/plain", b"bad tile path"
    try:
        data = served.tile(*coords)
    except TileError as exc:
        log.info("map tiles: %s", exc)
        return 400, "text/plain", b"bad tile"
    if data is None:
        return 404, "text/plain", b"no such tile"
    return 200, served.media_type, data


def install(profile: Any) -> None:
    """Install the ``sbtiles:`` handler on a web profile (once; the default profile's map
    views share it)."""
    global _handler
    from console.qtinit import TILE_SCHEME

    if profile.urlSchemeHandler(TILE_SCHEME) is not None:
        return
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice
    from PyQt6.QtWebEngineCore import QWebEngineUrlRequestJob, QWebEngineUrlSchemeHandler

    class TileSchemeHandler(QWebEngineUrlSchemeHandler):
        def requestStarted(self, job: QWebEngineUrlRequestJob | None) -> None:
            if job is None:
                return
            status, media, body = answer(job.requestUrl().path())
            if status == 404:
                job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
                return
            if status != 200:
                job.fail(QWebEngineUrlRequestJob.Error.UrlInvalid)
                return
            buffer = QBuffer(job)
            buffer.setData(QByteArray(body))
            buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            job.reply(media.encode("ascii"), buffer)

    _handler = TileSchemeHandler(profile)
    profile.installUrlSchemeHandler(TILE_SCHEME, _handler)
