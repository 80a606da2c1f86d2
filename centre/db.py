"""PostgreSQL behind the connection interface the engines use on SQLite.

The engines (the store, operations, users) speak a small, portable SQL through
``con.execute(sql, params)`` with ``?`` placeholders, read ``cursor.rowcount`` /
``cursor.lastrowid``, and write inside ``with store.transaction() as con:``. :class:`Database`
gives them the same on PostgreSQL (psycopg 3), so the compare-and-set logic of dispatch and the
service layer run unchanged on both:

- ``?`` becomes ``%s``; ``INSERT OR IGNORE`` becomes ``ON CONFLICT DO NOTHING``;
  ``INSERT OR REPLACE`` becomes an upsert on the table's primary key; ``total(`` becomes
  ``sum(``; ``LIKE`` becomes ``ILIKE`` (SQLite's LIKE ignores ASCII case); the column name
  ``user`` (reserved in PostgreSQL) is quoted;
- an ``INSERT`` into a table with an identity ``id`` returns it (``cursor.lastrowid``);
- SQLite DDL is translated by :func:`ddl_to_pg` (AUTOINCREMENT → identity, REAL → double
  precision, INTEGER → bigint);
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
import re
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from core.errors import StoreError

log = logging.getLogger(__name__)

#: Advisory lock keys (pg_advisory_xact_lock); one namespace for superbrain.
OPS_LOCK = 0x5342_0001
AUDIT_LOCK = 0x5342_0002
SCHEMA_LOCK = 0x5342_0003

IntegrityError = pg_errors.IntegrityError
DatabaseError = psycopg.Error


# -- SQL translation --------------------------------------------------------------------------
_WORD_USER = re.compile(r"(?<![\w.\"])user(?![\w\"])")
_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
_COLUMNS = re.compile(r"^\s*INSERT\s+INTO\s+\w+\s*\(([^)]*)\)\s*VALUES", re.IGNORECASE)
_TOTAL = re.compile(r"\btotal\(", re.IGNORECASE)
_LIKE = re.compile(r"(?<!I)\bLIKE\b")


def _outside_quotes(sql: str, fn: Any) -> str:
    """Apply ``fn`` to the parts of ``sql`` outside single-quoted literals; escape every ``%``."""
    parts = re.split(r"('(?:[^']|'')*')", sql)
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a quoted literal
            out.append(part.replace("%", "%%"))
        else:
            out.append(fn(part.replace("%", "%%")))
    return "".join(out)


_SQLITE_MASTER = re.compile(r"\bsqlite_master\b")
#: SQLite's catalogue of indexes, as far as the engines read it (name and type).
_PG_MASTER = ("(SELECT indexname AS name, 'index' AS type, tablename AS tbl_name FROM pg_indexes "
              "WHERE schemaname = current_schema()) AS sqlite_master")


_TEMP_SCHEMA = re.compile(r"\btemp\.(?=\w)")
_UNARY_PLUS = re.compile(r"(?<=[\s(])\+(?=[A-Za-z_])")  # SQLite's "don't use an index" hint


def _dialect(part: str) -> str:
    part = part.replace("?", "%s")
    part = _TEMP_SCHEMA.sub("pg_temp.", part)
    part = _UNARY_PLUS.sub("", part)
    part = _SQLITE_MASTER.sub(_PG_MASTER, part)
    part = _WORD_USER.sub('"user"', part)
    part = _TOTAL.sub("sum(", part)
    return _LIKE.sub("ILIKE", part)


_JSON_EXTRACT = re.compile(r"json_extract\(\s*(\w+)\s*,\s*'\$\.(\w+)'\s*\)", re.I)


@lru_cache(maxsize=4096)
def _translate(sql: str, catalog: Catalog) -> tuple[str, bool]:
    """(PostgreSQL text, whether it returns the new row's id)."""
    sql = _JSON_EXTRACT.sub(r"(\1::jsonb ->> '\2')", sql)
    conflict = ""
    m = _INSERT_OR.match(sql)
    if m:
        mode, table = m.group(1).upper(), m.group(2)
        sql = sql[:m.start()] + f"INSERT INTO {table}" + sql[m.end():]
        if mode == "IGNORE":
            conflict = " ON CONFLICT DO NOTHING"
        else:
            key = catalog.primary_keys.get(table)
            if not key:
                raise StoreError(f"INSERT OR REPLACE INTO {table}: the table has no primary key")
            cm = _COLUMNS.match(sql)
            cols = ([c.strip() for c in cm.group(1).split(",")] if cm
                    else list(catalog.columns.get(table, ())))
            sets = ", ".join(f"{_quote(c)}=EXCLUDED.{_quote(c)}" for c in cols if c not in key)
            conflict = (f" ON CONFLICT ({', '.join(_quote(k) for k in key)}) "
                        + (f"DO UPDATE SET {sets}" if sets else "DO NOTHING"))
    text = _outside_quotes(sql.rstrip().rstrip(";"), _dialect) + conflict
    ins = _INSERT_INTO.match(sql)
    if ins and not conflict:
        text = _qualify_upsert(text, ins.group(1), catalog)
    returning = bool(ins and ins.group(1) in catalog.identity_tables
                     and "RETURNING" not in sql.upper())
    if returning:
        text += " RETURNING id"
    return text, returning


_DO_UPDATE = re.compile(r"\bDO\s+UPDATE\s+SET\b", re.IGNORECASE)
_NAME = re.compile(r'(?<![\w."])("user"|[A-Za-z_]\w*)(?![\w"(])')
_TARGET = re.compile(r"(?:SET|,)\s*$", re.IGNORECASE)


def _qualify_upsert(text: str, table: str, catalog: Catalog) -> str:
    """In ``ON CONFLICT … DO UPDATE SET``, SQLite reads a bare column as the existing row's;
    PostgreSQL calls it ambiguous: qualify it with the table name (targets stay bare)."""
    m = _DO_UPDATE.search(text)
    columns = set(catalog.columns.get(table, ()))
    if not m or not columns:
        return text
    head, tail = text[:m.end()], text[m.end():]

    def qualify(match: _Shifted) -> str:
        name = match.group(1)
        bare = name.strip('"')
        if bare not in columns:
            return name
        before = head + tail[:match.start()]
        after = tail[match.end():]
        if _TARGET.search(before) and re.match(r"\s*=(?!=)", after):
            return name  # the column being set
        return f"{table}.{name}"

    parts = re.split(r"('(?:[^']|'')*')", tail)
    out = []
    offset = 0
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            out.append(_NAME.sub(lambda mm, o=offset: qualify(_Shifted(mm, o)), part))
        offset += len(part)
    return head + "".join(out)


class _Shifted:
    """A regex match seen at its position in the whole tail (for the look-around above)."""

    def __init__(self, match: re.Match[str], offset: int) -> None:
        self._m, self._o = match, offset

    def group(self, n: int) -> str:
        return self._m.group(n)

    def start(self) -> int:
        return self._m.start() + self._o

    def end(self) -> int:
        return self._m.end() + self._o


def _quote(column: str) -> str:
    return '"user"' if column == "user" else column


_DDL_RULES = (
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.I),
     "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\)\s*WITHOUT\s+ROWID", re.I), ")"),
    (_WORD_USER, '"user"'),
)


