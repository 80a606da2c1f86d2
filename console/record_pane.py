"""Record pane: the selected record with highlighted text, photos, entities and links.

Links in the page pivot: an entity opens a menu (graph, map, timeline, its records); the
"Graph / Map / Timeline / Faces" links pivot the record itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import unquote

from PyQt6.QtCore import QUrl
from PyQt6.QtGui import QCursor
from PyQt6.QtWidgets import QLabel, QMenu, QTextBrowser, QVBoxLayout, QWidget

from console.bus import Bus
from console.context import ConsoleContext
from console.i18n import fill
from console.navigation import Focus
from console.qtnone import present
from console.record_view import entity_html, record_html
from console.theme import DARK, Theme
from core.model import Record

log = logging.getLogger(__name__)


class RecordPane(QWidget):
    """Shows one record; ``show_focus`` takes a record Focus."""

    title = "Record"

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.terms: list[str] = []
        self.record: Record | None = None
        self.theme: Theme = DARK
        #: Extra HTML under the record (the Cases panel's notes on it), by record uid.
        self.annotate: Callable[[Record], str] | None = None
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_link)
        self.placeholder = QLabel(
            self.tr("Select a search result, a marker or a node to see its record.")
        )
        self.placeholder.setProperty("role", "muted")
        self.placeholder.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.browser, 1)
        self.browser.hide()
        self.entity_id: str | None = None
        bus.entities_selected.connect(self._on_entities_selected)

    def set_terms(self, terms: list[str]) -> None:
        """Words to highlight (the last search's terms)."""
        self.terms = terms
        if self.record is not None:
            self._render()

    def show_record(self, uid: str) -> bool:
        record = self.ctx.engines.search_record(uid=uid, with_graph=False)  # checked, audited
        if record is None:
            self.placeholder.setText(
                fill(self.tr("record {uid} is not in this workspace"), uid=repr(uid))
            )
            self.placeholder.show()
            self.browser.hide()
            return False
        self.record = record
        self._render()
        return True

    def _on_entities_selected(self, ids: list[str], origin: str) -> None:
        # a click on a chart node (one node, not a Ctrl-selection) shows that entity's card
        if origin == "graph" and len(ids) == 1:
            self.show_entity(ids[0])

    def show_entity(self, entity_id: str, limit: int = 50) -> bool:
        """Show an entity's card: what it is and the records that mention it."""
        store = self.ctx.workspace.store
        entity = store.get_entity(entity_id)
        if entity is None:
            self.placeholder.setText(
                fill(self.tr("entity {id} is not in this workspace"), id=repr(entity_id))
            )
            self.placeholder.show()
            self.browser.hide()
            return False
        uids = store.entity_record_uids(entity_id)
        records = sorted(
            store.get_records(uids),
            key=lambda r: r.time.timestamp() if r.time else 0.0,
            reverse=True,
        )[:limit]
        self.record, self.entity_id = None, entity_id
        present(self.browser.document()).setDefaultStyleSheet(
            f"a {{ color: {self.theme.accent}; text-decoration: none; }}"
        )
        self.browser.setHtml(entity_html(entity, records, len(uids), muted=self.theme.muted))
        self.placeholder.hide()
        self.browser.show()
        return True

    def _render(self) -> None:
        if self.record is None:
            return
        self.entity_id = None
        present(self.browser.document()).setDefaultStyleSheet(
            f"a {{ color: {self.theme.accent}; text-decoration: none; }} "
            f"mark {{ background-color: {self.theme.warning}; color: {self.theme.base}; }}"
        )
        extra = self.annotate(self.record) if self.annotate is not None else ""
        self.browser.setHtml(record_html(self.record, self.terms, muted=self.theme.muted) + extra)
        self.placeholder.hide()
        self.browser.show()

    def show_focus(self, focus: Focus) -> None:
        if focus.kind == "record" and focus.ids:
            self.show_record(focus.ids[0])

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._render()

    def _on_link(self, url: QUrl) -> None:
        text = url.toString()
        scheme, _, rest = text.partition(":")
        if scheme == "pivot" and self.record is not None:
            view = rest
            if view in ("graph", "timeline"):
                ids = tuple(e.id for e in self.record.entities)
                if ids:
                    self.bus.pivot.emit(Focus(view, "entity", ids))
                else:
                    self.bus.message.emit("this record mentions no entities", 4000)
            else:
                self.bus.pivot.emit(Focus(view, "record", (self.record.uid,)))
        elif scheme == "entity":
            self.entity_menu(unquote(rest))
        elif scheme == "record":
            self.bus.open_record.emit(unquote(rest))

    def entity_menu(self, entity_id: str) -> QMenu:
        """The pivot menu for one entity (shown at the cursor)."""
        menu = QMenu(self)
        for view, label in (
            ("graph", "Show in link chart"),
            ("map", "Show on map (track)"),
            ("timeline", "Show on timeline"),
            ("search", "Search its records"),
        ):
            action = present(menu.addAction(label))
            kind = "query" if view == "search" else "entity"
            value = entity_id.split(":", 1)[-1] if view == "search" else entity_id
            action.triggered.connect(
                lambda _=False, v=view, k=kind, x=value: self.bus.pivot.emit(Focus(v, k, (x,)))
            )
        self.bus.entities_selected.emit([entity_id], "records")
        if self.isVisible():
            menu.popup(QCursor.pos())
        return menu
