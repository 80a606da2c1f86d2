"""The ``day`` facet counts the workspace's calendar days, not a fixed UTC+8 (issue #18 item 5).

Both document builders agree: the Python reference (``search/document.py``) and the compiled
one (``search/native``), which converts naive record times itself where the zone is UTC+8
(``search.embedded_docs.native_zone_table``) and leaves the others to Python. Naive record
times, and naive dates in queries and filters, are read in the workspace's zone.
"""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.model import FieldRole, FieldSpec, Record, RecordSchema
from core.timezones import offset_table, zone_named
from search import embedded_docs as ed
from search.document import FieldRegistry, build_doc, record_time
from search.embedded import _Generation
from search.model import Filters
from search.plan import Planner

SCHEMA = RecordSchema(
    "incident",
    "Incident",
    (FieldSpec("summary", FieldRole.TEXT), FieldSpec("category", FieldRole.KEYWORD)),
)
ZONES = (
    "Asia/Shanghai",
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "UTC",
)
#: 23:30 on 1 March 2026 in New York is 04:30 UTC on the 2nd (and 12:30 on the 2nd in Shanghai).
NY_LATE = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


def registry(zone: str) -> FieldRegistry:
    return FieldRegistry.from_schemas([SCHEMA], zone_named(zone))


def test_a_late_evening_record_falls_on_its_local_day_in_the_workspace_zone() -> None:
    assert record_time(NY_LATE, zone_named("America/New_York"))[1] == "2026-03-01"
    assert record_time(NY_LATE, zone_named("Asia/Shanghai"))[1] == "2026-03-02"
    # London 23:30 in summer time (BST, UTC+1) is 22:30 UTC the same day
    london = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
    assert record_time(london, zone_named("Europe/London"))[1] == "2026-07-01"
    assert record_time(london, zone_named("Asia/Shanghai"))[1] == "2026-07-02"
    doc = build_doc(Record("s", "1", "incident", time=NY_LATE), registry("America/New_York"))
    assert doc["day"] == "2026-03-01"
    assert doc["time"] == int(NY_LATE.timestamp() * 1000)


def test_naive_record_times_are_wall_clock_time_in_the_workspace_zone() -> None:
    """Not a fixed UTC+8: 23:30 on the 1st, naive, is 23:30 New York time in a New York
    workspace (04:30 UTC on the 2nd) and 23:30 China Standard Time in a Shanghai one."""
    naive = datetime(2026, 3, 1, 23, 30)
    ms, day = record_time(naive, zone_named("America/New_York"))
    assert ms == int(NY_LATE.timestamp() * 1000) and day == "2026-03-01"
    ms, day = record_time(naive, zone_named("Asia/Shanghai"))
    assert ms == int(datetime(2026, 3, 1, 15, 30, tzinfo=UTC).timestamp() * 1000)
    assert day == "2026-03-01"
    doc = build_doc(Record("s", "1", "incident", time=naive), registry("America/New_York"))
    assert (doc["time"], doc["day"]) == (int(NY_LATE.timestamp() * 1000), "2026-03-01")


@pytest.mark.parametrize("zone", ZONES)
def test_the_offset_table_agrees_with_zoneinfo(zone: str) -> None:
    lo, hi, spans = offset_table(zone)
    info = zone_named(zone)
    rng = random.Random(zone)
    starts = [s for s, _ in spans]
    # random instants, and each side of every change
    instants = [rng.randrange(lo, hi) for _ in range(3000)]
    instants += [t + d for t in starts[1:] for d in (-1, 0, 1)]
    for t in instants:
        i = max(k for k, s in enumerate(starts) if s <= t)
        expected = datetime.fromtimestamp(t, tz=info).utcoffset()
        assert expected is not None and spans[i][1] == int(expected.total_seconds()), (zone, t)


