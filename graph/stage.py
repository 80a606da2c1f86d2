"""The resolution ingest stage: new person entities are matched against the people already in
the workspace when an ingest finishes — candidates from the blocking-key index, not a re-run
of the whole workspace (see :meth:`graph.resolution.Resolver.match_new`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Record

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)


class ResolutionStage:
    """Collects the person entities of each batch; matches them once the ingest ends."""

    name = "resolution"

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.pending: set[str] = set()
        self.matched = 0

    def process(self, records: Sequence[Record]) -> None:
        for r in records:
            self.pending.update(e.id for e in r.entities if e.type == "person")

    def finish(self) -> None:
        if not self.pending:
            return
        from graph.resolution import Resolver

        ids, self.pending = sorted(self.pending), set()
        resolver = Resolver(
            self.ws.store,
            audit=self.ws.audit,
            user=self.ws.user,
            config=self.ws.config.get("resolution", {}),
        )
        try:
            found = resolver.match_new(ids)
        except Exception as exc:  # the records are stored; matching them can be rerun
            log.error("resolution: matching %d new persons failed: %s", len(ids), exc)
            self.ws.audit.append(
                self.ws.user,
                "graph.resolve_incremental",
                {
                    "entities": len(ids),
                    "outcome": "failed",
                    "error": f"{type(exc).__name__}: {exc}"[:500],
                    "remedy": "superbrain graph resolve propose",
                },
            )
            return
        self.matched += len(found)
        if found:
            self.ws.audit.append(
                self.ws.user,
                "graph.resolve_incremental",
                {"entities": len(ids), "proposals": len(found)},
            )
        log.info("resolution: %d new persons, %d proposals for review", len(ids), len(found))


def make_stage(workspace: Workspace) -> ResolutionStage | None:
    """The resolution stage, unless the workspace sets ``[resolution] on_ingest = false``."""
    if not workspace.config.get("resolution", {}).get("on_ingest", True):
        return None
    return ResolutionStage(workspace)
