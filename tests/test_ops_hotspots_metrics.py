"""Hotspots (grid cells and districts, change against the previous period) and metrics
(response-time distribution, SLA breaches by priority, mediation success by area)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ops.geo import haversine_m, point_in_polygon
from ops.hotspots import cells_geojson
from tests.ops_fixtures import T0, FakeClock, make_ops, north_of

P1 = (30.7512, 120.7611)  # 南湖区
P2 = north_of(P1, 2000)  # 2 km north
P3 = (30.5300, 120.9400)  # 海盐县


def _at(hours: float) -> datetime:
    return datetime.fromtimestamp(T0 + hours * 3600, tz=UTC)


@pytest.fixture
def ops(workspace: Any) -> Any:
    ops = make_ops(workspace)
    placed = [
        (P1, 30, 5),
        (P2, 30, 2),
        (P3, 30, 1),  # this period (hours after T0)
        (P1, -30, 1),
        (P2, -30, 3),
    ]  # previous period
    for point, hours, n in placed:
        for _ in range(n):
            ops.incidents.create("盗窃", 3, lat=point[0], lon=point[1], received_at=_at(hours))
    cancelled = ops.incidents.create("盗窃", 3, lat=P1[0], lon=P1[1], received_at=_at(31))
    ops.incidents.cancel(cancelled.id)
    ops.incidents.create("火警", 1, district="南湖区", received_at=_at(40))  # no position
    return ops


def test_hotspots_by_cell_with_change(ops: Any) -> None:
    result = ops.hotspots(_at(0), _at(48))
    assert result["total"] == 9 and result["previous_total"] == 4
    assert result["previous"]["start"] == _at(-48).isoformat()
    cells = result["cells"]
    assert [(c["count"], c["previous"], c["change"]) for c in cells] == [
        (5, 1, 4),
        (2, 3, -1),
        (1, 0, 1),
    ]
    assert cells[0]["change_pct"] == 400.0 and cells[2]["change_pct"] is None
    for cell, point in zip(cells, (P1, P2, P3), strict=True):
        assert point_in_polygon(point[0], point[1], cell["polygon"])
        assert haversine_m(*cell["center"], *point) < 500
    ring = cells[0]["polygon"]
    assert ring[0] == ring[-1] and len(ring) == 5
    assert haversine_m(*ring[0], *ring[1]) == pytest.approx(500, rel=0.01)  # south→north edge
    assert haversine_m(*ring[1], *ring[2]) == pytest.approx(500, rel=0.01)  # west→east edge
    assert result["unlocated"] == 1


def test_time_range_of_incidents(ops: Any) -> None:
    assert ops.incidents.time_range() == (_at(-30), _at(40))


def test_hotspots_by_district_and_category(ops: Any) -> None:
    result = ops.hotspots(_at(0), _at(48))
    districts = {d["district"]: (d["count"], d["previous"]) for d in result["districts"]}
    assert districts == {"南湖区": (8, 4), "海盐县": (1, 0)}
    fires = ops.hotspots(_at(0), _at(48), category="火警")
    assert fires["total"] == 1 and fires["cells"] == []
    coarse = ops.hotspots(_at(0), _at(48), cell_m=20_000)
    assert coarse["cells"][0]["count"] == 7  # P1 and P2 share a 20 km cell
    with pytest.raises(ValueError, match="before it starts"):
        ops.hotspots(_at(48), _at(0))


def test_hotspot_cells_as_geojson(ops: Any) -> None:
    geo = cells_geojson(ops.hotspots(_at(0), _at(48)))
    first = geo["features"][0]
    lon, lat = first["geometry"]["coordinates"][0][0]
    assert 120 < lon < 121 and 30 < lat < 31  # GeoJSON order is (lon, lat)
    assert first["properties"]["count"] == 5


def _respond(
    ops: Any,
    clock: FakeClock,
    priority: int,
    minutes: float,
    district_point: tuple[float, float] = P1,
) -> int:
    inc = ops.incidents.create("盗窃", priority, lat=district_point[0], lon=district_point[1])
    ops.incidents.advance(inc.id, "dispatched")
    clock.advance(minutes * 60)
    ops.incidents.advance(inc.id, "on_scene")
    return int(inc.id)


def test_response_distribution_and_sla_breaches(workspace: Any) -> None:
    clock = FakeClock()
    ops = make_ops(workspace, clock)
    for minutes in (5, 8, 15):  # P1 target: 10 min
        _respond(ops, clock, 1, minutes)
    for minutes in (10, 25):  # P2 target: 20 min
        _respond(ops, clock, 2, minutes)
    waiting = ops.incidents.create("火警", 1, lat=P1[0], lon=P1[1])  # open, no one on scene
    clock.advance(30 * 60)
    m = ops.metrics()
    assert m["incidents"] == 6
    assert m["response"]["count"] == 5
    assert m["response"]["p50"] == 10.0 and m["response"]["max"] == 25.0
    assert m["dispatch"]["count"] == 5 and m["dispatch"]["max"] == 0.0  # dispatched at once
    p1 = m["by_priority"]["1"]
    assert p1["response"]["count"] == 3 and p1["response"]["p50"] == 8.0
    assert p1["response"]["p95"] == pytest.approx(14.3)
    assert p1["respond_breaches"] == 2  # the 15-minute response and the one still waiting
    assert p1["breach_rate"] == 0.5
    assert m["by_priority"]["2"]["respond_breaches"] == 1
    assert m["by_priority"]["4"]["incidents"] == 0 and m["by_priority"]["4"]["breach_rate"] is None
    hist = {h["from_min"]: h["count"] for h in m["response"]["histogram"]}
    assert (hist[0], hist[5], hist[10], hist[15], hist[20]) == (0, 2, 1, 1, 1)  # [from, to)
    ops.incidents.cancel(waiting.id)
    assert ops.metrics()["by_priority"]["1"]["respond_breaches"] == 1


def test_mediation_success_rate_by_area(workspace: Any) -> None:
    ops = make_ops(workspace)
    for point, outcome in [
        (P1, "success"),
        (P1, "success"),
        (P1, "failed"),
        (P1, "pending"),
        (P3, "failed"),
    ]:
        inc = ops.incidents.create("纠纷", 3, lat=point[0], lon=point[1], dispute=True)
        ops.incidents.set_mediation(inc.id, outcome)
    ops.incidents.create("纠纷", 3, lat=P1[0], lon=P1[1], dispute=True)  # no outcome yet
    med = ops.metrics()["mediation"]
    assert med["南湖区"] == {
        "cases": 4,
        "success": 2,
        "failed": 1,
        "pending": 1,
        "success_rate": pytest.approx(0.6667, abs=1e-4),
    }
    assert med["海盐县"]["success_rate"] == 0.0
    assert ops.metrics()["mediation_total"]["cases"] == 5


def test_metrics_period_filter(workspace: Any) -> None:
    clock = FakeClock()
    ops = make_ops(workspace, clock)
    _respond(ops, clock, 3, 12)
    clock.advance(timedelta(days=2).total_seconds())
    _respond(ops, clock, 3, 40)
    later = ops.metrics(start=_at(24))
    assert later["incidents"] == 1 and later["response"]["max"] == 40.0