def test_naive_dates_in_filters_and_queries_are_workspace_local() -> None:
    planner = Planner(registry("America/New_York"))
    flt = planner.filters(Filters(since=datetime(2026, 3, 1), until=datetime(2026, 3, 2)))
    (rng,) = flt
    assert rng.low == datetime(2026, 3, 1, 5, tzinfo=UTC).timestamp() * 1000  # EST = UTC-5
    assert rng.low <= NY_LATE.timestamp() * 1000 < rng.high
    aware = planner.filters(Filters(since=datetime(2026, 3, 1, tzinfo=UTC)))[0]
    assert aware.low == datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000  # honoured
    plan = planner.plan("time:[2026-03-01 TO 2026-03-01]")
    assert plan.root.low <= NY_LATE.timestamp() * 1000 < plan.root.high


# -- the compiled builder ----------------------------------------------------------------------
needs_native = pytest.mark.skipif(
    ed._native is None and os.environ.get("SUPERBRAIN_REQUIRE_NATIVE") != "1",
    reason="search._native is not built (no Rust toolchain at install time)",
)


def _both(records: list[Record], reg: FieldRegistry, tmp: Path) -> list[tuple[Any, Any]]:
    layout = _Generation(tmp, reg, create=True).doc_layout
    native = ed.native_builder(reg, layout)
    assert native is not None
    built = native[0].build(records)
    return [
        (
            None if c is None else json.loads(c),
            json.loads(ed.tantivy_json(build_doc(r, reg), layout)),
        )
        for c, r in zip(built, records, strict=True)
    ]


@needs_native
@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Shanghai"])
def test_the_compiled_builder_counts_the_same_local_days(zone: str, tmp_path: Path) -> None:
    naive_ny_late = datetime(2026, 3, 1, 23, 30)  # wall-clock time in the workspace's zone
    london_late = datetime(2026, 7, 1, 23, 30)
    records = [
        Record("s", str(i), "incident", time=t, text={"summary": "x"})
        for i, t in enumerate([naive_ny_late, london_late, NY_LATE, datetime(1988, 6, 1, 23, 30)])
    ]  # Shanghai's DST years
    pairs = _both(records, registry(zone), tmp_path / "g")
    for compiled, reference in pairs:
        assert compiled is not None  # naive and aware times alike are built natively
        assert compiled["day"] == reference["day"] and compiled["time"] == reference["time"]
    days = [
        reference["day"][0] if isinstance(reference["day"], list) else reference["day"]
        for _, reference in pairs
    ]
    local = {
        "America/New_York": ["2026-03-01", "2026-07-01", "2026-03-01"],
        "Europe/London": ["2026-03-01", "2026-07-01", "2026-03-02"],
        "Asia/Shanghai": ["2026-03-01", "2026-07-01", "2026-03-02"],
    }[zone]
    assert days[:3] == local
    for naive in (naive_ny_late, london_late):  # read in the zone, not at a fixed +8
        doc = build_doc(Record("s", "n", "incident", time=naive), registry(zone))
        assert doc["time"] == int(naive.replace(tzinfo=zone_named(zone)).timestamp() * 1000)


@needs_native
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    zone=st.sampled_from(ZONES),
    times=st.lists(
        st.one_of(
            st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2080, 1, 1)),
            st.datetimes(
                min_value=datetime(1971, 1, 2),
                max_value=datetime(2069, 1, 1),
                timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]),
            ),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_any_time_in_any_zone_means_the_same_in_both_builders(
    tmp_path_factory: pytest.TempPathFactory, zone: str, times: list[datetime]
) -> None:
    records = [Record("s", str(i), "incident", time=t) for i, t in enumerate(times)]
    for compiled, reference in _both(records, registry(zone), tmp_path_factory.mktemp("g")):
        if compiled is not None:  # out of the table's years it may leave the time to Python
            assert compiled["day"] == reference["day"] and compiled["time"] == reference["time"]


