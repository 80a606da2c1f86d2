"""Search services: query, record read, health, reindex (see :mod:`core.services`).

Every search — from the CLI, the console's search panel or the centre server — goes through
:func:`query`, so each one is checked against the ``search`` permission and audited with its
query, filters and result count; a search that fails (bad syntax, unreachable cluster) is audited
with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from core.model import Record
from core.progress import CancelToken, ProgressCallback
from core.services import ServiceContext, audit_detail, drop_shared, service, shared
from search.model import Filters, SearchRequest, SearchResult


def backend_for(workspace: Any) -> Any:
    """The workspace's search backend, opened once and shared by every search service call
    (and by the console's status bar) until :func:`close_backend`."""
    from search.backend import open_backend

    return shared(workspace, "search.backend", lambda: open_backend(workspace))


def close_backend(workspace: Any) -> None:
    """Close and forget the workspace's shared backend (the next search opens a new one)."""
    backend = drop_shared(workspace, "search.backend")
    if backend is not None:
        backend.close()


def filters_of(value: Filters | Mapping[str, Any] | None) -> Filters:
    """:class:`Filters` from a Filters or its JSON form (ISO times, box/radius objects)."""
    from search.saved import _filters_from_json

    if value is None:
        return Filters()
    if isinstance(value, Filters):
        return value
    return _filters_from_json(dict(value))


def params_of(request: SearchRequest) -> dict[str, Any]:
    """The :func:`query` parameters that run ``request``."""
    return {
        "query": request.query,
        "filters": request.filters,
        "sort": request.sort,
        "size": request.size,
        "cursor": request.cursor,
        "facets": list(request.facets),
        "facet_size": request.facet_size,
        "highlight": request.highlight,
    }


@service("search.query", permission="search")
def query(
    ctx: ServiceContext,
    *,
    query: str = "",
    filters: Any = None,
    sort: str = "relevance",
    size: int = 20,
    cursor: str | None = None,
    facets: Sequence[str] = (),
    facet_size: int = 20,
    highlight: bool = True,
) -> SearchResult:
    """Search every source (query language of docs/SEARCH.md); returns a SearchResult.

    ``filters`` is a :class:`search.model.Filters` or its JSON form. The audit entry records
    the query, the filters and the number of matches.
    """
    request = SearchRequest(
        query,
        filters_of(filters),
        sort=sort,  # type: ignore[arg-type]
        size=size,
        cursor=cursor,
        facets=tuple(facets),
        facet_size=facet_size,
        highlight=highlight,
    )
    backend = backend_for(ctx.workspace)
    result = backend.search(request)
    audit_detail(total=result.total, backend=backend.name)
    return result


@service("search.record", permission="search")
def record(ctx: ServiceContext, *, uid: str, with_graph: bool = True) -> Record | None:
    """One stored record by uid (with its entities and links), or None."""
    found = (
        ctx.workspace.store.get_record(uid)
        if not with_graph
        else next(iter(ctx.workspace.store.get_records([uid], with_graph=True)), None)
    )
    audit_detail(found=found is not None)
    return found


@service("search.health", permission="search")
def health(ctx: ServiceContext) -> dict[str, Any]:
    """The backend's status, document count and whether the index is stale."""
    from search.stage import day_zone_mismatch, stale_reason

    backend = backend_for(ctx.workspace)
    h = backend.health()
    stale = stale_reason(ctx.workspace.search_dir) or day_zone_mismatch(
        ctx.workspace.search_dir, ctx.workspace.zone.key, h.documents
    )
    out = {**asdict(h), "stale": stale, "store_records": ctx.workspace.store.count()}
    audit_detail(status=h.status)
    return out


@service("search.reindex", permission="ingest")
def reindex(
    ctx: ServiceContext,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Rebuild the index from the store (searches keep working; cancelling keeps the old
    index). Returns the IndexReport."""
    from core.ingest import workspace_write_lock
    from search.stage import clear_stale, note_day_zone

    ws = ctx.workspace
    backend = backend_for(ws)
    with workspace_write_lock(ws, "reindex"):  # not while an ingest writes the index
        report = backend.rebuild(
            ws.store.iter_records(with_graph=True),
            total=ws.store.count(),
            progress=progress,
            cancel=cancel,
        )
    if not report.cancelled:
        clear_stale(ws.search_dir)
        note_day_zone(ws.search_dir, backend.registry.zone.key, rebuilt=True)
    audit_detail(
        backend=backend.name,
        indexed=report.indexed,
        failed=len(report.failures),
        cancelled=report.cancelled,
    )
    return report
