"""Small MBTiles files made by the tests themselves: PNG tiles of one colour around a point."""

from __future__ import annotations

import math
import sqlite3
import struct
import zlib
from pathlib import Path


def solid_png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A ``size``×``size`` PNG of one colour (written by hand: no imaging library needed)."""
    row = b"\x00" + bytes(rgb) * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    """The XYZ column and row (counted from the top) of the tile holding (lat, lon)."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def write_mbtiles(
    path: Path,
    tiles: dict[tuple[int, int, int], bytes],
    *,
    fmt: str = "png",
    name: str = "test city",
) -> Path:
    """An MBTiles file with ``tiles`` keyed by XYZ ``(z, x, y)`` (stored as TMS rows)."""
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE metadata (name TEXT, value TEXT);"
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
        "tile_row INTEGER, tile_data BLOB);"
    )
    zooms = [z for z, _, _ in tiles] or [0]
    con.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [
            ("name", name),
            ("format", fmt),
            ("minzoom", str(min(zooms))),
            ("maxzoom", str(max(zooms))),
            ("bounds", "120.3,30.3,121.3,31.1"),
        ],
    )
    con.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()],
    )
    con.commit()
    con.close()
    return path


def city_tiles(
    lat: float,
    lon: float,
    zooms: range = range(10, 15),
    radius: int = 3,
    rgb: tuple[int, int, int] = (200, 30, 160),
) -> dict[tuple[int, int, int], bytes]:
    """Tiles of one colour covering ``radius`` tiles around (lat, lon) at each zoom."""
    png = solid_png(rgb)
    out = {}
    for z in zooms:
        cx, cy = tile_of(lat, lon, z)
        for x in range(cx - radius, cx + radius + 1):
            for y in range(cy - radius, cy + radius + 1):
                out[(z, x, y)] = png
    return out
