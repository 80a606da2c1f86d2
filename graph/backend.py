"""Where the graph's entities and links are read from: SQL (SQLite or PostgreSQL) or Elasticsearch.

Every graph operation (:mod:`graph.expand`, :mod:`graph.cooccur`, :mod:`graph.timeline`) runs
over a :class:`GraphStore`: a handful of reads — links by one end, links among a set, entity
rows, link counts, reads near a (device, time) — that each engine answers its own way. The
algorithms are shared, so an expansion, a path or a co-occurrence is the same on one machine
and on the cluster (``tests/test_graph_conformance.py`` holds both to it).

Accepted merges and the records themselves stay in the relational store in both cases: merges
are small read-modify-write rows, and records are searched through :mod:`search`.

A workspace picks the engine in ``superbrain.toml``::

    [graph]
    backend = "elasticsearch"        # default "embedded": the workspace's own store
    index_prefix = "superbrain-graph"  # the cluster URL and credentials come from [search]
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from graph.errors import GraphError
from graph.resolution import AliasMap

if TYPE_CHECKING:
    from core.store import Store
    from search.es_links import EsLinkIndex

#: ``(handle, type, source, target, time, record_uid)``; the handle is unique per link
#: (SQLite's rowid, Elasticsearch's document id) and only used to drop duplicates.
LinkTuple = tuple[Any, str, str, str, "float | None", str]
_CHUNK = 400  # ids per SQL IN (...) list
_TEMP = "graph_expand_nodes"


@dataclass(frozen=True)
class LinkFilter:
    """Link types and the time window (epoch seconds) every link read applies."""

    types: tuple[str, ...] = ()
    start: float | None = None
    end: float | None = None

    @classmethod
    def of(
        cls, link_types: Iterable[str] | None, start: datetime | None, end: datetime | None
    ) -> LinkFilter:
        return cls(
            tuple(link_types) if link_types else (),
            start.timestamp() if start is not None else None,
            end.timestamp() if end is not None else None,
        )

    def sql(self) -> tuple[str, list[Any]]:
        """The SQL tail (``AND …``) and its arguments."""
        sql, args = "", list[Any]()
        if self.types:
            sql += f" AND type IN ({','.join('?' * len(self.types))})"
            args += list(self.types)
        if self.start is not None:
            sql += " AND time >= ?"
            args.append(self.start)
        if self.end is not None:
            sql += " AND time <= ?"
            args.append(self.end)
        return sql, args


@runtime_checkable
class GraphStore(Protocol):
    """The reads the graph operations need; see :class:`SqlGraphStore` for each one's meaning."""

    name: str
    #: reads may run on other threads at once (:meth:`load_in_background` starts them)
    concurrent: bool

    def get_entity(self, entity_id: str) -> Any | None: ...
    def aliases(self) -> AliasMap: ...
    def entity_rows(self, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]: ...
    def links_of(
        self, ids: Sequence[str], flt: LinkFilter, columns: tuple[str, ...] = ("source", "target")
    ) -> Iterator[LinkTuple]: ...
    def links_between(
        self, members: Sequence[str], flt: LinkFilter, others: Sequence[str] | None = None
    ) -> list[LinkTuple]: ...
    def link_counts(self, ids: Sequence[str], flt: LinkFilter) -> dict[str, int]: ...
    def links_and_counts(
        self, ids: Sequence[str], flt: LinkFilter, limit: int
    ) -> tuple[dict[str, int], list[LinkTuple] | None]: ...
    def load_in_background(self, fn: Callable[[], Any]) -> Callable[[], Any]: ...
    def links_near(
        self, probes: Sequence[tuple[str, float]], window: float, link_type: str
    ) -> Iterator[LinkTuple]: ...
    def scan_type(
        self, link_type: str, start: float | None, end: float | None
    ) -> Iterator[LinkTuple]: ...
    def records_store(self) -> Store: ...


