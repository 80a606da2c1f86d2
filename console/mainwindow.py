"""The main window: dockable panels, remembered layout, themes, shortcuts, status bar, pivots.

Panels are built from the ``superbrain.panels`` entry-point group (:func:`panel_specs`); one
that fails to build shows its error in its dock and the others carry on. The window routes
pivots (:class:`console.navigation.Focus`) from any panel to the panel that shows them, with
back/forward history.
"""

from __future__ import annotations

import importlib
import logging
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QByteArray, QCoreApplication, QSettings, Qt, QTimer
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence
from PyQt6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from console.bus import Bus
from console.context import BackendStatus, ConsoleContext
from console.i18n import LANGUAGES, current_language, fill
from console.labels import plain_tooltip
from console.navigation import Focus, History
from console.notice import Notice
from console.qtnone import present
from console.stall import StallMonitor
from console.theme import Theme, theme
from console.workers import run_job
from core.extensions import PANELS as PANEL_GROUP
from core.extensions import extensions

if TYPE_CHECKING:
    from console.remote_app import Relogin

log = logging.getLogger(__name__)

LAYOUT_VERSION = 5  # bump when panels change so an old saved layout is not restored

_LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
_RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
_BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    target: str  # "module:Class"
    place: str  # "tab" (a view in the centre) or a dock area: "left", "right", "bottom"
    shortcut: str


#: How the built-in panels look: title, place, shortcut. Which panels exist is the
#: ``superbrain.panels`` entry-point group (pyproject.toml, core.extensions); a panel class of
#: another package says the same through class attributes ``panel_title``, ``panel_place`` and
#: ``panel_shortcut`` (defaults: its entry-point name, a tab, no shortcut).
_BUILTIN_LOOK: dict[str, tuple[str, str, str]] = {
    "search": ("Search", "left", "Ctrl+1"),
    "graph": ("Link chart", "tab", "Ctrl+2"),
    "map": ("Map", "tab", "Ctrl+3"),
    "timeline": ("Timeline", "tab", "Ctrl+4"),
    "dashboard": ("Dashboards", "tab", "Ctrl+5"),
    "evaluation": ("Evaluation", "tab", "Ctrl+Shift+E"),
    "faces": ("Faces", "tab", "Ctrl+6"),
    "dispatch": ("Dispatch board", "tab", "Ctrl+7"),
    "records": ("Record", "right", "Ctrl+8"),
    "cases": ("Cases", "right", "Ctrl+Shift+C"),
    "alerts": ("Alerts", "bottom", "Ctrl+9"),
    "plugins": ("Plugins", "bottom", "Ctrl+0"),
    "identities": ("Identities", "tab", "Ctrl+Shift+I"),
}
_PLACES = ("tab", "left", "right", "bottom")


def panel_specs() -> tuple[PanelSpec, ...]:
    """Every panel of the ``superbrain.panels`` entry-point group, built-ins first."""
    specs = []
    for ext in extensions(PANEL_GROUP):
        look = _BUILTIN_LOOK.get(ext.name) if ext.origin == "superbrain" else None
        if look is None:
            try:
                cls = ext.load()
            except Exception:  # build_panel shows the error in the panel's place
                cls = None
            place = str(getattr(cls, "panel_place", "tab"))
            look = (
                str(getattr(cls, "panel_title", ext.name)),
                place if place in _PLACES else "tab",
                str(getattr(cls, "panel_shortcut", "")),
            )
        specs.append(PanelSpec(ext.name, look[0], ext.value, look[1], look[2]))
    return tuple(specs)


PANELS: tuple[PanelSpec, ...] = panel_specs()

#: The most characters of the search backend's state shown in the status bar.
STATUS_CHARS = 70

_AREAS = {"left": _LEFT, "right": _RIGHT, "bottom": _BOTTOM}


def panel_title(spec: PanelSpec) -> str:
    """The panel's title in the user's language."""
    return QCoreApplication.translate("Panels", spec.title)


