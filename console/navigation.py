"""Pivots and back/forward navigation: where the analyst is looking, as plain data.

A :class:`Focus` names a subject (a record, an entity, a query) and the view to show it in; the
main window applies it and pushes it on the :class:`History`. Pure Python, tested without Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

VIEWS = ("records", "graph", "map", "timeline", "faces", "search")


@dataclass(frozen=True)
class Focus:
    """A subject shown in a view.

    Attributes
    ----------
    view:
        One of :data:`VIEWS`.
    kind:
        ``"record"`` (uid), ``"entity"`` (entity id) or ``"query"`` (search text).
    ids:
        The subjects (one or more record uids or entity ids, or one query).
    """

    view: str
    kind: str
    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"unknown view {self.view!r}; one of {', '.join(VIEWS)}")
        if self.kind not in ("record", "entity", "query"):
            raise ValueError(f"unknown focus kind {self.kind!r}")

    def describe(self) -> str:
        first = self.ids[0] if self.ids else ""
        more = f" +{len(self.ids) - 1}" if len(self.ids) > 1 else ""
        return f"{self.view}: {first}{more}"


class History:
    """A browser-style back/forward stack of :class:`Focus` values."""

    def __init__(self, limit: int = 200) -> None:
        self._items: list[Focus] = []
        self._pos = -1
        self.limit = limit

    @property
    def current(self) -> Focus | None:
        return self._items[self._pos] if self._pos >= 0 else None

    def push(self, focus: Focus) -> None:
        """Go to ``focus``: the forward part is dropped, a repeat of the current is ignored."""
        if focus == self.current:
            return
        del self._items[self._pos + 1 :]
        self._items.append(focus)
        if len(self._items) > self.limit:
            del self._items[0]
        self._pos = len(self._items) - 1

    def can_back(self) -> bool:
        return self._pos > 0

    def can_forward(self) -> bool:
        return self._pos < len(self._items) - 1

    def back(self) -> Focus | None:
        if not self.can_back():
            return None
        self._pos -= 1
        return self.current

    def forward(self) -> Focus | None:
        if not self.can_forward():
            return None
        self._pos += 1
        return self.current