# -- the graph's days and hours --------------------------------------------------------------------
def test_co_occurrence_meetings_are_counted_on_local_days() -> None:
    """Two meetings at one checkpoint, at 23:30 and 00:30 New York time: two local days there,
    one day (the 2nd, 12:30 and 13:30) in Shanghai."""
    from graph.cooccur import Sightings, cooccurring_with

    first = NY_LATE.timestamp()
    reads = [
        ("vehicle:A", "device:K1", first, "r1"),
        ("vehicle:B", "device:K1", first + 5, "r2"),
        ("vehicle:A", "device:K1", first + 3600, "r3"),
        ("vehicle:B", "device:K1", first + 3605, "r4"),
    ]
    sightings = Sightings.from_iterable(reads)
    (ny,) = cooccurring_with(sightings, "vehicle:A", min_count=1, zone="America/New_York")
    (cst,) = cooccurring_with(sightings, "vehicle:A", min_count=1)
    assert (ny.count, ny.days) == (2, 2)
    assert (cst.count, cst.days) == (1, 1)


def test_the_time_wheel_is_drawn_in_the_workspace_zone() -> None:
    from graph.timeline import day_hour_matrix

    grid = day_hour_matrix([NY_LATE.timestamp()], zone_named("America/New_York"))
    assert grid[6][23] == 1  # Sunday 1 March, 23:00-24:00
    grid = day_hour_matrix([NY_LATE.timestamp()])  # the default zone: Monday 12:30
    assert grid[0][12] == 1


# -- every backend: the facet and the filters agree on the local day -----------------------------
@pytest.mark.parametrize("kind", ["embedded", "es9"])
def test_each_backend_counts_new_york_days_and_filters_by_them(kind: str, tmp_path: Path) -> None:
    from search_backends import drop_es_indices, es_backend

    from search.embedded import EmbeddedBackend
    from search.model import SearchRequest

    reg = registry("America/New_York")
    backend = EmbeddedBackend(tmp_path / "e", reg) if kind == "embedded" else es_backend(kind, reg)
    try:
        records = [
            Record("s", "late", "incident", time=NY_LATE, text={"summary": "盗窃"}),
            Record(
                "s",
                "naive",
                "incident",
                time=datetime(2026, 3, 1, 23, 40),  # naive: New York wall-clock time
                text={"summary": "盗窃"},
            ),
            Record(
                "s",
                "next",
                "incident",
                time=NY_LATE + timedelta(hours=10),
                text={"summary": "盗窃"},
            ),
        ]
        assert not backend.index(records).failures
        backend.flush()
        result = backend.search(SearchRequest("盗窃", facets=("day",)))
        assert {b.value: b.count for b in result.facets["day"]} == {
            "2026-03-01": 2,
            "2026-03-02": 1,
        }
        first = backend.search(
            SearchRequest(
                "盗窃", filters=Filters(since=datetime(2026, 3, 1), until=datetime(2026, 3, 2))
            )
        )
        assert {h.uid for h in first.hits} == {"s:late", "s:naive"}
        assert {h.uid for h in backend.search(SearchRequest("day:2026-03-01")).hits} == {
            "s:late",
            "s:naive",
        }
    finally:
        if kind == "embedded":
            backend.close()
        else:
            drop_es_indices(backend)  # type: ignore[arg-type]


def test_dashboard_months_follow_the_workspace_zone(tmp_path: Path) -> None:
    """The dashboard's records-per-month chart names each record's month in the workspace's
    zone: 23:30 on 31 March in New York is March there (already April in UTC and in Shanghai)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from console.analytics import counts_over_time
    from core.model import Record
    from core.store import Store

    store = Store(tmp_path / "store.sqlite")
    late = datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    store.upsert_batch(
        [
            Record(
                source="calls",
                type="call",
                id="1",
                time=late,
                fields={"category": "theft"},
                text={"summary": "x"},
            )
        ]
    )
    york = counts_over_time(store, "category", zone=ZoneInfo("America/New_York"))
    shanghai = counts_over_time(store, "category", zone=ZoneInfo("Asia/Shanghai"))
    assert york.periods == ["2026-03"] and york.counts == {"theft": [1]}
    assert shanghai.periods == ["2026-04"]
