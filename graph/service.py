"""Link-analysis services: expand, path, centrality, communities, co-occurrence, timeline,
export, entity resolution, covering indexes (see :mod:`core.services`).

Every graph query — ``superbrain graph …``, the console's link chart (expansions and paths, even
when it computes them in its helper process) and the centre server — goes through these
functions, so each is checked against ``graph.read`` and audited with its case number.
Entities may be given as ids (``vehicle:浙F12345``) or raw plates / phones / ID numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.progress import CancelToken, ProgressCallback
from core.services import ServiceContext, audit_detail, service

if TYPE_CHECKING:
    from graph.analysis import Centrality


def _time(value: datetime | str | None, ctx: ServiceContext) -> datetime | None:
    """A time parameter: a datetime or its ISO text (what a remote caller sends); a naive one
    is wall-clock time in the workspace's zone."""
    from core.timezones import as_utc

    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value, ctx.workspace.zone)
    from graph.errors import GraphError

    try:
        return as_utc(datetime.fromisoformat(str(value)), ctx.workspace.zone)
    except ValueError:
        raise GraphError(f"{value!r} is not an ISO date/time") from None


def _graph_detail(graph: Any) -> None:
    if graph is not None and hasattr(graph, "nodes"):
        audit_detail(
            nodes=len(graph.nodes),
            edges=len(graph.edges),
            truncated=bool(getattr(graph, "truncated", False)),
        )


def _graph(ctx: ServiceContext) -> Any:
    """The workspace's graph store: its own store, or Elasticsearch (``[graph] backend``)."""
    from graph.backend import for_workspace

    return for_workspace(ctx.workspace)


def _neighbourhood(
    ctx: ServiceContext,
    entities: Sequence[str],
    *,
    depth: int,
    link_types: Sequence[str] | None,
    start: Any,
    end: Any,
    max_nodes: int,
    cancel: CancelToken | None,
    max_fanout: int | None = None,
) -> Any:
    from graph.backend import default_fanout
    from graph.entities import resolve_entities
    from graph.expand import expand as expand_store

    store = _graph(ctx)
    if max_fanout is None:
        max_fanout = default_fanout(ctx.workspace)
    return expand_store(
        store,
        resolve_entities(store, entities),
        depth=depth,
        link_types=link_types,
        start=_time(start, ctx),
        end=_time(end, ctx),
        max_nodes=max_nodes,
        max_fanout=max_fanout,
        cancel=cancel,
    )


@service("graph.expand", permission="graph.read")
def expand(
    ctx: ServiceContext,
    *,
    entities: Sequence[str],
    depth: int = 2,
    link_types: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    max_nodes: int = 2000,
    max_fanout: int | None = None,
    case: str | None = None,
    cancel: CancelToken | None = None,
    compute: Callable[[], Any] | None = None,
) -> Any:
    """The neighbourhood of ``entities`` to ``depth`` hops, with evidence (a GraphResult).

    ``max_fanout`` caps each hop's fan-out: entities with more links are flagged as hubs
    (``result.hubs``) and not expanded through (default: ``[graph] max_fanout``, 1000 links
    on a cluster, none on one machine).

    ``compute`` (in-process callers only) does the same expansion the caller's way, e.g. the
    console growing its chart in a helper process; the check and the audit stay here.
    """
    if compute is not None:
        result = compute()
        _graph_detail(result[0] if isinstance(result, tuple) else result)
        return result
    result = _neighbourhood(
        ctx,
        entities,
        depth=depth,
        link_types=link_types,
        start=start,
        end=end,
        max_nodes=max_nodes,
        cancel=cancel,
        max_fanout=max_fanout,
    )
    _graph_detail(result)
    return result