def ddl_to_pg(ddl: str) -> list[str]:
    """SQLite ``CREATE TABLE/INDEX IF NOT EXISTS`` statements as PostgreSQL statements."""
    lines = [line.split("--", 1)[0] for line in ddl.splitlines()]
    out = []
    for stmt in "\n".join(lines).split(";"):
        stmt = stmt.strip()
        if not stmt:
            continue
        for pattern, repl in _DDL_RULES:
            stmt = pattern.sub(repl, stmt)
        out.append(stmt)
    return out


class Catalog:
    """What translation needs to know about the tables (hashable: part of the cache key)."""

    def __init__(self, primary_keys: dict[str, tuple[str, ...]],
                 columns: dict[str, tuple[str, ...]], identity_tables: frozenset[str]) -> None:
        self.primary_keys = primary_keys
        self.columns = columns
        self.identity_tables = identity_tables
        self._key = (tuple(sorted(primary_keys.items())), tuple(sorted(columns.items())),
                     identity_tables)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Catalog) and self._key == other._key


# -- cursors and connections ------------------------------------------------------------------
class Cursor:
    """The result of one statement: rows fetched eagerly, ``rowcount`` and ``lastrowid``."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int,
                 lastrowid: int | None) -> None:
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
        rows, self._pos = self._rows[self._pos:], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class Connection:
    """One thread's PostgreSQL connection with SQLite's ``execute`` interface."""

    def __init__(self, db: Database, raw: psycopg.Connection[Any]) -> None:
        self.db = db
        self.raw = raw
        self.depth = 0

    @property
    def in_transaction(self) -> bool:
        return self.depth > 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if sql.lstrip()[:6].upper() == "PRAGMA":  # SQLite tuning: nothing to do here
            return Cursor([], 0, None)
        text, returning = _translate(sql, self.db.catalog)
        try:
            cur = self.raw.execute(text, tuple(params))  # type: ignore[arg-type]
            rows = cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise _store_error(exc, sql) from exc
        if returning:
            return Cursor([], cur.rowcount, rows[0][0] if rows else None)
        return Cursor(rows, cur.rowcount, None)

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> Cursor:
        text, returning = _translate(sql, self.db.catalog)
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
            raise _store_error(exc, sql) from exc

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
        err = TransientStoreError(f"database: {exc.diag.message_primary or exc}; "
                                  "nothing was written, try again")
    elif isinstance(exc, psycopg.OperationalError):
        err = DatabaseUnavailableError(f"the database cannot be reached ({str(exc).strip()}); "
                                       "try again in a moment")
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

    def connect_raw(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """A new psycopg connection of its own (the push listener uses one)."""
        try:
            return psycopg.connect(self.url, autocommit=autocommit, connect_timeout=10,
                                   application_name=self.application_name)
        except psycopg.Error as exc:
            from core.security import redact

            raise DatabaseUnavailableError(f"cannot connect to PostgreSQL {redact(self.url)!r}: "
                                           f"{redact(str(exc)).strip()}") from None

    @property
    def connection(self) -> Connection:
        """This thread's connection (created on first use, replaced when it broke)."""
        con: Connection | None = getattr(self._local, "con", None)
        if con is None or con.raw.closed or (con.raw.broken and not con.depth):
            con = Connection(self, self.connect_raw())
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def transaction(self, *, serialised: bool = True) -> contextlib.AbstractContextManager[
            Connection]:
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
                    con.raw.execute(stmt)  # type: ignore[arg-type]
                except psycopg.Error as exc:
                    raise StoreError(f"schema: {exc.diag.message_primary or exc} in "
                                     f"{' '.join(stmt.split())[:160]!r}") from exc
        self.refresh_catalog()

    def refresh_catalog(self) -> None:
        raw = self.connection.raw
        keys: dict[str, list[str]] = {}
        for table, column in raw.execute(
                "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints"
                " tc JOIN information_schema.key_column_usage kcu ON tc.constraint_name = "
                "kcu.constraint_name AND tc.table_schema = kcu.table_schema WHERE "
                "tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() "
                "ORDER BY tc.table_name, kcu.ordinal_position"):
            keys.setdefault(table, []).append(column)
        columns: dict[str, list[str]] = {}
        identity = set()
        for table, column, is_identity in raw.execute(
                "SELECT table_name, column_name, is_identity FROM information_schema.columns "
                "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
            columns.setdefault(table, []).append(column)
            if column == "id" and is_identity == "YES":
                identity.add(table)
        self.catalog = Catalog({k: tuple(v) for k, v in keys.items()},
                               {k: tuple(v) for k, v in columns.items()}, frozenset(identity))

    def close(self) -> None:
        with self._lock:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()
