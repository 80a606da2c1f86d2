"""The dispatch board's own map: the selected incident and its recommended units.

The same offline page as the Map view (folium with the vendored Leaflet, the district outlines,
streets and place names as basemap, ``console/web/superbrain-map.js``), built once in a
worker; what it shows is then changed in place with ``sbDispatch`` (no page reload), so
selecting another incident or getting new recommendations redraws in milliseconds. Clicking a
unit selects it on the board.
"""

from __future__ import annotations

import logging
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QWidget

from console.bus import Bus
from console.context import ConsoleContext
from console.map_panel import MapArea, page_call, page_labels
from console.mapdata import basemap_features
from console.mapgen import MapLayers, build_map_html, dispatch_view
from console.theme import Theme
from console.tiles import tile_url_for
from console.workers import Job

log = logging.getLogger(__name__)


class DispatchMap(QWidget):
    """A map of one incident and the units recommended for it.

    Signals
    -------
    unit_clicked(str):
        A unit marker was clicked.
    shown(int):
        The page finished drawing the newest :meth:`show_dispatch` call: the number of markers
        on the map; :attr:`drawn` is what it shows. A call superseded by a newer one before the
        page answered reports nothing (the board redraws on reloads, pushed fixes and the stale
        ticker, so "the next ``shown``" may belong to any of those; ``drawn`` says which).
    """

    unit_clicked = pyqtSignal(str)
    shown = pyqtSignal(int)
    page_ready = pyqtSignal(bool)

    def __init__(self, ctx: ConsoleContext, bus: Bus) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.dark = True
        self.loaded = False
        self.data: dict[str, Any] = {"incident": None, "units": [], "others": []}
        #: What the page shows: the data of the newest draw it finished (None before the first).
        self.drawn: dict[str, Any] | None = None
        self._draws = 0  # draws asked of the page; only the newest one's answer is reported
        self.html = ""
        # the same view as the Map view's: with a configured tile server, its tiles load
        self.area = area = MapArea(
            self.tr("building the map …"),
            self._on_open,
            self._on_loaded,
            "superbrain-dispatch-map-",
            "dispatch-map.html",
        )
        self.stack, self.notice, self.view, self.pages = (
            area.stack,
            area.notice,
            area.view,
            area.pages,
        )
        self.setLayout(self.stack)
        # built when the board is first shown: not while the window starts (#15, start-up)
        self.built = False

    # -- the page -----------------------------------------------------------------------------
    def build(self) -> Job | None:
        """(Re)build the page in a worker: basemap only; the content comes from
        :meth:`show_dispatch`."""
        if self.view is None:
            return None
        self.built = True
        ctx, dark, tz = self.ctx, self.dark, self.ctx.time_zone
        labels = page_labels()

        def work(_p: Any, _c: Any) -> str:
            base = basemap_features()  # streets and place names under the board's markers
            return build_map_html(
                MapLayers(streets=base["streets"], places=base["places"]),
                tile_url=tile_url_for(ctx),
                dark=dark,
                time_zone=tz,
                labels=labels,
            )

        job = Job(work, "dispatch map")
        job.result.connect(self._built)
        job.error.connect(lambda msg: self.notice.set_text(f"map failed: {msg}"))
        return job.start()

    def _built(self, html: str) -> None:
        self.html = html
        self.loaded = False
        self.pages.set_html(html, visible=self.isVisible())

    def _on_loaded(self, ok: bool) -> None:
        self.loaded = ok
        if ok:
            self.stack.setCurrentWidget(self.view)
            self._draw()
        else:
            self.notice.set_text("the map page failed to load")
            self.stack.setCurrentWidget(self.notice)
        self.page_ready.emit(ok)

    def showEvent(self, event: Any) -> None:
        # No invalidateSize calls from here on resize: Leaflet follows the page's own resize
        # events, and forcing a redraw of the canvas on every resize of the board's splitter
        # left the page unresponsive for seconds under software rendering (measured: with
        # the calls, scripts sent after a splitter move got no answer; without, at once).
        super().showEvent(event)
        if not self.built:
            self.build()
        self.pages.load_pending()

    # -- content ------------------------------------------------------------------------------
    def show_dispatch(
        self,
        incident: dict[str, Any] | None,
        recommendations: list[Any],
        units: list[dict[str, Any]],
    ) -> None:
        """Show ``incident`` (a queue row), its ``recommendations`` and the other ``units``."""
        self.data = dispatch_view(incident, recommendations, units)
        self._draw()

    def _draw(self) -> None:
        if self.view is None or not self.loaded:
            return  # drawn when the page has loaded
        self._draws += 1
        number, data = self._draws, self.data
        page_call(
            self.view,
            "sbDispatch",
            data,
            on_result=lambda count: self._drawn(number, data, count),
        )

    def _drawn(self, number: int, data: dict[str, Any], count: Any) -> None:
        if sip.isdeleted(self):
            return  # the page answered after the board was closed
        if number != self._draws:
            return  # a newer draw is on its way: report the page's latest state only
        self.drawn = data
        self.shown.emit(int(count) if isinstance(count, (int, float)) else 0)

    def _on_open(self, kind: str, ident: str) -> None:
        if kind == "unit":
            self.unit_clicked.emit(ident)
        elif kind == "record":
            self.bus.open_record.emit(ident)

    def apply_theme(self, theme: Theme) -> None:
        dark = theme.name == "dark"
        if dark != self.dark:
            self.dark = dark
            if self.built:
                self.build()

    def shutdown(self) -> None:
        """Drop the page before the application's web profile goes away."""
        self.area.drop_page()
