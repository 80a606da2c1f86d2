"""The analyst's review queue of identity proposals, as a model a view can show (no Qt).

Every action goes through the audited services (``graph.merge_queue``, ``graph.merge_accept``,
``graph.merge_reject``, ``graph.merge_unsure``, ``graph.merge_proposals``,
``graph.merge_clusters``), so the console does not check roles or write audit entries itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.services import ServiceContext, call

FIELD_TITLES = {
    "id_number": "ID number",
    "name": "Name",
    "birth_date": "Birth date",
    "gender": "Gender",
    "household": "Phone / address",
}


@dataclass(frozen=True)
class FieldRow:
    """One line of the side-by-side comparison."""

    field: str
    a: str
    b: str
    level: str
    weight: float


@dataclass(frozen=True)
class QueueRow:
    """One pair waiting for a decision."""

    a: str
    b: str
    score: float
    name_a: str
    name_b: str
    unsure_by: str | None
    fields: tuple[FieldRow, ...]
    match_weight: float
    prior_weight: float


def _row(q: dict[str, Any]) -> QueueRow:
    ev = q.get("evidence") or {}
    fields = ev.get("fields") or {}
    rows = tuple(
        FieldRow(
            FIELD_TITLES.get(k, k),
            _text(f.get("a")),
            _text(f.get("b")),
            str(f.get("level", "")),
            float(f.get("weight", 0.0)),
        )
        for k, f in fields.items()
    )
    name = fields.get("name", {})
    return QueueRow(
        q["a"],
        q["b"],
        float(q["score"]),
        _text(name.get("a")) or q["a"],
        _text(name.get("b")) or q["b"],
        q.get("unsure"),
        rows,
        float(ev.get("match_weight", 0.0)),
        float(ev.get("prior_weight", 0.0)),
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class ReviewQueue:
    """The pairs above the review threshold, and the decisions on them.

    Parameters
    ----------
    ctx:
        The authenticated session's service context (every action is checked and audited).
    caller:
        ``call`` by default; tests and the console may pass their own (same signature).
    """

    def __init__(self, ctx: ServiceContext, caller: Callable[..., Any] | None = None) -> None:
        self.ctx = ctx
        self._call = caller or call
        self.rows: list[QueueRow] = []
        self.clusters: list[Any] = []

    def reload(self) -> list[QueueRow]:
        """Read the stored queue and its clusters (fast: no scoring)."""
        self.rows = [_row(q) for q in self._call("graph.merge_queue", self.ctx)]
        self.clusters = list(self._call("graph.merge_clusters", self.ctx))
        return self.rows

    def run_matching(self) -> int:
        """Score the workspace's persons again (slow: run it off the GUI thread) and reload;
        returns the number of proposals above the review threshold."""
        found = self._call("graph.merge_proposals", self.ctx, entity_type="person", limit=None)
        self.reload()
        return len(found)

    def accept(self, row: QueueRow, *, keep: str | None = None, case: str | None = None) -> Any:
        """Merge the pair (``keep`` survives, ``a`` by default); reversible with split."""
        keep = keep or row.a
        alias = row.b if keep == row.a else row.a
        merge = self._call("graph.merge_accept", self.ctx, alias=alias, canonical=keep, case=case)
        self.reload()
        return merge

    def reject(self, row: QueueRow, *, case: str | None = None) -> None:
        self._call("graph.merge_reject", self.ctx, a=row.a, b=row.b, case=case)
        self.reload()

    def unsure(self, row: QueueRow, *, note: str = "", case: str | None = None) -> None:
        self._call("graph.merge_unsure", self.ctx, a=row.a, b=row.b, note=note, case=case)
        self.reload()

    def split(self, alias: str, *, case: str | None = None) -> Any:
        merge = self._call("graph.merge_split", self.ctx, alias=alias, case=case)
        self.reload()
        return merge

    def cluster_of(self, row: QueueRow) -> Any | None:
        """The transitive cluster the pair belongs to (members, weakest link), if any."""
        for c in self.clusters:
            if row.a in c.members:
                return c
        return None
