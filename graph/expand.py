"""On-demand graphs from the store: neighbourhoods and paths by key lookups, never the whole DB.

Expansion walks the links breadth-first by their ``source`` / ``target`` keys (SQL indexes on
one machine, Elasticsearch terms queries on the cluster: see :mod:`graph.backend`), stops adding
entities at ``max_nodes`` (and says so with ``truncated``), then fetches every link among the
entities it kept, aggregated into one :class:`~graph.model.GraphEdge` per pair and link type.
Accepted merges (:mod:`graph.resolution`) are applied on the fly. Each hop's links are taken
in one canonical order, so a capped expansion or a path among equals is the same on every
engine.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from core.gcpause import gc_paused
from core.progress import CancelToken
from core.schema import default_schema
from core.store import Store
from graph.backend import GraphStore, LinkFilter, LinkTuple, entity_props, graph_store
from graph.errors import EntityNotFoundError, NoPathError
from graph.model import GraphEdge, GraphNode, GraphResult
from graph.resolution import AliasMap

log = logging.getLogger(__name__)

Source = Store | GraphStore
HOP_CHUNK = 256  # frontier entities read per step of a hop
#: A capped hop's links are read with its hub counts (one round trip) when the level is so
#: narrow that all of its links number at most this many whatever they are (cap x entities).
FETCH_LIMIT = 2000


def _canonical_order(row: LinkTuple) -> tuple[Any, ...]:
    return (row[2], row[3], row[1], row[4] is not None, row[4] or 0.0, row[5])


def _check_seeds(gs: GraphStore, seeds: Iterable[str], aliases: AliasMap) -> list[str]:
    out = []
    for s in seeds:
        if gs.get_entity(s) is None:
            raise EntityNotFoundError(f"no entity {s!r} in the store")
        out.append(aliases.canonical(s))
    return list(dict.fromkeys(out))


def expand(
    store: Source,
    seeds: Iterable[str],
    *,
    depth: int = 1,
    link_types: Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_nodes: int = 500,
    max_fanout: int | None = None,
    aliases: AliasMap | None = None,
    cancel: CancelToken | None = None,
) -> GraphResult:
    """The neighbourhood of ``seeds`` to ``depth`` hops, as nodes and aggregated edges.

    Parameters
    ----------
    store:
        The store to read (a :class:`core.store.Store` or any :class:`graph.backend.GraphStore`;
        only the links near the seeds are read).
    seeds:
        Entity ids (see :func:`graph.entities.resolve_entity` for raw identifiers).
    depth:
        Hops from the seeds (0 gives the seeds alone).
    link_types, start, end:
        Only links of these types, observed in [start, end] (links without a time are left out
        when a window is given).
    max_nodes:
        Stop adding entities at this many; ``result.truncated`` is then True.
    max_fanout:
        Per-hop fan-out cap: an entity with more (filtered) links than this is a *hub* — it is
        kept and flagged in ``result.hubs`` with its link count, but not expanded through (a
        checkpoint every car passes would otherwise pull in the city). ``None``: no cap.
    aliases:
        Accepted merges to apply (default: loaded from the store).
    cancel:
        Checked between hops; a cancelled expansion returns what it has, marked truncated.
    """
    with gc_paused():  # thousands of row tuples: no full collection in the middle
        return _expand(
            graph_store(store),
            seeds,
            depth=depth,
            link_types=link_types,
            start=start,
            end=end,
            max_nodes=max_nodes,
            max_fanout=max_fanout,
            aliases=aliases,
            cancel=cancel,
        )


def _expand(
    gs: GraphStore,
    seeds: Iterable[str],
    *,
    depth: int,
    link_types: Iterable[str] | None,
    start: datetime | None,
    end: datetime | None,
    max_nodes: int,
    max_fanout: int | None,
    aliases: AliasMap | None,
    cancel: CancelToken | None,
) -> GraphResult:
    aliases = aliases if aliases is not None else gs.aliases()
    flt = LinkFilter.of(link_types, start, end)
    seed_ids = _check_seeds(gs, seeds, aliases)
    depth_of: dict[str, int] = {s: 0 for s in seed_ids}
    rows: dict[Any, LinkTuple] = {}
    expanded: set[str] = set()  # entities all of whose links have been read
    hubs: dict[str, int] = {}
    frontier = list(seed_ids)
    truncated = False
    for level in range(depth):
        if not frontier or truncated:
            break
        if cancel is not None and cancel.cancelled:
            truncated = True
            break
        fetched: list[LinkTuple] | None = None
        if max_fanout is not None:
            frontier, fetched = _drop_hubs(gs, frontier, flt, aliases, max_fanout, hubs)
        nxt: list[str] = []
        canonical = aliases.canonical if aliases else None
        for row in _hop_links(gs, frontier, flt, aliases, fetched):
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
        if fetched is not None:
            # every link of this level was read in one go, the ones past a cut-off too: all
            # of it counts (links to entities not kept are dropped below), so the links among
            # the outer ring are all that is left to read
            rows.update((r[0], r) for r in fetched)
            expanded.update(frontier)
        elif not truncated:
            expanded.update(frontier)
        frontier = nxt
    # Links touching an expanded entity were all read above; the only ones missing are those
    # between two entities that were not expanded (the outermost ring, a cut-off level, hubs).
    # The entities' own rows are read meanwhile where the store can (the cluster).
    nodes = gs.load_in_background(lambda: _load_nodes(gs, list(depth_of), aliases))
    outer = [m for c in depth_of if c not in expanded for m in aliases.members(c)]
    for row in gs.links_between(outer, flt):
        rows[row[0]] = row
    if aliases:
        kept = [
            r
            for r in rows.values()
            if aliases.canonical(r[2]) in depth_of and aliases.canonical(r[3]) in depth_of
        ]
    else:
        kept = [r for r in rows.values() if r[2] in depth_of and r[3] in depth_of]
    result = GraphResult(nodes=nodes(), edges=aggregate(kept, aliases))
    for nid, n in result.nodes.items():
        n.depth = depth_of.get(nid)
    result.seeds = tuple(seed_ids)
    result.truncated = truncated
    result.hubs = hubs
    return result


def _hop_links(
    gs: GraphStore,
    frontier: list[str],
    flt: LinkFilter,
    aliases: AliasMap,
    fetched: list[LinkTuple] | None = None,
) -> Iterator[LinkTuple]:
    """The links of ``frontier``, a chunk of entities (in id order) at a time, each chunk's
    links in canonical order: an expansion that reaches its cap stops reading, and where it
    stops is the same on every engine. ``fetched``: the links of (at least) the frontier,
    already read — taken from there chunk by chunk in the same order."""
    by_member: dict[str, list[LinkTuple]] | None = None
    if fetched is not None:
        by_member = {}
        for row in fetched:
            by_member.setdefault(row[2], []).append(row)
            if row[3] != row[2]:
                by_member.setdefault(row[3], []).append(row)
    ordered = sorted(frontier)
    chunks = [
        [m for c in ordered[i : i + HOP_CHUNK] for m in aliases.members(c)]
        for i in range(0, len(ordered), HOP_CHUNK)
    ]
    ahead: Callable[[], list[LinkTuple]] | None = None
    for i, members in enumerate(chunks):  # the caller stops reading at its cap
        if by_member is not None:
            links: Iterable[LinkTuple] = (r for m in members for r in by_member.get(m, ()))
        elif gs.concurrent:
            # the cluster reads the next chunk while this one is taken: at most one chunk is
            # read for nothing when the cap is reached
            here = ahead() if ahead is not None else list(gs.links_of(members, flt))
            ahead = None
            if i + 1 < len(chunks):
                ahead = gs.load_in_background(functools.partial(_read, gs, chunks[i + 1], flt))
            links = here
        else:
            links = gs.links_of(members, flt)
        seen: set[Any] = set()
        for row in sorted(links, key=_canonical_order):
            if row[0] not in seen:  # a link between two chunk members comes twice
                seen.add(row[0])
                yield row


def _read(gs: GraphStore, members: list[str], flt: LinkFilter) -> list[LinkTuple]:
    return list(gs.links_of(members, flt))


def _drop_hubs(
    gs: GraphStore,
    frontier: list[str],
    flt: LinkFilter,
    aliases: AliasMap,
    cap: int,
    hubs: dict[str, int],
) -> tuple[list[str], list[LinkTuple] | None]:
    """The frontier without its hubs (recorded in ``hubs`` with their link counts), and the
    links of the ones kept when the store read them with the counts (few enough: see
    :meth:`~graph.backend.GraphStore.links_and_counts`), else None."""
    members = [m for c in frontier for m in aliases.members(c)]
    links: list[LinkTuple] | None = None
    if cap * len(members) <= FETCH_LIMIT:  # a few entities (the seeds): read what they have
        counts, links = gs.links_and_counts(members, flt, cap * len(members))
    else:  # a wide level: count first, then read by chunks only as far as the node cap needs
        counts = gs.link_counts(members, flt)
    keep = []
    for c in frontier:
        n = sum(counts.get(m, 0) for m in aliases.members(c))
        if n > cap:
            hubs[c] = n
        else:
            keep.append(c)
    if links is not None and len(keep) < len(frontier):
        kept = {m for c in keep for m in aliases.members(c)}
        links = [r for r in links if r[2] in kept or r[3] in kept]
    return keep, links


def grow(
    store: Source,
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
    gs = graph_store(store)
    aliases = aliases if aliases is not None else gs.aliases()
    new = expand(
        gs,
        node_ids,
        depth=depth,
        link_types=link_types,
        start=start,
        end=end,
        max_nodes=max_nodes,
        aliases=aliases,
        cancel=cancel,
    )
    added = [n for n in new.nodes if n not in graph.nodes]
    edges = {e.key: e for e in graph.edges}
    edges.update((e.key, e) for e in new.edges)
    if added:
        flt = LinkFilter.of(link_types, start, end)
        added_members = [m for c in added for m in aliases.members(c)]
        known = [m for c in graph.nodes for m in aliases.members(c)]
        cross = gs.links_between(added_members, flt, others=known)
        edges.update((e.key, e) for e in aggregate(cross, aliases))
    nodes = dict(graph.nodes)
    for nid in added:
        nodes[nid] = new.nodes[nid]
    return GraphResult(
        nodes=nodes,
        edges=sorted(edges.values(), key=lambda e: e.key),
        seeds=graph.seeds,
        truncated=new.truncated,
    )


def induced_graph(
    store: Source,
    node_ids: Iterable[str],
    *,
    link_types: Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    aliases: AliasMap | None = None,
) -> GraphResult:
    """Every (filtered) link among ``node_ids``, aggregated, with the nodes' entity data."""
    gs = graph_store(store)
    aliases = aliases if aliases is not None else gs.aliases()
    flt = LinkFilter.of(link_types, start, end)
    canon = list(dict.fromkeys(aliases.canonical(n) for n in node_ids))
    members = [m for c in canon for m in aliases.members(c)]
    rows = {r[0]: r for r in gs.links_between(members, flt)}
    result = GraphResult(nodes=_load_nodes(gs, canon, aliases))
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
        out.append(
            GraphEdge(
                s,
                d,
                ltype,
                len(ev),
                [t for t, _ in ev if t is not None],
                [u for _, u in ev],
                directed.get(ltype, True),
            )
        )
    return out


