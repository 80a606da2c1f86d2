"""A centre's own map tiles from an MBTiles file (SQLite with a ``tiles`` table), read-only.

A centre that has tiles of its city drops ``WORKSPACE/map/<name>.mbtiles`` into its workspace
(or names the file in ``[map] mbtiles``); the console serves them to its map through a URL
scheme of its own and ``superbrain serve`` to the phone pages through an authenticated route.
What a request controls is three integers: they are checked against the zoom range and the
grid of that zoom before any query, the file is opened read-only and only as a regular file
inside the workspace, and a tile larger than :data:`MAX_TILE_BYTES` is refused. Raster tiles
only (PNG, JPEG, WebP): vector tiles need a style renderer that is not shipped.
"""

from __future__ import annotations

import logging
import sqlite3
import stat
import threading
from pathlib import Path

from core.errors import SuperbrainError

log = logging.getLogger(__name__)

#: Deepest zoom served (street level is 17–19; nothing real is deeper than 22).
MAX_ZOOM = 22
#: Largest tile served; a raster tile of 256×256 is tens of kilobytes.
MAX_TILE_BYTES = 1024 * 1024
#: The folder of the workspace searched for a dropped ``*.mbtiles`` file.
MAP_FOLDER = "map"
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
_MAGIC = b"SQLite format 3\x00"


class TileError(SuperbrainError):
    """An MBTiles file (or one of its tiles) that cannot be served."""


class TileRequestError(TileError):
    """A tile request outside the grid: the asker's mistake, not the file's."""


def find_mbtiles(root: Path, configured: str = "") -> Path | None:
    """The workspace's MBTiles file: ``configured`` (``[map] mbtiles``, relative to ``root``)
    or else the first ``root/map/*.mbtiles`` by name; ``None`` when there is none.

    Raises
    ------
    TileError
        ``configured`` names a file that is missing or lies outside the workspace.
    """
    root = root.resolve()
    if configured.strip():
        path = (root / configured.strip()).resolve()
        if not path.is_relative_to(root):
            raise TileError(
                f"[map] mbtiles = {configured!r}: the file must lie inside the "
                f"workspace {str(root)!r}"
            )
        if not path.is_file():
            raise TileError(f"[map] mbtiles = {configured!r}: no such file {str(path)!r}")
        return path
    folder = root / MAP_FOLDER
    if not folder.is_dir():
        return None
    found = sorted(
        p for p in folder.glob("*.mbtiles") if p.resolve().is_relative_to(root) and p.is_file()
    )
    return found[0] if found else None


class MBTiles:
    """One MBTiles file, opened read-only; :meth:`tile` is safe to call from any thread.

    Raises
    ------
    TileError
        The file is not a regular SQLite file, has no ``tiles`` table, or holds vector tiles.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            info = self.path.stat()
        except OSError as exc:
            raise TileError(f"{str(self.path)!r}: cannot read the MBTiles file: {exc}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise TileError(f"{str(self.path)!r}: not a regular file")
        with self.path.open("rb") as fh:
            if fh.read(len(_MAGIC)) != _MAGIC:
                raise TileError(f"{str(self.path)!r}: not an MBTiles file (no SQLite header)")
        self._lock = threading.Lock()
        self._con = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        try:
            self.metadata = self._read_metadata()
            self._con.execute(
                "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 0"
            )
        except sqlite3.Error as exc:
            self._con.close()
            raise TileError(f"{str(self.path)!r}: not an MBTiles file: {exc}") from exc
        fmt = self.metadata.get("format", "png").lower()
        if fmt not in MEDIA_TYPES:
            self._con.close()
            raise TileError(
                f"{str(self.path)!r}: tiles of format {fmt!r} cannot be shown "
                f"(raster tiles only: {', '.join(sorted(MEDIA_TYPES))})"
            )
        self.media_type = MEDIA_TYPES[fmt]
        self.min_zoom = _int(self.metadata.get("minzoom"), 0)
        self.max_zoom = min(_int(self.metadata.get("maxzoom"), MAX_ZOOM), MAX_ZOOM)

    def _read_metadata(self) -> dict[str, str]:
        try:
            rows = self._con.execute("SELECT name, value FROM metadata").fetchall()
        except sqlite3.OperationalError:  # the table is optional in practice
            return {}
        return {str(k): str(v) for k, v in rows}

    @property
    def name(self) -> str:
        return self.metadata.get("name") or self.path.stem

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) from the metadata, or ``None``."""
        try:
            west, south, east, north = (float(v) for v in self.metadata["bounds"].split(","))
        except (KeyError, ValueError):
            return None
        return west, south, east, north

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at zoom ``z``, column ``x`` and row ``y`` counted from the top (the XYZ
        scheme of Leaflet), or ``None`` where the file has none.

        Raises
        ------
        TileRequestError
            The coordinates lie outside the grid.
        TileError
            The stored tile is too large.
        """
        if not all(type(v) is int for v in (z, x, y)):
            raise TileRequestError(f"tile {z}/{x}/{y}: coordinates must be integers")
        if not 0 <= z <= MAX_ZOOM:
            raise TileRequestError(f"tile {z}/{x}/{y}: zoom must lie in 0..{MAX_ZOOM}")
        side = 1 << z
        if not (0 <= x < side and 0 <= y < side):
            raise TileRequestError(f"tile {z}/{x}/{y}: column and row must lie in 0..{side - 1}")
        key = (z, x, side - 1 - y)  # MBTiles count rows from the bottom (TMS)
        where = "FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?"
        with self._lock:  # the size first: an oversized blob is never read into memory
            row = self._con.execute(f"SELECT length(tile_data) {where}", key).fetchone()
            if row is None or row[0] is None:
                return None
            if row[0] > MAX_TILE_BYTES:
                raise TileError(
                    f"{str(self.path)!r}: tile {z}/{x}/{y} has {row[0]:,} bytes "
                    f"(at most {MAX_TILE_BYTES:,} are served)"
                )
            data = self._con.execute(f"SELECT tile_data {where}", key).fetchone()
        return bytes(data[0]) if data and data[0] is not None else None

    def close(self) -> None:
        with self._lock:
            self._con.close()


def parse_tile_path(text: str) -> tuple[int, int, int] | None:
    """``"z/x/y"`` (an optional image suffix on ``y``) → integers, or ``None`` for anything
    else: no signs, no spaces, at most 8 digits each."""
    parts = text.strip("/").split("/")
    if len(parts) != 3:
        return None
    last = parts[2]
    for suffix in (".png", ".jpg", ".jpeg", ".webp"):
        if last.endswith(suffix):
            parts[2] = last[: -len(suffix)]
            break
    if not all(p.isascii() and p.isdigit() and 0 < len(p) <= 8 for p in parts):
        return None
    z, x, y = (int(p) for p in parts)
    return z, x, y


def _int(value: str | None, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default
