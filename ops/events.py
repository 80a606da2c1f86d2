"""Change notification: an in-process event bus and the ``ops_events`` journal other processes
poll, written in the same transaction as the change it describes."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops.db import DDL, dumps, ensure_schema, event_from_row
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

    def subscribe(
        self, callback: EventCallback, kinds: set[str] | frozenset[str] | None = None
    ) -> Callable[[], None]:
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
            if key not in _SCHEMA_READY and hasattr(self.store, "ensure_schema"):
                self.store.ensure_schema(DDL)  # a centre's store (PostgreSQL)
                _SCHEMA_READY.add(key)
            elif key not in _SCHEMA_READY:
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

    def audit_as(self, user: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The audited user is always the workspace's session user; a different ``user`` given
        to an API (a console acting for an operator, ``ingest``) is kept as ``on_behalf_of``,
        so a caller cannot choose the name the audit shows."""
        actor = self.workspace.user
        if user and user != actor:
            params = {**params, "on_behalf_of": user}
        return actor, params

    def flush_audit(self, ids: list[int]) -> None:
        """Append the outbox rows ``ids`` (committed) to the audit log, then delete them."""
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        rows = self.con.execute(
            f"SELECT id, user, action, params FROM ops_audit_outbox "
            f"WHERE id IN ({marks}) ORDER BY id",
            ids,
        ).fetchall()
        for oid, user, action, params in rows:
            self.workspace.audit.append(user, action, {**json.loads(params), "journal": oid})
        with self.store.transaction() as con:
            con.execute(f"DELETE FROM ops_audit_outbox WHERE id IN ({marks})", ids)

    def recover_audit(self, *, older_than_s: float = 60.0) -> int:
        """Append audit lines of changes that committed but whose process died before writing
        them (rows older than ``older_than_s`` left in the outbox). A line already in the
        audit log (the process died after appending, before deleting) is not written twice.
        Returns how many lines were recovered."""
        rows = self.con.execute(
            "SELECT id, ts, user, action, params FROM ops_audit_outbox WHERE ts < ? ORDER BY id",
            (self.clock() - older_than_s,),
        ).fetchall()
        if not rows:
            return 0
        written = _journal_ids_in_tail(self.workspace.audit.path)
        n = 0
        for oid, ts, user, action, params in rows:
            if oid not in written:
                self.workspace.audit.append(
                    user,
                    action,
                    {
                        **json.loads(params),
                        "journal": oid,
                        "recovered": True,
                        "committed_at": datetime.fromtimestamp(ts, UTC).isoformat(),
                    },
                )
                n += 1
                log.warning("audit line of %s (journal %d) recovered after a crash", action, oid)
        ids = [r[0] for r in rows]
        with self.store.transaction() as con:
            con.execute(
                f"DELETE FROM ops_audit_outbox WHERE id IN ({','.join('?' * len(ids))})", ids
            )
        return n


def _journal_ids_in_tail(path: Path, tail_bytes: int = 1 << 20) -> set[int]:
    """Outbox ids (``params.journal``) of the ops lines among the audit log's last bytes."""
    if not path.exists():
        return set()
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - tail_bytes))
        data = fh.read()
    found: set[int] = set()
    for raw in data.splitlines():
        if b'"journal"' not in raw:
            continue
        try:
            journal = json.loads(raw).get("params", {}).get("journal")
        except (ValueError, AttributeError):
            continue
        if isinstance(journal, int):
            found.add(journal)
    return found


class Tx:
    """``with ctx.tx() as tx:`` — BEGIN IMMEDIATE; ``tx.event(...)`` journals a change; after
    COMMIT the events go to subscribers (nothing is emitted when the block raises)."""

    def __init__(self, ctx: OpsContext) -> None:
        self.ctx = ctx
        self.events: list[OpsEvent] = []
        self.audits: list[int] = []
        self.now = ctx.clock()

    def __enter__(self) -> Tx:
        self._t = self.ctx.store.transaction()
        self.con = self._t.__enter__()
        self.now = self.ctx.clock()
        return self

    def event(self, kind: str, ref: str | int, user: str, payload: dict[str, Any]) -> None:
        ts = self.ctx.clock()
        if kind in VOLATILE_KINDS:
            self.events.append(
                OpsEvent(
                    0,
                    from_epoch(ts),  # type: ignore[arg-type]
                    kind,
                    str(ref),
                    user,
                    payload,
                )
            )
            announce = getattr(self.ctx.store, "announce", None)
            if announce is not None:  # a centre: other processes hear it at COMMIT
                announce(self.con, kind, str(ref), user, ts, dumps(payload))
            return
        cur = self.con.execute(
            "INSERT INTO ops_events (ts, kind, ref, user, payload) VALUES (?,?,?,?,?)",
            (ts, kind, str(ref), user, dumps(payload)),
        )
        self.events.append(
            OpsEvent(
                int(cur.lastrowid or 0),
                from_epoch(ts),  # type: ignore
                kind,
                str(ref),
                user,
                payload,
            )
        )

    def audit(self, user: str, action: str, params: dict[str, Any]) -> None:
        """Record an audit line with the change: it is written in this transaction (the
        outbox) and appended to the audit log right after COMMIT, so a change never commits
        without its audit line, even if the process dies in between."""
        actor, params = self.ctx.audit_as(user, params)
        if getattr(self.ctx.store, "audit_in_transaction", False):
            # A centre's audit log is a table: the line joins this transaction.
            self.ctx.workspace.audit.append(actor, action, params)
            return
        cur = self.con.execute(
            "INSERT INTO ops_audit_outbox (ts, user, action, params) VALUES (?,?,?,?)",
            (self.ctx.clock(), actor, action, dumps(params)),
        )
        self.audits.append(int(cur.lastrowid or 0))

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._t.__exit__(exc_type, exc, tb)
        if exc_type is None:
            try:
                self.ctx.flush_audit(self.audits)
            except (OSError, sqlite3.Error):  # the change stands; its lines wait in the outbox
                log.exception(
                    "audit lines %s stay in the ops outbox until the next start", self.audits
                )
            if self.events:
                self.ctx.bus.emit(self.events)


def events_since(con: sqlite3.Connection, after_id: int, limit: int = 1000) -> list[OpsEvent]:
    rows = con.execute(
        "SELECT id, ts, kind, ref, user, payload FROM ops_events WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    ).fetchall()
    return [event_from_row(r) for r in rows]
