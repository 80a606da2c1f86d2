"""The search results table model: pages fetched lazily in workers, so 100k hits stay smooth.

The view asks :meth:`ResultsModel.canFetchMore` / :meth:`ResultsModel.fetchMore` as the user
scrolls; each call starts one background page fetch with the engine's cursor (deep paging),
and rows are appended when it arrives. Sorting by time or score re-runs the search with the
engine's sort; other columns sort the rows already loaded.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QModelIndex, Qt, pyqtSignal

from console.tables import ListTableModel
from console.workers import Job

log = logging.getLogger(__name__)

_DISPLAY = Qt.ItemDataRole.DisplayRole
PAGE_SIZE = 200

#: column → the engine's sort for it (descending, ascending); None: sort loaded rows locally.
ENGINE_SORT = {0: ("time_desc", "time_asc"), 4: ("relevance", "relevance")}


class ResultsModel(ListTableModel):
    """Rows are ``search.model.Hit`` values.

    Parameters
    ----------
    search:
        ``search(request) -> SearchResult``; called in a worker thread.
    """

    HEADERS = ("Time", "Source", "Type", "Title", "Score")
    started = pyqtSignal(object)  # the request
    first_page = pyqtSignal(object)  # the SearchResult of page one (total, facets, took_ms)
    page_loaded = pyqtSignal(int)  # rows now loaded
    failed = pyqtSignal(str)

    def __init__(self, search: Callable[[Any], Any]) -> None:
        super().__init__()
        self.search = search
        self.hits: list[Any] = []
        self.total = 0
        self.request: Any = None
        self.cursor: str | None = None
        self.loading = False
        self.generation = 0
        self.job: Job | None = None

    # -- running searches ---------------------------------------------------------------------
    def run(self, request: Any) -> Job:
        """Start a new search (discarding the current rows and any page in flight)."""
        self.generation += 1
        if self.job is not None:
            self.job.cancel()
        self.beginResetModel()
        self.hits = []
        self.total = 0
        self.cursor = None
        self.endResetModel()
        self.request = dataclasses.replace(request, size=PAGE_SIZE, cursor=None)
        self.started.emit(self.request)
        return self._fetch(self.request, first=True)

    def _fetch(self, request: Any, *, first: bool) -> Job:
        generation = self.generation
        self.loading = True
        job = Job(lambda _p, _c: self.search(request), "search page")
        job.result.connect(lambda result: self._arrived(generation, result, first))
        job.error.connect(lambda msg: self._failed(generation, msg))
        self.job = job
        return job.start()

    def _arrived(self, generation: int, result: Any, first: bool) -> None:
        if generation != self.generation:
            return  # a newer search replaced this one
        self.loading = False
        self.job = None
        self.cursor = result.next_cursor
        if first:
            self.total = result.total
        if result.hits:
            start = len(self.hits)
            self.beginInsertRows(QModelIndex(), start, start + len(result.hits) - 1)
            self.hits.extend(result.hits)
            self.endInsertRows()
        if first:
            self.first_page.emit(result)
        self.page_loaded.emit(len(self.hits))

    def _failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self.loading = False
            self.job = None
            self.failed.emit(message)

    # -- lazy fetching ------------------------------------------------------------------------
    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self.cursor is not None and not self.loading

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent) and self.request is not None:
            self._fetch(dataclasses.replace(self.request, cursor=self.cursor), first=False)

    # -- table --------------------------------------------------------------------------------
    def _length(self) -> int:
        return len(self.hits)

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        hit = self.hits[index.row()]
        col = index.column()
        if role == _DISPLAY:
            if col == 0:
                return hit.time.astimezone().strftime("%Y-%m-%d %H:%M") if hit.time else ""
            if col == 1:
                return hit.source
            if col == 2:
                return hit.type
            if col == 3:
                return hit.title
            return f"{hit.score:.2f}"
        if role == Qt.ItemDataRole.ToolTipRole and col == 3 and hit.snippets:
            return "<br>".join(hit.snippets)
        if role == Qt.ItemDataRole.UserRole:
            return hit.uid
        return None

    def uid(self, row: int) -> str | None:
        return self.hits[row].uid if 0 <= row < len(self.hits) else None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Time and score: the engine sorts all hits; other columns: the loaded rows."""
        if self.request is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if column in ENGINE_SORT:
            engine_sort = ENGINE_SORT[column][0 if descending else 1]
            if engine_sort != self.request.sort:
                self.run(dataclasses.replace(self.request, sort=engine_sort))
            return
        key = {1: lambda h: h.source, 2: lambda h: h.type, 3: lambda h: h.title}[column]
        self.layoutAboutToBeChanged.emit()
        self.hits.sort(key=key, reverse=descending)
        self.layoutChanged.emit()
