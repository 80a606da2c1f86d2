"""On-demand graphs from the store: neighbourhoods and paths found with SQL, never the whole DB.

Expansion walks the ``links`` table breadth-first through its ``source`` / ``target`` indexes,
stops adding entities at ``max_nodes`` (and says so with ``truncated``), then fetches every link
among the entities it kept, aggregated into one :class:`~graph.model.GraphEdge` per pair and
link type. Accepted merges (:mod:`graph.resolution`) are applied on the fly.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from core.progress import CancelToken
from core.schema import default_schema
from core.store import Store
from graph.errors import EntityNotFoundError, NoPathError
from graph.model import GraphEdge, GraphNode, GraphResult
from graph.resolution import AliasMap

log = logging.getLogger(__name__)

_CHUNK = 400  # ids per IN (...) list
_TEMP = "graph_expand_nodes"

LinkTuple = tuple[int, str, str, str, float | None, str]  # rowid, type, source, target, time, uid


class _Filter:
    """The SQL tail shared by every links query: link types and the time window."""

    def __init__(self, link_types: Iterable[str] | None, start: datetime | None,
                 end: datetime | None) -> None:
        self.sql = ""
        self.args: list[Any] = []
        types = list(link_types) if link_types else []
        if types:
            self.sql += f" AND type IN ({','.join('?' * len(types))})"
            self.args += types
        if start is not None:
            self.sql += " AND time >= ?"
            self.args.append(start.timestamp())
        if end is not None:
            self.sql += " AND time <= ?"
            self.args.append(end.timestamp())


def _links_of(store: Store, ids: Sequence[str], flt: _Filter, other_in_temp: bool = False,
              columns: tuple[str, ...] = ("source", "target")) -> Iterator[LinkTuple]:
    """Links with an end (in ``columns``) in ``ids`` and, if asked, the other end in the temp
    node table."""
    con = store.connection
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i:i + _CHUNK])
        marks = ",".join("?" * len(chunk))
        for column in columns:
            other = "target" if column == "source" else "source"
            sql = (f"SELECT rowid, type, source, target, time, record_uid FROM links "
                   f"WHERE {column} IN ({marks})")
            if other_in_temp:
                # "+" keeps the planner on the id list: with a big temp table it would
                # otherwise walk the whole table and probe the other index for each row
                sql += f" AND +{other} IN (SELECT id FROM temp.{_TEMP})"
            yield from con.execute(sql + flt.sql, [*chunk, *flt.args])


def _check_seeds(store: Store, seeds: Iterable[str], aliases: AliasMap) -> list[str]:
    out = []
    for s in seeds:
        if store.get_entity(s) is None:
            raise EntityNotFoundError(f"no entity {s!r} in the store")
        out.append(aliases.canonical(s))
    return list(dict.fromkeys(out))


def expand(
    store: Store,
    seeds: Iterable[str],
    *,
    depth: int = 1,
    link_types: Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_nodes: int = 500,
    aliases: AliasMap | None = None,
    cancel: CancelToken | None = None,
) -> GraphResult:
    """The neighbourhood of ``seeds`` to ``depth`` hops, as nodes and aggregated edges.

    Parameters
    ----------
    store:
        The store to read (only the links near the seeds are read).
    seeds:
        Entity ids (see :func:`graph.entities.resolve_entity` for raw identifiers).
    depth:
        Hops from the seeds (0 gives the seeds alone).
    link_types, start, end:
        Only links of these types, observed in [start, end] (links without a time are left out
        when a window is given).
    max_nodes:
        Stop adding entities at this many; ``result.truncated`` is then True.
    aliases:
        Accepted merges to apply (default: loaded from the store).
    cancel:
        Checked between hops; a cancelled expansion returns what it has, marked truncated.
    """
    aliases = aliases if aliases is not None else AliasMap.load(store)
    flt = _Filter(link_types, start, end)
    seed_ids = _check_seeds(store, seeds, aliases)
    depth_of: dict[str, int] = {s: 0 for s in seed_ids}
    rows: dict[int, LinkTuple] = {}
    expanded: set[str] = set()  # entities all of whose links have been read
    frontier = list(seed_ids)
    truncated = False
    for level in range(depth):
        if not frontier or truncated:
            break
        if cancel is not None and cancel.cancelled:
            truncated = True
            break
        nxt: list[str] = []
        members = [m for c in frontier for m in aliases.members(c)]
        canonical = aliases.canonical if aliases else None
        for row in _links_of(store, members, flt):
            rows[row[0]] = row
            for end_id in (row[2], row[3]):
                other = canonical(end_id) if canonical else end_id
                if other in depth_of:
                    continue
                if len(depth_of) >= max_nodes:
                    truncated = True
                    break
                depth_of[other] = level + 1
                nxt.append(other)
            if truncated:
                break
        if not truncated:
            expanded.update(frontier)
        frontier = nxt
    # Links touching an expanded entity were all read above; the only ones missing are those
    # between two entities that were not expanded (the outermost ring, or a cut-off level).
    outer = [m for c in depth_of if c not in expanded for m in aliases.members(c)]
    for row in _between(store, outer, flt):
        rows[row[0]] = row
    if aliases:
        kept = [r for r in rows.values()
                if aliases.canonical(r[2]) in depth_of and aliases.canonical(r[3]) in depth_of]
    else:
        kept = [r for r in rows.values() if r[2] in depth_of and r[3] in depth_of]
    result = GraphResult(nodes=_load_nodes(store, list(depth_of), aliases),
                         edges=aggregate(kept, aliases))
    for nid, n in result.nodes.items():
        n.depth = depth_of.get(nid)
    result.seeds = tuple(seed_ids)
    result.truncated = truncated
    return result


def _between(store: Store, members: Sequence[str], flt: _Filter,
             others: Sequence[str] | None = None) -> list[LinkTuple]:
    """Links whose two ends are both in ``members`` (found from the source side only), or,
    with ``others``, links between ``members`` and ``others`` (either direction)."""
    if not members:
        return []
    con = store.connection
    # temp tables in memory: by default SQLite may spill them to a file, which costs tens of
    # milliseconds per expansion
    con.execute("PRAGMA temp_store=MEMORY")
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_TEMP} (id TEXT PRIMARY KEY)")
    con.execute(f"DELETE FROM temp.{_TEMP}")
    con.executemany(f"INSERT OR IGNORE INTO temp.{_TEMP} VALUES (?)",
                    ((m,) for m in (members if others is None else others)))
    columns = ("source",) if others is None else ("source", "target")
    try:
        return list(_links_of(store, members, flt, other_in_temp=True, columns=columns))
    finally:
        con.execute(f"DELETE FROM temp.{_TEMP}")


def grow(
    store: Store,
    graph: GraphResult,
    node_ids: Iterable[str],
    *,
    depth: int = 1,
    link_types: Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_nodes: int = 500,
    aliases: AliasMap | None = None,
    cancel: CancelToken | None = None,
) -> GraphResult:
    """``graph`` plus the neighbourhood of ``node_ids`` — the console's "expand this node".

    The new entities come with their links to every entity already in ``graph``, not only to
    the ones expanded, so the grown graph is what :func:`induced_graph` would give for all of
    them. Use the filters ``graph`` was built with. ``max_nodes`` caps the new entities;
    ``truncated`` reports on this growth. ``graph`` itself is not modified.
    """
    aliases = aliases if aliases is not None else AliasMap.load(store)
    new = expand(store, node_ids, depth=depth, link_types=link_types, start=start, end=end,
                 max_nodes=max_nodes, aliases=aliases, cancel=cancel)
    added = [n for n in new.nodes if n not in graph.nodes]
    edges = {e.key: e for e in graph.edges}
    edges.update((e.key, e) for e in new.edges)
    if added:
        flt = _Filter(link_types, start, end)
        added_members = [m for c in added for m in aliases.members(c)]
        known = [m for c in graph.nodes for m in aliases.members(c)]
        cross = _between(store, added_members, flt, others=known)
        edges.update((e.key, e) for e in aggregate(cross, aliases))
    nodes = dict(graph.nodes)
    for nid in added:
        nodes[nid] = new.nodes[nid]
    return GraphResult(nodes=nodes, edges=sorted(edges.values(), key=lambda e: e.key),
                       seeds=graph.seeds, truncated=new.truncated)


def induced_graph(
    store: Store,
    node_ids: Iterable[str],
    *,
    link_types: Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    aliases: AliasMap | None = None,
) -> GraphResult:
    """Every (filtered) link among ``node_ids``, aggregated, with the nodes' entity data."""
    aliases = aliases if aliases is not None else AliasMap.load(store)
    flt = _Filter(link_types, start, end)
    canon = list(dict.fromkeys(aliases.canonical(n) for n in node_ids))
    members = [m for c in canon for m in aliases.members(c)]
    rows = {r[0]: r for r in _between(store, members, flt)}
    result = GraphResult(nodes=_load_nodes(store, canon, aliases))
    result.edges = aggregate(rows.values(), aliases)
    return result


