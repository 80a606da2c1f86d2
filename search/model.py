"""What callers pass to a search backend and what they get back (plain, immutable values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

#: Facets every backend can compute; any KEYWORD field name works as well.
STANDARD_FACETS = ("source", "type", "category", "district", "day")

SortOrder = Literal["relevance", "time_desc", "time_asc"]

#: Highlight markers around matched text in :attr:`Hit.snippets` (the rest is HTML-escaped).
MARK_OPEN = "<mark>"
MARK_CLOSE = "</mark>"


@dataclass(frozen=True)
class GeoBox:
    """A latitude/longitude rectangle (WGS-84 degrees)."""

    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True)
class GeoRadius:
    """A circle around (lat, lon), radius in metres."""

    lat: float
    lon: float
    meters: float


@dataclass(frozen=True)
class Filters:
    """Structured filters, ANDed with the query; they do not change relevance.

    Empty tuples and ``None`` mean "no filter". ``since`` is inclusive, ``until`` exclusive;
    naive datetimes are China Standard Time.
    """

    sources: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    box: GeoBox | None = None
    radius: GeoRadius | None = None
    uids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchRequest:
    """One search.

    Attributes
    ----------
    query:
        Query-language text (see :mod:`search.query`); empty means every record.
    filters:
        Structured filters.
    sort:
        ``"relevance"`` (default), ``"time_desc"`` or ``"time_asc"``.
    size:
        Hits per page (1–1000).
    cursor:
        ``SearchResult.next_cursor`` of the previous page, for deep paging.
    facets:
        Facet names to count (e.g. :data:`STANDARD_FACETS`); computed on the first page only.
    facet_size:
        Buckets per facet.
    highlight:
        Compute :attr:`Hit.snippets`.
    """

    query: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: SortOrder = "relevance"
    size: int = 20
    cursor: str | None = None
    facets: tuple[str, ...] = ()
    facet_size: int = 20
    highlight: bool = True


@dataclass(frozen=True)
class Hit:
    """One matching record: enough to list it; fetch the full record from the store by uid."""

    uid: str
    source: str
    type: str
    score: float
    time: datetime | None
    geo: tuple[float, float] | None
    title: str
    snippets: tuple[str, ...] = ()
    text: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FacetBucket:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    """A page of hits; ``next_cursor`` is ``None`` on the last page."""

    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, tuple[FacetBucket, ...]] = field(default_factory=dict)
    next_cursor: str | None = None
    took_ms: float = 0.0
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's ``--json`` output)."""
        return {
            "total": self.total,
            "took_ms": round(self.took_ms, 1),
            "next_cursor": self.next_cursor,
            "warnings": list(self.warnings),
            "hits": [
                {
                    "uid": h.uid,
                    "source": h.source,
                    "type": h.type,
                    "score": round(h.score, 4),
                    "time": h.time.isoformat() if h.time else None,
                    "geo": list(h.geo) if h.geo else None,
                    "title": h.title,
                    "snippets": list(h.snippets),
                }
                for h in self.hits
            ],
            "facets": {
                name: [{"value": b.value, "count": b.count} for b in buckets]
                for name, buckets in self.facets.items()
            },
        }


@dataclass(frozen=True)
class IndexReport:
    """What an indexing call did; ``failures`` maps record uid to the backend's reason."""

    indexed: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False


@dataclass(frozen=True)
class Health:
    """Backend health for the console's status bar and ``superbrain search-health``.

    ``status`` is ``"green"``, ``"yellow"`` or ``"red"`` (Elasticsearch's meaning; the embedded
    engine is green when its index opens, yellow when it should be rebuilt).
    """

    backend: str
    status: str
    documents: int
    detail: dict[str, Any] = field(default_factory=dict)
    message: str = ""
