"""Search panel: query box with syntax help and history, facets as clickable filters, sort,
and the lazily fetched results table. A view over ``search.backend.open_backend(workspace)``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from PyQt6.QtCore import QSettings, QStringListModel, Qt
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.bus import Bus
from console.context import ConsoleContext
from console.i18n import fill
from console.labels import data_label
from console.navigation import Focus
from console.notice import Notice, engine_unavailable_text
from console.qtnone import present
from console.record_view import query_terms
from console.results_model import ResultsModel

log = logging.getLogger(__name__)

HISTORY_KEY = "search/history"
HISTORY_SIZE = 50
FACETS = ("source", "type", "category", "district", "day")
_FILTER_FIELD = {
    "source": "sources",
    "type": "types",
    "category": "categories",
    "district": "districts",
}

SYNTAX_HELP = """<b>Query syntax</b><br>
<code>入室盗窃</code> words (Chinese or English; a Chinese phrase matches as a phrase)<br>
<code>"王建国"</code> exact phrase &nbsp; <code>"red car"~2</code> words near each other<br>
<code>source:hotel</code> field:value &nbsp; <code>plate:浙F*</code> wildcard &nbsp;
<code>wang~1</code> fuzzy<br>
<code>a AND b</code>, <code>a OR b</code>, <code>NOT a</code> / <code>-a</code>, brackets<br>
<code>time:[2026-09-01 TO 2026-09-30]</code> &nbsp; <code>loss:&gt;=5000</code> ranges<br>
Identifiers match in any written form: <code>浙F·12345</code> = <code>浙f12345</code>,
<code>+86 138-0013-8000</code> = <code>13800138000</code>.<br>
Click a facet value on the left to filter; click it again to remove the filter."""


#: the engine's sort → (column, order) of the results header's sort arrow
SORT_ARROWS = {
    "relevance": (4, Qt.SortOrder.DescendingOrder),
    "time_desc": (0, Qt.SortOrder.DescendingOrder),
    "time_asc": (0, Qt.SortOrder.AscendingOrder),
}


class SearchPanel(QWidget):
    """The analyst's search."""

    title = "Search"

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.settings = QSettings()
        self.filters: dict[str, set[str]] = {k: set() for k in FACETS}
        self._terms: list[str] = []
        reason = ctx.engines.search_query.unavailable()
        self.available = not reason
        layout = QVBoxLayout(self)
        if not self.available:
            self.notice = Notice(engine_unavailable_text("search", reason))
            layout.addWidget(self.notice)
            self.model = ResultsModel(lambda _r: None)
            return
        self.query = QLineEdit()
        self.query.setPlaceholderText(
            self.tr("Search all sources (Ctrl+K), e.g. 入室盗窃 source:incidents")
        )
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(self.run_query)
        self.history = QStringListModel(self._load_history())
        completer = QCompleter(self.history, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.query.setCompleter(completer)
        help_button = QPushButton(self.tr("?"))
        help_button.setFixedWidth(28)
        help_button.setToolTip(self.tr("query syntax"))
        help_button.clicked.connect(self.show_help)
        self.sort = QComboBox()
        self.sort.addItem(self.tr("relevance"), "relevance")
        self.sort.addItem(self.tr("newest first"), "time_desc")
        self.sort.addItem(self.tr("oldest first"), "time_asc")
        self.sort.activated.connect(lambda _i: self.run_query())
        # a default time window (``[search] default_window_days``; 90 days on a cluster, where
        # a search without one asks every shard), widened by picking days or "all time"
        self.window_days = self._window_days()
        self.all_time = QCheckBox(self.tr("all time"))
        self.all_time.setToolTip(
            fill(
                self.tr(
                    "Searches cover the last {n} days unless you pick days in the 'day' facet "
                    "or tick "
                    "this ([search] default_window_days)"
                ),
                n=self.window_days,
            )
        )
        self.all_time.toggled.connect(lambda _on: self.run_query())
        self.all_time.setVisible(self.window_days > 0)
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(help_button)
        row.addWidget(self.all_time)
        row.addWidget(self.sort)
        self.pin_button = QPushButton(self.tr("Pin search"))
        self.pin_button.setToolTip(
            self.tr(
                "pin this query to the case open in the Cases dock, with its hit count now (the "
                "case shows the count when pinned and now; facet filters are not part of it)"
            )
        )
        self.pin_button.setEnabled(False)
        self.pin_button.clicked.connect(self.pin_search)

        self.facets = QTreeWidget()
        self.facets.setHeaderHidden(True)
        self.facets.itemClicked.connect(self._facet_clicked)
        self.model = ResultsModel(self._search)
        self.model.first_page.connect(self._on_first_page)
        self.model.started.connect(self._show_sort)
        self.model.page_loaded.connect(self._on_page)
        self.model.failed.connect(self._on_failed)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        present(self.table.horizontalHeader()).setSortIndicatorShown(True)
        present(self.table.horizontalHeader()).setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        present(self.table.verticalHeader()).hide()
        present(self.table.verticalHeader()).setDefaultSectionSize(24)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = present(self.table.horizontalHeader())
        header.setStretchLastSection(False)
        for col, width in ((0, 96), (1, 64), (2, 64), (4, 38)):
            self.table.setColumnWidth(col, width)
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        present(self.table.selectionModel()).selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(self._pivot_graph)
        self.summary = data_label(self.tr("Type a query and press Enter."))
        self.summary.setProperty("role", "muted")
        self.summary.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.facets)
        split.addWidget(self.table)
        split.setSizes([170, 500])
        layout.addLayout(row)
        summary_row = QHBoxLayout()  # beside the wrapping summary: the query row stays narrow
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(self.pin_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(summary_row)
        layout.addWidget(split, 1)

    # -- engine -------------------------------------------------------------------------------
    def _window_days(self) -> int:
        try:
            return int(self.ctx.workspace.search_config.default_window_days)
        except Exception as exc:  # a bad [search] table is reported when the backend opens
            log.warning("no default search window: %s", exc)
            return 0

    def window_since(self) -> datetime | None:
        """Where the default window starts, or None (no window, days picked, or all time)."""
        if not self.window_days or self.all_time.isChecked() or self.filters["day"]:
            return None
        from zoneinfo import ZoneInfo

        from search.document import local_day  # days are the facet's (the workspace zone's)

        today = datetime.fromisoformat(local_day(datetime.now(UTC), ZoneInfo(self.ctx.time_zone)))
        return today - timedelta(days=self.window_days - 1)

    def _search(self, request: Any) -> Any:
        from search.service import params_of

        # the search.query service checks the permission and audits the search (every page)
        return self.ctx.engines.search_query(**params_of(request))

    def build_request(self, text: str) -> Any:
        """The engine request for ``text`` with the facet filters and sort chosen."""
        from search.model import Filters, SearchRequest

        days = sorted(self.filters["day"])
        since, until = self.window_since(), None
        if days:
            since = datetime.fromisoformat(days[0])
            until = datetime.fromisoformat(days[-1]) + timedelta(days=1)
        chosen: dict[str, Any] = {
            field: tuple(sorted(self.filters[facet])) for facet, field in _FILTER_FIELD.items()
        }
        filters = Filters(**chosen, since=since, until=until)
        return SearchRequest(
            query=text, filters=filters, sort=self.sort.currentData(), facets=FACETS, facet_size=12
        )

    # -- actions ------------------------------------------------------------------------------
    def focus_query(self) -> None:
        if self.available:
            self.query.setFocus()
            self.query.selectAll()

    def run_query(self, text: str | None = None) -> Any:
        """Search for ``text`` (default: what is in the box); returns the page-one job."""
        if not self.available:
            return None
        if text is not None:
            self.query.setText(text)
        text = self.query.text().strip()
        self._remember(text)
        self.summary.setText("searching …")
        self._terms = query_terms(text)
        self.pin_button.setEnabled(bool(text))
        self.bus.message.emit(f"search: {text or '(everything)'}", 3000)
        return self.model.run(self.build_request(text))

    def pin_search(self) -> None:
        """Hand the query that was run to the Cases dock, which pins it to the open case
        (``cases.pin`` takes its hit count there) and answers in the summary line."""
        text = self.query.text().strip()
        if text:
            self.bus.pin_evidence.emit("search", text, "", {}, self.summary.setText)

    def show_help(self) -> None:
        QMessageBox.information(self, "Query syntax", SYNTAX_HELP)

    def _remember(self, text: str) -> None:
        if not text:
            return
        items = [text] + [h for h in self.history.stringList() if h != text]
        items = items[:HISTORY_SIZE]
        self.history.setStringList(items)
        self.settings.setValue(HISTORY_KEY, items)

    def _load_history(self) -> list[str]:
        value = self.settings.value(HISTORY_KEY, [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in (value or [])]

    def _show_sort(self, request: Any) -> None:
        """The header's arrow and the sort box say how the engine sorts these results (the arrow
        sat on Time while results were sorted by relevance)."""
        column, order = SORT_ARROWS.get(request.sort, (4, Qt.SortOrder.DescendingOrder))
        header = present(self.table.horizontalHeader())
        header.blockSignals(True)  # showing the sort must not ask for it again
        header.setSortIndicator(column, order)
        header.blockSignals(False)
        index = self.sort.findData(request.sort)
        if index >= 0:
            self.sort.setCurrentIndex(index)

    # -- results ------------------------------------------------------------------------------
    def _on_first_page(self, result: Any) -> None:
        warn = f"  ({'; '.join(result.warnings)})" if result.warnings else ""
        window = ""
        if self.window_since() is not None:
            window = fill(
                self.tr(" in the last {n} days (tick 'all time' for older records)"),
                n=self.window_days,
            )
        self.summary.setText(
            fill(self.tr("{n} hits in {ms} ms"), n=f"{result.total:,}", ms=f"{result.took_ms:.0f}")
            + window
            + warn
        )
        self._show_facets(result.facets)

    def _on_page(self, loaded: int) -> None:
        if self.model.total:
            text = self.summary.text().split(" — ")[0]
            self.summary.setText(text + fill(self.tr(" — {n} loaded"), n=f"{loaded:,}"))

    def _on_failed(self, message: str) -> None:
        self.summary.setText(f"⚠ {message}")

    def facet_title(self, name: str) -> str:
        """A facet's name in the UI language (the engine's field name otherwise)."""
        return {
            "source": self.tr("source"),
            "type": self.tr("type"),
            "category": self.tr("category"),
            "district": self.tr("district"),
            "day": self.tr("day"),
        }.get(name, name)

    def _show_facets(self, facets: dict[str, Any]) -> None:
        self.facets.clear()
        for name in FACETS:
            buckets = facets.get(name, ())
            if not buckets and not self.filters[name]:
                continue
            group = QTreeWidgetItem([self.facet_title(name)])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            chosen = self.filters[name]
            for b in buckets:
                mark = "✔ " if b.value in chosen else ""
                item = QTreeWidgetItem([f"{mark}{b.value}  ({b.count:,})"])
                item.setData(0, Qt.ItemDataRole.UserRole, (name, b.value))
                group.addChild(item)
            self.facets.addTopLevelItem(group)
            group.setExpanded(bool(chosen) or name in ("source", "category"))

    def _facet_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        data = item.data(0, Qt.ItemDataRole.UserRole)
        if not data:
            return
        self.toggle_filter(*data)

    def toggle_filter(self, facet: str, value: str) -> Any:
        chosen = self.filters[facet]
        if value in chosen:
            chosen.discard(value)
        else:
            chosen.add(value)
        return self.run_query()

    def selected_uids(self) -> list[str]:
        rows = sorted({i.row() for i in present(self.table.selectionModel()).selectedRows()})
        return [u for u in (self.model.uid(r) for r in rows) if u]

    def _on_selection(self, *_: Any) -> None:
        uids = self.selected_uids()
        if not uids:
            return
        pane = getattr(self.window(), "panels", {}).get("records")
        if pane is not None and hasattr(pane, "set_terms"):
            pane.set_terms(getattr(self, "_terms", []))
        self.bus.open_record.emit(uids[0])
        self.bus.records_selected.emit(uids, "search")

    def _pivot_graph(self, *_: Any) -> None:
        uids = self.selected_uids()
        if uids:
            self.bus.pivot.emit(Focus("graph", "record", tuple(uids)))

    def show_focus(self, focus: Focus) -> None:
        if focus.kind == "query" and focus.ids:
            self.run_query(focus.ids[0])
