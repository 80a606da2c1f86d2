"""Map panel: the folium page (vendored Leaflet, no CDN) in Qt WebEngine.

The page is built off the GUI thread (:func:`console.mapdata.collect_layers` then
:func:`console.mapgen.build_map_html`), written to a temporary file and loaded from there.
Clicking a marker logs ``superbrain://open/<kind>/<id>`` to the page console; :class:`MapPage`
reads it and the panel opens the record (or, for a unit, tells the dispatch board). A right-click
on the map logs ``superbrain://open/place/<lat>,<lon>``: the panel asks for a note on that place
(:attr:`MapPanel.place_note_wanted`, answered by the Cases dock), and draws the open case's
notes as their own layer (:meth:`MapPanel.set_notes`).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from PyQt6.QtCore import QUrl, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QPushButton, QStackedLayout, QVBoxLayout, QWidget

from console import qtinit
from console.bus import Bus
from console.context import ConsoleContext
from console.i18n import count
from console.labels import data_label
from console.mapdata import MapRequest, collect_layers
from console.mapgen import MapLayers, build_map_html, page_json
from console.navigation import Focus
from console.notice import Notice
from console.theme import Theme
from console.tiles import tile_url_for
from console.workers import Job

log = logging.getLogger(__name__)


def parse_open_url(url: str) -> tuple[str, str] | None:
    """``superbrain://open/<kind>/<id>`` → ``(kind, id)``; anything else → ``None``."""
    prefix = "superbrain://open/"
    if not url.startswith(prefix):
        return None
    kind, _, ident = url[len(prefix) :].partition("/")
    return (kind, unquote(ident)) if kind and ident else None


def parse_place(text: str) -> tuple[float, float] | None:
    """``"lat,lon"`` from the page (a right-click) → two floats in range, else ``None``."""
    lat_text, _, lon_text = text.partition(",")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def page_labels() -> dict[str, str]:
    """The map page's texts in the UI language (legend, layer switcher, notes)."""
    from PyQt6.QtCore import QCoreApplication

    return {
        "incidents": QCoreApplication.translate("MapPage", "incidents"),
        "units": QCoreApplication.translate("MapPage", "units"),
        "records": QCoreApplication.translate("MapPage", "records"),
        "hotspots": QCoreApplication.translate("MapPage", "hotspots"),
        "tracks": QCoreApplication.translate("MapPage", "tracks"),
        "geofences": QCoreApplication.translate("MapPage", "geofences"),
        "basemap": QCoreApplication.translate("MapPage", "basemap"),
        "tiles": QCoreApplication.translate("MapPage", "tiles"),
        "places": QCoreApplication.translate("MapPage", "places"),
        "streets": QCoreApplication.translate("MapPage", "streets"),
        "notes": QCoreApplication.translate("MapPage", "case notes"),
        "note_on": QCoreApplication.translate("MapPage", "on"),
        "incidents_legend": QCoreApplication.translate("MapPage", "Incidents"),
        "units_available": QCoreApplication.translate("MapPage", "Units available"),
        "busy": QCoreApplication.translate("MapPage", "busy"),
        "stale": QCoreApplication.translate("MapPage", "(position stale)"),
        "empty": QCoreApplication.translate("MapPage", "no located records"),
        "basemap_places": QCoreApplication.translate(
            "MapPage", "offline basemap: streets and places (names as you zoom in)"
        ),
        "basemap_districts": QCoreApplication.translate(
            "MapPage", "offline basemap: district outlines"
        ),
        "basemap_grid": QCoreApplication.translate(
            "MapPage", "offline: coordinate grid (no district outlines installed)"
        ),
    }


