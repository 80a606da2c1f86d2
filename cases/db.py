"""The case tables (``case_*``) in the workspace store (SQLite, or PostgreSQL on a centre),
row converters, and the transaction that journals each change as a ``case`` event.

Every write runs in ``store.transaction()`` (BEGIN IMMEDIATE), so several consoles on one
workspace serialise. Rows two analysts may edit at once (the case, a chart, a note) carry a
``version`` that an edit must name and that the write bumps (compare-and-set); a stale version
is a :class:`~cases.errors.CaseConflictError`, never a silent overwrite.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cases.errors import CaseNotFoundError
from cases.model import CaseEvent, CaseFile, Member, Note, Pin, SavedChart

if TYPE_CHECKING:
    from core.store import Store

log = logging.getLogger(__name__)

DDL = """
CREATE TABLE IF NOT EXISTS case_files (
    number TEXT PRIMARY KEY, title TEXT NOT NULL, classification TEXT NOT NULL,
    status TEXT NOT NULL, created_by TEXT NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS case_members (
    case_number TEXT NOT NULL REFERENCES case_files(number) ON DELETE CASCADE,
    user TEXT NOT NULL, role TEXT NOT NULL, added_by TEXT NOT NULL, added_at REAL NOT NULL,
    PRIMARY KEY (case_number, user));
CREATE INDEX IF NOT EXISTS case_members_user ON case_members(user);
CREATE TABLE IF NOT EXISTS case_charts (
    id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES case_files(number) ON DELETE CASCADE,
    name TEXT NOT NULL, data TEXT NOT NULL, created_by TEXT NOT NULL, created_at REAL NOT NULL,
    updated_by TEXT NOT NULL, updated_at REAL NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (case_number, name));
CREATE TABLE IF NOT EXISTS case_notes (
    id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES case_files(number) ON DELETE CASCADE,
    target_kind TEXT NOT NULL, target TEXT NOT NULL, text TEXT NOT NULL,
    mentions TEXT NOT NULL DEFAULT '[]', author TEXT NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, version INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS case_notes_target ON case_notes(case_number, target_kind, target);
CREATE TABLE IF NOT EXISTS case_pins (
    id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES case_files(number) ON DELETE CASCADE,
    kind TEXT NOT NULL, ref TEXT NOT NULL, title TEXT NOT NULL, data TEXT NOT NULL,
    pinned_by TEXT NOT NULL, pinned_at REAL NOT NULL, UNIQUE (case_number, kind, ref));
CREATE TABLE IF NOT EXISTS case_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, kind TEXT NOT NULL,
    case_number TEXT NOT NULL, ref TEXT NOT NULL, user TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS case_events_case ON case_events(case_number, id);
"""

_READY: set[str] = set()
_READY_LOCK = threading.Lock()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def ensure_schema(store: Store) -> None:
    """Create the case tables once per store and process (idempotent). On a centre the store
    creates them through its own connection (PostgreSQL, DDL translated by centre.sql; the
    centre made them when it opened, with ``case_events`` sharing the ops journal's ids)."""
    key = str(store.path)
    with _READY_LOCK:
        if key in _READY:
            return
        if hasattr(store, "ensure_schema"):  # a centre's store (PostgreSQL)
            store.ensure_schema(DDL)
            _READY.add(key)
            return
        store.connection  # noqa: B018 - the store file and WAL mode exist first
        # A connection of its own: executescript commits whatever the thread's connection has
        # open.
        con = sqlite3.connect(store.path, timeout=30)
        try:
            con.executescript(DDL)
        finally:
            con.close()
        _READY.add(key)


# -- change notification within one process ------------------------------------------------------
EventCallback = Callable[[CaseEvent], None]
_SUBSCRIBERS: dict[str, list[EventCallback]] = {}
_SUB_LOCK = threading.Lock()


def subscribe(store: Store, callback: EventCallback) -> Callable[[], None]:
    """Call ``callback(event)`` after each committed case change made in this process on
    ``store``; returns an unsubscribe function. Other processes poll :func:`events_since`."""
    key = str(store.path)
    with _SUB_LOCK:
        _SUBSCRIBERS.setdefault(key, []).append(callback)

    def unsubscribe() -> None:
        with _SUB_LOCK:
            subs = _SUBSCRIBERS.get(key, [])
            if callback in subs:
                subs.remove(callback)

    return unsubscribe


def _emit(store: Store, events: list[CaseEvent]) -> None:
    with _SUB_LOCK:
        subs = list(_SUBSCRIBERS.get(str(store.path), ()))
    for event in events:
        for callback in subs:
            try:
                callback(event)
            except Exception:
                log.exception("case event subscriber %r failed on %s", callback, event.kind)


class Tx:
    """``with Tx(store, now) as tx:`` — BEGIN IMMEDIATE; ``tx.event(...)`` journals a change
    in the same transaction; after COMMIT the events go to this process's subscribers."""

    def __init__(self, store: Store, now: float) -> None:
        self.store = store
        self.now = now
        self.events: list[CaseEvent] = []

    def __enter__(self) -> Tx:
        self._t = self.store.transaction()
        self.con = self._t.__enter__()
        return self

    def event(self, kind: str, case: str, ref: str, user: str, payload: dict[str, Any]) -> None:
        cur = self.con.execute(
            "INSERT INTO case_events (ts, kind, case_number, ref, user, payload) "
            "VALUES (?,?,?,?,?,?)",
            (self.now, kind, case, ref, user, dumps(payload)),
        )
        self.events.append(
            CaseEvent(int(cur.lastrowid or 0), self.now, kind, case, ref, user, payload)
        )

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._t.__exit__(exc_type, exc, tb)
        if exc_type is None and self.events:
            _emit(self.store, self.events)


# -- reads ---------------------------------------------------------------------------------------
CASE_COLUMNS = "number, title, classification, status, created_by, created_at, updated_at, version"


def load_case(con: sqlite3.Connection, number: str) -> CaseFile | None:
    row = con.execute(f"SELECT {CASE_COLUMNS} FROM case_files WHERE number=?", (number,)).fetchone()
    if row is None:
        return None
    members = tuple(
        Member(*m)
        for m in con.execute(
            "SELECT user, role, added_by, added_at FROM case_members WHERE case_number=? "
            "ORDER BY added_at, user",
            (number,),
        )
    )
    number_, title, classification, status, created_by, created_at, updated_at, version = row
    return CaseFile(
        number_, title, classification, status, created_by, created_at, updated_at, version, members
    )


CHART_COLUMNS = (
    "id, case_number, name, data, created_by, created_at, updated_by, updated_at, version"
)


def chart_from_row(row: tuple[Any, ...]) -> SavedChart:
    cid, case, name, data, cby, cat, uby, uat, version = row
    return SavedChart(cid, case, name, json.loads(data), cby, cat, uby, uat, version)


NOTE_COLUMNS = (
    "id, case_number, target_kind, target, text, mentions, author, created_at, updated_at, version"
)


def note_from_row(row: tuple[Any, ...]) -> Note:
    nid, case, kind, target, text, mentions, author, cat, uat, version = row
    return Note(
        nid, case, kind, target, text, tuple(json.loads(mentions)), author, cat, uat, version
    )


PIN_COLUMNS = "id, case_number, kind, ref, title, data, pinned_by, pinned_at"


def pin_from_row(row: tuple[Any, ...]) -> Pin:
    pid, case, kind, ref, title, data, by, at = row
    return Pin(pid, case, kind, ref, title, json.loads(data), by, at)


def load_chart(con: sqlite3.Connection, number: str, chart_id: str) -> SavedChart:
    """Chart ``chart_id`` of case ``number``, or :class:`CaseNotFoundError` naming both."""
    row = con.execute(
        f"SELECT {CHART_COLUMNS} FROM case_charts WHERE id=? AND case_number=?", (chart_id, number)
    ).fetchone()
    if row is None:
        raise CaseNotFoundError(f"case {number!r} has no chart {chart_id!r}")
    return chart_from_row(row)


def load_note(con: sqlite3.Connection, number: str, note_id: str) -> Note:
    """Note ``note_id`` of case ``number``, or :class:`CaseNotFoundError` naming both."""
    row = con.execute(
        f"SELECT {NOTE_COLUMNS} FROM case_notes WHERE id=? AND case_number=?", (note_id, number)
    ).fetchone()
    if row is None:
        raise CaseNotFoundError(f"case {number!r} has no note {note_id!r}")
    return note_from_row(row)


def case_charts(con: sqlite3.Connection, number: str) -> list[SavedChart]:
    """The case's saved charts, oldest first (the dossier's and the handover file's order)."""
    return [
        chart_from_row(r)
        for r in con.execute(
            f"SELECT {CHART_COLUMNS} FROM case_charts WHERE case_number=? ORDER BY created_at",
            (number,),
        )
    ]


def case_notes(con: sqlite3.Connection, number: str) -> list[Note]:
    """The case's notes, oldest first (ties in id order)."""
    return [
        note_from_row(r)
        for r in con.execute(
            f"SELECT {NOTE_COLUMNS} FROM case_notes WHERE case_number=? ORDER BY created_at, id",
            (number,),
        )
    ]


def case_pins(con: sqlite3.Connection, number: str) -> list[Pin]:
    """The case's pinned evidence, oldest first (ties in id order)."""
    return [
        pin_from_row(r)
        for r in con.execute(
            f"SELECT {PIN_COLUMNS} FROM case_pins WHERE case_number=? ORDER BY pinned_at, id",
            (number,),
        )
    ]


def event_from_row(row: tuple[Any, ...]) -> CaseEvent:
    eid, ts, kind, case, ref, user, payload = row
    return CaseEvent(eid, ts, kind, case, ref, user, json.loads(payload))