def aggregate(rows: Iterable[LinkTuple], aliases: AliasMap | None = None) -> list[GraphEdge]:
    """One edge per (source, target, link type) after merges; undirected types sorted by id."""
    links = default_schema().links
    directed = {name: lt.directed for name, lt in links.items()}
    evidence: dict[tuple[str, str, str], list[tuple[float | None, str]]] = {}
    names: dict[str, str] = {}  # one string object per entity id, not one per link
    for _rowid, ltype, s, d, t, uid in rows:
        if aliases:
            s, d = aliases.canonical(s), aliases.canonical(d)
        s, d = names.setdefault(s, s), names.setdefault(d, d)
        if s == d:
            continue  # a link inside one merged entity (e.g. "same_as") is not an edge
        if not directed.get(ltype, True) and d < s:
            s, d = d, s
        key = (s, d, ltype)
        found = evidence.get(key)
        if found is None:
            evidence[key] = [(t, uid)]
        else:
            found.append((t, uid))
    out = []
    for (s, d, ltype), ev in sorted(evidence.items()):
        if len(ev) > 1:
            ev.sort(key=lambda p: (p[0] is None, p[0] or 0.0, p[1]))
        out.append(GraphEdge(s, d, ltype, len(ev), [t for t, _ in ev if t is not None],
                             [u for _, u in ev], directed.get(ltype, True)))
    return out


