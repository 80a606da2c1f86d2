"""The ingest stage that keeps the cluster graph in step: each batch's links and entities go to
Elasticsearch when the workspace's ``[graph] backend`` is ``elasticsearch``.

Links are sent as their batch is processed (documents carry the links' own ids: a batch sent
twice after a crash is harmless). Entities are sent a batch later, read back from the store
once it has committed them, so the cluster gets their merged labels, props and first/last
times rather than this batch's fragment. When the cluster fails the ingest goes on (the store
keeps everything); the failure is logged and marked in the store's ``meta`` table
(``graph_es_stale``), and ``graph.migrate.migrate(..., restart=True)`` catches up.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.model import Record

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)

STALE_KEY = "graph_es_stale"


class ClusterGraphStage:
    """Sends each batch's links, and the previous batch's entities, to the cluster graph."""

    name = "graph-cluster"

    def __init__(self, workspace: Workspace, graph: Any) -> None:
        self.ws = workspace
        self.graph = graph  # a graph.backend.EsGraphStore
        self.pending: set[str] = set()
        self.failed: str | None = None
        graph.index.ensure()

    def process(self, records: Sequence[Record]) -> None:
        if self.failed:
            return
        self._send_entities()  # the batch before this one is committed by now
        links = []
        for r in records:
            self.pending.update(e.id for e in r.entities)
            for link in r.links:
                when = link.time or r.time
                links.append(
                    (
                        link.link_id(r.uid),
                        link.type,
                        link.source,
                        link.target,
                        when.timestamp() if when is not None else None,
                        r.uid,
                    )
                )
        self._guard(lambda: self.graph.index.write((), links))

    def finish(self) -> None:
        if not self.failed:
            self._send_entities()
            self._guard(self.graph.index.refresh)

    def _send_entities(self) -> None:
        if not self.pending:
            return
        ids, self.pending = sorted(self.pending), set()
        rows = []
        con = self.ws.store.connection
        for i in range(0, len(ids), 400):
            chunk = ids[i : i + 400]
            rows += con.execute(
                "SELECT id, type, key, label, props, first_seen, last_seen FROM entities "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
        self._guard(lambda: self.graph.index.write(rows, ()))

    def _guard(self, send: Any) -> None:
        from search.errors import SearchError

        try:
            send()
        except SearchError as exc:
            self.failed = str(exc)
            log.error("the cluster graph missed this ingest (the store has it all): %s", exc)
            with self.ws.store.transaction() as con:
                con.execute(
                    "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                    "value=excluded.value",
                    (STALE_KEY, json.dumps({"reason": self.failed[:500], "at": time.time()})),
                )


def stale_reason(store: Any) -> str:
    """Why an ingest last missed the cluster graph ("" when it has not since the last full
    copy): ``superbrain graph migrate`` copies everything again while it is set."""
    row = store.connection.execute("SELECT value FROM meta WHERE key=?", (STALE_KEY,)).fetchone()
    return str(json.loads(row[0]).get("reason", "")) if row else ""


def clear_stale(store: Any) -> None:
    """Forget the mark: a full copy has caught the cluster graph up."""
    with store.transaction() as con:
        con.execute("DELETE FROM meta WHERE key=?", (STALE_KEY,))


def make_stage(workspace: Workspace) -> ClusterGraphStage | None:
    """The stage, when the workspace's graph lives on Elasticsearch."""
    cfg = workspace.config.get("graph", {}) or {}
    if str(cfg.get("backend", "embedded")) != "elasticsearch":
        return None
    from graph.backend import for_workspace

    return ClusterGraphStage(workspace, for_workspace(workspace))
