"""How long unit position fixes are kept, and pruning the older ones without breaking the audit.

Every fix a unit sends is kept in ``ops_positions`` (:mod:`ops.positions`, about 89 bytes a
row): 200 units reporting every 10 s add 152 MB a day. ``[ops] position_retention_days`` (in
``superbrain.toml``, or a centre's ``centre.toml``; default :data:`DEFAULT_RETENTION_DAYS`, 0
keeps them forever) says how many days of fixes are kept; :func:`prune` deletes the fixes
*received* (``ts``, the centre's clock, not the device's) before the cut-off. It runs through
the service ``ops.prune_positions`` (permission ``ops.retention``, one audit entry with the
count and the cut-off): ``superbrain ops prune-positions`` and a centre server, at start and
daily.

The audit log keeps every entry (it is append-only and hash-chained). An entry summarises the
fixes of one account and unit since its previous entry, so a cut in the middle of a summary
would leave the kept part unverifiable. Pruning therefore cuts each account's and unit's fixes
at the first fix of an entry — the newest such fix older than the cut-off among those remembered
in ``ops_position_marks`` (one per account, unit and hour) — and records the cut in
``ops_position_pruned``. :func:`ops.positions.check_entry` then tells an entry whose fixes
retention removed (``pruned``) from one whose fixes were changed (``altered``); every kept fix is
still vouched for by its entry. Fixes stored before the marks existed are pruned once a mark
older than the cut-off exists, i.e. one retention period after the upgrade.

Deleting runs in short transactions over ranges of fix ids (:data:`CHUNK_IDS`, skipping ids
already gone), so fixes sent meanwhile wait little for the writers' lock; progress is reported
and a cancel stops between ranges (the cuts are recorded first, so a cancelled prune leaves
nothing unexplained and the next one finishes it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.progress import CancelToken, ProgressCallback, ProgressMeter
from ops.errors import OpsConfigError
from ops.positions import MARK_S

if TYPE_CHECKING:
    from core.workspace import Workspace
    from ops.events import OpsContext

log = logging.getLogger(__name__)

#: Days of position fixes kept when the workspace does not say.
DEFAULT_RETENTION_DAYS = 90
#: Fix ids per deleting transaction.
CHUNK_IDS = 20_000
DAY_S = 86_400


def retention_days(workspace: Workspace) -> int:
    """``[ops] position_retention_days`` of the workspace's configuration (a centre's
    ``centre.toml``): whole days >= 0, 0 = keep forever.

    Raises
    ------
    OpsConfigError
        Naming the file and the key, when the value is not a whole number >= 0.
    """
    table = workspace.config.get("ops", {})
    where = f"{str(workspace.config_file)!r}: [ops] position_retention_days"
    if not isinstance(table, dict):
        raise OpsConfigError(f"{str(workspace.config_file)!r}: [ops] must be a table")
    value = table.get("position_retention_days", DEFAULT_RETENTION_DAYS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OpsConfigError(
            f"{where} must be a whole number of days >= 0 (0 keeps every fix), got {value!r}"
        )
    return value


@dataclass(frozen=True)
class PruneResult:
    """What :func:`prune` did.

    Attributes
    ----------
    days: the retention applied (0: nothing is ever deleted).
    cutoff: epoch seconds; fixes received before it were due (None with ``days`` 0).
    deleted: fixes deleted.
    cuts: accounts × units whose fixes were cut.
    cancelled: stopped by the cancel token before every range was done.
    """

    days: int
    cutoff: float | None
    deleted: int
    cuts: int
    cancelled: bool = False


def prune(
    ctx: OpsContext,
    days: int,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> PruneResult:
    """Delete the fixes received more than ``days`` days ago, cut as the module says."""
    if days == 0:
        return PruneResult(0, None, 0, 0)
    cutoff = ctx.clock() - days * DAY_S
    cuts = _record_cuts(ctx, cutoff)
    row = ctx.con.execute(
        "SELECT (SELECT min(id) FROM ops_positions), "
        "(SELECT max(below_id) FROM ops_position_pruned)"
    ).fetchone()
    low, top = int(row[0] or 0), int(row[1] or 0)
    meter = ProgressMeter(progress, max(0, top - low))
    deleted, cancelled = 0, False
    start = low
    while start < top:
        if cancel is not None and cancel.cancelled:
            cancelled = True
            break
        end = min(start + CHUNK_IDS, top)
        with ctx.tx() as tx:
            cur = tx.con.execute(
                "DELETE FROM ops_positions WHERE id >= ? AND id < ? AND id < ("
                "SELECT r.below_id FROM ops_position_pruned r "
                "WHERE r.account = ops_positions.account AND r.unit_id = ops_positions.unit_id)",
                (start, end),
            )
            deleted += max(0, int(cur.rowcount))
        nxt = ctx.con.execute("SELECT min(id) FROM ops_positions WHERE id >= ?", (end,)).fetchone()
        following = min(top, int(nxt[0])) if nxt and nxt[0] is not None else top
        meter.advance(following - start, f"{deleted} fixes deleted")
        start = following  # over the ids deleted before: a sparse range is not walked
    meter.advance(0, f"{deleted} fixes deleted", force=True)
    if deleted:
        log.info("position retention: %d fixes older than %d days deleted", deleted, days)
    return PruneResult(days, cutoff, deleted, cuts, cancelled)


def _record_cuts(ctx: OpsContext, cutoff: float) -> int:
    """Choose and record each account's and unit's cut (the newest entry-opening fix remembered
    before the cut-off's hour); returns how many moved. Marks below a cut are no longer needed."""
    moved = 0
    with ctx.tx() as tx:
        marks = tx.con.execute(
            "SELECT account, unit_id, max(fix_id) FROM ops_position_marks WHERE hour < ? "
            "GROUP BY account, unit_id",
            (int(cutoff // MARK_S),),
        ).fetchall()
        for account, unit_id, fix_id in marks:
            old: Any = tx.con.execute(
                "SELECT below_id FROM ops_position_pruned WHERE account=? AND unit_id=?",
                (account, unit_id),
            ).fetchone()
            below = max(int(fix_id), int(old[0]) if old is not None else 0)
            tx.con.execute(
                "INSERT OR REPLACE INTO ops_position_pruned (account, unit_id, below_id, cutoff) "
                "VALUES (?,?,?,?)",
                (account, unit_id, below, cutoff),
            )
            tx.con.execute(
                "DELETE FROM ops_position_marks WHERE account=? AND unit_id=? AND fix_id < ?",
                (account, unit_id, below),
            )
            moved += old is None or int(old[0]) < below
    return moved
