"""Files between a client and a centre server: a photo sent up, exports brought down.

Up (:func:`read_upload`): a probe photo the analyst picked is read on the client, checked before
a byte leaves — a regular file (not a FIFO, a device or ``/dev/zero``), no larger than the limit,
and an image by its first bytes (JPEG, PNG, BMP, WebP) — and sent as its content; the server
decodes it again under its own limits.

Down (:func:`save_downloads`): the files a service made on the server (:mod:`server.downloads`)
arrive with their SHA-256. Each is checked on arrival against that digest and written
atomically (a ``.part`` file renamed into place) into the folder of the path the analyst
picked, and nowhere else: a name from the server is a plain file name or it is refused. A
mismatch writes nothing. No Qt here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import SuperbrainError

#: Largest probe photo a client sends (base64 makes it a third larger; the server's default
#: request limit is 16 MiB).
MAX_UPLOAD_BYTES = 12 * 1024 * 1024

#: First bytes of the photo formats the face pipeline reads.
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"))


class TransferError(SuperbrainError):
    """A file could not be sent or kept; the message names the file and the reason."""


def image_kind(head: bytes) -> str | None:
    """The photo format its first bytes say (``JPEG``, ``PNG``, ``BMP``, ``WebP``), or None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


def read_upload(path: str | Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """The content of the photo at ``path``, checked (regular file, at most ``max_bytes``, an
    image by its first bytes) without blocking on a FIFO or reading past the limit.

    Raises
    ------
    TransferError
        Naming the file and why it is not sent.
    """
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise TransferError(f"{name!r}: cannot open the photo ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise TransferError(f"{name!r} is not a regular file; pick a photo file")
        if info.st_size > max_bytes:
            raise TransferError(
                f"{name!r} is {info.st_size:,} bytes; a probe photo may have at most {max_bytes:,}"
            )
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while being read
        raise TransferError(f"{name!r} is larger than {max_bytes:,} bytes")
    if not data:
        raise TransferError(f"{name!r} is empty")
    if image_kind(data[:16]) is None:
        raise TransferError(
            f"{name!r} is not a JPEG, PNG, BMP or WebP photo (its first bytes are {data[:8]!r})"
        )
    return data


def _plain(name: Any) -> str:
    text = str(name)
    if not text or text != Path(text).name or text in (".", "..") or "\\" in text or "\x00" in text:
        raise TransferError(
            f"the server sent a file named {text[:120]!r}, which is not a plain "
            "file name; nothing was written"
        )
    return text


def save_downloads(files: Sequence[Any], target: Path) -> list[Path]:
    """Write the server's ``files`` (``{"name", "bytes", "sha256", "base64"}`` each) beside
    ``target``: the file named like ``target`` becomes ``target`` itself, companions (a CSV
    export's ``*.nodes.csv`` / ``*.edges.csv``) keep their names in the same folder.

    Every file is checked before any is written: its content must decode and hash to the
    SHA-256 the server sent (the one its audit entry records). Returns the paths written.

    Raises
    ------
    TransferError
        A malformed entry, a digest that does not match, or a file that cannot be written.
    """
    target = Path(target)
    folder = target.parent
    if not folder.is_dir():
        raise TransferError(f"{str(folder)!r}: no such folder")
    checked: list[tuple[Path, bytes, str]] = []
    for entry in files:
        if not isinstance(entry, dict):
            raise TransferError("the server's file list is malformed; nothing was written")
        name = _plain(entry.get("name"))
        try:
            data = base64.b64decode(str(entry.get("base64", "")), validate=True)
        except (binascii.Error, ValueError):
            raise TransferError(
                f"{name!r}: the content is not valid base64; nothing was written"
            ) from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry.get("sha256"):
            raise TransferError(
                f"{name!r}: SHA-256 on arrival {digest} differs from the "
                f"server's {str(entry.get('sha256'))[:64]}; nothing was written"
            )
        if entry.get("bytes") is not None and entry.get("bytes") != len(data):
            raise TransferError(
                f"{name!r}: {len(data):,} bytes arrived, the server sent "
                f"{entry.get('bytes')}; nothing was written"
            )
        out = target if name == target.name or len(files) == 1 else folder / name
        checked.append((out, data, digest))
    written = []
    for out, data, digest in checked:
        part = out.with_name(out.name + ".part")
        try:
            part.write_bytes(data)
            if sha256_file(part) != digest:  # what reached the disk, not only the wire
                raise TransferError(
                    f"{str(out)!r}: the file on disk does not hash to {digest}; it was not kept"
                )
            os.replace(part, out)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise TransferError(f"{str(out)!r}: cannot write ({exc.strerror})") from None
        except TransferError:
            part.unlink(missing_ok=True)
            raise
        written.append(out)
    return written


def sha256_file(path: Path) -> str:
    """The SHA-256 of the file at ``path`` (read back after writing, to show the analyst)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