def _load_nodes(store: Store, canon: Sequence[str], aliases: AliasMap) -> dict[str, GraphNode]:
    con = store.connection
    rows: dict[str, tuple[Any, ...]] = {}
    members = [m for c in canon for m in aliases.members(c)] if aliases else list(canon)
    for i in range(0, len(members), _CHUNK):
        chunk = members[i:i + _CHUNK]
        sql = (f"SELECT id, type, key, label, props FROM entities "
               f"WHERE id IN ({','.join('?' * len(chunk))})")
        for r in con.execute(sql, chunk):
            rows[r[0]] = r
    nodes = {}
    for c in canon:
        props: dict[str, Any] = {}
        for m in reversed(aliases.members(c)) if aliases else (c,):  # canonical props win
            if m in rows and rows[m][4] != "{}":
                props.update(json.loads(rows[m][4]))
        row = rows.get(c)
        etype, key, label = (row[1], row[2], row[3]) if row else (c.split(":", 1)[0], c, "")
        nodes[c] = GraphNode(c, etype, label or key, props,
                             tuple(aliases.aliases(c)) if aliases else ())
    return nodes


def find_path(
    store: Store,
    source: str,
    target: str,
    *,
    max_hops: int = 6,
    link_types: Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_visited: int = 200_000,
    aliases: AliasMap | None = None,
    cancel: CancelToken | None = None,
) -> GraphResult:
    """A shortest path between two entities, by bidirectional breadth-first search in SQL.

    Returns the path as a graph (its nodes in order in ``result.seeds``, its edges with their
    evidence). Raises :class:`~graph.errors.NoPathError` when none exists within ``max_hops`` or the
    search visited ``max_visited`` entities without meeting.
    """
    aliases = aliases if aliases is not None else AliasMap.load(store)
    flt = _Filter(link_types, start, end)
    a, b = _check_seeds(store, [source], aliases)[0], _check_seeds(store, [target], aliases)[0]
    if a == b:
        return GraphResult(nodes=_load_nodes(store, [a], aliases), seeds=(a,))
    parents: tuple[dict[str, str | None], dict[str, str | None]] = ({a: None}, {b: None})
    dist: tuple[dict[str, int], dict[str, int]] = ({a: 0}, {b: 0})
    frontiers = ([a], [b])
    meet = None
    hops = 0
    while meet is None and hops < max_hops and frontiers[0] and frontiers[1]:
        if cancel is not None and cancel.cancelled:
            break
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        mine, theirs = parents[side], parents[1 - side]
        my_dist, their_dist = dist[side], dist[1 - side]
        nxt: list[str] = []
        members = [m for c in frontiers[side] for m in aliases.members(c)]
        current = set(frontiers[side])
        best = max_hops + 1
        # the whole layer is scanned: the first meeting found is not always the shortest
        for _lid, _t, s, d, _time, _uid in _links_of(store, members, flt):
            cs, cd = aliases.canonical(s), aliases.canonical(d)
            for here, other in ((cs, cd), (cd, cs)):
                if here in current and other not in mine:
                    mine[other] = here
                    my_dist[other] = my_dist[here] + 1
                    nxt.append(other)
                    if other in theirs and my_dist[other] + their_dist[other] < best:
                        best = my_dist[other] + their_dist[other]
                        meet = other
        frontiers = (nxt, frontiers[1]) if side == 0 else (frontiers[0], nxt)
        hops += 1
        if len(parents[0]) + len(parents[1]) > max_visited:
            break
    if meet is None:
        raise NoPathError(f"no path between {source!r} and {target!r} within {max_hops} hops"
                     + (f" (search stopped after {max_visited:,} entities)"
                        if len(parents[0]) + len(parents[1]) > max_visited else ""))
    left: list[str] = []
    node: str | None = meet
    while node is not None:
        left.append(node)
        node = parents[0][node]
    right: list[str] = []
    node = parents[1][meet]
    while node is not None:
        right.append(node)
        node = parents[1][node]
    path = list(reversed(left)) + right
    result = induced_graph(store, path, link_types=link_types, start=start, end=end,
                           aliases=aliases)
    on_path = {frozenset(p) for p in itertools.pairwise(path)}
    result.edges = [e for e in result.edges if frozenset((e.source, e.target)) in on_path]
    result.seeds = tuple(path)
    return result
