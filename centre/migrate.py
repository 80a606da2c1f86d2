"""Move a workspace into a centre: ``superbrain migrate WS --to postgresql://…``.

Copies every table of the workspace's SQLite files (records, entities, record↔entity rows,
links, ingest checkpoints, the engines' own tables such as ``ops_*`` and ``graph_*``, and the
user accounts in ``users.sqlite``) into tables of the same names and columns in PostgreSQL, and
the hash-chained audit log entry by entry, byte for byte, so its chain verifies on the centre.

Safe to stop and rerun:

- each batch is copied and its checkpoint (the last key copied, in ``superbrain_migration``)
  committed in one PostgreSQL transaction, so Ctrl+C or a crash loses at most the batch in
  flight and a rerun resumes after the last committed one;
- rows are inserted with ``ON CONFLICT DO NOTHING`` on the target's primary key, so a rerun
  from scratch (or into a centre that already holds some of the rows) never duplicates;
- the audit log is copied only when the source chain verifies, and appended only after the
  target's last entry when that entry is the same one (same sequence number, same hash).

The centre's own tables are created first, exactly as a centre server creates them
(:func:`prepare_centre`); a table of the workspace the centre does not know yet (an engine's
own, e.g. ``graph_merges``) is created from its SQLite definition, translated as the centre
translates its own. An existing table must hold every source column; extra target columns keep
their defaults. The search index is not copied: it is rebuilt from the records on the centre
(docs/DEPLOYMENT.md, "Moving a workspace into a centre").
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import SuperbrainError
from core.progress import CancelToken, ProgressCallback, ProgressMeter

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)

#: The SQLite files of a workspace that move, and what each holds.
SOURCE_FILES = ("store.sqlite", "users.sqlite")
#: SQLite's bookkeeping tables: never copied.
SKIP_TABLES = frozenset({"sqlite_sequence", "sqlite_stat1", "sqlite_stat4"})
#: The centre's table of audit entries (one canonical JSON line per entry, as written).
AUDIT_TABLE = "audit_log"
CHECKPOINTS = "superbrain_migration"

_PG_TYPES = {
    "INTEGER": "BIGINT",
    "REAL": "DOUBLE PRECISION",
    "TEXT": "TEXT",
    "BLOB": "BYTEA",
    "NUMERIC": "NUMERIC",
}


class MigrationError(SuperbrainError):
    """The workspace cannot be moved (names the table, column or audit line at fault)."""


@dataclass(frozen=True)
class Column:
    name: str
    decl: str  # the SQLite declared type
    pk: int  # position in the primary key (0: not part of it)
    notnull: bool

    @property
    def pg_type(self) -> str:
        decl = self.decl.upper()
        for affinity, pg in (
            ("INT", "INTEGER"),
            ("CHAR", "TEXT"),
            ("CLOB", "TEXT"),
            ("TEXT", "TEXT"),
            ("BLOB", "BLOB"),
            ("REAL", "REAL"),
            ("FLOA", "REAL"),
            ("DOUB", "REAL"),
        ):
            if affinity in decl:
                return _PG_TYPES[pg]
        return "BYTEA" if not decl else "NUMERIC"


@dataclass(frozen=True)
class SourceTable:
    """One SQLite table to copy."""

    file: str  # "store.sqlite"
    name: str
    columns: tuple[Column, ...]
    without_rowid: bool
    sql: str = ""  # its CREATE TABLE statement (SQLite)

    @property
    def key(self) -> tuple[str, ...]:
        """The columns batches are ordered and resumed by."""
        if not self.without_rowid:
            return ("rowid",)
        return tuple(c.name for c in sorted(self.columns, key=lambda c: c.pk) if c.pk)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in sorted(self.columns, key=lambda c: c.pk) if c.pk)


@dataclass
class TableReport:
    file: str
    name: str
    source_rows: int
    copied: int = 0
    target_rows: int = 0

    @property
    def ok(self) -> bool:
        return self.target_rows >= self.source_rows


@dataclass
class MigrationReport:
    """What a run did; ``ok`` when every table and the audit chain arrived whole."""

    tables: list[TableReport] = field(default_factory=list)
    audit_source: int = 0
    audit_copied: int = 0
    audit_target: int = 0
    audit_problems: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return (
            not self.cancelled
            and all(t.ok for t in self.tables)
            and not self.audit_problems
            and self.audit_target >= self.audit_source
        )

    def lines(self) -> list[str]:
        out = [
            f"{t.file}:{t.name}: {t.source_rows:,} rows in the workspace, "
            f"{t.target_rows:,} in the centre ({t.copied:,} copied now)"
            + ("" if t.ok else "  MISSING ROWS")
            for t in self.tables
        ]
        out.append(
            f"audit log: {self.audit_source:,} entries in the workspace, "
            f"{self.audit_target:,} in the centre ({self.audit_copied:,} copied now)"
        )
        out += [f"audit chain in the centre: {p}" for p in self.audit_problems]
        return out


# -- reading the workspace ------------------------------------------------------------------------
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source_tables(con: sqlite3.Connection, file: str) -> list[SourceTable]:
    """The tables of one SQLite file, with their columns and primary keys."""
    out = []
    rows = con.execute("SELECT name, sql FROM sqlite_master WHERE type='table' ORDER BY name")
    for name, sql in rows.fetchall():
        if name in SKIP_TABLES or name.startswith("sqlite_"):
            continue
        cols = tuple(
            Column(r[1], r[2] or "", int(r[5]), bool(r[3]))
            for r in con.execute(f"PRAGMA table_info({_q(name)})")
        )
        without_rowid = "WITHOUT ROWID" in (sql or "").upper()
        out.append(SourceTable(file, name, cols, without_rowid, sql or ""))
    return out


def _batches(
    con: sqlite3.Connection, table: SourceTable, after: list[Any] | None, size: int
) -> Iterator[tuple[list[tuple[Any, ...]], list[Any]]]:
    """(rows, key of the last row) in key order, after ``after``."""
    cols = ", ".join(_q(c.name) for c in table.columns)
    key = table.key
    key_sql = ", ".join(k if k == "rowid" else _q(k) for k in key)
    last = after
    while True:
        where, args = "", []
        if last is not None:
            marks = ", ".join("?" * len(key))
            where = f"WHERE ({key_sql}) > ({marks})"
            args = list(last)
        rows = con.execute(
            f"SELECT {key_sql}, {cols} FROM {_q(table.name)} {where} ORDER BY {key_sql} LIMIT ?",
            (*args, size),
        ).fetchall()
        if not rows:
            return
        last = list(rows[-1][: len(key)])
        yield [r[len(key) :] for r in rows], last


# -- writing the centre ---------------------------------------------------------------------------
def _pg_columns(cur: Any, table: str) -> dict[str, str] | None:
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    )
    found = dict(cur.fetchall())
    return found or None


def _ensure_table(cur: Any, table: SourceTable) -> None:
    """Create a table the centre lacks (its SQLite DDL translated as the centre translates its
    own), or check that an existing one holds every source column."""
    from centre.db import ddl_to_pg

    existing = _pg_columns(cur, table.name)
    if existing is None:
        for stmt in ddl_to_pg(table.sql.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)):
            cur.execute(stmt)
        return
    missing = [c.name for c in table.columns if c.name not in existing]
    if missing:
        raise MigrationError(
            f"centre table {table.name!r} has no column(s) {', '.join(map(repr, missing))} that "
            f"the workspace's {table.file}:{table.name} holds; copying would lose them"
        )


def _ensure_bookkeeping(cur: Any) -> None:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (source TEXT NOT NULL, "
        "tbl TEXT NOT NULL, last_key TEXT, rows BIGINT NOT NULL DEFAULT 0, "
        "done BOOLEAN NOT NULL DEFAULT false, PRIMARY KEY (source, tbl))"
    )


def _copy_batch(cur: Any, table: SourceTable, rows: Sequence[tuple[Any, ...]]) -> int:
    """COPY into a temporary twin, then INSERT … ON CONFLICT DO NOTHING (idempotent)."""
    temp = _q("_migrate_" + table.name)
    cols = ", ".join(_q(c.name) for c in table.columns)
    # only the copied columns, with the target's types (a centre may add columns of its own,
    # e.g. a generated key, which must keep their defaults)
    cur.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {temp} ON COMMIT DELETE ROWS AS "
        f"SELECT {cols} FROM {_q(table.name)} WITH NO DATA"
    )
    with cur.copy(f"COPY {temp} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cur.execute(
        f"INSERT INTO {_q(table.name)} ({cols}) OVERRIDING SYSTEM VALUE "
        f"SELECT {cols} FROM {temp} ON CONFLICT DO NOTHING"
    )
    return int(cur.rowcount)


def _bump_sequences(cur: Any, table: str) -> None:
    """After explicit ids were copied, make the centre's own id sequences continue past them."""
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s AND (column_default LIKE 'nextval(%%' "
        "OR is_identity = 'YES')",
        (table,),
    )
    for (column,) in cur.fetchall():
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), "
            f"GREATEST((SELECT max({_q(column)}) FROM {_q(table)}), 1))",
            (_q(table), column),
        )


