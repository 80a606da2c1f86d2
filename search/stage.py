"""The ingest stage that indexes records as they are ingested (idempotent upserts by uid)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.model import Record
from search.backend import SearchBackend, open_backend
from search.errors import SearchError

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)

STALE_FILE = "stale.json"
#: The time zone whose calendar days the index's ``day`` facet counts.
DAY_ZONE_FILE = "day-zone.txt"
#: The zone of indexes built before the facet followed the workspace's zone (fixed UTC+8).
OLD_DAY_ZONE = "Asia/Shanghai"


def stale_reason(search_dir: Path) -> str | None:
    """Why the index misses records (an ingest could not index them), or None."""
    path = Path(search_dir) / STALE_FILE
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("reason", "unknown"))
    except (OSError, ValueError):
        return "unknown (unreadable stale marker)"


def mark_stale(search_dir: Path, reason: str) -> None:
    """Record why the index misses records. When even that cannot be written (the disk under
    the index is full) it is logged; ``search-health`` still shows the gap, since it compares
    the index's document count with the store's."""
    path = Path(search_dir) / STALE_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"reason": reason, "at": datetime.now(UTC).isoformat()}, ensure_ascii=False),
            encoding="utf-8",
        )
    except OSError as exc:
        log.error("cannot mark the search index stale (%s): %s; reason: %s", path, exc, reason)


def clear_stale(search_dir: Path) -> None:
    (Path(search_dir) / STALE_FILE).unlink(missing_ok=True)


def note_day_zone(search_dir: Path, zone: str, *, rebuilt: bool = False) -> None:
    """Remember the zone the index counts days in: once, when it first indexes, and again
    after a rebuild (documents indexed earlier keep the days they were built with)."""
    path = Path(search_dir) / DAY_ZONE_FILE
    if rebuilt or not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(zone, encoding="utf-8")
        except OSError as exc:
            log.error("cannot note the search index's day zone (%s): %s", path, exc)


def day_zone_mismatch(search_dir: Path, zone: str, documents: int) -> str | None:
    """Why the ``day`` facet disagrees with the workspace's zone (it was changed after the
    records were indexed), or None."""
    path = Path(search_dir) / DAY_ZONE_FILE
    try:
        counted = path.read_text(encoding="utf-8").strip() if path.exists() else None
    except OSError:
        counted = None
    if counted is None:
        counted = OLD_DAY_ZONE if documents else zone
    if counted == zone:
        return None
    return (
        f"the day facet counts {counted} days but the workspace's time zone is {zone} "
        "(run `superbrain reindex`)"
    )


class SearchStage:
    """Indexes each ingested batch and makes it searchable before the store commits it.

    When the backend fails (e.g. the cluster is unreachable) the ingest goes on: the store
    keeps every record, the index is marked stale and ``superbrain reindex`` catches up.
    """

    name = "search"

    def __init__(self, backend: SearchBackend, search_dir: Path) -> None:
        self.backend = backend
        self.search_dir = Path(search_dir)
        self.failed: str | None = None
        self.rejected: dict[str, str] = {}

    def process(self, records: Sequence[Record]) -> None:
        if self.failed or not records:
            return
        try:
            report = self.backend.index(records)
            self.backend.flush()
        except SearchError as exc:
            self.failed = str(exc)
            mark_stale(self.search_dir, self.failed)
            log.error(
                "search indexing stopped for this ingest: %s (records stay in the store; "
                "run `superbrain reindex` when search is back)",
                exc,
            )
            return
        note_day_zone(self.search_dir, self.backend.registry.zone.key)
        if report.failures:
            self.rejected.update(report.failures)
            first = next(iter(report.failures.items()))
            log.warning(
                "search rejected %d records in this batch, e.g. %s: %s",
                len(report.failures),
                *first,
            )

    def finish(self) -> None:
        if self.failed:
            return
        try:
            self.backend.release()
        except SearchError as exc:
            mark_stale(self.search_dir, str(exc))
            log.error("search flush failed: %s", exc)


def make_stage(workspace: Workspace) -> SearchStage | None:
    """The search stage for ``workspace`` (its configured backend)."""
    try:
        backend = open_backend(workspace)
    except SearchError as exc:
        mark_stale(workspace.search_dir, str(exc))
        log.error("search is unavailable, ingesting without indexing: %s", exc)
        return None
    return SearchStage(backend, workspace.search_dir)
