"""The one interface both search engines implement, and :func:`open_backend`."""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from core.model import Record
from core.progress import CancelToken, ProgressCallback
from core.security import require
from search.document import FieldRegistry
from search.errors import CursorError, SearchConfigError
from search.model import Health, IndexReport, SearchRequest, SearchResult
from search.plan import Plan, Planner

if TYPE_CHECKING:
    from core.workspace import Workspace


class SearchBackend(ABC):
    """A search engine over the workspace's records.

    ``search`` and ``count`` are thread-safe: the console may call them from several worker
    threads at once on one backend. Indexing calls (``index``, ``delete``, ``flush``,
    ``rebuild``) are serialised internally; one process at a time should index.
    """

    #: "embedded" or "elasticsearch".
    name: str = ""

    def __init__(self, registry: FieldRegistry) -> None:
        self.registry = registry
        self.planner = Planner(registry)
        #: The store's record count (set by :func:`open_backend`): :meth:`health` compares the
        #: index with it, so an index that silently lost records is not reported green.
        self.store_count: Callable[[], int] | None = None

    def _with_store(self, health: Health) -> Health:
        """``health`` downgraded when the index and the store disagree on the record count."""
        if self.store_count is None:
            return health
        try:
            stored = int(self.store_count())
        except Exception as exc:  # health never raises: say why it cannot compare
            return replace(health, detail={**health.detail, "store": f"unreadable: {exc}"})
        detail = {**health.detail, "store_records": stored}
        missing = stored - health.documents
        if missing == 0 or health.status == "red":
            return replace(health, detail=detail)
        if health.documents == 0 or abs(missing) > max(10, stored // 10):
            status = "red"
        else:
            status = "yellow" if health.status == "green" else health.status
        what = (
            f"{missing:,} records of the store are missing from the index"
            if missing > 0
            else f"the index holds {-missing:,} documents more than the store"
        )
        message = (
            f"index has {health.documents:,} documents, store {stored:,} records: {what};"
            " searches may miss records — run `superbrain reindex`"
        )
        return replace(health, status=status, detail=detail, message=message)

    def plan(self, request: SearchRequest) -> Plan:
        """Parse and plan ``request`` (raises :class:`~search.errors.QuerySyntaxError`)."""
        return self.planner.plan(request.query, request.filters)

    @abstractmethod
    def index(self, records: Sequence[Record]) -> IndexReport:
        """Add or replace records (upsert by uid); visible to searches after :meth:`flush`."""

    @abstractmethod
    def delete(self, uids: Sequence[str]) -> None:
        """Remove records by uid (unknown uids are ignored)."""

    @abstractmethod
    def flush(self) -> None:
        """Make everything indexed so far durable and searchable."""

    @abstractmethod
    def search(self, request: SearchRequest) -> SearchResult:
        """Run one search; raises QuerySyntaxError, CursorError or SearchUnavailable."""

    @abstractmethod
    def count(self, query: str = "", filters: Any = None) -> int:
        """Number of records matching ``query`` and ``filters``."""

    @abstractmethod
    def health(self) -> Health:
        """Backend status; never raises for an unreachable server (status "red")."""

    @abstractmethod
    def rebuild(
        self,
        records: Iterable[Record],
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IndexReport:
        """Build a fresh index from ``records`` and switch searches to it atomically.

        Searches keep using the old index until the switch (no downtime); a cancelled rebuild
        leaves the old index in place.
        """

    def release(self) -> None:
        """Flush and give up write resources (the embedded engine's writer lock) until the
        next write; the ingest stage calls it after each file."""
        self.flush()

    def close(self) -> None:  # noqa: B027 - optional hook, most backends need it
        """Release files and connections."""


def encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, request: SearchRequest) -> dict[str, Any]:
    """The cursor's payload; it must come from the same query, filters and sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload: dict[str, Any] = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CursorError(f"cursor {cursor[:20]!r}… is not a search cursor") from None
    if payload.get("q") != request_key(request):
        raise CursorError(
            "cursor belongs to another query, filter or sort; start again without a cursor"
        )
    return payload


def request_key(request: SearchRequest) -> str:
    """A short fingerprint of what a cursor must not change across pages."""
    import hashlib

    raw = repr((request.query, request.filters, request.sort)).encode()
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def open_backend(workspace: Workspace, registry: FieldRegistry | None = None) -> SearchBackend:
    """The backend the workspace's ``[search]`` config selects (embedded by default).

    Parameters
    ----------
    workspace:
        An opened workspace.
    registry:
        Declared fields; default: the record schemas of every source the workspace can load.
    """
    require(workspace, "search", action="search.open")
    registry = registry if registry is not None else FieldRegistry.from_workspace(workspace)
    cfg = workspace.search_config
    if cfg.backend == "elasticsearch":
        from search.elastic import ElasticsearchBackend

        backend: SearchBackend = ElasticsearchBackend.from_config(
            cfg, registry, shards=cfg.shards, replicas=cfg.replicas
        )
        backend.store_count = workspace.store.count
        return backend
    from search.embedded import EmbeddedBackend

    workers = workspace.config.get("search", {}).get("index_workers")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 0
    ):
        raise SearchConfigError(
            f"[search] index_workers = {workers!r}: expected a whole "
            "number >= 0 (0: build documents in the ingesting process)"
        )
    backend = EmbeddedBackend(workspace.search_dir, registry, index_workers=workers)
    backend.store_count = workspace.store.count
    return backend