class SqlGraphStore:
    """The graph reads over a :class:`core.store.Store` (SQLite, or PostgreSQL in a centre)."""

    name = "embedded"
    concurrent = False  # one connection, used by one thread

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_entity(self, entity_id: str) -> Any | None:
        """The entity (truthy) or None when the store has no such id."""
        return self.store.get_entity(entity_id)

    def aliases(self) -> AliasMap:
        """The active merges."""
        return AliasMap.load(self.store)

    def records_store(self) -> Store:
        """The store holding records, record↔entity rows and merges."""
        return self.store

    def entity_rows(self, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        """``id -> (id, type, key, label, props_json)`` for the ids that exist."""
        con = self.store.connection
        rows: dict[str, tuple[Any, ...]] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = list(ids[i : i + _CHUNK])
            sql = (
                f"SELECT id, type, key, label, props FROM entities "
                f"WHERE id IN ({','.join('?' * len(chunk))})"
            )
            for r in con.execute(sql, chunk):
                rows[r[0]] = tuple(r)
        return rows

    def links_of(
        self,
        ids: Sequence[str],
        flt: LinkFilter,
        columns: tuple[str, ...] = ("source", "target"),
        other_in_temp: bool = False,
    ) -> Iterator[LinkTuple]:
        """Links with an end (in ``columns``) in ``ids`` (and, if asked, the other end in the
        temp node table)."""
        con = self.store.connection
        tail, targs = flt.sql()
        for i in range(0, len(ids), _CHUNK):
            chunk = list(ids[i : i + _CHUNK])
            marks = ",".join("?" * len(chunk))
            for column in columns:
                other = "target" if column == "source" else "source"
                sql = (
                    f"SELECT rowid, type, source, target, time, record_uid FROM links "
                    f"WHERE {column} IN ({marks})"
                )
                if other_in_temp:
                    # "+" keeps the planner on the id list: with a big temp table it would
                    # otherwise walk the whole table and probe the other index for each row
                    sql += f" AND +{other} IN (SELECT id FROM temp.{_TEMP})"
                yield from con.execute(sql + tail, [*chunk, *targs])

    def links_between(
        self, members: Sequence[str], flt: LinkFilter, others: Sequence[str] | None = None
    ) -> list[LinkTuple]:
        """Links whose two ends are both in ``members`` (found from the source side only), or,
        with ``others``, links between ``members`` and ``others`` (either direction)."""
        if not members:
            return []
        con = self.store.connection
        # temp tables in memory: by default SQLite may spill them to a file, which costs tens
        # of milliseconds per expansion
        con.execute("PRAGMA temp_store=MEMORY")
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_TEMP} (id TEXT PRIMARY KEY)")
        con.execute(f"DELETE FROM temp.{_TEMP}")
        con.executemany(
            f"INSERT OR IGNORE INTO temp.{_TEMP} VALUES (?)",
            ((m,) for m in (members if others is None else others)),
        )
        columns = ("source",) if others is None else ("source", "target")
        try:
            return list(self.links_of(members, flt, columns, other_in_temp=True))
        finally:
            con.execute(f"DELETE FROM temp.{_TEMP}")

    def link_counts(self, ids: Sequence[str], flt: LinkFilter) -> dict[str, int]:
        """How many (filtered) links each of ``ids`` has, at either end."""
        out: dict[str, int] = {}
        con = self.store.connection
        tail, targs = flt.sql()
        for i in range(0, len(ids), _CHUNK):
            chunk = list(ids[i : i + _CHUNK])
            marks = ",".join("?" * len(chunk))
            for column in ("source", "target"):
                for eid, n in con.execute(
                    f"SELECT {column}, count(*) FROM links WHERE {column} IN ({marks})"
                    f"{tail} GROUP BY {column}",
                    [*chunk, *targs],
                ):
                    out[eid] = out.get(eid, 0) + int(n)
        return out

    def links_and_counts(
        self, ids: Sequence[str], flt: LinkFilter, limit: int
    ) -> tuple[dict[str, int], list[LinkTuple] | None]:
        """:meth:`link_counts`, and ``None`` for the links: on one machine reading them lazily
        (an expansion stops at its node cap) costs less than reading them all up front."""
        return self.link_counts(ids, flt), None

    def load_in_background(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Run ``fn`` now (one connection, one thread); returns what gives its result."""
        result = fn()
        return lambda: result

    def links_near(
        self, probes: Sequence[tuple[str, float]], window: float, link_type: str
    ) -> Iterator[LinkTuple]:
        """For each ``(target, time)``, the ``link_type`` links to that target within
        ±``window`` seconds."""
        con = self.store.connection
        for device, t in probes:
            yield from con.execute(
                "SELECT rowid, type, source, target, time, record_uid FROM links "
                "WHERE target=? AND time BETWEEN ? AND ? AND type=?",
                (device, t - window, t + window, link_type),
            )

    def record_uid(self, rowid: int) -> str:
        """The evidence record of the link with this rowid ("" if it is gone)."""
        row = self.store.connection.execute(
            "SELECT record_uid FROM links WHERE rowid=?", (rowid,)
        ).fetchone()
        return row[0] if row else ""

    def scan_type(
        self, link_type: str, start: float | None, end: float | None
    ) -> Iterator[LinkTuple]:
        """Every ``link_type`` link with a time, in the window."""
        sql = (
            "SELECT rowid, type, source, target, time, record_uid FROM links "
            "WHERE type=? AND time IS NOT NULL"
        )
        args: list[Any] = [link_type]
        if start is not None:
            sql += " AND time >= ?"
            args.append(start)
        if end is not None:
            sql += " AND time <= ?"
            args.append(end)
        yield from self.store.connection.execute(sql, args)


class EsGraphStore:
    """The graph reads over Elasticsearch (:class:`search.es_links.EsLinkIndex`).

    ``store`` is the relational store that keeps merges and records (the workspace's own, or
    the centre's PostgreSQL); without one no merges apply.
    """

    name = "elasticsearch"
    concurrent = True

    def __init__(self, index: EsLinkIndex, store: Store | None = None) -> None:
        self.index = index
        self.store = store

    def get_entity(self, entity_id: str) -> Any | None:
        row = self.index.entity_rows([entity_id]).get(entity_id)
        return row if row is not None else None

    def aliases(self) -> AliasMap:
        return AliasMap.load(self.store) if self.store is not None else AliasMap()

    def records_store(self) -> Store:
        if self.store is None:
            raise GraphError(
                "this Elasticsearch graph store has no record store attached "
                "(records and merges live in the workspace's store)"
            )
        return self.store

    def entity_rows(self, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        return self.index.entity_rows(list(ids))

    def links_of(
        self, ids: Sequence[str], flt: LinkFilter, columns: tuple[str, ...] = ("source", "target")
    ) -> Iterator[LinkTuple]:
        if set(columns) == {"source", "target"}:  # one query, each link once
            yield from self.index.links_touching(list(ids), flt.types, flt.start, flt.end)
            return
        for column in columns:
            yield from self.index.links_of(list(ids), column, flt.types, flt.start, flt.end)

    def links_between(
        self, members: Sequence[str], flt: LinkFilter, others: Sequence[str] | None = None
    ) -> list[LinkTuple]:
        if not members:
            return []
        ids = list(members)
        if others is None:
            return list(
                self.index.links_of(ids, "source", flt.types, flt.start, flt.end, other_in=ids)
            )
        out: list[Any] = []
        for column in ("source", "target"):
            out += self.index.links_of(
                ids, column, flt.types, flt.start, flt.end, other_in=list(others)
            )
        return out

    def link_counts(self, ids: Sequence[str], flt: LinkFilter) -> dict[str, int]:
        return self.index.link_counts(list(ids), flt.types, flt.start, flt.end)

    def links_and_counts(
        self, ids: Sequence[str], flt: LinkFilter, limit: int
    ) -> tuple[dict[str, int], list[LinkTuple] | None]:
        """Counts and, when there are at most ``limit``, the links themselves: one round trip
        to the cluster per hop instead of two."""
        return self.index.links_and_counts(list(ids), limit, flt.types, flt.start, flt.end)

    def load_in_background(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Start ``fn`` (a read) on another connection; returns what waits for its result."""
        return self.index.submit(fn).result

    def links_near(
        self, probes: Sequence[tuple[str, float]], window: float, link_type: str
    ) -> Iterator[LinkTuple]:
        return self.index.links_near(list(probes), window, link_type)

    def scan_type(
        self, link_type: str, start: float | None, end: float | None
    ) -> Iterator[LinkTuple]:
        return self.index.scan_type(link_type, start, end)


def graph_store(source: Store | GraphStore) -> GraphStore:
    """``source`` as a :class:`GraphStore` (a plain store is read through SQL)."""
    if isinstance(source, GraphStore):
        return source
    return SqlGraphStore(source)


def entity_props(rows: dict[str, tuple[Any, ...]], ids: Iterable[str]) -> dict[str, Any]:
    """The merged props of ``ids`` from entity rows (later ids win)."""
    props: dict[str, Any] = {}
    for m in ids:
        if m in rows and rows[m][4] not in ("{}", "", None):
            props.update(json.loads(rows[m][4]))
    return props


#: The fan-out cap an expansion gets when its caller gives none: none on one machine, this on a
#: cluster (``[graph] max_fanout``; 0 turns it off), where a hub's links are thousands of
#: documents to fetch (docs/SCALING.md).
CLUSTER_MAX_FANOUT = 1000


def default_fanout(workspace: Any) -> int | None:
    """The workspace's default fan-out cap (``[graph] max_fanout``), or None."""
    cfg = workspace.config.get("graph", {}) or {}
    cluster = str(cfg.get("backend", "embedded")) == "elasticsearch"
    value = cfg.get("max_fanout", CLUSTER_MAX_FANOUT if cluster else 0)
    try:
        cap = int(value)
    except (TypeError, ValueError):
        raise GraphError(
            f"[graph] max_fanout = {value!r}: expected a whole number of links (0: no cap)"
        ) from None
    return cap if cap > 0 else None


_CACHE: weakref.WeakKeyDictionary[Any, GraphStore] = weakref.WeakKeyDictionary()


def cluster_index(workspace: Any) -> EsLinkIndex:
    """The workspace's graph indices on its cluster (``[graph] index_prefix`` on ``[search]``'s
    URL and credentials, or ``[graph] url``), whatever ``[graph] backend`` says: a migration
    fills them before the workspace switches over."""
    from search.es_links import EsLinkIndex, config_client

    cfg = workspace.config.get("graph", {}) or {}
    sc = workspace.search_config
    url = str(cfg.get("url") or sc.url or "")
    if not url:
        raise GraphError(
            "no Elasticsearch URL for the graph: set [search] url (or [graph] url) in "
            "superbrain.toml"
        )
    client, shown = config_client(sc, url)
    prefix = str(cfg.get("index_prefix") or f"{sc.index_prefix}-graph")
    return EsLinkIndex(client, prefix=prefix, url=shown, shards=sc.shards, replicas=sc.replicas)


def for_workspace(workspace: Any) -> GraphStore:
    """The graph store a workspace's ``[graph] backend`` names (one per workspace object)."""
    try:
        found = _CACHE.get(workspace)
    except TypeError:  # not weak-referenceable: no cache
        found = None
    if found is not None:
        return found
    cfg = workspace.config.get("graph", {}) or {}
    backend = str(cfg.get("backend", "embedded"))
    if backend == "embedded":
        made: GraphStore = SqlGraphStore(workspace.store)
    elif backend == "elasticsearch":
        index = cluster_index(workspace)
        made = EsGraphStore(index, workspace.store)
    else:
        raise GraphError(f"[graph] backend = {backend!r}: expected 'embedded' or 'elasticsearch'")
    if backend != "embedded":  # a store wrapper is free; a client is worth keeping
        _CACHE[workspace] = made
    return made
