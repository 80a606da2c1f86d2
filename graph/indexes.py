"""Optional covering indexes that make graph traversal read only index pages.

The store's own ``links_source(source, time)`` / ``links_target(target, time)`` indexes find a
node's links, but every link found then costs a random read of its table row. The two indexes
here carry every column a traversal needs (type, time, the other end, the evidence uid), so
expansion, path search and co-occurrence never touch the table: 3–5× faster on a 5M-link store
(see docs/PERFORMANCE.md) for about 60 % more disk, and slower ingest while they exist. They are
opt-in (``superbrain graph index``) for workspaces whose analysts live in the graph.
"""

from __future__ import annotations

import logging

from core.store import Store

log = logging.getLogger(__name__)

GRAPH_INDEXES = {
    "graph_links_out": "CREATE INDEX IF NOT EXISTS graph_links_out "
    "ON links(source, type, time, target, record_uid)",
    "graph_links_in": "CREATE INDEX IF NOT EXISTS graph_links_in "
    "ON links(target, type, time, source, record_uid)",
}


def graph_indexes(store: Store) -> list[str]:
    """The covering graph indexes present in ``store``."""
    rows = store.connection.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'graph_links_%'"
    )
    return sorted(r[0] for r in rows if r[0] in GRAPH_INDEXES)


def ensure_graph_indexes(store: Store) -> list[str]:
    """Create the covering indexes that are missing (minutes on millions of links); return
    the names created."""
    missing = [n for n in GRAPH_INDEXES if n not in graph_indexes(store)]
    for name in missing:
        log.info("creating index %s", name)
        with store.transaction() as con:
            con.execute(GRAPH_INDEXES[name])
    if missing:
        store.connection.execute("ANALYZE links")
    return missing


def drop_graph_indexes(store: Store) -> list[str]:
    """Remove the covering indexes (e.g. before a large ingest); return the names dropped."""
    present = graph_indexes(store)
    for name in present:
        with store.transaction() as con:
            con.execute(f"DROP INDEX {name}")
    return present
