"""Search over every source: one query language, an embedded engine (default) and Elasticsearch.

Start with :func:`open_backend` and :class:`SearchRequest`; see docs/SEARCH.md.
"""

from search.backend import SearchBackend, open_backend
from search.document import FieldRegistry
from search.errors import (
    CursorError,
    IndexingError,
    QuerySyntaxError,
    SearchConfigError,
    SearchError,
    SearchUnavailable,
)
from search.model import (
    STANDARD_FACETS,
    FacetBucket,
    Filters,
    GeoBox,
    GeoRadius,
    Health,
    Hit,
    IndexReport,
    SearchRequest,
    SearchResult,
)
from search.query import parse as parse_query
from search.saved import SavedSearch, SavedSearches, SavedSearchMatch

__all__ = [
    "STANDARD_FACETS",
    "CursorError",
    "FacetBucket",
    "FieldRegistry",
    "Filters",
    "GeoBox",
    "GeoRadius",
    "Health",
    "Hit",
    "IndexReport",
    "IndexingError",
    "QuerySyntaxError",
    "SavedSearch",
    "SavedSearchMatch",
    "SavedSearches",
    "SearchBackend",
    "SearchConfigError",
    "SearchError",
    "SearchRequest",
    "SearchResult",
    "SearchUnavailable",
    "open_backend",
    "parse_query",
]
