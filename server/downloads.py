"""Files a service makes on the server for a client to keep: exports and the dossier.

A client never names a file on the server (:data:`server.app.SERVER_FILE_PARAMS`). For the
services that *write* a file (:data:`DOWNLOADS`), it names only the file it wants instead,
``{"download": "chart.graphml"}``; the server runs the service unchanged on a path in a fresh
private folder of its own, reads back every file the service wrote there (a CSV export writes
two), and answers with them beside the result::

    {"result": {...}, "files": [{"name": "chart.graphml", "bytes": 5120,
                                 "sha256": "…", "base64": "…"}]}

The folder is removed before the answer leaves. The service's own audit entry names the files it
wrote with their SHA-256 (the same digest the client checks on arrival, see
:func:`core.remote_files.save_downloads`). Nothing is kept between requests, so any server
process of a centre can serve any download.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: service → the parameter naming the file it writes (what a client may ask to download).
DOWNLOADS: dict[str, str] = {
    "graph.export": "output",
    "cases.dossier": "path",
    "cases.chart_image": "path",
    "cases.handover_export": "path",
}
MAX_NAME = 120
_NAME = re.compile(r"^[^/\\\x00-\x1f]+$")


class DownloadError(Exception):
    """A download asked for wrongly, or too large to send; ``kind`` is the wire error type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def requested(service: str, key: str, value: Any) -> str | None:
    """The file name asked for when ``value`` is ``{"download": NAME}`` (checked: a plain
    file name on a parameter that :data:`DOWNLOADS` lists for ``service``), else None."""
    if not (isinstance(value, dict) and set(value) == {"download"}):
        return None
    if DOWNLOADS.get(service) != key:
        raise DownloadError(
            "Invalid",
            f"service {service!r}: parameter {key!r} cannot be "
            "downloaded; downloads: "
            + ", ".join(f"{s} ({p})" for s, p in sorted(DOWNLOADS.items())),
        )
    name = value["download"]
    if (
        not isinstance(name, str)
        or not name
        or len(name) > MAX_NAME
        or not _NAME.match(name)
        or name in (".", "..")
        or name.startswith(".")
    ):
        raise DownloadError(
            "Invalid",
            f"service {service!r}: {str(name)[:MAX_NAME]!r} is not a "
            "plain file name (no folders, no leading dot, at most "
            f"{MAX_NAME} characters)",
        )
    return name


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    """A fresh folder only this process's user can read, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="superbrain-download-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def collect(where: Path, limit: int) -> list[dict[str, Any]]:
    """Every regular file the service wrote in ``where``, with its size, SHA-256 and content;
    :class:`DownloadError` ("TooLarge") when together they exceed ``limit`` bytes."""
    files, total = [], 0
    for path in sorted(where.iterdir()):
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or path.name.endswith(".part"):
            continue  # a link or a half-written temporary is never sent
        total += info.st_size
        if total > limit:
            raise DownloadError(
                "TooLarge",
                f"the files made are larger than the {limit:,} "
                "bytes a download may carry; run the export on the "
                "server with the CLI (superbrain ... -w centre.toml)",
            )
        data = path.read_bytes()
        files.append(
            {
                "name": path.name,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "base64": base64.b64encode(data).decode("ascii"),
            }
        )
    return files
