"""PostgreSQL behind the connection interface the engines use on SQLite.

The engines (the store, operations, users) speak a small, portable SQL through
``con.execute(sql, params)`` with ``?`` placeholders, read ``cursor.rowcount`` /
``cursor.lastrowid``, and write inside ``with store.transaction() as con:``. :class:`Database`
gives them the same on PostgreSQL (psycopg 3), so the compare-and-set logic of dispatch and the
service layer run unchanged on both:

- statements are translated by :mod:`centre.sql` (placeholders, ``INSERT OR IGNORE`` /
  ``OR REPLACE``, upserts, ``LIKE``, the reserved column name ``user``, temp tables …), and an
  ``INSERT`` into a table with an identity ``id`` returns it (``cursor.lastrowid``);
- engines' DDL is translated too (AUTOINCREMENT → identity, REAL → double precision);
- ``PRAGMA`` statements (SQLite tuning) do nothing;
- :meth:`Database.transaction` is SQLite's ``BEGIN IMMEDIATE``: one transaction-scoped advisory
  lock serialises the writers of operational state across every process on the database, so a
  transaction that reads a unit and then writes it sees every earlier commit (the loser of two
  desks racing for a unit reads the winner's assignment and is told who took it), and rows of
  ``ops_events`` commit in id order (a reader following ``id > last`` misses none).
  :meth:`Database.transaction` with ``serialised=False`` is an ordinary transaction (ingest
  batches: idempotent upserts that need no order).

Each thread has its own connection (autocommit outside transactions), as on SQLite.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from centre.sql import Catalog, ddl_to_pg, translate
from core.errors import StoreError

log = logging.getLogger(__name__)

#: Advisory lock keys (pg_advisory_xact_lock); one namespace for superbrain.
OPS_LOCK = 0x5342_0001
AUDIT_LOCK = 0x5342_0002
SCHEMA_LOCK = 0x5342_0003

IntegrityError = pg_errors.IntegrityError
DatabaseError = psycopg.Error

__all__ = ["Catalog", "Connection", "Cursor", "Database", "ddl_to_pg", "translate"]


# -- cursors and connections ------------------------------------------------------------------
def first(cursor: Cursor) -> tuple[Any, ...]:
    """The first row of a statement that always returns one (an aggregate, RETURNING)."""
    row = cursor.fetchone()
    if row is None:
        raise StoreError("the database returned no row where one was expected")
    return row


class Cursor:
    """The result of one statement: rows fetched eagerly, ``rowcount`` and ``lastrowid``."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self._pos = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._pos = self._rows[self._pos :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class Connection:
    """One thread's PostgreSQL connection with SQLite's ``execute`` interface."""

    def __init__(self, db: Database, raw: psycopg.Connection[Any]) -> None:
        self.db = db
        self.raw = raw
        self.depth = 0
        self.generation = db.generation

    @property
    def in_transaction(self) -> bool:
        return self.depth > 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if sql.lstrip()[:6].upper() == "PRAGMA":  # SQLite tuning: nothing to do here
            return Cursor([], 0, None)
        text, returning = translate(sql, self.db.catalog)
        try:
            cur = self.raw.execute(text, tuple(params))
            rows = cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise self._failed(exc, sql) from exc
        if returning:
            return Cursor([], cur.rowcount, rows[0][0] if rows else None)
        return Cursor(rows, cur.rowcount, None)

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> Cursor:
        text, returning = translate(sql, self.db.catalog)
        if returning:
            text = text.removesuffix(" RETURNING id")
        seq = [tuple(p) for p in seq]
        if not seq:
            return Cursor([], 0, None)
        try:
            with self.raw.cursor() as cur:
                cur.executemany(text, seq)
                return Cursor([], cur.rowcount, None)
        except psycopg.Error as exc:
            raise self._failed(exc, sql) from exc

    def _failed(self, exc: psycopg.Error, sql: str) -> StoreError:
        if isinstance(exc, psycopg.OperationalError) and self.raw.broken:
            # The server went away (restart, fail-over): every thread's connection is stale;
            # they reconnect on their next use instead of each failing once.
            self.db.generation += 1
        return _store_error(exc, sql)

    def executescript(self, ddl: str) -> None:
        """Run an engine's SQLite DDL (``CREATE … IF NOT EXISTS``), translated."""
        self.db.ensure_schema(ddl)

    @contextlib.contextmanager
    def transaction(self, *, serialised: bool = True) -> Iterator[Connection]:
        """A transaction (nested ones join the outer one); ``serialised`` takes the writers'
        lock, like SQLite's ``BEGIN IMMEDIATE``."""
        if self.depth:
            self.depth += 1
            try:
                if serialised:
                    self.execute("SELECT pg_advisory_xact_lock(?)", (OPS_LOCK,))
                yield self
            finally:
                self.depth -= 1
            return
        try:
            tx = self.raw.transaction()
            tx.__enter__()
        except psycopg.Error as exc:
            raise StoreError(f"cannot start a transaction: {exc}") from exc
        self.depth = 1
        try:
            if serialised:
                self.execute("SELECT pg_advisory_xact_lock(?)", (OPS_LOCK,))
            yield self
        except BaseException as exc:
            self.depth = 0
            with contextlib.suppress(psycopg.Error):
                tx.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.depth = 0
        try:
            tx.__exit__(None, None, None)
        except psycopg.Error as exc:
            raise _store_error(exc, "COMMIT") from exc

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.raw.close()