def _titles_for_translation() -> tuple[str, ...]:  # pragma: no cover - read by pylupdate6
    return (
        QCoreApplication.translate("Panels", "Search"),
        QCoreApplication.translate("Panels", "Link chart"),
        QCoreApplication.translate("Panels", "Map"),
        QCoreApplication.translate("Panels", "Timeline"),
        QCoreApplication.translate("Panels", "Dashboards"),
        QCoreApplication.translate("Panels", "Evaluation"),
        QCoreApplication.translate("Panels", "Faces"),
        QCoreApplication.translate("Panels", "Dispatch board"),
        QCoreApplication.translate("Panels", "Record"),
        QCoreApplication.translate("Panels", "Cases"),
        QCoreApplication.translate("Panels", "Identities"),
        QCoreApplication.translate("Panels", "Alerts"),
        QCoreApplication.translate("Panels", "Plugins"),
    )


def build_panel(spec: PanelSpec, ctx: ConsoleContext, bus: Bus) -> QWidget:
    """Build one panel; a panel that raises becomes a :class:`Notice` with the error."""
    module_name, class_name = spec.target.split(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
        return cls(ctx, bus)
    except Exception as exc:  # one broken panel must not stop the console
        log.error("panel %s failed to build:\n%s", spec.key, traceback.format_exc())
        notice = Notice(f"The {spec.title} panel failed to start:\n{type(exc).__name__}: {exc}")
        notice.setObjectName(f"broken-{spec.key}")
        return notice


class MainWindow(QMainWindow):
    """The console window over one workspace.

    Parameters
    ----------
    ctx:
        The workspace and engines.
    settings:
        Where the layout, theme and history are remembered (tests pass a temporary file).
    """

    relogin: Relogin  # a client console's only (console.remote_app.open_window)

    def __init__(self, ctx: ConsoleContext, settings: QSettings | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.settings = settings or QSettings("superbrain", "console")
        self.bus = Bus(self)
        self.history = History()
        self._board_state: tuple[Any, bool, int] | None = None  # set while in board mode
        self.panels: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.theme: Theme = theme(str(self.settings.value("theme", "dark")))
        self.setWindowTitle(f"superbrain — {ctx.name}")
        self.setObjectName("MainWindow")
        self.setDockNestingEnabled(True)
        # the side panels run full height; the alert and plugin docks sit under the centre only
        self.setCorner(Qt.Corner.BottomLeftCorner, _LEFT)
        self.setCorner(Qt.Corner.BottomRightCorner, _RIGHT)
        self.setDocumentMode(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )
        self._build_panels()
        self._build_status_bar()
        self._build_menus()
        self.bus.pivot.connect(self.apply_focus)
        self.bus.open_record.connect(self._open_record)
        # Bound methods, not lambdas: PyQt disconnects a bound slot when its object dies.
        self.bus.message.connect(self._show_message)
        self._stall_clear = QTimer(self)  # owned timers die with the window, lambdas do not
        self._stall_clear.setSingleShot(True)
        self._stall_clear.setInterval(5000)
        self._stall_clear.timeout.connect(self.status_stall.clear)
        self._sizer = QTimer(self)
        self._sizer.setSingleShot(True)
        self._sizer.setInterval(50)
        self._sizer.timeout.connect(self._default_sizes)
        self.stall_monitor = StallMonitor(parent=self)
        self.stall_monitor.stalled.connect(self._on_stall)
        self.stall_monitor.start()
        self.apply_theme(self.theme.name)
        self.resize(1600, 960)
        self._restored = self._restore_layout()
        self._backend_timer = QTimer(self)
        self._backend_timer.setSingleShot(True)
        self._backend_timer.timeout.connect(self._refresh_backend)
        self._backend_timer.start(0)

    # -- construction -------------------------------------------------------------------------
    def _build_panels(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("views")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.specs = panel_specs()
        for spec in self.specs:
            panel = build_panel(spec, self.ctx, self.bus)
            self.panels[spec.key] = panel
            title = panel_title(spec)
            if spec.place == "tab":
                self.tabs.addTab(panel, title)
                continue
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock-{spec.key}")
            dock.setWidget(panel)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            if spec.place in ("left", "right"):
                dock.setMinimumWidth(260)  # the centre views must not squeeze them to nothing
            self.addDockWidget(_AREAS[spec.place], dock)
            self.docks[spec.key] = dock
        self._default_arrangement()
        # panels are joined by what they offer (hasattr): duck-typed on purpose
        map_panel: Any = self.panels.get("map")
        dispatch: Any = self.panels.get("dispatch")
        if hasattr(map_panel, "unit_clicked") and hasattr(dispatch, "select_unit"):
            map_panel.unit_clicked.connect(dispatch.select_unit)
        cases: Any = self.panels.get("cases")
        if hasattr(cases, "graph"):  # the Cases panel saves and opens the link chart
            cases.graph = self.panels.get("graph")
            records: Any = self.panels.get("records")
            if hasattr(records, "annotate"):  # and shows its notes under a record
                cases.records = records
                records.annotate = cases.record_notes_html
            timeline: Any = self.panels.get("timeline")
            if hasattr(timeline, "noted_records"):  # and marks noted records on the timeline
                cases.timeline = timeline
                timeline.noted_records = cases.noted_record_uids
            if hasattr(map_panel, "set_notes"):  # and draws its notes on the map, where a
                cases.map = map_panel  # right-click adds one on a place
                map_panel.place_note_wanted.connect(cases.note_on_place)
                cases.refresh_map_notes()

    def _default_arrangement(self) -> None:
        self.tabifyDockWidget(self.docks["alerts"], self.docks["plugins"])
        self.docks["alerts"].raise_()
        self.tabifyDockWidget(self.docks["records"], self.docks["cases"])
        self.docks["records"].raise_()
        self._sized = False

    def _default_sizes(self) -> None:
        if getattr(self, "_restored", False):
            return
        self.resizeDocks(
            [self.docks["search"], self.docks["records"]], [440, 380], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.docks["alerts"]], [190], Qt.Orientation.Vertical)

    def detach_view(self) -> QDockWidget | None:
        """Pop the current centre view out into a floating window (closing it puts it back)."""
        panel = self.tabs.currentWidget()
        key = next((k for k, p in self.panels.items() if p is panel), None)
        if panel is None or key is None:
            return None
        title = self.tabs.tabText(self.tabs.currentIndex())
        self.tabs.removeTab(self.tabs.currentIndex())
        dock = _ViewDock(title, self, lambda: self._reattach(key, title))
        dock.setObjectName(f"view-{key}")
        dock.setWidget(panel)
        panel.show()
        self.addDockWidget(_RIGHT, dock)
        dock.setFloating(True)
        dock.resize(1000, 700)
        dock.show()
        self.docks[key] = dock
        # docking the window again (its float button, or a drag onto the main window) puts
        # the view back in its tab; left docked, it sat beside Record with no tab (bug 5)
        dock.topLevelChanged.connect(
            lambda floating: None if floating else self._reattach(key, title)
        )
        return dock

    def _reattach(self, key: str, title: str) -> None:
        panel = self.panels[key]
        if self.tabs.indexOf(panel) >= 0:
            return  # already back (docked, then closed)
        dock = self.docks.pop(key, None)
        if dock is not None:
            dock.setWidget(None)
            dock.hide()
            dock.deleteLater()
        self.tabs.addTab(panel, title)
        self.tabs.setCurrentWidget(panel)

    def _build_status_bar(self) -> None:
        bar = present(self.statusBar())
        root = self.ctx.workspace.root
        self.status_workspace = QLabel(fill(self.tr("workspace: {name}"), name=self.ctx.name))
        self.status_workspace.setToolTip(plain_tooltip(str(root)))
        self.status_backend = QLabel(self.tr("backend: …"))
        self.status_backend.setTextFormat(Qt.TextFormat.PlainText)  # errors quote paths, input
        self.status_user = QLabel(
            fill(
                self.tr("user: {user} ({role})"),
                user=self.ctx.user,
                role=self.role_label(self.ctx.role),
            )
        )
        self.status_user.setProperty("data", True)  # the session's user name
        self.status_stall = QLabel("")
        for w in (self.status_workspace, self.status_backend, self.status_user, self.status_stall):
            bar.addPermanentWidget(w)

    def role_label(self, role: str) -> str:
        """A role (resources/security/roles.toml) in the UI language."""
        return {
            "analyst": self.tr("analyst"),
            "commander": self.tr("commander"),
            "supervisor": self.tr("supervisor"),
            "administrator": self.tr("administrator"),
        }.get(role, role)

    def _action(self, menu: Any, text: str, shortcut: str | None, slot: Any) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = present(self.menuBar())
        m = present(bar.addMenu(self.tr("&Workspace")))
        self._action(m, self.tr("Ingest a file…"), "Ctrl+I", self._ingest)
        self._action(m, self.tr("Refresh"), "F5", self.bus.data_changed.emit)
        m.addSeparator()
        self._action(m, self.tr("Quit"), "Ctrl+Q", self.close)
        m = present(bar.addMenu(self.tr("&Go")))
        self._action(m, self.tr("Search"), "Ctrl+K", self.focus_search)
        self.back_action = self._action(m, self.tr("◀ Back"), "Alt+Left", self.back)
        self.forward_action = self._action(m, self.tr("Forward ▶"), "Alt+Right", self.forward)
        m = present(bar.addMenu(self.tr("&View")))
        for spec in self.specs:
            self._action(
                m,
                panel_title(spec),
                spec.shortcut,
                lambda _=False, key=spec.key: self.show_panel(key),
            )
        m.addSeparator()
        self._action(m, self.tr("Pop out the current view"), "Ctrl+Shift+D", self.detach_view)
        self.board_action = self._action(
            m, self.tr("Board mode (full screen)"), "F11", self.toggle_board_mode
        )
        self.board_action.setCheckable(True)
        self._action(m, self.tr("Toggle dark / light theme"), "Ctrl+Shift+T", self.toggle_theme)
        self._action(m, self.tr("Reset layout"), None, self.reset_layout)
        lang = present(m.addMenu(self.tr("Language")))
        group = QActionGroup(self)
        group.setExclusive(True)
        self.language_actions: dict[str, QAction] = {}
        chosen = str(self.settings.value("language", "") or current_language())
        for code, name in LANGUAGES.items():
            action = present(lang.addAction(name))
            action.setCheckable(True)
            action.setChecked(code == chosen)  # the check mark: the language chosen
            group.addAction(action)
            action.triggered.connect(lambda _=False, c=code: self.set_language(c))
            self.language_actions[code] = action
        m = present(bar.addMenu(self.tr("&Help")))
        self._action(m, self.tr("Keyboard shortcuts"), "F1", self.show_shortcuts)
        toolbar = self.nav_toolbar = present(self.addToolBar(self.tr("Navigation")))
        toolbar.setObjectName("navigation")
        toolbar.setMovable(False)
        for action in (self.back_action, self.forward_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        for key in ("graph", "map", "timeline", "faces", "dispatch"):
            spec = next(p for p in self.specs if p.key == key)
            present(toolbar.addAction(panel_title(spec))).triggered.connect(
                lambda _=False, k=key: self.show_panel(k)
            )
        self._update_nav()

    # -- panels and navigation ----------------------------------------------------------------
    def show_panel(self, key: str) -> QWidget:
        panel = self.panels[key]
        dock = self.docks.get(key)
        if dock is not None:
            dock.show()
            dock.raise_()
        else:
            self.tabs.setCurrentWidget(panel)
        return panel

    def focus_search(self) -> None:
        panel = self.show_panel("search")
        focus = getattr(panel, "focus_query", None)
        if callable(focus):
            focus()

    def apply_focus(self, focus: Focus, *, record: bool = True) -> None:
        """Show ``focus`` in its view; ``record`` pushes it on the back/forward history."""
        key = "records" if focus.view == "records" else focus.view
        panel = self.show_panel(key)
        show = getattr(panel, "show_focus", None)
        if callable(show):
            show(focus)
        if record:
            self.history.push(focus)
        self._update_nav()
        present(self.statusBar()).showMessage(focus.describe(), 4000)

    def _open_record(self, uid: str) -> None:
        self.apply_focus(Focus("records", "record", (uid,)))

    def back(self) -> None:
        focus = self.history.back()
        if focus is not None:
            self.apply_focus(focus, record=False)

    def forward(self) -> None:
        focus = self.history.forward()
        if focus is not None:
            self.apply_focus(focus, record=False)

    def _update_nav(self) -> None:
        if hasattr(self, "back_action"):
            self.back_action.setEnabled(self.history.can_back())
            self.forward_action.setEnabled(self.history.can_forward())

    def _ingest(self) -> None:
        panel = self.show_panel("plugins")
        choose = getattr(panel, "_choose_file", None)
        if callable(choose):
            choose()

    # -- board mode ---------------------------------------------------------------------------
    def toggle_board_mode(self, on: bool | None = None) -> bool:
        """The commander's full-screen board: only the dispatch board (queue, incident detail,
        recommendations, unit board and map), no docks squeezing it; F11 again restores the
        layout as it was. Returns whether board mode is on."""
        on = not self._board_state if on is None else on
        if on and self._board_state is None:
            self._board_state = (
                self.saveState(LAYOUT_VERSION),
                self.isFullScreen(),
                self.tabs.currentIndex(),
            )
            board = self.panels["dispatch"]
            if self.tabs.indexOf(board) < 0:  # popped out: bring it back first
                dock = self.docks.get("dispatch")
                if dock is not None:
                    dock.close()
            for dock in self.docks.values():
                dock.hide()
            self.tabs.setCurrentWidget(board)
            present(self.tabs.tabBar()).hide()
            self.nav_toolbar.hide()
            self.showFullScreen()
        elif not on and self._board_state is not None:
            state, was_full, index = self._board_state
            self._board_state = None
            present(self.tabs.tabBar()).show()
            self.nav_toolbar.show()
            self.restoreState(state, LAYOUT_VERSION)
            self.tabs.setCurrentIndex(index)
            if not was_full:
                self.showNormal()
        hook = getattr(self.panels.get("dispatch"), "set_board_mode", None)
        if callable(hook):
            hook(self._board_state is not None)
        self.board_action.setChecked(self._board_state is not None)
        return self._board_state is not None

    # -- theme --------------------------------------------------------------------------------
    def apply_theme(self, name: str) -> None:
        self.theme = theme(name)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setStyleSheet(self.theme.style_sheet())
        for panel in self.panels.values():
            hook = getattr(panel, "apply_theme", None)
            if callable(hook):
                hook(self.theme)
        self.settings.setValue("theme", self.theme.name)

    def set_language(self, code: str, *, ask: bool = True) -> None:
        """Remember the UI language; it applies from the next start, which the notice offers
        to do now (Restart) or later."""
        self.settings.setValue("language", code)
        self.settings.sync()
        for c, action in self.language_actions.items():
            action.setChecked(c == code)
        if not ask:
            return
        box = QMessageBox(
            QMessageBox.Icon.Information,
            self.tr("Language"),
            self.tr("The language changes when the console is restarted."),
            parent=self,
        )
        restart = box.addButton(self.tr("Restart now"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Later"), QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is restart:
            self.restart()

    def restart(self) -> bool:
        """Start the console again the way it was started, then close this window."""
        import sys

        from PyQt6.QtCore import QProcess

        started = QProcess.startDetached(sys.executable, sys.argv)
        ok = bool(started[0] if isinstance(started, tuple) else started)
        if ok:
            self.close()
            app = QApplication.instance()
            if app is not None:
                app.quit()
        else:
            present(self.statusBar()).showMessage(
                self.tr("could not restart: start the console again"), 10000
            )
        return ok

    def toggle_theme(self) -> None:
        self.apply_theme("light" if self.theme.name == "dark" else "dark")

    # -- status -------------------------------------------------------------------------------
    def _refresh_backend(self) -> None:
        ctx = self.ctx
        run_job(
            lambda _p, _c: ctx.backend_status(),
            name="backend health",
            on_result=self._show_backend,
            on_error=self._show_backend_error,
            parent=self,
        )

    def _show_backend(self, status: BackendStatus) -> None:
        self._set_backend_text(fill(self.tr("backend: {state}"), state=status.describe()))

    def _show_backend_error(self, message: str) -> None:
        self._set_backend_text(fill(self.tr("backend: error: {error}"), error=message))

    def _set_backend_text(self, text: str) -> None:
        """Show the backend's state cut to :data:`STATUS_CHARS` (all of it in the tooltip): a
        long error (a path, an audit-anchor message) in a permanent status-bar label would
        otherwise widen the main window past the screen."""
        short = text if len(text) <= STATUS_CHARS else text[: STATUS_CHARS - 1] + "…"
        self.status_backend.setText(short)
        self.status_backend.setToolTip(plain_tooltip(text))

    def _show_message(self, text: str, ms: int) -> None:
        present(self.statusBar()).showMessage(text, ms)

    def _on_stall(self, ms: float) -> None:
        self.status_stall.setText(fill(self.tr("UI stall {ms} ms"), ms=f"{ms:.0f}"))
        self._stall_clear.start()

    def show_shortcuts(self) -> None:
        lines = [
            f"{a.shortcut().toString():<14} {a.text()}"
            for a in self.actions()
            if not a.shortcut().isEmpty()
        ]
        QMessageBox.information(self, self.tr("Keyboard shortcuts"), "\n".join(lines))

    # -- layout persistence -------------------------------------------------------------------
    def _restore_layout(self) -> bool:
        if int(self.settings.value("layout_version", 0) or 0) != LAYOUT_VERSION:
            return False
        geometry = self.settings.value("geometry")
        state = self.settings.value("window_state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self.tabs.setCurrentIndex(int(self.settings.value("view", 0) or 0))
        return isinstance(state, QByteArray) and self.restoreState(state, LAYOUT_VERSION)

    def save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState(LAYOUT_VERSION))
        self.settings.setValue("view", self.tabs.currentIndex())
        self.settings.setValue("layout_version", LAYOUT_VERSION)
        self.settings.sync()

    def reset_layout(self) -> None:
        self._restored = False
        for key in [k for k, d in self.docks.items() if isinstance(d, _ViewDock)]:
            self.docks[key].close()
        for spec in self.specs:
            dock = self.docks.get(spec.key)
            if dock is None:
                continue
            dock.setFloating(False)
            self.removeDockWidget(dock)
            self.addDockWidget(_AREAS[spec.place], dock)
            dock.show()
        self._default_arrangement()
        self._sizer.start()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        # The minimum size was last computed before the style polished the panels (the chart's
        # toolbar is ~40 px wider unpolished): compute it again now, or the window cannot be
        # made narrower than that stale minimum (1628 px) on a 1600 px screen.
        present(self.layout()).invalidate()
        present(self.layout()).activate()
        if not self._sized:
            self._sized = True
            self._sizer.start()  # docks have real sizes once shown

    def closeEvent(self, event: Any) -> None:
        for panel in self.panels.values():  # e.g. the Cases panel: an unsaved chart
            confirm = getattr(panel, "confirm_close", None)
            if callable(confirm) and not confirm():
                event.ignore()
                return
        if self._board_state is not None:
            self.toggle_board_mode(False)  # remember the working layout, not the board's
        self.save_layout()
        self.stall_monitor.stop()
        self._stall_clear.stop()
        for panel in self.panels.values():
            shutdown = getattr(panel, "shutdown", None)
            if callable(shutdown):
                shutdown()
        super().closeEvent(event)


class _ViewDock(QDockWidget):
    """A centre view popped out into its own window; closing it returns it to the tabs."""

    def __init__(self, title: str, parent: QWidget, on_close: Any) -> None:
        super().__init__(title, parent)
        self._on_close = on_close

    def closeEvent(self, event: Any) -> None:
        super().closeEvent(event)
        self._on_close()
