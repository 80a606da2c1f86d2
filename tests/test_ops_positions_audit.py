"""Issue #20, position audit volume: every fix is kept in ``ops_positions`` with its sender, and
the audit log gets one entry per account and unit per minute — written with the minute's first
fix and summarising the fixes since the entry before (count, first/last position, id range,
chained SHA-256) — so the chain still vouches for every fix. (Before: one entry per fix.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ops_fixtures import CENTRE, FakeClock, make_ops, north_of


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ops(workspace: Any, clock: FakeClock) -> Any:
    ops = make_ops(workspace, clock)
    for uid in ("A", "B"):
        ops.units.add(uid, unit_type="patrol_car", lat=CENTRE[0], lon=CENTRE[1])
    return ops


def _report(ops: Any, clock: FakeClock, minutes: int, every_s: float = 10.0) -> list[Any]:
    """Both units report every ``every_s`` for ``minutes``, as their devices would."""
    sent = []
    for step in range(int(minutes * 60 / every_s)):
        for n, unit in enumerate(("A", "B")):
            lat, lon = north_of(CENTRE, 100 * step + n)
            ops.units.update_positions(
                [(unit, lat, lon, None)], via="device", audit_action="field.position"
            )
            sent.append((unit, lat, lon, clock.now))
        clock.advance(every_s)
    return sent


def _entries(workspace: Any) -> list[dict[str, Any]]:
    return [e for e in workspace.audit.entries() if e["action"] == "field.position"]


def test_a_fix_every_10_s_is_kept_and_audited_once_a_minute_with_a_summary(
    workspace: Any, ops: Any, clock: FakeClock
) -> None:
    from ops.positions import verify_entry

    sent = _report(ops, clock, minutes=10)
    rows = ops.ctx.con.execute(
        "SELECT unit_id, lat, lon, at, account, via FROM ops_positions ORDER BY id"
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == sent  # every fix, as sent
    assert {(r[4], r[5]) for r in rows} == {("tester", "device")}  # the session's account
    entries = _entries(workspace)
    # 120 fixes; one entry per unit per minute (was: 120 entries)
    assert len(entries) == 2 * 10
    assert {e["user"] for e in entries} == {"tester"}
    for unit in ("A", "B"):
        mine = [e["params"] for e in entries if e["params"]["unit"] == unit]
        assert "since_last_entry" not in mine[0]  # the first fix: audited at once
        for p in mine[1:]:
            summary = p["since_last_entry"]
            assert summary["fixes"] == 5  # the five fixes after the previous entry
            assert summary["first"]["at"] < summary["last"]["at"] < p["at"]
        counted = len(mine) + sum(p.get("since_last_entry", {}).get("fixes", 0) for p in mine)
        assert counted == 60 - 5  # the last minute's 5 are summarised by the next entry
    assert all(verify_entry(ops.ctx.con, e["user"], e["params"]) for e in entries)
    assert workspace.audit.verify() == []


def test_a_position_row_changed_after_the_fact_no_longer_matches_its_audit_entry(
    workspace: Any, ops: Any, clock: FakeClock
) -> None:
    from ops.positions import verify_entry

    _report(ops, clock, minutes=3)
    entries = _entries(workspace)
    summarised = next(e for e in entries if "since_last_entry" in e["params"])
    first, last = summarised["params"]["since_last_entry"]["ids"]
    with ops.ctx.store.transaction() as con:  # someone with database access moves a fix
        con.execute("UPDATE ops_positions SET lat = lat + 0.01 WHERE id=?", (first + 2,))
    assert not verify_entry(ops.ctx.con, summarised["user"], summarised["params"])
    with ops.ctx.store.transaction() as con:  # or deletes one
        con.execute("DELETE FROM ops_positions WHERE id=?", (last,))
    assert not verify_entry(ops.ctx.con, summarised["user"], summarised["params"])
    others = [e for e in entries if e is not summarised]
    assert all(verify_entry(ops.ctx.con, e["user"], e["params"]) for e in others)
    opener = entries[0]  # an entry naming its own fix
    with ops.ctx.store.transaction() as con:
        con.execute(
            "UPDATE ops_positions SET lon = lon + 0.01 WHERE id=?",
            (opener["params"]["position_id"],),
        )
    assert not verify_entry(ops.ctx.con, opener["user"], opener["params"])


def test_a_unit_that_reports_after_a_silence_is_audited_at_once(
    workspace: Any, ops: Any, clock: FakeClock
) -> None:
    _report(ops, clock, minutes=0.5)  # 3 fixes per unit: one entry each
    assert len(_entries(workspace)) == 2
    clock.advance(3600)  # off duty for an hour
    lat, lon = north_of(CENTRE, 5000)
    ops.units.update_positions([("A", lat, lon, None)], via="device", audit_action="field.position")
    last = _entries(workspace)[-1]["params"]
    assert (last["unit"], last["lat"], last["since_last_entry"]["fixes"]) == ("A", lat, 2)
    # a commander's move or a plugin's feed is kept too (audited by its own service)
    ops.units.update_position("B", lat, lon, via="commander")
    assert (
        ops.ctx.con.execute("SELECT via FROM ops_positions ORDER BY id DESC LIMIT 1").fetchone()[0]
        == "commander"
    )
    assert len(_entries(workspace)) == 3