def page_call(view: Any, function: str, *args: Any, on_result: Any = None) -> None:
    """Call the page's ``function(*args)``; only a number, string, boolean or null comes back.

    ``runJavaScript`` converts the script's completion value for Qt. A page function that
    returns a Leaflet object (``map.invalidateSize()`` returns the map) made Chromium walk the
    whole map, every layer and marker, cycles included: the renderer grew by ~100 MB/s until
    it was killed (issue #15, bug 1). Every call from the console goes through here.
    """
    params = ", ".join(page_json(a) for a in args)
    script = (
        f"(function () {{ var r = {function}({params}); "
        "return (typeof r === 'number' || typeof r === 'string' "
        "|| typeof r === 'boolean') ? r : null; })()"
    )
    page = view.page()
    if on_result is None:
        page.runJavaScript(script)
    else:
        page.runJavaScript(script, on_result)


def _make_page_class() -> type:
    from PyQt6.QtWebEngineCore import QWebEnginePage

    class MapPage(QWebEnginePage):
        """Turns marker clicks (console messages naming superbrain://open/…) into a signal."""

        opened = pyqtSignal(str, str)  # kind, id

        def acceptNavigationRequest(
            self,
            url: QUrl,
            nav_type: Any,
            is_main_frame: bool,
        ) -> bool:
            target = parse_open_url(url.toString())
            if target is not None:
                self.opened.emit(*target)
                return False
            return super().acceptNavigationRequest(url, nav_type, is_main_frame)

        def javaScriptConsoleMessage(
            self,
            level: Any,
            message: str | None,
            line: int,
            source: str | None,
        ) -> None:
            target = parse_open_url(message or "")
            if target is not None:
                self.opened.emit(*target)
                return
            log.debug("map page %s:%d: %s", source, line, message)

    return MapPage


def make_map_view(on_open: Any, on_loaded: Any) -> Any:
    """A web view for a map page: marker clicks go to ``on_open(kind, id)``; local files (the
    vendored Leaflet) may load, and so may a configured tile server's remote tiles and the
    workspace's own MBTiles tiles (:mod:`console.tiles`)."""
    from PyQt6.QtWebEngineCore import QWebEngineSettings
    from PyQt6.QtWebEngineWidgets import QWebEngineView

    from console import tiles

    view = QWebEngineView()
    page = _make_page_class()(view)
    tiles.install(page.profile())  # the workspace's own MBTiles (sbtiles:), when it has some
    page.opened.connect(on_open)
    view.setPage(page)
    settings = page.settings()
    settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
    settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)
    view.loadFinished.connect(on_loaded)
    return view


class PageLoader:
    """Loads a map page into a view through a private temporary file: at once when the widget
    is visible, else at its next show (a page loaded while hidden is never painted)."""

    def __init__(self, view: Any, prefix: str, name: str) -> None:
        self.view = view
        self.path = Path(tempfile.mkdtemp(prefix=prefix)) / name
        self.pending = False

    def set_html(self, html: str, *, visible: bool) -> None:
        self.path.write_text(html, encoding="utf-8")
        self.pending = True
        if visible:
            self.load_pending()

    def load_pending(self) -> None:
        """Call from the widget's ``showEvent``."""
        if self.pending and self.view is not None:
            self.pending = False
            self.view.load(QUrl.fromLocalFile(str(self.path)))


class MapArea:
    """A map view stacked over a notice ("building the map", "map not available", a failure),
    with the :class:`PageLoader` that loads its pages: what the Map view and the dispatch
    board's map both show."""

    def __init__(
        self, building: str, on_open: Any, on_loaded: Any, prefix: str, filename: str
    ) -> None:
        self.stack = QStackedLayout()
        self.notice = Notice(building)
        self.stack.addWidget(self.notice)
        self.view: Any = None
        if qtinit.webengine_available():
            self.view = make_map_view(on_open, on_loaded)
            self.stack.addWidget(self.view)
        else:
            self.notice.set_text(f"map not available: {qtinit.WEBENGINE_ERROR}")
        self.pages = PageLoader(self.view, prefix, filename)

    def drop_page(self) -> None:
        """Drop the page before the application's web profile goes away."""
        if self.view is not None:
            page = self.view.page()
            self.view.setPage(None)
            page.deleteLater()


