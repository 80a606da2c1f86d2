"""Saved searches: standing queries tested against newly ingested records (for alerts).

The operations package calls :meth:`SavedSearches.match` with each ingested batch and turns the
matches into alerts. Matching runs in Python on the same plan the backends execute
(:mod:`search.matcher`), so a saved search matches a new record exactly when searching for it
would find that record — on either backend, with no percolator needed (the Elasticsearch
integ-test distribution this project tests against ships without the percolator module).
"""

from __future__ import annotations

import builtins
import json
import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.model import Record
from search.document import FieldRegistry, build_doc
from search.errors import SearchError
from search.matcher import DocMatcher
from search.model import Filters, GeoBox, GeoRadius
from search.plan import Planner, PNode

FILE_NAME = "saved_searches.json"


@dataclass(frozen=True)
class SavedSearch:
    id: str
    name: str
    query: str
    filters: Filters = field(default_factory=Filters)
    owner: str = ""
    created: str = ""


@dataclass(frozen=True)
class SavedSearchMatch:
    """One saved search and the uids of the new records it matches."""

    search: SavedSearch
    uids: tuple[str, ...]


def _filters_to_json(f: Filters) -> dict[str, Any]:
    out = asdict(f)
    for key in ("since", "until"):
        if out[key] is not None:
            out[key] = out[key].isoformat()
    return out


def _filters_from_json(raw: dict[str, Any]) -> Filters:
    kw: dict[str, Any] = {}
    for key in ("sources", "types", "categories", "districts", "uids"):
        kw[key] = tuple(raw.get(key, ()))
    for key in ("since", "until"):
        kw[key] = datetime.fromisoformat(raw[key]) if raw.get(key) else None
    kw["box"] = GeoBox(**raw["box"]) if raw.get("box") else None
    kw["radius"] = GeoRadius(**raw["radius"]) if raw.get("radius") else None
    return Filters(**kw)


class SavedSearches:
    """The saved searches of one workspace (``search/saved_searches.json``); thread-safe."""

    def __init__(self, search_dir: Path, registry: FieldRegistry) -> None:
        self.path = Path(search_dir) / FILE_NAME
        self.registry = registry
        self.planner = Planner(registry)
        self._lock = threading.Lock()
        self._plans: dict[str, PNode] = {}

    def list(self) -> list[SavedSearch]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SearchError(f"{str(self.path)!r}: unreadable saved searches: {exc}") from exc
        return [
            SavedSearch(
                r["id"],
                r["name"],
                r["query"],
                _filters_from_json(r["filters"]),
                r.get("owner", ""),
                r.get("created", ""),
            )
            for r in raw
        ]

    def _write(self, searches: Sequence[SavedSearch]) -> None:
        rows = [dict(asdict(s), filters=_filters_to_json(s.filters)) for s in searches]
        tmp = self.path.with_suffix(".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def add(
        self, name: str, query: str, filters: Filters | None = None, owner: str = ""
    ) -> SavedSearch:
        """Save a search (the query is checked now: QuerySyntaxError names the position)."""
        filters = filters or Filters()
        self.planner.plan(query, filters)
        saved = SavedSearch(
            uuid.uuid4().hex[:12],
            name,
            query,
            filters,
            owner,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._lock:
            self._write([*self.list(), saved])
        return saved

    def remove(self, search_id: str) -> None:
        with self._lock:
            searches = self.list()
            if not any(s.id == search_id for s in searches):
                raise SearchError(f"no saved search with id {search_id!r}")
            self._write([s for s in searches if s.id != search_id])

    def match(self, records: Sequence[Record]) -> builtins.list[SavedSearchMatch]:
        """Which saved searches each of ``records`` satisfies (searches without a hit omitted)."""
        searches = self.list()
        if not searches or not records:
            return []
        plans = []
        for s in searches:
            key = repr((s.query, s.filters))
            if key not in self._plans:
                self._plans[key] = self.planner.plan(s.query, s.filters).root
            plans.append((s, self._plans[key]))
        hits: dict[str, list[str]] = {s.id: [] for s in searches}
        for record in records:
            matcher = DocMatcher(build_doc(record, self.registry))
            for s, root in plans:
                if matcher.matches(root):
                    hits[s.id].append(record.uid)
        return [SavedSearchMatch(s, tuple(hits[s.id])) for s in searches if hits[s.id]]


def workspace_matcher(workspace: Any) -> Any:
    """The saved searches of ``workspace`` as a record matcher for operations alerts
    (``superbrain.record_matchers`` entry point): ``match(records)`` → ``[(search id, search
    name, record uid)]``. None while the workspace has none saved (plugin discovery, which the
    field registry needs, is not free)."""
    if not (workspace.search_dir / FILE_NAME).exists():
        return None
    saved = SavedSearches(workspace.search_dir, FieldRegistry.from_workspace(workspace))

    def match(records: Sequence[Record]) -> list[tuple[str, str, str]]:
        if not saved.path.exists():
            return []
        return [(m.search.id, m.search.name, uid) for m in saved.match(records) for uid in m.uids]

    return match