def _load_nodes(gs: GraphStore, canon: Sequence[str], aliases: AliasMap) -> dict[str, GraphNode]:
    members = [m for c in canon for m in aliases.members(c)] if aliases else list(canon)
    rows = gs.entity_rows(members)
    nodes = {}
    for c in canon:
        ids = list(reversed(aliases.members(c))) if aliases else [c]  # canonical props win
        props = entity_props(rows, ids)
        row = rows.get(c)
        etype, key, label = (row[1], row[2], row[3]) if row else (c.split(":", 1)[0], c, "")
        nodes[c] = GraphNode(
            c, etype, label or key, props, tuple(aliases.aliases(c)) if aliases else ()
        )
    return nodes


def find_path(
    store: Source,
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
    """A shortest path between two entities, by bidirectional breadth-first search over the
    store's key lookups (the smaller frontier is expanded first).

    Returns the path as a graph (its nodes in order in ``result.seeds``, its edges with their
    evidence). Raises :class:`~graph.errors.NoPathError` when none exists within ``max_hops`` or the
    search visited ``max_visited`` entities without meeting.
    """
    gs = graph_store(store)
    aliases = aliases if aliases is not None else gs.aliases()
    flt = LinkFilter.of(link_types, start, end)
    a, b = _check_seeds(gs, [source], aliases)[0], _check_seeds(gs, [target], aliases)[0]
    if a == b:
        return GraphResult(nodes=_load_nodes(gs, [a], aliases), seeds=(a,))
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
        for _lid, _t, s, d, _time, _uid in sorted(gs.links_of(members, flt), key=_canonical_order):
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
        raise NoPathError(
            f"no path between {source!r} and {target!r} within {max_hops} hops"
            + (
                f" (search stopped after {max_visited:,} entities)"
                if len(parents[0]) + len(parents[1]) > max_visited
                else ""
            )
        )
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
    result = induced_graph(gs, path, link_types=link_types, start=start, end=end, aliases=aliases)
    on_path = {frozenset(p) for p in itertools.pairwise(path)}
    result.edges = [e for e in result.edges if frozenset((e.source, e.target)) in on_path]
    result.seeds = tuple(path)
    return result
