"""Files named by input data (a photo column): confined to a folder, regular, bounded.

A row of an ingested file is attacker-controlled; a path in it must not reach files outside
the data folder (``../../etc/x``, a link pointing out), and must not hang or exhaust a reader
(a FIFO, ``/dev/zero``, a huge file). :func:`confined_file` checks all of that without opening
the file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

#: Largest photo a row may point at; bigger files are refused, not read.
MAX_PHOTO_BYTES = 20 * 1024 * 1024


def confined_file(
    raw: str,
    base: Path,
    extra_roots: Sequence[Path] = (),
    *,
    max_bytes: int = MAX_PHOTO_BYTES,
    what: str = "photo",
) -> Path:
    """The file ``raw`` names, checked, as an absolute path with links resolved.

    Parameters
    ----------
    raw:
        The path as written in the data; relative paths are taken from ``base``.
    base:
        The data folder (the input file's folder); the file must lie inside it or inside one
        of ``extra_roots`` once links are resolved.
    max_bytes:
        Refuse larger files.

    Returns
    -------
    Path
        The resolved path. A file that does not exist is returned as it is (the reader reports
        it; the record is kept).

    Raises
    ------
    ValueError
        Saying why: outside the data folder, not a regular file, too big, unreadable.
    """
    base = Path(base).resolve()
    target = Path(raw)
    target = (target if target.is_absolute() else base / target).resolve()
    roots = [base, *(Path(r).resolve() for r in extra_roots)]
    if not any(target.is_relative_to(root) for root in roots):
        raise ValueError(f"{what} {raw!r} is outside the data folder {str(base)!r}")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise ValueError(f"{what} {raw!r}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{what} {raw!r} is not a regular file")
    if info.st_size > max_bytes:
        raise ValueError(f"{what} {raw!r} is {info.st_size:,} bytes; the limit is {max_bytes:,}")
    return target
