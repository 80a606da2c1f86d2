"""Two consoles (two processes) on one workspace assign the same unit at the same moment:
exactly one succeeds, the other is told who took it."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

from tests.ops_fixtures import CENTRE, make_ops

ROUNDS = 8


def _console(
    root: str, name: str, rounds: list[tuple[int, str]], barrier: Any, results: Any
) -> None:
    from core.workspace import Workspace
    from ops.errors import UnitUnavailableError
    from ops.service import OpsService

    ws = Workspace.open(Path(root))
    ops = OpsService(ws)
    ops.units.list()  # open the connection before the start line
    for n, (incident_id, unit_id) in enumerate(rounds):
        barrier.wait(timeout=60)
        try:
            ops.dispatch.assign(incident_id, unit_id, user=name)
            results.put((n, name, "won", None, None))
        except UnitUnavailableError as exc:
            results.put((n, name, "lost", exc.taken_by, str(exc)))
        except Exception as exc:  # anything else is a failure the test must show
            results.put((n, name, "error", None, f"{type(exc).__name__}: {exc}"))
    ws.close()


def test_two_consoles_race_for_one_unit(workspace: Any) -> None:
    ops = make_ops(workspace)
    plan_a, plan_b = [], []
    for n in range(ROUNDS):
        unit = f"R-{n}"
        ops.units.add(unit, unit_type="patrol_car", lat=CENTRE[0], lon=CENTRE[1])
        plan_a.append((ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1]).id, unit))
        plan_b.append((ops.incidents.create("纠纷", 3, lat=CENTRE[0], lon=CENTRE[1]).id, unit))
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_console, args=(str(workspace.root), name, plan, barrier, results))
        for name, plan in (("console-a", plan_a), ("console-b", plan_b))
    ]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert not [g for g in got if g[2] == "error"], got
    winners = {name: 0 for name in ("console-a", "console-b")}
    for n in range(ROUNDS):
        outcome = {
            name: (status, taken_by, msg) for m, name, status, taken_by, msg in got if m == n
        }
        statuses = sorted(s for s, _, _ in outcome.values())
        assert statuses == ["lost", "won"], (n, outcome)
        winner = next(name for name, (s, _, _) in outcome.items() if s == "won")
        loser = next(name for name, (s, _, _) in outcome.items() if s == "lost")
        winners[winner] += 1
        _, taken_by, message = outcome[loser]
        assert taken_by == winner
        assert f"unit R-{n} is not available" in message and f"assigned by {winner}" in message
        # The store agrees: one active assignment, to the winner's incident.
        unit = ops.units.get(f"R-{n}")
        winning_incident = (plan_a if winner == "console-a" else plan_b)[n][0]
        assert unit.status == "dispatched" and unit.incident_id == winning_incident
        active = [a for a in ops.dispatch.assignments() if a.unit_id == f"R-{n}"]
        assert [a.incident_id for a in active] == [winning_incident]
    assert sum(winners.values()) == ROUNDS
