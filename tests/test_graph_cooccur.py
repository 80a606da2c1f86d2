"""Co-occurrence: the planted convoy ranks first; the sort-merge join matches brute force."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict

import numpy as np
import pytest

from core.store import Store
from graph.cooccur import (
    Sightings,
    cooccurrence_pairs,
    cooccurring_in_store,
    cooccurring_with,
)
from graph.errors import GraphError
from tests.graph_fixtures import CONVOY_MATE, CONVOY_TARGET, Builder, add_convoy

LOCAL_OFFSET = 8 * 3600  # the default zone, Asia/Shanghai: UTC+8 since 1991


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = Store(tmp_path_factory.mktemp("convoy") / "store.sqlite")
    b = Builder()
    add_convoy(b, random.Random(5))
    b.write(s)
    return s


def test_planted_convoy_is_the_top_result_for_its_target(store: Store) -> None:
    found = cooccurring_in_store(store, CONVOY_TARGET, window=60, min_count=2)
    assert found[0].a == CONVOY_TARGET and found[0].b == CONVOY_MATE
    assert found[0].count == 16 and found[0].days == 4  # 4 devices a day for 4 days
    ev = found[0].evidence[0]
    assert abs(ev.time_a - ev.time_b) <= 60 and ev.record_a and ev.record_b
    assert ev.record_a != ev.record_b
    # the commuter shares one place a day: fewer meetings, ranked below the convoy
    commuter = next(r for r in found if r.b == "vehicle:浙A09999")
    assert commuter.count == 4 and commuter.count < found[0].count


def test_store_scan_and_targeted_reads_agree(store: Store) -> None:
    everything = Sightings.from_store(store)
    from_all = cooccurring_with(everything, CONVOY_TARGET, window=60, min_count=2)
    targeted = cooccurring_in_store(store, CONVOY_TARGET, window=60, min_count=2)
    assert [(r.b, r.count, r.places, r.days) for r in from_all] == [
        (r.b, r.count, r.places, r.days) for r in targeted
    ]


def test_all_pairs_mode_puts_the_convoy_first(store: Store) -> None:
    pairs = cooccurrence_pairs(Sightings.from_store(store), window=60, min_count=3)
    assert {pairs[0].a, pairs[0].b} == {CONVOY_TARGET, CONVOY_MATE}
    ev = pairs[0].evidence[0]
    for uid in (ev.record_a, ev.record_b):
        record = store.get_record(uid)
        assert record is not None and record.links[0].target == ev.device
    assert pairs[0].count >= pairs[-1].count


def _brute_force(reads: list[tuple[int, int, float]], window: float) -> dict:
    meetings: dict[tuple[int, int], set] = defaultdict(set)
    for (ea, da, ta), (eb, db, tb) in itertools.combinations(reads, 2):
        if da == db and ea != eb and abs(ta - tb) <= window:
            day = int((min(ta, tb) + LOCAL_OFFSET) // 86400)
            meetings[(min(ea, eb), max(ea, eb))].add((da, day))
    return {k: len(v) for k, v in meetings.items()}


def test_sort_merge_join_matches_a_pairwise_loop() -> None:
    rng = np.random.default_rng(2)
    n = 1500
    ent = rng.integers(0, 40, n)
    dev = rng.integers(0, 6, n)
    t = np.round(rng.random(n) * 3 * 86400)
    expected = {
        k: v for k, v in _brute_force(list(zip(ent, dev, t, strict=True)), 300).items() if v >= 2
    }
    s = Sightings.from_arrays(ent, dev, t)
    got = {
        (int(r.a), int(r.b)): r.count
        for r in cooccurrence_pairs(s, window=300, min_count=2, top=None)
    }
    got = {(min(a, b), max(a, b)): c for (a, b), c in got.items()}
    assert got == expected and len(expected) > 20
    one = cooccurring_with(s, "7", window=300, min_count=2, top=None)
    assert {int(r.b): r.count for r in one} == {
        (b if a == 7 else a): c for (a, b), c in expected.items() if 7 in (a, b)
    }


def test_iterable_input_and_errors() -> None:
    reads = [
        ("car1", "d1", 0.0, "r1"),
        ("car2", "d1", 10.0, "r2"),
        ("car1", "d2", 86400.0, "r3"),
        ("car2", "d2", 86405.0, "r4"),
        ("car3", "d2", 90000.0, "r5"),
    ]
    s = Sightings.from_iterable(reads)
    (r,) = cooccurring_with(s, "car1", window=30, min_count=2)
    assert (r.b, r.count, r.places, r.days) == ("car2", 2, 2, 2)
    assert {(e.record_a, e.record_b) for e in r.evidence} == {("r1", "r2"), ("r3", "r4")}
    with pytest.raises(GraphError, match="car9"):
        cooccurring_with(s, "car9")
    with pytest.raises(GraphError, match=r"sighting 0"):
        Sightings.from_iterable([("car1", "d1")])