@service("graph.path", permission="graph.read")
def path(
    ctx: ServiceContext,
    *,
    source: str,
    target: str,
    max_hops: int = 6,
    k: int = 1,
    time_order: bool = False,
    link_types: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    max_nodes: int = 20000,
    case: str | None = None,
    cancel: CancelToken | None = None,
    compute: Callable[[], Any] | None = None,
) -> Any:
    """Shortest, k-shortest or time-ordered paths (a list of graph.paths.Path).

    Raises graph.errors.NoPathError when none exists; ``compute`` as in :func:`expand`.
    """
    from graph.entities import resolve_entity
    from graph.expand import expand as expand_store
    from graph.expand import find_path
    from graph.paths import k_shortest_paths, shortest_path

    if compute is not None:
        result = compute()
        audit_detail(found=True)
        return result
    store = _graph(ctx)
    a, b = resolve_entity(store, source), resolve_entity(store, target)
    t0, t1 = _time(start, ctx), _time(end, ctx)
    if not time_order and k == 1:
        result = find_path(
            store, a, b, max_hops=max_hops, link_types=link_types, start=t0, end=t1, cancel=cancel
        )
        found = [shortest_path(result, result.seeds[0], result.seeds[-1])]
    else:
        # every path of ≤ max_hops lies within max_hops/2 of one of its ends
        sub = expand_store(
            store,
            [a, b],
            depth=(max_hops + 1) // 2,
            link_types=link_types,
            start=t0,
            end=t1,
            max_nodes=max_nodes,
            cancel=cancel,
        )
        a, b = sub.seeds[0], sub.seeds[-1]
        if k == 1:
            found = [shortest_path(sub, a, b, time_respecting=time_order, max_hops=max_hops)]
        else:
            found = k_shortest_paths(sub, a, b, k, time_respecting=time_order)
    audit_detail(paths=len(found), hops=[p.length for p in found])
    return found


def _sent_graph(graph: Any) -> Any:
    """A chart given as data: a GraphResult in-process, its JSON form from a client console
    (bounded, :func:`graph.model.graph_from_dict`)."""
    from graph.model import graph_from_dict

    return graph_from_dict(graph) if isinstance(graph, dict) else graph


def _graph_or_neighbourhood(
    ctx: ServiceContext, graph: Any, entities: Sequence[str], **kw: Any
) -> Any:
    if graph is not None:
        graph = _sent_graph(graph)
        audit_detail(nodes=len(graph.nodes), seeds=list(graph.seeds)[:20])
        return graph
    result = _neighbourhood(ctx, entities, **kw)
    _graph_detail(result)
    return result


@service("graph.centrality", permission="graph.read")
def centrality(
    ctx: ServiceContext,
    *,
    entities: Sequence[str] = (),
    graph: Any = None,
    measures: Sequence[str] = ("degree", "betweenness", "pagerank", "eigenvector"),
    depth: int = 2,
    link_types: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    max_nodes: int = 2000,
    case: str | None = None,
    cancel: CancelToken | None = None,
) -> Centrality:
    """Centrality of a neighbourhood of ``entities`` (or of ``graph``, a GraphResult already
    charted): a graph.analysis.Centrality."""
    from graph.analysis import centrality as compute_centrality

    g = _graph_or_neighbourhood(
        ctx,
        graph,
        entities,
        depth=depth,
        link_types=link_types,
        start=start,
        end=end,
        max_nodes=max_nodes,
        cancel=cancel,
    )
    return compute_centrality(g, tuple(measures))


@service("graph.communities", permission="graph.read")
def communities(
    ctx: ServiceContext,
    *,
    entities: Sequence[str] = (),
    graph: Any = None,
    resolution: float = 1.0,
    depth: int = 2,
    link_types: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    max_nodes: int = 2000,
    case: str | None = None,
    cancel: CancelToken | None = None,
) -> list[list[str]]:
    """Louvain communities of a neighbourhood (or of ``graph``): lists of entity ids."""
    from graph.analysis import communities as louvain

    g = _graph_or_neighbourhood(
        ctx,
        graph,
        entities,
        depth=depth,
        link_types=link_types,
        start=start,
        end=end,
        max_nodes=max_nodes,
        cancel=cancel,
    )
    found = louvain(g, resolution=resolution)
    audit_detail(communities=len(found))
    return found


