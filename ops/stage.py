"""The operations ingest stage: incident records become incidents, every record meets the
alert rules. Idempotent (incidents keyed by record uid, alerts by a dedup key)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Record

if TYPE_CHECKING:
    from core.workspace import Workspace
    from ops.service import OpsService

log = logging.getLogger(__name__)


class OpsStage:
    """Hands each ingest batch to the intake and the alert rules."""

    name = "ops"

    def __init__(self, ops: OpsService) -> None:
        self.ops = ops
        self.created = self.updated = self.alerts = 0
        self.problems: list[str] = []

    def process(self, records: Sequence[Record]) -> None:
        created, updated, problems = self.ops.intake.ingest_records(records)
        self.created += created
        self.updated += updated
        self.problems += problems
        self.alerts += len(self.ops.alerts.evaluate(records, user="ingest"))

    def finish(self) -> None:
        if self.created or self.updated or self.problems:
            ws = self.ops.ctx.workspace
            ws.audit.append(
                ws.user,
                "ops.intake",
                {
                    "created": self.created,
                    "updated": self.updated,
                    "alerts": self.alerts,
                    "skipped": len(self.problems),
                    "problems": self.problems[:20],
                },
            )
            log.info(
                "ops intake: %d incidents created, %d updated, %d skipped, %d alerts",
                self.created,
                self.updated,
                len(self.problems),
                self.alerts,
            )
        self.created = self.updated = self.alerts = 0
        self.problems = []


def make_stage(workspace: Workspace) -> OpsStage:
    """The ops stage for ``workspace`` (a broken ops data file raises, naming the file)."""
    from ops.service import OpsService

    return OpsStage(OpsService(workspace))
