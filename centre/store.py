"""The operational store on PostgreSQL: records, entities, links and ingest checkpoints.

The same :class:`core.store.Store` reads run unchanged through :mod:`centre.db`; the batch
upsert is rewritten for PostgreSQL (SQLite's ``json_patch`` and two-argument ``min``/``max``
have no direct equivalent) and runs in an ordinary transaction: ingest batches are idempotent
upserts that need no global order, so they never wait for the operations desks' writers' lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from centre.db import Connection, Database
from core.store import _DDL, Checkpoint, Store, _earliest, _epoch, _json, _latest, _merge_patch
from core.model import Record

SCHEMA_VERSION = 1

_ENTITY_UPSERT = """
INSERT INTO entities AS e VALUES (?,?,?,?,?,?,?)
ON CONFLICT(id) DO UPDATE SET
  label = CASE WHEN EXCLUDED.label <> '' THEN EXCLUDED.label ELSE e.label END,
  props = jsonb_strip_nulls(e.props::jsonb || EXCLUDED.props::jsonb)::text,
  first_seen = LEAST(e.first_seen, EXCLUDED.first_seen),
  last_seen = GREATEST(e.last_seen, EXCLUDED.last_seen)"""


class PgStore(Store):
    """:class:`core.store.Store` on a PostgreSQL :class:`~centre.db.Database`."""

    #: Audit entries appended while a transaction is open join it (see centre.audit), so an
    #: operation and its audit line commit together: ops writes them in the transaction.
    audit_in_transaction = True

    def __init__(self, db: Database) -> None:  # noqa: D107 - no SQLite file here
        from core.security import redact

        self.db = db
        self.path = redact(db.url)  # the key under which in-process event buses are shared
        db.ensure_schema(_DDL)
        self.connection.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
            (str(SCHEMA_VERSION),))

    @property
    def connection(self) -> Connection:  # type: ignore[override]
        return self.db.connection

    def transaction(self) -> Any:  # type: ignore[override]
        """The writers' transaction (SQLite's BEGIN IMMEDIATE; see centre.db)."""
        return self.db.transaction(serialised=True)

    def ensure_schema(self, ddl: str) -> None:
        """Create an engine's tables (SQLite DDL, translated) if missing."""
        self.db.ensure_schema(ddl)

    def close(self) -> None:
        self.db.close()

    def upsert_batch(self, records: Sequence[Record], checkpoint: Checkpoint | None = None) -> None:
        rec_rows, re_rows, link_rows = [], [], []
        ents: dict[str, list[Any]] = {}
        for r in records:
            t = _epoch(r.time)
            lat, lon = r.geo if r.geo else (None, None)
            rec_rows.append((r.uid, r.source, r.id, r.type, t, lat, lon, _json(dict(r.text)),
                             _json(dict(r.fields)), _json(dict(r.attachments)), r.origin))
            for e in r.entities:
                seen = ents.get(e.id)
                if seen is None:
                    ents[e.id] = [e.id, e.type, e.key, e.label, dict(e.props), t, t]
                else:
                    if e.label:
                        seen[3] = e.label
                    _merge_patch(seen[4], e.props)
                    seen[5], seen[6] = _earliest(seen[5], t), _latest(seen[6], t)
                re_rows.append((r.uid, e.id))
            for link in r.links:
                lt = _epoch(link.time) if link.time else t
                link_rows.append((link.link_id(r.uid), link.type, link.source, link.target, lt,
                                  r.uid, _json(dict(link.props))))
        # Sorted keys: two ingest jobs upserting the same entities lock them in one order
        # (no deadlock).
        ent_rows = sorted((eid, et, key, label, _json(props), first, last)
                          for eid, et, key, label, props, first, last in ents.values())
        rec_rows.sort(key=lambda row: row[0])
        with self.db.transaction(serialised=False) as con:
            con.executemany(
                """INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(uid) DO UPDATE SET type=EXCLUDED.type, time=EXCLUDED.time,
                   lat=EXCLUDED.lat, lon=EXCLUDED.lon, text=EXCLUDED.text,
                   fields=EXCLUDED.fields, attachments=EXCLUDED.attachments,
                   origin=EXCLUDED.origin""", rec_rows)
            con.executemany(_ENTITY_UPSERT, ent_rows)
            con.executemany("INSERT OR IGNORE INTO record_entities VALUES (?,?)", sorted(re_rows))
            con.executemany("INSERT OR IGNORE INTO links VALUES (?,?,?,?,?,?,?)",
                            sorted(link_rows))
            if checkpoint is not None:
                self._write_checkpoint(con, checkpoint)  # type: ignore[arg-type]

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.db.transaction(serialised=False) as con:
            self._write_checkpoint(con, checkpoint)  # type: ignore[arg-type]