def _bump_journal(cur: Any) -> None:
    """``case_events`` takes its ids from ``ops_events``' sequence (one journal id space on a
    centre, centre.workspace): it continues past the copied ids of both. (Ids the workspace
    gave both journals stay as copied; only what is written on the centre is ordered as one.)"""
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('ops_events', 'id'), GREATEST("
        "(SELECT max(id) FROM ops_events), (SELECT max(id) FROM case_events), 1))"
    )


# -- the run ---------------------------------------------------------------------------------------
def migrate(
    workspace: Workspace,
    url: str,
    *,
    batch_size: int = 5000,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> MigrationReport:
    """Copy ``workspace`` into the centre database at ``url`` (resumable; see the module doc).

    Needs the ``users.manage`` permission (user accounts and their password hashes move).
    The run is audited in the workspace before copying, so the entry moves with the log.

    Returns
    -------
    MigrationReport
        Per-table counts on both sides and the centre's audit chain check; ``cancelled`` when
        ``cancel`` stopped it (a rerun resumes).
    """
    from core.security import require

    try:
        import psycopg
    except ImportError as exc:
        raise MigrationError(
            f"moving a workspace needs psycopg ({exc}); `pip install 'psycopg[binary]'`"
        ) from None
    if not url.startswith(("postgresql://", "postgres://")):
        raise MigrationError(f"--to {redact_url(url)!r}: expected postgresql://USER@HOST/DB")
    session = require(workspace, "users.manage", action="migrate", to=redact_url(url))
    problems = workspace.audit.verify()
    if problems:
        raise MigrationError(
            f"{str(workspace.audit_path)!r}: the audit chain is broken "
            f"({problems[0]}); run `superbrain audit verify` and repair it "
            "before moving the workspace"
        )
    workspace.audit.append(session.user, "centre.migrate", {"to": redact_url(url)})
    prepare_centre(url)
    cancel = cancel or CancelToken()
    report = MigrationReport()
    sources: list[tuple[sqlite3.Connection, list[SourceTable]]] = []
    for file in SOURCE_FILES:
        path = workspace.root / file
        if not path.exists():
            continue
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        con.execute("BEGIN")  # one snapshot per file for the whole run
        sources.append((con, source_tables(con, file)))
    try:
        with psycopg.connect(url, autocommit=False) as pg:
            return _run(pg, url, workspace, sources, report, batch_size, progress, cancel)
    except psycopg.Error as exc:
        raise MigrationError(f"centre {redact_url(url)}: {exc}".strip()) from None
    finally:
        for con, _ in sources:
            con.close()


def _run(
    pg: Any,
    url: str,
    workspace: Workspace,
    sources: list[tuple[sqlite3.Connection, list[SourceTable]]],
    report: MigrationReport,
    batch_size: int,
    progress: ProgressCallback | None,
    cancel: CancelToken,
) -> MigrationReport:
    source_id = str(workspace.root)
    total = sum(
        con.execute(f"SELECT count(*) FROM {_q(t.name)}").fetchone()[0]
        for con, tables in sources
        for t in tables
    )
    audit_entries = list(_audit_lines(workspace))
    meter = ProgressMeter(progress, total + len(audit_entries))
    with pg.cursor() as cur:
        _ensure_bookkeeping(cur)
        _audit_start(cur, audit_entries)  # refuse a foreign chain before copying anything
        pg.commit()
        for con, tables in sources:
            for table in tables:
                n = con.execute(f"SELECT count(*) FROM {_q(table.name)}").fetchone()[0]
                tr = TableReport(table.file, table.name, n)
                report.tables.append(tr)
                _ensure_table(cur, table)
                cur.execute(
                    f"SELECT last_key, rows, done FROM {CHECKPOINTS} "
                    "WHERE source = %s AND tbl = %s",
                    (source_id, f"{table.file}:{table.name}"),
                )
                row = cur.fetchone()
                pg.commit()
                after = json.loads(row[0]) if row and row[0] else None
                done_rows = int(row[1]) if row else 0
                meter.advance(done_rows, f"{table.name}")
                for rows, last in _batches(con, table, after, batch_size):
                    if cancel.cancelled:
                        report.cancelled = True
                        return _finish(cur, pg, report, workspace, url)
                    tr.copied += _copy_batch(cur, table, rows)
                    done_rows += len(rows)
                    _save_checkpoint(cur, source_id, table, last, done_rows)
                    pg.commit()
                    meter.advance(len(rows), f"{table.name}")
                _bump_sequences(cur, table.name)
                pg.commit()
        _bump_journal(cur)
        pg.commit()
        if cancel.cancelled:
            report.cancelled = True
            return _finish(cur, pg, report, workspace, url)
        report.audit_copied = _copy_audit(cur, pg, audit_entries, meter, cancel, batch_size)
        report.cancelled = cancel.cancelled
        return _finish(cur, pg, report, workspace, url)


def _save_checkpoint(
    cur: Any, source_id: str, table: SourceTable, last: list[Any], rows: int
) -> None:
    cur.execute(
        f"INSERT INTO {CHECKPOINTS} (source, tbl, last_key, rows) VALUES (%s,%s,%s,%s) "
        "ON CONFLICT (source, tbl) DO UPDATE SET last_key = excluded.last_key, "
        "rows = excluded.rows",
        (source_id, f"{table.file}:{table.name}", json.dumps(last), rows),
    )


def _audit_lines(workspace: Workspace) -> Iterator[tuple[int, str, str]]:
    """(seq, hash, line as written) of each entry of the workspace's (verified) log."""
    path = workspace.audit_path
    if not path.exists():
        return
    with path.open("rb") as fh:
        for raw in fh:
            entry = json.loads(raw)
            yield int(entry["seq"]), str(entry["hash"]), raw.rstrip(b"\n").decode("utf-8")


def _audit_start(cur: Any, entries: list[tuple[int, str, str]]) -> int:
    """The last sequence number the centre already holds of this workspace's chain (0: none);
    raises when the centre's log is another chain."""
    cur.execute(f"SELECT seq, hash FROM {AUDIT_TABLE} ORDER BY seq DESC LIMIT 1")
    last = cur.fetchone()
    if last is None:
        return 0
    seq, digest = int(last[0]), str(last[1])
    mine = next((e for e in entries if e[0] == seq), None)
    if mine is None or mine[1] != digest:
        raise MigrationError(
            f"the centre's audit log already holds a different chain (its entry {seq} is not "
            "this workspace's); a workspace can only be moved into a centre whose log is "
            "empty or is this workspace's own"
        )
    return seq


def _copy_audit(
    cur: Any,
    pg: Any,
    entries: list[tuple[int, str, str]],
    meter: ProgressMeter,
    cancel: CancelToken,
    batch_size: int,
) -> int:
    """Append the workspace's entries the centre lacks, refusing to fork a different chain."""
    start = _audit_start(cur, entries)
    meter.advance(start, "audit log")
    copied = 0
    todo = [e for e in entries if e[0] > start]
    for i in range(0, len(todo), batch_size):
        if cancel.cancelled:
            break
        chunk = todo[i : i + batch_size]
        with cur.copy(
            f'COPY {AUDIT_TABLE} (seq, ts, "user", action, case_no, hash, line) FROM STDIN'
        ) as copy:
            for seq, digest, line in chunk:
                entry = json.loads(line)
                copy.write_row(
                    (
                        seq,
                        entry.get("ts", ""),
                        entry.get("user", ""),
                        entry.get("action", ""),
                        entry.get("case"),
                        digest,
                        line,
                    )
                )
        pg.commit()
        copied += len(chunk)
        meter.advance(len(chunk), "audit log")
    return copied


def _finish(
    cur: Any, pg: Any, report: MigrationReport, workspace: Workspace, url: str
) -> MigrationReport:
    for tr in report.tables:
        cur.execute(f"SELECT count(*) FROM {_q(tr.name)}")
        tr.target_rows = int(cur.fetchone()[0])
    report.audit_source = sum(1 for _ in workspace.audit.entries())
    cur.execute(f"SELECT count(*) FROM {AUDIT_TABLE}")
    report.audit_target = int(cur.fetchone()[0])
    pg.commit()
    report.audit_problems = [str(p) for p in verify_centre_audit(url)]
    return report


def prepare_centre(url: str) -> None:
    """Create the centre's own tables (store, audit log, accounts, every engine's) exactly as a
    centre server creates them, so copied rows land in the schema the server reads."""
    from centre.audit import PgAuditLog
    from centre.db import Database
    from centre.store import PgStore
    from centre.users import PgUserStore
    from centre.workspace import prepare_engines

    db = Database(url, application_name="superbrain-migrate")
    try:
        PgStore(db)
        PgAuditLog(db)
        PgUserStore(db)
        prepare_engines(db)
    finally:
        db.close()


def verify_centre_audit(url: str) -> list[Any]:
    """The centre's audit chain check (:meth:`centre.audit.PgAuditLog.verify`, what
    ``superbrain audit -w centre.toml verify`` runs); an empty list means intact."""
    from centre.audit import PgAuditLog
    from centre.db import Database

    db = Database(url, application_name="superbrain-migrate")
    try:
        return PgAuditLog(db).verify()
    finally:
        db.close()


def redact_url(url: str) -> str:
    """``url`` without its password (for messages and the audit log)."""
    from core.security import redact

    return redact(url)
