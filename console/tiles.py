"""The map's own tiles in the console, served to the map pages through the ``sbtiles:`` URL
scheme (:data:`console.qtinit.TILE_SCHEME`): a workspace's MBTiles file, or a centre's tiles.

A workspace with ``[map] tile_url`` uses that tile server. Without one, a file dropped at
``WORKSPACE/map/<name>.mbtiles`` (or named in ``[map] mbtiles``) is opened read-only
(:class:`core.mbtiles.MBTiles`) and the map pages ask for ``sbtiles:tile/{z}/{x}/{y}``; the
handler answers from the file, checking the coordinates first (:mod:`core.mbtiles`).

A client console (``superbrain console --server URL``) uses its centre's tiles the same way:
when the centre has some (``GET /api/v1/tiles``), the pages ask ``sbtiles:`` and the handler
fetches each tile from ``/api/v1/tiles/{z}/{x}/{y}`` with the console's session
(:class:`CentreTiles`, in worker threads), so the token never enters a page where a script
could read it. Without centre tiles the pages keep the bundled offline basemap.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from core.mbtiles import MBTiles, TileError, find_mbtiles, parse_tile_path

log = logging.getLogger(__name__)

#: The tile URL template of the map pages when the workspace's MBTiles are served.
LOCAL_TILE_URL = "sbtiles:tile/{z}/{x}/{y}"

#: Tiles a client console keeps in memory (a 256-pixel raster tile is tens of kilobytes).
CACHE_TILES = 512
#: Tiles fetched from the centre at once (Leaflet asks for a screenful together).
FETCHERS = 4

_lock = threading.Lock()
_served: MBTiles | None = None
_remote: CentreTiles | None = None
_handler: Any = None
_pool: ThreadPoolExecutor | None = None


class CentreTiles:
    """The centre's tiles for a client console, fetched with its session and kept in a small
    cache; :meth:`answer` blocks for a round trip, so the handler calls it in a worker.

    Parameters
    ----------
    client:
        The console's :class:`core.remote.CentreClient` (its token stays in it).
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self._cache: OrderedDict[tuple[int, int, int], tuple[str, bytes] | None] = OrderedDict()
        self._cache_lock = threading.Lock()

    def answer(self, path: str) -> tuple[int, str, bytes]:
        """As :func:`answer`, from the centre: 200 with the tile, 404 where it has none, 400 for
        a path outside the grid, 502 when the centre could not be asked (logged)."""
        from core.remote import RemoteError

        if not path.startswith("tile/"):
            return 404, "text/plain", b"no tiles"
        coords = parse_tile_path(path[len("tile/") :])
        if coords is None:
            return 400, "text/plain", b"bad tile path"
        with self._cache_lock:
            cached = coords in self._cache
            found = self._cache.get(coords)
            if cached:
                self._cache.move_to_end(coords)
        if not cached:
            try:
                found = self.client.tile(*coords)
            except RemoteError as exc:  # the map shows the tiles it has; the reason is logged
                log.info("map: centre tile %s/%s/%s not served: %s", *coords, exc)
                return 400 if exc.status == 400 else 502, "text/plain", b"tile not served"
            with self._cache_lock:
                self._cache[coords] = found
                while len(self._cache) > CACHE_TILES:
                    self._cache.popitem(last=False)
        if found is None:
            return 404, "text/plain", b"no such tile"
        return 200, found[0], found[1]


def centre_tile_url(client: Any) -> str:
    """:data:`LOCAL_TILE_URL` when the centre ``client`` is signed in to has tiles (its map
    pages then show them through :class:`CentreTiles`), else "" (the offline basemap).
    Blocks for a round trip: call it off the GUI thread."""
    global _remote
    from core.remote import RemoteError

    try:
        available = bool(client.tiles().get("available"))
    except RemoteError as exc:
        log.warning("map: the centre's tiles cannot be listed (%s); offline basemap", exc)
        available = False
    with _lock:
        if not available:
            _remote = None
            return ""
        if _remote is None or _remote.client is not client:
            _remote = CentreTiles(client)
    log.info("map: showing the tiles of the centre %s", client.url)
    return LOCAL_TILE_URL


def local_tiles(root: Any, configured: str = "") -> MBTiles | None:
    """Open the workspace's MBTiles file (or ``None`` without one) and serve it from now on.

    Raises
    ------
    TileError
        The configured or dropped file cannot be served (the message names it).
    """
    global _served, _remote
    path = find_mbtiles(root, configured)
    with _lock:
        _remote = None  # a workspace's console: no centre's tiles
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
    MBTiles file (:data:`LOCAL_TILE_URL`), else "" (the offline basemap); in a client console
    the centre's tiles (:func:`centre_tile_url`). Call it off the GUI thread; a file that
    cannot be served is logged and the offline basemap is used."""
    if ctx.tile_url:
        return str(ctx.tile_url)
    if getattr(ctx, "remote", False):
        return centre_tile_url(ctx.client)
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
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, pyqtSignal
    from PyQt6.QtWebEngineCore import QWebEngineUrlRequestJob, QWebEngineUrlSchemeHandler

    class TileSchemeHandler(QWebEngineUrlSchemeHandler):
        """Answers ``sbtiles:`` from the workspace's file at once, or from the centre in a
        worker (the reply comes back to the GUI thread through :attr:`fetched`)."""

        fetched = pyqtSignal(int, int, str, object)  # request number, status, media, body

        def __init__(self, parent: Any) -> None:
            super().__init__(parent)
            self._jobs: dict[int, QWebEngineUrlRequestJob] = {}
            self._next = 0
            self.fetched.connect(self._fetched)

        def requestStarted(self, job: QWebEngineUrlRequestJob | None) -> None:
            if job is None:
                return
            path = job.requestUrl().path()
            remote = _remote
            if remote is None:
                self._reply(job, *answer(path))
                return
            self._next += 1
            key = self._next
            self._jobs[key] = job
            # the engine deletes a job whose page went away: never answer a deleted one
            job.destroyed.connect(lambda *_args, key=key: self._jobs.pop(key, None))
            _fetch_pool().submit(self._fetch, remote, key, path)

        def _fetch(self, remote: CentreTiles, key: int, path: str) -> None:  # a worker
            try:
                answered = remote.answer(path)
            except Exception:  # a bug must still end the request, not leave it hanging
                log.exception("map: centre tile %s", path)
                answered = (500, "text/plain", b"")
            # RuntimeError: the handler went away with the web profile (the window closed)
            with contextlib.suppress(RuntimeError):
                self.fetched.emit(key, *answered)

        def _fetched(self, key: int, status: int, media: str, body: bytes) -> None:
            job = self._jobs.pop(key, None)
            if job is not None:
                self._reply(job, status, media, body)

        @staticmethod
        def _reply(job: QWebEngineUrlRequestJob, status: int, media: str, body: bytes) -> None:
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


def _fetch_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(FETCHERS, thread_name_prefix="sbtiles")
        return _pool
