"""The operational store: SQLite in WAL mode, one connection per thread.

Every write is an idempotent upsert keyed by stable ids, and an ingest batch commits together
with its file checkpoint, so a crash loses at most the batch in flight and a rerun resumes
without duplicates.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from core.errors import StoreError
from core.model import EntityRef, LinkRef, Record

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (
    uid TEXT PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    time REAL, lat REAL, lon REAL, text TEXT NOT NULL, fields TEXT NOT NULL,
    attachments TEXT NOT NULL, origin TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_source_time ON records(source, time);
CREATE INDEX IF NOT EXISTS records_time ON records(time);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL,
    props TEXT NOT NULL, first_seen REAL, last_seen REAL);
CREATE INDEX IF NOT EXISTS entities_type ON entities(type);
CREATE TABLE IF NOT EXISTS record_entities (
    record_uid TEXT NOT NULL, entity_id TEXT NOT NULL, PRIMARY KEY (entity_id, record_uid))
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_entities_record ON record_entities(record_uid);
CREATE TABLE IF NOT EXISTS links (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
    time REAL, record_uid TEXT NOT NULL, props TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS links_source ON links(source, time);
CREATE INDEX IF NOT EXISTS links_target ON links(target, time);
CREATE INDEX IF NOT EXISTS links_type_time ON links(type, time);
CREATE INDEX IF NOT EXISTS links_record ON links(record_uid);
CREATE TABLE IF NOT EXISTS ingest_files (
    source TEXT NOT NULL, fingerprint TEXT NOT NULL, path TEXT NOT NULL,
    rows_done INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,
    rejects INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, error TEXT,
    started TEXT, finished TEXT, mapping_digest TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (source, fingerprint));
"""


def storage_problem(path: Path, exc: BaseException) -> str:
    """A message for a storage failure that names the file and says how to recover."""
    text = str(exc)
    low = text.lower()
    if (
        (isinstance(exc, OSError) and exc.errno == errno.ENOSPC)
        or "full" in low
        or "no space" in low
    ):
        hint = "the disk is full: free space and retry (nothing was half-written)"
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        hint = (
            "the file is damaged: restore it from a backup, or move it aside and rebuild "
            "it by ingesting the sources again (see 'Damaged storage' in docs/SECURITY.md)"
        )
    elif isinstance(exc, PermissionError) or "readonly" in low or "read-only" in low:
        hint = "it cannot be written: check the file's owner and mode (0600)"
    else:
        hint = "see 'Damaged storage' in docs/SECURITY.md"
    return f"{str(path)!r}: {text}: {hint}"


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _json(value: Any) -> str:
    # One shared encoder and an empty-dict shortcut: this runs several times per ingested row.
    if isinstance(value, dict) and not value:
        return "{}"
    return _ENCODER.encode(value)


