"""The stages an ingest hands records to after the store: search, faces, and later ones.

Each engine package exposes ``make_stage(workspace)`` in a module listed in :data:`STAGE_MODULES`
and returns an :class:`IngestStage` (or ``None`` when it has nothing to do in this workspace).
A stage must be idempotent: after a crash the last batch may be handed to it again.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from core.model import Record

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)

#: Modules that may provide ``make_stage(workspace)``; absent modules are skipped.
STAGE_MODULES = ("search.stage", "facematch.stage", "ops.stage", "graph.stage",
                 "graph.cluster_stage")


class IngestStage(Protocol):
    """A consumer of ingested records."""

    name: str

    def process(self, records: Sequence[Record]) -> None:
        """Take one batch (already committed nowhere yet; the store commits after the stages)."""

    def finish(self) -> None:
        """Flush and commit; called once at the end of an ingest (also after cancel or error)."""


def default_stages(workspace: Workspace) -> list[IngestStage]:
    stages: list[IngestStage] = []
    for module_name in STAGE_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name or module_name.startswith(f"{exc.name}."):
                continue
            raise
        stage = module.make_stage(workspace)
        if stage is not None:
            stages.append(stage)
    return stages