@service("graph.cooccur", permission="graph.read")
def cooccur(
    ctx: ServiceContext,
    *,
    target: str | None = None,
    window: float = 60.0,
    min_count: int = 2,
    min_places: int = 1,
    link_type: str = "passed",
    start: Any = None,
    end: Any = None,
    top: int = 20,
    case: str | None = None,
    cancel: CancelToken | None = None,
) -> list[Any]:
    """伴随: who passes the same checkpoints as ``target`` within ± ``window`` seconds (all
    pairs without a target); a list of graph.cooccur.CoOccurrence."""
    from graph.cooccur import Sightings, cooccurrence_pairs, cooccurring_in_store
    from graph.entities import resolve_entity

    store = _graph(ctx)
    t0, t1 = _time(start, ctx), _time(end, ctx)
    if target:
        found = cooccurring_in_store(
            store,
            resolve_entity(store, target),
            window=window,
            min_count=min_count,
            min_places=min_places,
            link_type=link_type,
            start=t0,
            end=t1,
            top=top,
            zone=ctx.workspace.zone.key,
        )
    else:
        sightings = Sightings.from_store(store, link_type=link_type, start=t0, end=t1)
        found = cooccurrence_pairs(
            sightings,
            window=window,
            min_count=min_count,
            min_places=min_places,
            top=top,
            cancel=cancel,
            zone=ctx.workspace.zone.key,
        )
    audit_detail(found=len(found))
    return list(found)


@service("graph.timeline", permission="graph.read")
def timeline(
    ctx: ServiceContext,
    *,
    entity: str,
    start: Any = None,
    end: Any = None,
    limit: int | None = None,
    case: str | None = None,
) -> dict[str, Any]:
    """An entity's events in time order across sources: ``{"entity", "events",
    "day_hour"}`` (events are graph.timeline.TimelineEvent)."""
    from graph.entities import resolve_entity
    from graph.timeline import day_hour_matrix
    from graph.timeline import timeline as events_of

    eid = resolve_entity(_graph(ctx), entity)
    events = events_of(_graph(ctx), eid, start=_time(start, ctx), end=_time(end, ctx), limit=limit)
    audit_detail(events=len(events))
    return {
        "entity": eid,
        "events": events,
        "day_hour": day_hour_matrix(events, ctx.workspace.zone),
    }