def _merge_patch(target: dict[str, Any], patch: Any) -> dict[str, Any]:
    """RFC 7396 merge of ``patch`` into ``target`` (what SQLite's json_patch does)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            target[key] = _merge_patch(dict(current) if isinstance(current, dict) else {}, value)
        else:
            target[key] = value
    return target


def _earliest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


_RECORD_UPSERT = """INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?)
   ON CONFLICT(uid) DO UPDATE SET type=excluded.type, time=excluded.time,
   lat=excluded.lat, lon=excluded.lon, text=excluded.text,
   fields=excluded.fields, attachments=excluded.attachments,
   origin=excluded.origin"""

_ENTITY_UPSERT = """INSERT INTO entities VALUES (?,?,?,?,?,?,?)
   ON CONFLICT(id) DO UPDATE SET
   label=CASE WHEN excluded.label != '' THEN excluded.label ELSE label END,
   props=json_patch(props, excluded.props),
   first_seen=min(coalesce(first_seen, excluded.first_seen),
                  coalesce(excluded.first_seen, first_seen)),
   last_seen=max(coalesce(last_seen, excluded.last_seen),
                 coalesce(excluded.last_seen, last_seen))"""


class _BatchRows(NamedTuple):
    """An ingest batch as the rows of each table, ready for ``executemany``."""

    records: list[tuple[Any, ...]]
    entities: list[tuple[Any, ...]]
    record_entities: list[tuple[str, str]]
    links: list[tuple[Any, ...]]


def _batch_rows(records: Sequence[Record], *, in_key_order: bool) -> _BatchRows:
    """The rows an ingest batch writes (every store's one loop; only the SQL differs), each
    table's in key order when ``in_key_order``."""
    rec_rows, re_rows, link_rows = [], [], []
    # Entities recur within a batch (the same checkpoint on every read): merge them here,
    # as the entity upsert would, so each is written once per batch.
    ents: dict[str, list[Any]] = {}
    for r in records:
        t = _epoch(r.time)
        lat, lon = r.geo if r.geo else (None, None)
        rec_rows.append(
            (
                r.uid,
                r.source,
                r.id,
                r.type,
                t,
                lat,
                lon,
                _json(dict(r.text)),
                _json(dict(r.fields)),
                _json(dict(r.attachments)),
                r.origin,
            )
        )
        for e in r.entities:
            eid = e.id
            seen = ents.get(eid)
            if seen is None:
                ents[eid] = [eid, e.type, e.key, e.label, dict(e.props), t, t]
            else:
                if e.label:
                    seen[3] = e.label
                _merge_patch(seen[4], e.props)
                seen[5], seen[6] = _earliest(seen[5], t), _latest(seen[6], t)
            re_rows.append((r.uid, eid))
        for link in r.links:
            lt = _epoch(link.time) if link.time else t
            link_rows.append(
                (
                    link.link_id(r.uid),
                    link.type,
                    link.source,
                    link.target,
                    lt,
                    r.uid,
                    _json(dict(link.props)),
                )
            )
    ent_rows = [
        (eid, et, key, label, _json(props), first, last)
        for eid, et, key, label, props, first, last in ents.values()
    ]
    if in_key_order:
        rec_rows.sort(key=lambda row: row[0])
        ent_rows.sort()
        re_rows.sort()
        link_rows.sort()
    return _BatchRows(rec_rows, ent_rows, re_rows, link_rows)


@dataclass(frozen=True)
class Checkpoint:
    """Progress of one file of one source, committed with each batch."""

    source: str
    fingerprint: str
    path: str
    rows_done: int
    records: int
    rejects: int
    status: str  # "running", "done", "failed", "cancelled"
    error: str | None = None
    mapping_digest: str = ""  # how rows were mapped (the plugin's mapping_digest())
    finished: str | None = None  # ISO time (UTC) the file's ingest ended; None while running


@dataclass(frozen=True)
class EntityRow:
    id: str
    type: str
    key: str
    label: str
    props: dict[str, Any]
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class LinkRow:
    id: str
    type: str
    source: str
    target: str
    time: datetime | None
    record_uid: str


class Store:
    """SQLite-backed store of records, entities, links and ingest checkpoints."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if not self.path.exists():
            # 0600 from the start (SQLite gives its -wal and -shm files the same mode)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            con = self.connection
            con.executescript(_DDL)  # executescript commits on its own; DDL is idempotent
            columns = {row[1] for row in con.execute("PRAGMA table_info(ingest_files)")}
            if "mapping_digest" not in columns:  # a store from before checkpoints knew the mapping
                con.execute(
                    "ALTER TABLE ingest_files ADD COLUMN mapping_digest TEXT NOT NULL DEFAULT ''"
                )
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(storage_problem(self.path, exc)) from exc

    # -- connections --------------------------------------------------------------------------
    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection (created on first use)."""
        con = getattr(self._local, "con", None)
        if con is None:
            try:
                con = sqlite3.connect(
                    self.path, timeout=30, isolation_level=None, check_same_thread=False
                )
            except sqlite3.Error as exc:
                raise StoreError(f"{str(self.path)!r}: cannot open store: {exc}") from exc
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            # Measured on 300k rows (docs/PERFORMANCE.md, Ingest): a 64 MiB page cache and
            # rarer WAL checkpoints cut ingest CPU ~20 % and wall time ~15 %.
            con.execute("PRAGMA cache_size=-65536")
            con.execute("PRAGMA wal_autocheckpoint=10000")
            con.execute("PRAGMA foreign_keys=ON")
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def transaction(self) -> _Transaction:
        """``with store.transaction() as con:`` — BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""
        return _Transaction(self.connection)

    def close(self) -> None:
        with self._lock:
            for con in self._all:
                with contextlib.suppress(sqlite3.Error):
                    con.close()
            self._all.clear()
        self._local = threading.local()

    # -- writes -------------------------------------------------------------------------------
    #: The batch's entity upsert in this store's SQL dialect: SQLite's ``json_patch`` and
    #: two-argument ``min``/``max`` (centre.store.PgStore has PostgreSQL's).
    entity_upsert_sql = _ENTITY_UPSERT
    #: Whether a batch writes its rows in key order. SQLite serialises its writers, so order
    #: does not matter here; on a server two ingest jobs that lock the same rows in one order
    #: cannot deadlock (centre.store.PgStore).
    batch_in_key_order = False

    def _ingest_transaction(self) -> contextlib.AbstractContextManager[Any]:
        """The transaction an ingest batch and its checkpoint commit in: here the writers'
        transaction (:meth:`transaction`)."""
        return self.transaction()

    def upsert_batch(self, records: Sequence[Record], checkpoint: Checkpoint | None = None) -> None:
        """Write records with their entities and links, and the checkpoint, atomically."""
        rows = _batch_rows(records, in_key_order=self.batch_in_key_order)
        with self._ingest_transaction() as con:
            con.executemany(_RECORD_UPSERT, rows.records)
            con.executemany(self.entity_upsert_sql, rows.entities)
            con.executemany(
                "INSERT OR IGNORE INTO record_entities VALUES (?,?)", rows.record_entities
            )
            con.executemany("INSERT OR IGNORE INTO links VALUES (?,?,?,?,?,?,?)", rows.links)
            if checkpoint is not None:
                self._write_checkpoint(con, checkpoint)

    def _write_checkpoint(self, con: sqlite3.Connection, cp: Checkpoint) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        con.execute(
            """INSERT INTO ingest_files VALUES (?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(source, fingerprint) DO UPDATE SET path=excluded.path,
               rows_done=excluded.rows_done, records=excluded.records, rejects=excluded.rejects,
               status=excluded.status, error=excluded.error,
               mapping_digest=excluded.mapping_digest,
               finished=CASE WHEN excluded.status='running' THEN NULL ELSE ? END""",
            (
                cp.source,
                cp.fingerprint,
                cp.path,
                cp.rows_done,
                cp.records,
                cp.rejects,
                cp.status,
                cp.error,
                now,
                None if cp.status == "running" else now,
                cp.mapping_digest,
                now,
            ),
        )

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._ingest_transaction() as con:
            self._write_checkpoint(con, checkpoint)

    _CHECKPOINT_COLUMNS = (
        "source, fingerprint, path, rows_done, records, rejects, status, "
        "error, mapping_digest, finished"
    )

    def checkpoint(self, source: str, fingerprint: str) -> Checkpoint | None:
        """The checkpoint of the file with content ``fingerprint`` read by ``source``."""
        row = self.connection.execute(
            f"SELECT {self._CHECKPOINT_COLUMNS} FROM ingest_files WHERE source=? AND fingerprint=?",
            (source, fingerprint),
        ).fetchone()
        return Checkpoint(*row) if row else None

    def checkpoints(self) -> list[Checkpoint]:
        """Every file checkpoint, oldest first."""
        rows = self.connection.execute(
            f"SELECT {self._CHECKPOINT_COLUMNS} FROM ingest_files ORDER BY started"
        ).fetchall()
        return [Checkpoint(*r) for r in rows]

    # -- reads --------------------------------------------------------------------------------
    def count(self, table: str = "records", **where: Any) -> int:
        if table not in ("records", "entities", "links", "record_entities"):
            raise StoreError(f"unknown table {table!r}")
        clause = " AND ".join(f"{k}=?" for k in where)
        sql = f"SELECT count(*) FROM {table}" + (f" WHERE {clause}" if clause else "")
        return int(self.connection.execute(sql, tuple(where.values())).fetchone()[0])

    def sources(self) -> dict[str, int]:
        rows = self.connection.execute("SELECT source, count(*) FROM records GROUP BY source")
        return dict(rows.fetchall())

    def _record_from_row(self, row: Sequence[Any], with_graph: bool = True) -> Record:
        uid, source, rid, rtype, t, lat, lon, text, fields, att, origin = row
        entities: tuple[EntityRef, ...] = ()
        links: tuple[LinkRef, ...] = ()
        if with_graph:
            con = self.connection
            entities = tuple(
                EntityRef(et, key, label, json.loads(props))
                for et, key, label, props in con.execute(
                    "SELECT e.type, e.key, e.label, e.props FROM record_entities re "
                    "JOIN entities e ON e.id = re.entity_id WHERE re.record_uid=?",
                    (uid,),
                )
            )
            links = tuple(
                LinkRef(lt, s, d, _dt(ltime), json.loads(props))
                for lt, s, d, ltime, props in con.execute(
                    "SELECT type, source, target, time, props FROM links WHERE record_uid=?", (uid,)
                )
            )
        return Record(
            source=source,
            id=rid,
            type=rtype,
            time=_dt(t),
            geo=(lat, lon) if lat is not None else None,
            text=json.loads(text),
            fields=json.loads(fields),
            attachments=json.loads(att),
            entities=entities,
            links=links,
            origin=origin,
        )

    def get_record(self, uid: str) -> Record | None:
        row = self.connection.execute("SELECT * FROM records WHERE uid=?", (uid,)).fetchone()
        return self._record_from_row(row) if row else None

    def get_records(self, uids: Iterable[str], with_graph: bool = False) -> list[Record]:
        out = []
        for uid in uids:
            row = self.connection.execute("SELECT * FROM records WHERE uid=?", (uid,)).fetchone()
            if row:
                out.append(self._record_from_row(row, with_graph))
        return out

    def iter_records(
        self, source: str | None = None, *, batch_size: int = 2000, with_graph: bool = True
    ) -> Iterator[Record]:
        """All records (of one source), in uid order, fetched in pages (memory stays flat)."""
        last = ""
        while True:
            sql = "SELECT * FROM records WHERE uid > ?" + (" AND source=?" if source else "")
            args: tuple[Any, ...] = (last, source) if source else (last,)
            rows = self.connection.execute(
                sql + " ORDER BY uid LIMIT ?", (*args, batch_size)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield self._record_from_row(row, with_graph)
            last = rows[-1][0]

    def get_entity(self, entity_id: str) -> EntityRow | None:
        row = self.connection.execute(
            "SELECT id, type, key, label, props, first_seen, last_seen FROM entities WHERE id=?",
            (entity_id,),
        ).fetchone()
        if not row:
            return None
        return EntityRow(
            row[0], row[1], row[2], row[3], json.loads(row[4]), _dt(row[5]), _dt(row[6])
        )

    def find_entities(
        self, text: str, entity_type: str | None = None, limit: int = 50
    ) -> list[EntityRow]:
        """Entities whose key or label contains ``text`` (for pickers and the CLI)."""
        like = f"%{text}%"
        sql = (
            "SELECT id, type, key, label, props, first_seen, last_seen FROM entities "
            "WHERE (key LIKE ? OR label LIKE ?)"
        )
        args: list[Any] = [like, like]
        if entity_type:
            sql += " AND type=?"
            args.append(entity_type)
        rows = self.connection.execute(sql + " LIMIT ?", (*args, limit)).fetchall()
        return [
            EntityRow(r[0], r[1], r[2], r[3], json.loads(r[4]), _dt(r[5]), _dt(r[6])) for r in rows
        ]

    def entity_record_uids(self, entity_id: str) -> list[str]:
        rows = self.connection.execute(
            "SELECT record_uid FROM record_entities WHERE entity_id=?", (entity_id,)
        )
        return [r[0] for r in rows]

    def links_touching(
        self,
        entity_ids: Iterable[str],
        *,
        link_types: Iterable[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[LinkRow]:
        """Links with either end in ``entity_ids``, optionally by type and time window."""
        ids = list(dict.fromkeys(entity_ids))
        types = list(link_types) if link_types else None
        out: dict[str, LinkRow] = {}
        for i in range(0, len(ids), 400):
            chunk = ids[i : i + 400]
            marks = ",".join("?" * len(chunk))
            for column in ("source", "target"):
                sql = (
                    f"SELECT id, type, source, target, time, record_uid FROM links "
                    f"WHERE {column} IN ({marks})"
                )
                args: list[Any] = list(chunk)
                if types:
                    sql += f" AND type IN ({','.join('?' * len(types))})"
                    args += types
                if start is not None:
                    sql += " AND time >= ?"
                    args.append(start.timestamp())
                if end is not None:
                    sql += " AND time <= ?"
                    args.append(end.timestamp())
                for r in self.connection.execute(sql, args):
                    out[r[0]] = LinkRow(r[0], r[1], r[2], r[3], _dt(r[4]), r[5])
        return list(out.values())


class _Transaction:
    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot start a transaction: {exc}") from exc
        return self.con

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.con.execute("COMMIT")
        else:
            self.con.execute("ROLLBACK")
