"""The stages an ingest hands records to after the store: search, faces, and later ones.

Each engine package declares ``make_stage(workspace)`` in the ``superbrain.stages`` entry-point
group (pyproject.toml, :mod:`core.extensions`); it returns an
:class:`IngestStage` (or ``None`` when it has nothing to do in this workspace).
A stage must be idempotent: after a crash the last batch may be handed to it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from core.model import Record

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)


class IngestStage(Protocol):
    """A consumer of ingested records."""

    name: str

    def process(self, records: Sequence[Record]) -> None:
        """Take one batch (already committed nowhere yet; the store commits after the stages)."""

    def finish(self) -> None:
        """Flush and commit; called once at the end of an ingest (also after cancel or error)."""


def default_stages(workspace: Workspace) -> list[IngestStage]:
    stages: list[IngestStage] = []
    from core.extensions import STAGES, load_all

    for _ext, make_stage in load_all(STAGES):
        stage = make_stage(workspace)
        if stage is not None:
            stages.append(stage)
    return stages