class TransientStoreError(StoreError):
    """The database refused a transaction for a reason that a retry may not meet (deadlock,
    serialisation failure, lost connection); nothing of it was written."""


class DatabaseUnavailableError(StoreError):
    """PostgreSQL cannot be reached (down, restarting, connection lost); nothing was written
    by the statement that failed."""


def _store_error(exc: psycopg.Error, sql: str) -> StoreError:
    head = " ".join(sql.split())[:120]
    if isinstance(exc, pg_errors.IntegrityError):
        err: StoreError = StoreError(f"{exc.diag.message_primary or exc} ({head})")
    elif isinstance(exc, pg_errors.DeadlockDetected | pg_errors.SerializationFailure):
        err = TransientStoreError(
            f"database: {exc.diag.message_primary or exc}; nothing was written, try again"
        )
    elif isinstance(exc, psycopg.OperationalError):
        err = DatabaseUnavailableError(
            f"the database cannot be reached ({str(exc).strip()}); try again in a moment"
        )
    else:
        err = StoreError(f"database: {exc.diag.message_primary or exc} ({head})")
    err.sqlstate = exc.sqlstate  # type: ignore[attr-defined]
    return err


class Database:
    """A PostgreSQL database: one connection per thread, SQL translated for the engines.

    Parameters
    ----------
    url:
        ``postgresql://user:password@host:port/dbname`` (libpq form; ``sslmode`` etc. allowed).
    application_name:
        Shown in ``pg_stat_activity`` (e.g. ``superbrain-serve:8443``).
    """

    def __init__(self, url: str, *, application_name: str = "superbrain") -> None:
        self.url = url
        self.application_name = application_name
        self._local = threading.local()
        self._all: list[Connection] = []
        self._lock = threading.Lock()
        self.catalog = Catalog({}, {}, frozenset())
        self.generation = 0  # bumped when a connection finds the server gone

    def connect_raw(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """A new psycopg connection of its own (the push listener uses one)."""
        try:
            return psycopg.connect(
                self.url,
                autocommit=autocommit,
                connect_timeout=10,
                application_name=self.application_name,
            )
        except psycopg.Error as exc:
            from core.security import redact

            raise DatabaseUnavailableError(
                f"cannot connect to PostgreSQL {redact(self.url)!r}: {redact(str(exc)).strip()}"
            ) from None

    @property
    def connection(self) -> Connection:
        """This thread's connection (created on first use, replaced when it broke)."""
        con: Connection | None = getattr(self._local, "con", None)
        if con is not None and not con.depth and con.generation != self.generation:
            con.close()
        if con is None or con.raw.closed or (con.raw.broken and not con.depth):
            con = Connection(self, self.connect_raw())
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def transaction(
        self, *, serialised: bool = True
    ) -> contextlib.AbstractContextManager[Connection]:
        return self.connection.transaction(serialised=serialised)

    def ensure_schema(self, ddl: str | Sequence[str]) -> None:
        """Run ``CREATE … IF NOT EXISTS`` statements (SQLite text is translated) once, under a
        lock so that several processes starting together do not collide; refresh the catalog."""
        statements = ddl_to_pg(ddl) if isinstance(ddl, str) else list(ddl)
        con = self.connection
        with con.transaction(serialised=False):
            con.raw.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for stmt in statements:
                try:
                    con.raw.execute(stmt)
                except psycopg.Error as exc:
                    raise StoreError(
                        f"schema: {exc.diag.message_primary or exc} in "
                        f"{' '.join(stmt.split())[:160]!r}"
                    ) from exc
        self.refresh_catalog()

    def refresh_catalog(self) -> None:
        raw = self.connection.raw
        keys: dict[str, list[str]] = {}
        for table, column in raw.execute(
            "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints"
            " tc JOIN information_schema.key_column_usage kcu ON tc.constraint_name = "
            "kcu.constraint_name AND tc.table_schema = kcu.table_schema WHERE "
            "tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() "
            "ORDER BY tc.table_name, kcu.ordinal_position"
        ):
            keys.setdefault(table, []).append(column)
        columns: dict[str, list[str]] = {}
        identity = set()
        for table, column, is_identity, default in raw.execute(
            "SELECT table_name, column_name, is_identity, column_default FROM "
            "information_schema.columns WHERE table_schema = current_schema() "
            "ORDER BY table_name, ordinal_position"
        ):
            columns.setdefault(table, []).append(column)
            # an identity, or ids from a sequence (case_events shares ops_events'):
            if column == "id" and (
                is_identity == "YES" or str(default or "").startswith("nextval(")
            ):
                identity.add(table)
        self.catalog = Catalog(
            {k: tuple(v) for k, v in keys.items()},
            {k: tuple(v) for k, v in columns.items()},
            frozenset(identity),
        )

    def close(self) -> None:
        with self._lock:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()