class MapPanel(QWidget):
    """Incidents, units, hotspots, tracks and geofences on an offline-capable map."""

    title = "Map"
    unit_clicked = pyqtSignal(str)
    page_ready = pyqtSignal(bool)
    #: Right-click on the map: a note on this place (latitude, longitude) is wanted.
    place_note_wanted = pyqtSignal(float, float)

    def __init__(
        self,
        ctx: ConsoleContext,
        bus: Bus,
        request: MapRequest | None = None,
        follow_selection: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.bus = bus
        self.dark = True
        self.home = request or MapRequest()
        self.request = self.home
        self.layers: MapLayers | None = None
        self.html = ""
        self.job: Job | None = None
        self._pending_select: list[str] = []
        self.notes: list[dict[str, Any]] = []  # the open case's notes (console.mapnotes)
        self.loaded = False  # the page finished loading (its functions can be called)
        self.info = data_label("")
        self.info.setProperty("role", "muted")
        self.info.setWordWrap(True)  # long layer summaries must not widen the window
        refresh = QPushButton(self.tr("Refresh"))
        refresh.clicked.connect(self.refresh)
        self.all_button = QPushButton(self.tr("Show everything"))
        self.all_button.clicked.connect(self.show_everything)
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.all_button)
        top.addWidget(refresh)
        self.area = area = MapArea(
            self.tr("building the map …"),
            self._on_open,
            self._on_loaded,
            "superbrain-map-",
            "map.html",
        )
        self.stack, self.notice, self.view, self.pages = (
            area.stack,
            area.notice,
            area.view,
            area.pages,
        )
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.stack, 1)
        bus.data_changed.connect(self._data_changed)
        if follow_selection:
            bus.entities_selected.connect(self._on_entities_selected)
            bus.records_selected.connect(self._on_records_selected)
        # The page is built when the view is first shown (or asked for), not while the window
        # starts: its worker competed with start-up for the GIL (#15, start-up ≤ 2 s).
        self.started = False

    # -- building -----------------------------------------------------------------------------
    def _data_changed(self) -> None:
        if self.started:  # else the first showing builds it, with the new data
            self.refresh()

    def refresh(self) -> None:
        self.started = True
        if self.job is not None:
            self.job.cancel()
        request = self.request
        dark = self.dark
        time_zone, labels = self.ctx.time_zone, page_labels()

        def work(progress: Any, cancel: Any) -> tuple[MapLayers, str]:
            tile_url = tile_url_for(self.ctx)
            layers = collect_layers(self.ctx, request, cancel=cancel)
            return layers, build_map_html(
                layers, tile_url=tile_url, dark=dark, time_zone=time_zone, labels=labels
            )

        job = Job(work, "map")
        job.result.connect(self._show)
        job.error.connect(lambda msg: self.notice.set_text(f"map failed: {msg}"))
        self.job = job
        job.start()

    def _show(self, value: tuple[MapLayers, str]) -> None:
        self.job = None
        self.layers, self.html = value
        self.info.setText(self.layers_summary())
        if self.view is None:
            return
        self.loaded = False
        self.pages.set_html(self.html, visible=self.isVisible())

    def layers_summary(self) -> str:
        if self.layers is None:
            return ""
        lay = self.layers
        tr = self.tr
        parts = [
            count(len(lay.incidents), tr("{n} incident"), tr("{n} incidents")),
            count(len(lay.units), tr("{n} unit"), tr("{n} units")),
            count(len(lay.records), tr("{n} located record"), tr("{n} located records")),
        ]
        if lay.tracks:
            parts.append(count(len(lay.tracks), tr("{n} track"), tr("{n} tracks")))
        if lay.heat:
            parts.append(tr("hotspots"))
        if lay.geofences:
            parts.append(count(len(lay.geofences), tr("{n} geofence"), tr("{n} geofences")))
        if self.ctx.remote:  # the record layers read the store, which a client does not open
            parts[2] = tr("located records and tracks: not available in client mode")
        scope = self.request.describe()
        return " · ".join(parts) + (f"   ({scope})" if scope else "")

    def _on_loaded(self, ok: bool) -> None:
        self.loaded = ok
        if ok:
            self.stack.setCurrentWidget(self.view)
            if self._pending_select:
                self.select(self._pending_select)
            page_call(self.view, "sbNotes", self.notes)  # also arms the right-click
        else:
            self.notice.set_text("the map page failed to load")
            self.stack.setCurrentWidget(self.notice)
        self.page_ready.emit(ok)

    def _invalidate(self) -> None:
        # Leaflet sizes its canvases when the page loads; a hidden tab has no size yet. Only
        # on show, not on every resize: Leaflet follows the page's own resize events, and
        # forcing a canvas redraw on each resize left the page unanswering for seconds under
        # software rendering (tests/test_console_window.py moves a splitter to check)
        if self.view is not None and self.loaded:
            page_call(self.view, "sbInvalidate")

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self.started:
            self.refresh()
        self.pages.load_pending()
        self._invalidate()

    # -- interaction --------------------------------------------------------------------------
    def _on_open(self, kind: str, ident: str) -> None:
        if kind == "record":
            self.bus.open_record.emit(ident)
        elif kind == "unit":
            self.unit_clicked.emit(ident)
            self.bus.message.emit(f"unit {ident}", 4000)
        elif kind == "incident":
            self.bus.message.emit(f"incident {ident}", 4000)
        elif kind == "place":
            point = parse_place(ident)
            if point is not None:
                self.place_note_wanted.emit(*point)

    def set_notes(self, notes: list[dict[str, Any]]) -> None:
        """Draw the open case's notes (:func:`console.mapnotes.note_markers` dicts) in place
        of the previous ones, without rebuilding the page."""
        self.notes = list(notes)
        if self.view is not None and self.loaded:
            page_call(self.view, "sbNotes", self.notes)

    def select(self, ids: list[str]) -> None:
        """Highlight markers for record uids / incident ids (and zoom to them)."""
        self._pending_select = list(ids)
        if self.view is not None and self.loaded:
            page_call(self.view, "sbSelect", list(ids))

    def _on_records_selected(self, uids: list[str], origin: str) -> None:
        if origin != "map":
            self.select(uids)

    def _on_entities_selected(self, ids: list[str], origin: str) -> None:
        if origin == "map":
            return
        tracked = [i for i in ids if i.split(":", 1)[0] in ("vehicle", "tag", "phone", "person")]
        if tracked and tracked != list(self.request.track_entities):
            self.request = MapRequest(
                track_entities=tuple(tracked[:6]), records=self.request.records
            )
            if self.isVisible():
                self.refresh()

    def show_focus(self, focus: Focus) -> None:
        """Pivot: records are highlighted, entities get their tracks drawn."""
        if focus.kind == "entity":
            self.request = MapRequest(track_entities=focus.ids[:6])
        elif focus.kind == "record":
            self.request = MapRequest(records=focus.ids)
            self._pending_select = list(focus.ids)
        self.refresh()

    def show_everything(self) -> None:
        self.request = self.home
        self._pending_select = []
        self.refresh()

    def set_units(self, units: list[dict[str, Any]]) -> None:
        """Move unit markers without rebuilding the page (the dispatch board calls this)."""
        if self.view is not None and self.loaded:
            page_call(self.view, "sbSetUnits", units)

    def apply_theme(self, theme: Theme) -> None:
        dark = theme.name == "dark"
        if dark != self.dark:
            self.dark = dark
            if self.started:
                self.refresh()

    def shutdown(self) -> None:
        """Drop the page before the application's web profile goes away."""
        if self.job is not None:
            self.job.cancel()
        self.area.drop_page()