@service("graph.export", permission="export", audit=False)
def export(
    ctx: ServiceContext,
    *,
    entities: Sequence[str] = (),
    output: str,
    format: str | None = None,
    graph: Any = None,
    depth: int = 2,
    link_types: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    max_nodes: int = 2000,
    case: str | None = None,
    write: Callable[[], list[Path]] | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Export a neighbourhood of ``entities`` (or ``graph``, e.g. the console's chart) as
    GraphML / GEXF / CSV, or — with ``write`` (in-process callers) — as whatever ``write()``
    produces (the chart's PNG). Needs ``export`` and ``graph.read``; audited as
    ``graph.export`` with the files, their format, the nodes and edges."""
    from graph.export import audited_export, export_graph

    if graph is None:
        ctx.require("graph.read", service="graph.export")
        graph = _neighbourhood(
            ctx,
            entities,
            depth=depth,
            link_types=link_types,
            start=start,
            end=end,
            max_nodes=max_nodes,
            cancel=cancel,
        )
    else:
        graph = _sent_graph(graph)
    out = Path(output)
    if write is not None:
        files = audited_export(
            ctx.workspace, graph, out, format or out.suffix.lstrip("."), write, case=case
        )
    else:
        files = export_graph(graph, out, format, workspace=ctx.workspace, case=case)
    return {
        "files": [str(f) for f in files],
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "truncated": bool(graph.truncated),
    }


# -- entity resolution -----------------------------------------------------------------------------
def _resolver(ctx: ServiceContext) -> Any:
    from graph.resolution import Resolver

    return Resolver(
        ctx.workspace.store,
        audit=ctx.workspace.audit,
        user=ctx.session.user,
        config=ctx.workspace.config.get("resolution", {}),
    )


@service("graph.merge_proposals", permission="graph.read")
def merge_proposals(
    ctx: ServiceContext,
    *,
    entity_type: str | None = None,
    min_score: float | None = None,
    limit: int | None = 100,
    apply_auto: bool = False,
) -> list[Any]:
    """Possible duplicates, best first (persons: the probabilistic model, each field's weight
    in the evidence; from the review threshold unless ``min_score``); refreshes the queue.
    ``apply_auto`` merges those at or above the workspace's auto threshold for their type
    (none when it is off — the default for persons); each merge is audited."""
    resolver = _resolver(ctx)
    found = resolver.propose(entity_type, min_score=min_score, limit=None)
    merged = resolver.apply_auto(found) if apply_auto else []
    audit_detail(proposals=len(found), auto_merged=len(merged))
    return found[:limit] if limit else found


@service("graph.merge_queue", permission="graph.read")
def merge_queue(
    ctx: ServiceContext, *, min_score: float | None = None, limit: int | None = 500
) -> list[dict[str, Any]]:
    """The review queue: stored proposals nobody has decided, best first, "not sure" flagged."""
    found = _resolver(ctx).queue(min_score=min_score)
    audit_detail(proposals=len(found))
    return found[:limit] if limit else found


@service("graph.merge_clusters", permission="graph.read")
def merge_clusters(ctx: ServiceContext, *, min_score: float | None = None) -> list[Any]:
    """The queue and the active merges as transitive clusters, each with its weakest link."""
    found = [c for c in _resolver(ctx).clusters(min_score=min_score) if len(c.members) > 1]
    audit_detail(clusters=len(found))
    return found


@service("graph.merge_unsure", permission="graph.read", audit=False)
def merge_unsure(
    ctx: ServiceContext, *, a: str, b: str, note: str = "", case: str | None = None
) -> list[str]:
    """Mark a proposed pair "not sure": it stays in the queue, flagged (audited)."""
    from graph.entities import resolve_entity

    store = ctx.workspace.store
    ids = [resolve_entity(store, a), resolve_entity(store, b)]
    _resolver(ctx).mark_unsure(ids[0], ids[1], note=note, case=case)
    return ids


@service("graph.merge_accept", permission="graph.read", audit=False)
def merge_accept(
    ctx: ServiceContext, *, alias: str, canonical: str, case: str | None = None
) -> Any:
    """Merge ``alias`` into ``canonical`` (a proposal's rule and score when one matches)."""
    from graph.entities import resolve_entity

    store = ctx.workspace.store
    resolver = _resolver(ctx)
    a, keep = resolve_entity(store, alias), resolve_entity(store, canonical)
    proposal = resolver.find_proposal(a, keep)
    if proposal is not None:
        return resolver.accept_proposal(proposal, canonical=keep, case=case)
    return resolver.accept(a, keep, case=case)


@service("graph.merge_reject", permission="graph.read", audit=False)
def merge_reject(ctx: ServiceContext, *, a: str, b: str, case: str | None = None) -> list[str]:
    """Never propose merging ``a`` and ``b`` again."""
    from graph.entities import resolve_entity

    store = ctx.workspace.store
    ids = [resolve_entity(store, a), resolve_entity(store, b)]
    _resolver(ctx).reject(ids[0], ids[1], case=case)
    return ids


#: The decisions an analyst takes on a pair of the review queue (``graph.merge_review``).
REVIEW_DECISIONS = ("accept", "reject", "unsure")


@service("graph.merge_review", permission="graph.read", audit=False)
def merge_review(
    ctx: ServiceContext,
    *,
    a: str,
    b: str,
    decision: str,
    keep: str | None = None,
    note: str = "",
    case: str | None = None,
) -> dict[str, Any]:
    """Decide a pair of the review queue: ``accept`` (merge; ``keep`` survives, ``a`` by
    default), ``reject`` (different people) or ``unsure`` (stays queued, flagged).

    Refused with :class:`graph.errors.AlreadyDecidedError` (a conflict: nothing changes) when
    someone has rejected or merged the pair since the caller read the queue, so two analysts
    working one queue never overturn each other unseen. The decision is audited by the
    resolver (``graph.merge`` / ``graph.reject`` / ``graph.unsure``) as the session's user."""
    from graph.entities import resolve_entity
    from graph.errors import AlreadyDecidedError, ResolutionError

    if decision not in REVIEW_DECISIONS:
        raise ResolutionError(
            f"decision {decision!r}: must be one of {', '.join(REVIEW_DECISIONS)}"
        )
    store = ctx.workspace.store
    x, y = resolve_entity(store, a), resolve_entity(store, b)
    if x == y:
        raise ResolutionError(f"{a!r} and {b!r} are one entity ({x}): there is no pair to decide")
    if keep is not None and keep not in (a, b, x, y):
        raise ResolutionError(f"keep {keep!r}: must be one of the pair ({a!r}, {b!r})")
    resolver = _resolver(ctx)
    decided = resolver.decision_on(x, y)
    if decided is not None:
        raise AlreadyDecidedError(f"{x} ≈ {y} was decided since the queue was read: {decided}")
    merge = None
    if decision == "accept":
        canonical = y if keep in (b, y) else x
        alias = x if canonical == y else y
        proposal = resolver.find_proposal(alias, canonical)
        if proposal is not None:
            merge = resolver.accept_proposal(proposal, canonical=canonical, case=case)
        else:
            merge = resolver.accept(alias, canonical, case=case)
    elif decision == "reject":
        resolver.reject(x, y, case=case)
    else:
        resolver.mark_unsure(x, y, note=note, case=case)
    return {"a": x, "b": y, "decision": decision, "merge": merge}


@service("graph.merge_split", permission="graph.read", audit=False)
def merge_split(ctx: ServiceContext, *, alias: str, case: str | None = None) -> Any:
    """Undo the merge of ``alias``."""
    from graph.entities import resolve_entity

    return _resolver(ctx).split(resolve_entity(ctx.workspace.store, alias), case=case)


@service("graph.merge_undo", permission="graph.read", audit=False)
def merge_undo(ctx: ServiceContext, *, merge_id: int, case: str | None = None) -> Any:
    """Undo merge ``merge_id``."""
    return _resolver(ctx).undo(int(merge_id), case=case)


@service("graph.merges", permission="graph.read")
def merges(
    ctx: ServiceContext, *, entity: str | None = None, active_only: bool = True
) -> list[Any]:
    """Merges (active ones, or all), or those involving ``entity``."""
    from graph.entities import resolve_entity

    resolver = _resolver(ctx)
    if entity:
        found = resolver.explain(resolve_entity(ctx.workspace.store, entity))
    else:
        found = resolver.merges(active_only=active_only)
    audit_detail(merges=len(found))
    return found


@service("graph.index", permission="ingest")
def index(
    ctx: ServiceContext, *, drop: bool = False, status_only: bool = False
) -> dict[str, list[str]]:
    """Build (or drop) the covering indexes of graph queries; ``{"changed", "present"}``."""
    from graph.indexes import drop_graph_indexes, ensure_graph_indexes, graph_indexes

    store = ctx.workspace.store
    if drop:
        changed = drop_graph_indexes(store)
    elif status_only:
        changed = []
    else:
        changed = ensure_graph_indexes(store)
    audit_detail(changed=changed)
    return {"changed": changed, "present": graph_indexes(store)}


@service("graph.migrate", permission="ingest")
def migrate(
    ctx: ServiceContext,
    *,
    restart: bool = False,
    threads: int = 2,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Copy the workspace's entities and links into its cluster graph (``[graph]
    index_prefix`` on the ``[search]`` cluster), resumably: a run continues after the last
    acknowledged batch of the one before, ``restart`` copies everything again (documents carry
    their rows' ids, so nothing doubles). When the ingest could not send a batch to the cluster
    (the store is marked stale) the copy starts over by itself and the mark is cleared once it
    has finished. Returns the MigrationReport with ``restarted`` and ``target`` set."""
    from graph.backend import cluster_index
    from graph.cluster_stage import clear_stale, stale_reason
    from graph.migrate import migrate as copy

    store = ctx.workspace.store
    stale = stale_reason(store)
    index = cluster_index(ctx.workspace)
    try:
        report = copy(
            store,
            index,
            threads=threads,
            progress=progress,
            cancel=cancel,
            restart=restart or bool(stale),
        )
    finally:
        index.close()
    if report.complete and stale:
        clear_stale(store)
    report.restarted = restart or bool(stale)
    report.stale = stale
    report.target = f"{index.prefix} on {index.url}"
    audit_detail(
        target=report.target,
        entities=report.entities,
        links=report.links,
        complete=report.complete,
        cancelled=report.cancelled,
        restarted=report.restarted,
    )
    return report
