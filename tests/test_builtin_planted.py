"""The planted structure is in the store after ingesting the seven demo-sized sources, where
graph and search engineers (and analysts) will look for it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

import pytest

from core.model import entity_id
from plugins.builtin import planted as pl
from tests.builtin_fixtures import SEED, Built, build_all


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    b = build_all(tmp_path_factory.mktemp("planted"))
    yield b
    b.ws.close()


@pytest.fixture(scope="module")
def plan() -> pl.Planted:
    return pl.planted(SEED)


def neighbours(built: Built, eid: str, link_type: str) -> set[str]:
    links = built.ws.store.links_touching([eid], link_types=[link_type])
    return {lk.target if lk.source == eid else lk.source for lk in links}


def test_planted_is_deterministic_and_seed_dependent() -> None:
    assert pl.planted(3) == pl.planted(3)
    assert pl.planted(3).shared_phone != pl.planted(4).shared_phone
    assert pl.MIN_COUNT <= 200


def test_three_people_share_one_phone(built: Built, plan: pl.Planted) -> None:
    phone = entity_id("phone", plan.shared_phone)
    owners = {e for e in neighbours(built, phone, "owns") if e.startswith("person:")}
    expected = {entity_id("person", i) for i in plan.shared_phone_people}
    assert expected <= owners
    assert len(expected) == 3


def test_convoy_passes_the_same_checkpoints_within_a_minute(built: Built, plan: pl.Planted) -> None:
    store = built.ws.store
    passes = {}
    for plate in plan.convoy_plates:
        vid = entity_id("vehicle", plate)
        passes[plate] = [
            (lk.target, lk.time) for lk in store.links_touching([vid], link_types=["passed"])
        ]
    lead, *others = plan.convoy_plates
    together = 0
    for device, t in passes[lead]:
        assert t is not None
        if all(
            any(
                d == device and u is not None and abs(u - t) <= timedelta(seconds=60)
                for d, u in passes[o]
            )
            for o in others
        ):
            together += 1
    assert together >= pl.CONVOY_DAYS * pl.CONVOY_DEVICES
    assert {d for d, _ in passes[lead]} >= {entity_id("device", c) for c in plan.convoy_devices}


def test_go_between_is_the_only_bridge_between_two_calling_groups(
    built: Built, plan: pl.Planted
) -> None:
    a = {entity_id("phone", p) for p in plan.group_a_phones}
    b = {entity_id("phone", p) for p in plan.group_b_phones}
    g = entity_id("phone", plan.go_between_phone)
    for phone in a:
        called = neighbours(built, phone, "called")
        assert g in called
        assert not called & b, "group A never calls group B directly"
    for phone in b:
        assert g in neighbours(built, phone, "called")
    owners = neighbours(built, g, "owns")
    assert entity_id("person", plan.go_between_person) in owners


def test_repeat_offenders_are_suspects_in_several_incidents(built: Built, plan: pl.Planted) -> None:
    for person, cases in plan.offender_cases.items():
        incidents = neighbours(built, entity_id("person", person), "involved_in")
        assert {entity_id("incident", c) for c in cases} <= incidents
        assert len(incidents) >= pl.OFFENCES_EACH


def test_ebike_tags_travel_together(built: Built, plan: pl.Planted) -> None:
    store = built.ws.store
    reads = defaultdict(list)
    for tag in plan.ebike_tags:
        for lk in store.links_touching([entity_id("tag", tag)], link_types=["passed"]):
            reads[tag].append((lk.target, lk.time))
    first, second = plan.ebike_tags
    together = sum(
        1
        for gate, t in reads[first]
        if any(g == gate and abs(u - t) <= timedelta(seconds=30) for g, u in reads[second])
    )
    assert together >= pl.EBIKE_OCCASIONS


def test_watchlisted_people_stay_in_hotels_and_their_cars_pass_checkpoints(
    built: Built, plan: pl.Planted
) -> None:
    for k, person in enumerate(plan.watchlisted):
        pid = entity_id("person", person)
        assert entity_id("incident", plan.watch_cases[k]) in neighbours(built, pid, "watchlisted")
        hotels = neighbours(built, pid, "stayed_at")
        assert entity_id("hotel", plan.watchlisted_hotels[k]) in hotels
        vehicle = entity_id("vehicle", plan.watchlisted_plates[k])
        assert vehicle in neighbours(built, pid, "owns")
        assert len(neighbours(built, vehicle, "passed")) >= 1
    first = entity_id("person", plan.watchlisted[0])
    assert entity_id("person", plan.associate) in neighbours(built, first, "co_located")
