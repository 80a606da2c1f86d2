"""Photos sent from the field and by the public: bounded, content-sniffed, stored as data.

A photo is accepted only when its bytes *are* a JPEG, PNG or WebP image (magic number, then
Pillow decodes its header and verifies the file), whatever name or type the sender claimed; it
is kept in ``ops_photos`` (base64 text, so the same table works in SQLite and PostgreSQL) with
its SHA-256. Nothing a sender controls reaches a path on disk.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Sequence
from typing import Any

from ops.errors import OpsError

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a "decompression bomb" is refused before it is decoded
THUMB_PX = (32, 1024)  # a thumbnail's longest side may be asked for within these bounds
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"RIFF", "image/webp", "WEBP"),
)


class InvalidPhotoError(OpsError):
    """A photo is too large, too many, or not an image of an accepted kind."""


def sniff(data: bytes, where: str) -> str:
    """The MIME type of ``data`` when it is a JPEG, PNG or WebP image; else
    :class:`InvalidPhotoError` naming ``where``."""
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidPhotoError(
            f"{where}: {len(data)} bytes; a photo may have at most {MAX_PHOTO_BYTES} bytes"
        )
    found = next(
        (
            (mime, fmt)
            for magic, mime, fmt in _MAGIC
            if data.startswith(magic) and (mime != "image/webp" or data[8:12] == b"WEBP")
        ),
        None,
    )
    if found is None:
        raise InvalidPhotoError(
            f"{where}: not a JPEG, PNG or WebP image (its content was checked, not its name)"
        )
    mime, pil_format = found
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != pil_format:
                raise InvalidPhotoError(f"{where}: content is {img.format}, not {pil_format}")
            if img.width * img.height > MAX_PIXELS:
                raise InvalidPhotoError(f"{where}: {img.width}×{img.height} pixels is too large")
            img.verify()
    except InvalidPhotoError:
        raise
    except Exception as exc:  # Pillow raises many kinds on a damaged file
        raise InvalidPhotoError(f"{where}: not a readable {pil_format} image ({exc})") from None
    return mime


def check_photos(photos: Sequence[Any] | None, what: str) -> list[tuple[bytes, str]]:
    """Validate up to :data:`MAX_PHOTOS` photos; returns (bytes, mime) pairs."""
    if photos is not None and not isinstance(photos, list | tuple):
        raise InvalidPhotoError(f"{what}: photos must be a list")
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise InvalidPhotoError(f"{what}: {len(photos)} photos; at most {MAX_PHOTOS}")
    out = []
    for i, photo in enumerate(photos):
        where = f"{what}: photo {i + 1}"
        data = _decode(photo, where)
        out.append((data, sniff(data, where)))
    return out


def _decode(photo: Any, where: str) -> bytes:
    """Bytes as given in-process, or ``{"base64": …}`` as sent over the network (a list's
    items are not decoded by the server; the size is checked before decoding)."""
    if isinstance(photo, bytes | bytearray):
        return bytes(photo)
    if isinstance(photo, dict) and set(photo) == {"base64"} and isinstance(photo["base64"], str):
        text = photo["base64"]
        if len(text) > (MAX_PHOTO_BYTES * 4) // 3 + 4:
            raise InvalidPhotoError(f"{where}: a photo may have at most {MAX_PHOTO_BYTES} bytes")
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise InvalidPhotoError(f"{where}: not valid base64") from None
    raise InvalidPhotoError(f'{where}: send the photo\'s bytes as {{"base64": …}}')


def store_photos(tx: Any, owner: str, photos: Sequence[tuple[bytes, str]]) -> list[int]:
    """Insert checked photos for ``owner`` (e.g. ``report:CODE``); returns their ids."""
    ids = []
    for data, mime in photos:
        cur = tx.con.execute(
            "INSERT INTO ops_photos (owner, mime, sha256, size, data, ts) VALUES (?,?,?,?,?,?)",
            (
                owner,
                mime,
                hashlib.sha256(data).hexdigest(),
                len(data),
                base64.b64encode(data).decode("ascii"),
                tx.now,
            ),
        )
        ids.append(int(cur.lastrowid or 0))
    return ids


def photos_of(con: Any, owner: str) -> list[dict[str, Any]]:
    """Photos stored for ``owner``: id, mime, sha256, size (not the bytes)."""
    rows = con.execute(
        "SELECT id, mime, sha256, size FROM ops_photos WHERE owner=? ORDER BY id", (owner,)
    ).fetchall()
    return [{"id": r[0], "mime": r[1], "sha256": r[2], "size": r[3]} for r in rows]


def photo(con: Any, photo_id: int) -> dict[str, Any]:
    """One stored photo: owner, mime, sha256 and its bytes."""
    from ops.errors import UnknownIncidentError

    row = con.execute(
        "SELECT id, owner, mime, sha256, data FROM ops_photos WHERE id=?", (int(photo_id),)
    ).fetchone()
    if row is None:
        raise UnknownIncidentError(f"no photo {photo_id!r}")
    return {
        "id": row[0],
        "owner": row[1],
        "mime": row[2],
        "sha256": row[3],
        "data": base64.b64decode(row[4]),
    }


def thumbnail(data: bytes, max_px: int, where: str) -> bytes:
    """``data`` (a stored, checked photo) re-encoded as a JPEG whose longest side is at most
    ``max_px`` (within :data:`THUMB_PX`; the EXIF orientation applied, nothing else of the
    original kept), so a console lists an incident's photos without fetching megabytes."""
    if (
        isinstance(max_px, bool)
        or not isinstance(max_px, int)
        or not THUMB_PX[0] <= max_px <= THUMB_PX[1]
    ):
        raise InvalidPhotoError(
            f"{where}: max_px must be a whole number from {THUMB_PX[0]} "
            f"to {THUMB_PX[1]}, got {max_px!r}"
        )
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InvalidPhotoError(f"{where}: {img.width}×{img.height} pixels is too large")
            small = ImageOps.exif_transpose(img).convert("RGB")
            small.thumbnail((max_px, max_px))
            out = io.BytesIO()
            small.save(out, "JPEG", quality=80)
    except InvalidPhotoError:
        raise
    except Exception as exc:  # Pillow raises many kinds on a damaged file
        raise InvalidPhotoError(f"{where}: cannot be read for a thumbnail ({exc})") from None
    return out.getvalue()
