"""The analyst's review queue of identity proposals, as a model a view can show (no Qt).

Every action is a service call (``graph.merge_queue``, ``graph.merge_clusters``,
``graph.merge_proposals``, ``graph.merge_review``, ``graph.merge_split``), checked and audited
where it runs — in this process for a workspace, on the centre server for a client console — so
neither this model nor the console checks roles or writes audit entries. A decision on a pair
someone else has decided since the queue was read is refused by ``graph.merge_review``
(:class:`graph.errors.AlreadyDecidedError`); the queue is read again either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class ReviewServices:
    """The services the queue calls, each ``fn(**params)`` run as the analyst's session (the
    console passes its typed endpoints, ``ctx.engines.graph_merge_queue`` …)."""

    queue: Callable[..., list[dict[str, Any]]]
    clusters: Callable[..., list[Any]]
    proposals: Callable[..., list[Any]]
    review: Callable[..., Any]
    split: Callable[..., Any]


class ReviewQueue:
    """The pairs above the review threshold, and the decisions on them.

    Parameters
    ----------
    services:
        The review services of the analyst's session (every action is checked and audited).
    """

    def __init__(self, services: ReviewServices) -> None:
        self.services = services
        self.rows: list[QueueRow] = []
        self.clusters: list[Any] = []

    def reload(self) -> list[QueueRow]:
        """Read the stored queue and its clusters (fast: no scoring)."""
        self.rows = [_row(q) for q in self.services.queue()]
        self.clusters = list(self.services.clusters())
        return self.rows

    def run_matching(self) -> int:
        """Score the workspace's persons again (slow: run it off the GUI thread) and reload;
        returns the number of proposals above the review threshold."""
        found = self.services.proposals(entity_type="person", limit=None)
        self.reload()
        return len(found)

    def decide(
        self, row: QueueRow, decision: str, *, keep: str | None = None, case: str | None = None
    ) -> Any:
        """``accept`` (merge; ``keep`` survives, ``a`` by default; reversible with split),
        ``reject`` or ``unsure``, then read the queue again — also when the decision is refused
        because someone else decided the pair first (the error is raised after the reload)."""
        try:
            return self.services.review(a=row.a, b=row.b, decision=decision, keep=keep, case=case)
        finally:
            self.reload()

    def accept(self, row: QueueRow, *, keep: str | None = None, case: str | None = None) -> Any:
        return self.decide(row, "accept", keep=keep, case=case)

    def reject(self, row: QueueRow, *, case: str | None = None) -> Any:
        return self.decide(row, "reject", case=case)

    def unsure(self, row: QueueRow, *, case: str | None = None) -> Any:
        return self.decide(row, "unsure", case=case)

    def split(self, alias: str, *, case: str | None = None) -> Any:
        try:
            return self.services.split(alias=alias, case=case)
        finally:
            self.reload()

    def cluster_of(self, row: QueueRow) -> Any | None:
        """The transitive cluster the pair belongs to (members, weakest link), if any."""
        for c in self.clusters:
            if row.a in c.members:
                return c
        return None
