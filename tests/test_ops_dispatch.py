"""Recommendation order, assignment, reassignment, release and unit positions."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from ops.errors import (
    InvalidIncidentError,
    InvalidTransitionError,
    OpsError,
    UnitUnavailableError,
    UnknownUnitError,
)
from ops.geo import haversine_m, haversine_many_m
from tests.ops_fixtures import CENTRE, T0, FakeClock, make_ops, north_of


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ops(workspace: Any, clock: FakeClock) -> Any:
    ops = make_ops(workspace, clock)
    # (id, type, metres north of the centre)
    for uid, utype, metres in [
        ("A", "patrol_car", 1000),
        ("B", "foot", 500),
        ("C", "patrol_car", 3000),
        ("D", "patrol_car", 200),
        ("E", "motorcycle", 700),
        ("F", "traffic", 300),
    ]:
        lat, lon = north_of(CENTRE, metres)
        ops.units.add(uid, unit_type=utype, lat=lat, lon=lon, district="南湖区")
    ops.units.set_status("D", "off_duty")
    return ops


def _eta(metres: float, kmh: float) -> float:
    return metres * 1.35 / (kmh / 3.6)


def test_recommendation_order_by_eta_with_capability_filter(ops: Any) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])  # needs "patrol"
    recs = ops.dispatch.recommend(inc.id, limit=10)
    # D is off duty; F (traffic) cannot patrol. Foot patrol B is nearer than C but slower.
    assert [r.unit_id for r in recs] == ["E", "A", "C", "B"]
    by_id = {r.unit_id: r for r in recs}
    for uid, metres, kmh in [("E", 700, 32), ("A", 1000, 40), ("C", 3000, 40), ("B", 500, 5)]:
        assert by_id[uid].distance_m == pytest.approx(metres, abs=2)
        assert by_id[uid].eta_s == pytest.approx(_eta(metres, kmh), rel=0.005)
    assert not any(r.stale for r in recs)
    assert [r.unit_id for r in ops.dispatch.recommend(inc.id, limit=2)] == ["E", "A"]


def test_capabilities_override_and_point_recommendation(ops: Any) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    assert [r.unit_id for r in ops.dispatch.recommend(inc.id, capabilities=["accident"])] == ["F"]
    assert ops.dispatch.recommend(inc.id, capabilities=["no_such_skill"]) == []
    near = ops.dispatch.recommend_point(*north_of(CENTRE, 3000), capabilities=["patrol"], limit=1)
    assert near[0].unit_id == "C" and near[0].distance_m < 2


def test_stale_positions_are_flagged_not_hidden(ops: Any, clock: FakeClock) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    clock.advance(11 * 60)  # stale_minutes = 10
    ops.units.update_position("A", *north_of(CENTRE, 1000))
    recs = {r.unit_id: r for r in ops.dispatch.recommend(inc.id, limit=10)}
    assert not recs["A"].stale and recs["A"].position_age_s == 0
    assert recs["E"].stale and recs["E"].position_age_s == pytest.approx(660)


def test_unit_without_position_is_not_recommended(ops: Any) -> None:
    ops.units.add("G", unit_type="special")
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    assert "G" not in [r.unit_id for r in ops.dispatch.recommend(inc.id, limit=20)]


def test_incident_without_position_uses_district_seat(ops: Any) -> None:
    inc = ops.incidents.create("火警", 1, district="南湖区")
    assert ops.dispatch.recommend(inc.id)[0].unit_id in {"A", "C", "E", "B"}
    lost = ops.incidents.create("火警", 1)
    with pytest.raises(InvalidIncidentError, match=f"incident {lost.id} has no location"):
        ops.dispatch.recommend(lost.id)


def test_vectorised_haversine_matches_scalar() -> None:
    rng = np.random.default_rng(3)
    lats = 30.5 + rng.random(50) * 0.5
    lons = 120.5 + rng.random(50) * 0.6
    many = haversine_many_m(30.75, 120.75, lats, lons)
    for la, lo, d in zip(lats, lons, many, strict=True):
        assert d == pytest.approx(haversine_m(30.75, 120.75, la, lo), rel=1e-9)
    # one degree of latitude is about 111.2 km
    assert haversine_m(30, 120, 31, 120) == pytest.approx(111_195, rel=1e-3)


def test_recommend_open_agrees_with_single_recommendations(ops: Any) -> None:
    rng = np.random.default_rng(11)
    ids = []
    for _ in range(30):
        lat = CENTRE[0] + (rng.random() - 0.5) * 0.1
        lon = CENTRE[1] + (rng.random() - 0.5) * 0.1
        category = ["火警", "交通事故", "纠纷"][int(rng.integers(3))]
        ids.append(ops.incidents.create(category, 2, lat=lat, lon=lon).id)
    overview = ops.dispatch.recommend_open(limit=3)
    for iid in ids:
        single = [r.unit_id for r in ops.dispatch.recommend(iid, limit=3)]
        assert [row["unit_id"] for row in overview.get(iid, [])] == single


def test_assign_moves_incident_and_unit_and_is_audited(ops: Any, workspace: Any) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    made = ops.dispatch.assign(inc.id, ["E", "A"], user="commander-li")
    assert [a.unit_id for a in made] == ["E", "A"]
    after = ops.incidents.get(inc.id)
    assert after.status == "dispatched" and "dispatched" in after.stamps
    assert after.units == ("E", "A")
    unit = ops.units.get("E")
    assert (unit.status, unit.incident_id, unit.assigned_by) == (
        "dispatched",
        inc.id,
        "commander-li",
    )
    entries = workspace.audit.search(action="ops.dispatch.assign")
    assert entries[-1]["user"] == workspace.user  # the session's user, never the caller's pick
    assert entries[-1]["params"]["on_behalf_of"] == "commander-li"
    assert {k: entries[-1]["params"][k] for k in ("incident", "units")} == {
        "incident": inc.id,
        "units": ["E", "A"],
    }
    # The assigned units are not offered again.
    assert {"E", "A"}.isdisjoint(r.unit_id for r in ops.dispatch.recommend(inc.id, limit=10))


def test_assign_is_all_or_nothing(ops: Any) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    with pytest.raises(UnitUnavailableError, match="unit D is not available: it is 'off_duty'"):
        ops.dispatch.assign(inc.id, ["A", "D"])
    assert ops.units.get("A").status == "available"
    assert ops.incidents.get(inc.id).status == "received"
    assert ops.dispatch.assignments() == []


def test_assign_taken_unit_says_who_took_it(ops: Any) -> None:
    first = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    second = ops.incidents.create("纠纷", 3, lat=CENTRE[0], lon=CENTRE[1])
    ops.dispatch.assign(first.id, "A", user="console-1")
    with pytest.raises(UnitUnavailableError) as err:
        ops.dispatch.assign(second.id, "A", user="console-2")
    assert err.value.taken_by == "console-1" and err.value.incident_id == first.id
    assert str(err.value) == (
        f"unit A is not available: it is 'dispatched', assigned by console-1 to incident {first.id}"
    )


def test_assign_with_stale_expected_version_is_refused(ops: Any) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    seen = ops.units.get("A").version
    ops.units.set_status("A", "off_duty")
    ops.units.set_status("A", "available")
    with pytest.raises(UnitUnavailableError, match="changed since you looked"):
        ops.dispatch.assign(inc.id, "A", expected_versions={"A": seen})
    ops.dispatch.assign(inc.id, "A", expected_versions={"A": seen + 2})


def test_cannot_dispatch_to_closed_incident(ops: Any) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    ops.incidents.cancel(inc.id)
    with pytest.raises(
        InvalidTransitionError,
        match=f"incident {inc.id}: cannot go from 'cancelled' to 'dispatched'",
    ):
        ops.dispatch.assign(inc.id, "A")
    assert ops.units.get("A").status == "available"


def test_reassign_and_release(ops: Any) -> None:
    one = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    two = ops.incidents.create("纠纷", 3, lat=CENTRE[0], lon=CENTRE[1])
    ops.dispatch.assign(one.id, "A")
    ops.units.set_status("A", "en_route")
    moved = ops.dispatch.reassign("A", two.id)
    assert moved.incident_id == two.id
    assert ops.units.get("A").status == "dispatched"
    history = ops.incidents.assignments(one.id)
    assert history[0].end_reason == "reassigned" and history[0].ended_at is not None
    assert ops.incidents.get(one.id).units == ()
    assert ops.incidents.get(two.id).units == ("A",)
    released = ops.dispatch.release("A")
    assert released.status == "available" and released.incident_id is None
    assert ops.incidents.assignments(two.id)[0].end_reason == "released"
    with pytest.raises(OpsError, match="unit A is not assigned"):
        ops.dispatch.release("A")


def test_on_scene_stamps_incident_and_clearing_ends_assignment(ops: Any, clock: FakeClock) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    ops.dispatch.assign(inc.id, ["A", "E"])
    clock.advance(240)
    ops.units.set_status("E", "on_scene")
    clock.advance(120)
    ops.units.set_status("A", "on_scene")
    after = ops.incidents.get(inc.id)
    assert after.status == "on_scene"
    assert after.stamps["on_scene"].timestamp() - after.received_at.timestamp() == 240
    assert ops.dispatch.release("A").status == "cleared"
    ops.units.set_status("E", "cleared")
    assert ops.incidents.get(inc.id).units == ()
    assert [a.end_reason for a in ops.incidents.assignments(inc.id)] == ["released", "cleared"]
    ops.units.set_status("E", "available")


def test_positions_latest_fix_wins_and_bad_fixes_are_refused(ops: Any) -> None:
    ops.units.update_position("A", 30.8, 120.8, at=2_000_000_000)
    ops.units.update_position("A", 30.1, 120.1, at=1_999_999_000)  # older: ignored
    unit = ops.units.get("A")
    assert (unit.lat, unit.lon) == (30.8, 120.8)
    with pytest.raises(UnknownUnitError, match="'ZZ-9'"):
        ops.units.update_position("ZZ-9", 30.8, 120.8)
    with pytest.raises(OpsError, match="unit A: position"):
        ops.units.update_position("A", 130.0, 120.8)
    with pytest.raises(OpsError, match="unit A: position"):
        ops.units.update_position("A", math.nan, 120.8)


def test_events_pushed_in_process_and_journalled_for_others(ops: Any, workspace: Any) -> None:
    from core.workspace import Workspace
    from ops.service import OpsService

    seen: list[str] = []
    unsubscribe = ops.subscribe(lambda e: seen.append(e.kind))
    start = ops.last_event_id()
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    ops.dispatch.assign(inc.id, "A")
    ops.units.update_position("A", 30.76, 120.76)
    unsubscribe()
    ops.units.set_status("A", "en_route")
    assert seen == [
        "incident.created",
        "unit.updated",
        "assignment.created",
        "incident.updated",
        "unit.moved",
    ]
    other = OpsService(Workspace.open(workspace.root))  # another console's view
    kinds = [e.kind for e in other.events_since(start)]
    assert kinds == [
        "incident.created",
        "unit.updated",
        "assignment.created",
        "incident.updated",
        "unit.updated",
    ]  # GPS fixes are not journalled
    assert other.events_since(start)[2].payload["unit_id"] == "A"
    assert other.prune_events(datetime.fromtimestamp(T0 + 1, tz=UTC)) == start + len(kinds)
    assert other.events_since(0) == []


def test_board_counts(ops: Any) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    ops.dispatch.assign(inc.id, "A")
    board = ops.board()
    assert board["units"]["available"] == 4 and board["units"]["dispatched"] == 1
    assert board["units"]["off_duty"] == 1
    assert board["incidents"]["dispatched"] == 1
    assert [q["id"] for q in board["queue"]] == [inc.id]
    urgent = ops.incidents.create("燃气泄漏", 1, lat=CENTRE[0], lon=CENTRE[1])
    minor = ops.incidents.create("噪音扰民", 4, lat=CENTRE[0], lon=CENTRE[1])
    assert [q["id"] for q in ops.board(queue_limit=2)["queue"]] == [inc.id, urgent.id]
    assert ops.incidents.open_queue()[-1]["id"] == minor.id


def test_recommendation_follows_moves_status_and_roster_changes(ops: Any) -> None:
    inc = ops.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    assert ops.dispatch.recommend(inc.id, limit=1)[0].unit_id == "E"
    ops.units.update_position("C", *north_of(CENTRE, 50))  # position only
    assert ops.dispatch.recommend(inc.id, limit=1)[0].unit_id == "C"
    ops.units.set_status("C", "off_duty")  # status
    assert ops.dispatch.recommend(inc.id, limit=1)[0].unit_id == "E"
    ops.units.add("H", unit_type="patrol_car", lat=CENTRE[0], lon=CENTRE[1])  # roster
    assert ops.dispatch.recommend(inc.id, limit=1)[0].unit_id == "H"
    ops.units.add("H", unit_type="traffic", replace=True)  # capabilities: no more patrol
    assert ops.dispatch.recommend(inc.id, limit=1)[0].unit_id == "E"
