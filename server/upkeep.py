"""A centre server's own scheduled upkeep: unit position fixes past their retention
(``[ops] position_retention_days`` of centre.toml) are deleted at start and then every
:data:`EVERY_S`.

The work goes through the service ``ops.prune_positions`` like any caller's: the server acts as
the session ``server:upkeep`` with the role ``upkeep``, which holds ``ops.retention`` and
nothing else, so each run leaves one audit entry (count and cut-off) under that name. Several
server processes on one centre each run it; the later runs find nothing left to delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from core.progress import CancelToken

if TYPE_CHECKING:
    from centre.workspace import CentreWorkspace

log = logging.getLogger(__name__)

#: Seconds between two runs.
EVERY_S = 24 * 3600.0
#: The audited user of the server's upkeep (no account can be named so: ":" is refused).
USER = "server:upkeep"


def prune_positions(workspace: CentreWorkspace, cancel: CancelToken) -> dict[str, Any] | None:
    """One run of ``ops.prune_positions`` as ``server:upkeep``; a failure is logged (and
    audited by the service layer), never raised: the server goes on."""
    from core.security import Session
    from core.services import ServiceContext, call

    ctx = ServiceContext(workspace, Session(USER, "upkeep", "server"))
    try:
        done: dict[str, Any] = call("ops.prune_positions", ctx, cancel=cancel)
    except Exception:
        log.exception("position retention failed (the audit log has the reason)")
        return None
    if done["deleted"]:
        log.info(
            "position retention: %d fixes received before %s deleted",
            done["deleted"],
            done["cutoff"],
        )
    return done


@contextlib.asynccontextmanager
async def scheduled(workspace: CentreWorkspace, every_s: float = EVERY_S) -> AsyncIterator[None]:
    """Run the upkeep in the background at once and every ``every_s`` seconds while the block
    runs; leaving it cancels a run in progress (it stops between two deleting transactions)
    and waits for it."""
    cancel = CancelToken()
    stopping = asyncio.Event()

    async def loop() -> None:
        while not stopping.is_set():
            await run_in_threadpool(prune_positions, workspace, cancel)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every_s)

    task = asyncio.create_task(loop(), name="superbrain upkeep")
    try:
        yield
    finally:
        cancel.cancel()
        stopping.set()
        await task
