"""PyQt6's type stubs mark every object a Qt getter returns as optional (``QHeaderView | None``)
because C++ may return a null pointer; for a table's header, a window's status bar or a menu
just added, Qt never does. :func:`present` says so once, for the type checker, and names the
getter if Qt ever does return nothing."""

from __future__ import annotations

from typing import TypeVar

from console.errors import ConsoleError

T = TypeVar("T")


def present(value: T | None, what: str = "Qt object") -> T:
    """``value``, which the caller knows Qt always returns; :class:`ConsoleError` if it is None.

    Parameters
    ----------
    value:
        What a Qt getter returned (``table.horizontalHeader()``, ``window.statusBar()``).
    what:
        Named in the error.
    """
    if value is None:
        raise ConsoleError(f"Qt returned no {what}")
    return value
