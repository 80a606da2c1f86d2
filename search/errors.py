"""The search package's exceptions: one root, precise subclasses whose messages name the culprit."""

from __future__ import annotations

from core.errors import SuperbrainError


class SearchError(SuperbrainError):
    """Root of every error the search package raises on purpose."""


class QuerySyntaxError(SearchError):
    """A query string cannot be parsed; ``position`` is the 0-based offset of the culprit.

    ``str(exc)`` shows the query with a caret under the offending character.
    """

    def __init__(self, message: str, query: str, position: int) -> None:
        self.message = message
        self.query = query
        self.position = max(0, min(position, len(query)))
        caret = " " * self.position + "^"
        super().__init__(f"{message} at position {self.position}:\n  {query}\n  {caret}")


class QueryLimitError(QuerySyntaxError):
    """A query exceeds a size or complexity limit (``search.plan.LIMITS``); the message says
    which and how to narrow it. A subclass of QuerySyntaxError, so front ends show it alike."""


class QueryTimeoutError(SearchError):
    """A search ran past the time limit and was stopped."""


class SearchUnavailable(SearchError):  # noqa: N818 - reads better at call sites
    """The search backend cannot be reached or is not healthy (e.g. a red cluster)."""


class SearchConfigError(SearchError):
    """The workspace's [search] configuration is incomplete or invalid."""


class IndexingError(SearchError):
    """Some documents were rejected by the backend; ``failures`` maps record uid to reason."""

    def __init__(self, message: str, failures: dict[str, str]) -> None:
        self.failures = failures
        super().__init__(message)


class CursorError(SearchError):
    """A paging cursor is malformed, expired or belongs to another query."""
