"""Change notification: an in-process event bus and the ``ops_events`` journal other processes
poll, written in the same transaction as the change it describes."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ops.db import dumps, ensure_schema, event_from_row
from ops.model import OpsEvent, from_epoch

if TYPE_CHECKING:
    from core.store import Store
    from core.workspace import Workspace
    from ops.config import OpsConfig

log = logging.getLogger(__name__)

EventCallback = Callable[[OpsEvent], None]

#: Kinds pushed to in-process subscribers only, never journalled (too frequent: GPS fixes).
VOLATILE_KINDS = frozenset({"unit.moved"})


class EventBus:
    """Subscribers are called synchronously, after the change committed, in the thread that
    made it. A console marshals them onto its GUI thread (e.g. a queued Qt signal). A callback
    that raises is logged and does not affect the change or the other subscribers."""

    def __init__(self) -> None:
        self._subs: list[tuple[EventCallback, frozenset[str] | None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: EventCallback,
                  kinds: set[str] | frozenset[str] | None = None) -> Callable[[], None]:
        """Call ``callback(event)`` for every event (of ``kinds``); returns an unsubscribe."""
        entry = (callback, frozenset(kinds) if kinds else None)
        with self._lock:
            self._subs.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subs:
                    self._subs.remove(entry)

        return unsubscribe

    def emit(self, events: list[OpsEvent]) -> None:
        with self._lock:
            subs = list(self._subs)
        for event in events:
            for callback, kinds in subs:
                if kinds is not None and event.kind not in kinds:
                    continue
                try:
                    callback(event)
                except Exception:
                    log.exception("ops event subscriber %r failed on %s", callback, event.kind)


_SCHEMA_READY: set[str] = set()
_SCHEMA_LOCK = threading.Lock()


@dataclass
class OpsContext:
    """What every part of the operations service shares: store, config, bus, clock, user."""

    workspace: Workspace
    config: OpsConfig
    bus: EventBus = field(default_factory=EventBus)
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        key = str(self.store.path)
        with _SCHEMA_LOCK:
            if key not in _SCHEMA_READY:
                # A connection of its own: executescript would commit a transaction the
                # thread's store connection might have open.
                self.store.connection  # noqa: B018 - the store file and WAL mode exist first
                con = sqlite3.connect(self.store.path, timeout=30)
                try:
                    ensure_schema(con)
                finally:
                    con.close()
                _SCHEMA_READY.add(key)

    @property
    def store(self) -> Store:
        return self.workspace.store

    @property
    def con(self) -> sqlite3.Connection:
        return self.store.connection

    def user(self, user: str | None) -> str:
        return user or self.workspace.user

    def tx(self) -> Tx:
        return Tx(self)

    def require(self, permission: str, **context: Any) -> None:
        """Refuse (PermissionDeniedError, audited) unless the workspace's session holds
        ``permission`` of ``resources/security/roles.toml``."""
        from core.security import require

        require(self.workspace, permission, **context)

    def audit(self, user: str, action: str, params: dict[str, Any]) -> None:
        self.workspace.audit.append(user, action, params)


class Tx:
    """``with ctx.tx() as tx:`` — BEGIN IMMEDIATE; ``tx.event(...)`` journals a change; after
    COMMIT the events go to subscribers (nothing is emitted when the block raises)."""

    def __init__(self, ctx: OpsContext) -> None:
        self.ctx = ctx
        self.events: list[OpsEvent] = []
        self.now = ctx.clock()

    def __enter__(self) -> Tx:
        self._t = self.ctx.store.transaction()
        self.con = self._t.__enter__()
        self.now = self.ctx.clock()
        return self

    def event(self, kind: str, ref: str | int, user: str, payload: dict[str, Any]) -> None:
        ts = self.ctx.clock()
        if kind in VOLATILE_KINDS:
            self.events.append(OpsEvent(0, from_epoch(ts), kind, str(ref), user,  # type: ignore
                                        payload))
            return
        cur = self.con.execute(
            "INSERT INTO ops_events (ts, kind, ref, user, payload) VALUES (?,?,?,?,?)",
            (ts, kind, str(ref), user, dumps(payload)))
        self.events.append(OpsEvent(int(cur.lastrowid or 0), from_epoch(ts),  # type: ignore
                                    kind, str(ref), user, payload))

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._t.__exit__(exc_type, exc, tb)
        if exc_type is None and self.events:
            self.ctx.bus.emit(self.events)


def events_since(con: sqlite3.Connection, after_id: int, limit: int = 1000) -> list[OpsEvent]:
    rows = con.execute("SELECT id, ts, kind, ref, user, payload FROM ops_events WHERE id > ? "
                       "ORDER BY id LIMIT ?", (after_id, limit)).fetchall()
    return [event_from_row(r) for r in rows]
