"""Copy the entities and links of a store (SQLite or PostgreSQL) into the Elasticsearch graph.

Resumable: entities go in id order and links in rowid order, and after each acknowledged batch
the position is written to the store's ``meta`` table (``graph_es_migration:<prefix>``). A
migration stopped by a cancel, a crash or a lost node starts again after the last acknowledged
batch; a batch sent twice is harmless (documents carry their rows' own ids).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.progress import CancelToken, ProgressCallback, ProgressMeter
from core.store import Store

if TYPE_CHECKING:
    from search.es_links import EsLinkIndex

log = logging.getLogger(__name__)


@dataclass
class MigrationReport:
    """What one run copied, where it stands, and whether it finished."""

    entities: int = 0
    links: int = 0
    total_entities: int = 0
    total_links: int = 0
    complete: bool = False
    cancelled: bool = False
    restarted: bool = False  # copied from the start (asked, or the store was marked stale)
    stale: str = ""  # why the store was marked stale, if it was
    target: str = ""  # the indices' prefix and cluster, as shown

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _key(index: EsLinkIndex) -> str:
    return f"graph_es_migration:{index.prefix}"


def position(store: Store, index: EsLinkIndex) -> dict[str, Any]:
    """The saved position: ``{"entity": last id copied, "link": last rowid copied}``."""
    row = store.connection.execute("SELECT value FROM meta WHERE key=?", (_key(index),)).fetchone()
    return json.loads(row[0]) if row else {"entity": "", "link": -1, "done": False}


def _save(store: Store, index: EsLinkIndex, pos: dict[str, Any]) -> None:
    with store.transaction() as con:
        con.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (_key(index), json.dumps(pos)),
        )


def migrate(
    store: Store,
    index: EsLinkIndex,
    *,
    batch: int = 20_000,
    threads: int = 2,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    restart: bool = False,
) -> MigrationReport:
    """Copy ``store``'s entities and links into ``index`` from the saved position.

    Parameters
    ----------
    batch:
        Rows per acknowledged step (the most a crash makes the next run send again).
    threads:
        Parallel bulk connections.
    progress, cancel:
        Progress over entities + links; a cancel stops after the batch in flight, with the
        position saved.
    restart:
        Forget the saved position and copy everything again.

    A run after a finished one sends every entity again and the links added since.
    """
    index.ensure()
    con = store.connection
    pos = {"entity": "", "link": -1, "done": False} if restart else position(store, index)
    if pos.get("done"):
        # a run after a finished one: the links added since are after the saved rowid, but
        # entities are keyed by id (a new one may sort before the last copied) and change as
        # records arrive (labels, first/last seen), so every entity is sent again
        pos = {"entity": "", "link": pos["link"], "done": False}
    report = MigrationReport(
        total_entities=int(con.execute("SELECT count(*) FROM entities").fetchone()[0]),
        total_links=int(con.execute("SELECT count(*) FROM links").fetchone()[0]),
    )
    done_e = (
        int(
            con.execute("SELECT count(*) FROM entities WHERE id <= ?", (pos["entity"],)).fetchone()[
                0
            ]
        )
        if pos["entity"]
        else 0
    )
    done_l = int(
        con.execute("SELECT count(*) FROM links WHERE rowid <= ?", (pos["link"],)).fetchone()[0]
    )
    meter = ProgressMeter(progress, report.total_entities + report.total_links)
    meter.advance(done_e + done_l, "resuming" if done_e + done_l else "starting", force=True)
    while True:
        if cancel is not None and cancel.cancelled:
            report.cancelled = True
            return report
        rows = con.execute(
            "SELECT id, type, key, label, props, first_seen, last_seen "
            "FROM entities WHERE id > ? ORDER BY id LIMIT ?",
            (pos["entity"], batch),
        ).fetchall()
        if not rows:
            break
        index.write(rows, (), threads=threads)
        pos["entity"] = rows[-1][0]
        _save(store, index, pos)
        report.entities += len(rows)
        meter.advance(len(rows), "entities")
    while True:
        if cancel is not None and cancel.cancelled:
            report.cancelled = True
            return report
        rows = con.execute(
            "SELECT rowid, id, type, source, target, time, record_uid "
            "FROM links WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (pos["link"], batch),
        ).fetchall()
        if not rows:
            break
        index.write((), (r[1:] for r in rows), threads=threads)
        pos["link"] = int(rows[-1][0])
        _save(store, index, pos)
        report.links += len(rows)
        meter.advance(len(rows), "links")
    index.refresh()
    pos["done"] = True
    _save(store, index, pos)
    report.complete = True
    meter.advance(0, "done", force=True)
    log.info(
        "graph migration to %s: %d entities, %d links copied",
        index.prefix,
        report.entities,
        report.links,
    )
    return report
