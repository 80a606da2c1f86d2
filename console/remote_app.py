"""Start the console as a client: ``superbrain console --server URL``.

Logs in on the server (the same dialog as a local workspace with accounts; the password is
checked with Argon2id on the server, which also locks an account after repeated failures),
opens the main window on a :class:`console.remote.RemoteContext`, and follows the server's live
event stream: :class:`EventBridge` reads ``GET /api/v1/events`` in a thread (resuming after the
last event id when the connection drops) and hands each event to the GUI thread, where an
alert refreshes the alert tray, an incident, unit or assignment change the dispatch board, and
a case event (another analyst's note or chart save) the Cases dock at once, instead of on their
next poll. Closing the window logs out.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from console.qtnone import present
from core.remote import CentreClient, ServerEvent

log = logging.getLogger(__name__)

#: Event kinds (and kind prefixes) that change what each panel shows.
ALERT_KINDS = ("alert",)
BOARD_KINDS = ("incident", "unit", "assignment")
#: With push, the panels' own polls are only a safety net.
FALLBACK_POLL_MS = 30_000
#: Events arriving together are shown together, after this long.
COALESCE_MS = 150


class EventBridge(QObject):
    """The server's event stream, delivered to the GUI thread as Qt signals.

    Signals
    -------
    event(ServerEvent)
        Each event, in order, once.
    state(str)
        ``"connected"``, ``"disconnected: …"`` or ``"session expired"``.
    """

    event = pyqtSignal(object)  # type: ignore[assignment]  # shadows QObject.event (never called)
    state = pyqtSignal(str)

    def __init__(self, client: CentreClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.last_id: int | None = None
        self.received = 0
        self.connected = threading.Event()  # set while the stream is open
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, after: int | None = None) -> None:
        self.last_id = after
        self._thread = threading.Thread(target=self._run, name="centre-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from core.remote import SessionExpiredError

        try:
            for ev in self.client.events(self.last_id, stop=self._stop, on_state=self._on_state):
                if ev.id is not None:
                    self.last_id = ev.id
                self.received += 1
                self.event.emit(ev)
        except SessionExpiredError:
            self.state.emit("session expired")
        except Exception as exc:  # the console stays usable on polls; the status bar says so
            log.warning("event stream ended: %s", exc)
            self.state.emit(f"disconnected: {exc}")

    def _on_state(self, text: str) -> None:
        if text == "connected":
            self.connected.set()
        else:
            self.connected.clear()
        self.state.emit(text)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _matches(kind: str, kinds: tuple[str, ...]) -> bool:
    return any(kind == k or kind.startswith(k + ".") or kind.startswith(k + "_") for k in kinds)


def _coalesced(parent: QObject, action: Any, delay_ms: int = COALESCE_MS) -> Any:
    """``action`` run at most once per ``delay_ms``, ``delay_ms`` after the first request."""
    if action is None:
        return lambda: None
    from PyQt6.QtCore import QTimer

    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(delay_ms)
    timer.timeout.connect(action)

    def request() -> None:
        if not timer.isActive():
            timer.start()

    return request


def attach_push(window: Any, bridge: EventBridge) -> None:
    """Route pushed events to the panels that show them (alert tray, dispatch board, the
    Cases dock)."""
    tray = window.panels.get("alerts")
    board = window.panels.get("dispatch")
    cases = window.panels.get("cases")
    for panel in (tray, board):
        poller = getattr(panel, "poller", None)
        if poller is not None:
            poller.timer.setInterval(FALLBACK_POLL_MS)
    cases_poll = getattr(cases, "_poll", None)
    if cases_poll is not None:
        cases_poll.setInterval(FALLBACK_POLL_MS)
    pushed_case = getattr(cases, "pushed", None)

    # a burst of events (fifty position fixes) makes one reload per panel, not fifty
    refresh_tray = _coalesced(window, getattr(getattr(tray, "poller", None), "poll", None))
    refresh_board = _coalesced(window, getattr(board, "reload", None))

    push_position = getattr(board, "push_position", None)

    def on_event(ev: ServerEvent) -> None:
        reset = ev.kind == "reset"  # missed events were pruned: reload everything shown
        if (
            push_position is not None
            and ev.id is None
            and isinstance(ev.data, dict)
            and ev.data.get("kind") == "unit.moved"
        ):
            push_position(ev.data.get("payload"))  # moves the unit in place: no reload
            return
        if reset or _matches(ev.kind, ALERT_KINDS):
            refresh_tray()
        if reset or _matches(ev.kind, (*BOARD_KINDS, *ALERT_KINDS)):
            refresh_board()
        if pushed_case is not None and (reset or ev.kind == "case"):
            pushed_case(None if reset else ev.data)

    def on_state(text: str) -> None:
        window.statusBar().showMessage(f"centre: {text}", 10_000)

    bridge.event.connect(on_event)
    bridge.state.connect(on_state)


class Relogin(QObject):
    """When the server ends the session (expiry, revocation), ask for the password again —
    without closing the window — and resume the event stream after the last event seen.

    ``expired`` may be emitted from any thread; the dialog opens on the GUI thread, once.
    """

    expired = pyqtSignal()
    resumed = pyqtSignal()

    def __init__(self, window: Any, bridge: EventBridge) -> None:
        super().__init__(window)
        self.window = window
        self.bridge = bridge
        self.dialog: Any = None
        self.expired.connect(self.ask)
        bridge.state.connect(lambda s: self.expired.emit() if s == "session expired" else None)

    def ask(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            return
        from console.login import LoginDialog

        workspace = self.window.ctx.workspace
        self.dialog = LoginDialog(workspace, self.window)
        self.dialog.setWindowTitle(
            f"superbrain — session ended: log in to {workspace.client.url} again"
        )
        self.dialog.error.setText(
            "The session ended (expired or revoked). Log in again to "
            "go on; nothing on screen is lost."
        )
        self.dialog.accepted.connect(self._resume)
        self.dialog.open()  # not modal to the event loop: pushes and timers go on

    def _resume(self) -> None:
        old = self.bridge
        old.stop()
        self.bridge = EventBridge(old.client, self.window)
        attach_push(self.window, self.bridge)
        self.bridge.state.connect(lambda s: self.expired.emit() if s == "session expired" else None)
        self.bridge.start(after=old.last_id)
        self.window.statusBar().showMessage("centre: logged in again", 10_000)
        self.resumed.emit()


def open_window(client: CentreClient, workspace: Any) -> tuple[Any, EventBridge]:
    """The main window on a logged-in client, with live events attached (for tests too);
    ``window.relogin`` handles the end of the session."""
    from console.mainwindow import MainWindow
    from console.remote import RemoteContext

    ctx = RemoteContext(workspace)
    window = MainWindow(ctx)
    bridge = EventBridge(client, window)
    attach_push(window, bridge)
    window.relogin = relogin = Relogin(window, bridge)
    ctx.on_session_expired = relogin.expired.emit
    bridge.start()
    return window, bridge


def run_remote(url: str, *, ca_certs: str = "") -> int:
    """Log in to the centre at ``url`` and run the console on it; returns the exit code."""
    from console.app import create_application

    app = create_application()
    import os

    from PyQt6.QtWidgets import QDialog, QMessageBox

    from console.login import LoginDialog
    from console.remote import RemoteWorkspace
    from core.errors import SuperbrainError

    try:
        client = CentreClient(url, ca_certs=ca_certs)
    except SuperbrainError as exc:
        QMessageBox.critical(None, "superbrain", str(exc))
        return 2
    workspace = RemoteWorkspace(client, os.environ.get("SUPERBRAIN_USER", ""))
    password = os.environ.get("SUPERBRAIN_PASSWORD")
    logged_in = False
    if password is not None and workspace.user:
        try:
            workspace.login(workspace.user, password)
            logged_in = True
        except SuperbrainError as exc:
            log.warning("login from the environment failed: %s", exc)
    if not logged_in:
        dialog = LoginDialog(workspace)
        dialog.setWindowTitle(f"superbrain — log in to {client.url}")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            client.close()
            return 1
    window, _ = open_window(client, workspace)
    window.show()
    try:
        return int(app.exec())
    finally:
        from PyQt6.QtCore import QThreadPool

        window.relogin.bridge.stop()
        present(QThreadPool.globalInstance()).waitForDone(10_000)
        window.ctx.close()  # logs out
