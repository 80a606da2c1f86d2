"""The structure planted in the synthetic data, for analysts to find and for tests to assert.

Every id is a canonical entity key (as :mod:`core.normalize` writes it), so a test can look the
entity up directly: ``store.get_entity(entity_id("phone", p.shared_phone))``. The planted rows
are the first rows of each generated file; a source generated with at least
:data:`MIN_COUNT` rows contains all of them. docs/DATA.md describes each pattern.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from plugins.builtin.world import DAYS, START, World

#: Rows per source needed for every planted row to be written (the demo's "tiny" is 200).
MIN_COUNT = 120

# Resident indices carrying each pattern (all below world.N_PLANTED).
SHARED_PHONE_PEOPLE = (0, 1, 2)
REPEAT_OFFENDERS = (3, 4, 5)
WATCHLISTED = (6, 7, 8)
GROUP_A = (9, 10, 11, 12)
GROUP_B = (13, 14, 15, 16)
GO_BETWEEN = 17
CONVOY_OWNERS = (18, 19, 20)
EBIKE_PAIR = (21, 22)
ASSOCIATE = 23  # shares a hotel room with the first watchlisted person

CONVOY_DAYS = 6
CONVOY_DEVICES = 4
OFFENCES_EACH = 4
EBIKE_OCCASIONS = 6


@dataclass(frozen=True)
class Sighting:
    """One planted read: who (plate, phone or tag), where (place code) and when (local time)."""

    key: str
    place: str
    time: datetime


@dataclass(frozen=True)
class Planted:
    """Ids of the planted structure for one seed (canonical keys; person = ID number).

    Attributes
    ----------
    shared_phone, shared_phone_people:
        One mobile number registered by three different residents.
    repeat_offenders, offender_cases:
        Residents named as suspect in several incidents, and those incidents' case numbers.
    watchlisted, watchlisted_plates, watchlisted_phones, watch_cases:
        Planted watchlist entries (the first rows of the watchlist file), their vehicles, phones
        and case numbers. Each checks into hotels (``watchlisted_hotels``) and their vehicles
        pass checkpoints (``watchlisted_reads``).
    associate:
        Shares a hotel room with the first watchlisted person (co-guest).
    convoy_plates, convoy_devices, convoy_reads:
        Three vehicles passing the same checkpoints within 60 s of each other on
        :data:`CONVOY_DAYS` days.
    group_a_phones, group_b_phones, go_between_phone, go_between_person:
        Two calling groups that never call each other, and the one phone calling both.
    ebike_tags, ebike_reads:
        Two e-bike tags read at the same gates within 30 s, :data:`EBIKE_OCCASIONS` times.
    """

    seed: int
    shared_phone: str
    shared_phone_people: tuple[str, ...]
    repeat_offenders: tuple[str, ...]
    offender_cases: dict[str, tuple[str, ...]]
    watchlisted: tuple[str, ...]
    watchlisted_plates: tuple[str, ...]
    watchlisted_phones: tuple[str, ...]
    watch_cases: tuple[str, ...]
    watchlisted_hotels: tuple[str, ...]
    watchlisted_reads: tuple[Sighting, ...]
    associate: str
    convoy_plates: tuple[str, ...]
    convoy_devices: tuple[str, ...]
    convoy_reads: tuple[Sighting, ...]
    group_a_phones: tuple[str, ...]
    group_b_phones: tuple[str, ...]
    go_between_phone: str
    go_between_person: str
    ebike_tags: tuple[str, ...]
    ebike_reads: tuple[Sighting, ...]


def tag_id(person_index: int, area: str) -> str:
    """The e-bike RFID tag of a resident (every resident may own at most one)."""
    return f"EB{area}{person_index:07d}"


def case_number(area: str, day: datetime, n: int) -> str:
    """A 110 incident number: J + area code + date + running number."""
    return f"J{area}{day:%Y%m%d}{n:05d}"


def _day(rng: random.Random) -> datetime:
    return START + timedelta(days=rng.randrange(DAYS))


@cache
def planted(seed: int = 0) -> Planted:
    """The planted structure of the world for ``seed`` (pure: no files are read or written)."""
    world = World(seed)
    rng = random.Random(f"planted:{seed}")
    person = world.person
    ids = lambda idx: tuple(person(i).id_number for i in idx)  # noqa: E731
    phones = lambda idx: tuple(person(i).phone for i in idx)  # noqa: E731

    offender_cases: dict[str, tuple[str, ...]] = {}
    n = 0
    for i in REPEAT_OFFENDERS:
        p = person(i)
        cases = []
        for _ in range(OFFENCES_EACH):
            cases.append(case_number(p.household[:6], _day(rng), n))
            n += 1
        offender_cases[p.id_number] = tuple(cases)

    hotels = world.hotels
    watch_hotels = tuple(hotels[rng.randrange(len(hotels))].code for _ in WATCHLISTED)
    devices = world.checkpoints
    watch_reads = []
    for i in WATCHLISTED:
        for _ in range(4):
            dev = devices[rng.randrange(len(devices))]
            t = _day(rng) + timedelta(seconds=rng.randrange(6 * 3600, 23 * 3600))
            watch_reads.append(Sighting(person(i).plate, dev.code, t))

    route = rng.sample(range(len(devices)), CONVOY_DEVICES)
    convoy_reads = []
    for day in sorted(rng.sample(range(DAYS), CONVOY_DAYS)):
        t = START + timedelta(days=day, seconds=rng.randrange(7 * 3600, 20 * 3600))
        for d in route:
            lags = [0, *sorted(rng.sample(range(3, 58), len(CONVOY_OWNERS) - 1))]
            for owner, lag in zip(CONVOY_OWNERS, lags, strict=True):
                convoy_reads.append(
                    Sighting(person(owner).plate, devices[d].code, t + timedelta(seconds=lag))
                )
            t += timedelta(seconds=rng.randrange(360, 900))

    gates = world.gates
    gate_choice = rng.sample(range(len(gates)), 3)
    ebike_reads = []
    tags = tuple(tag_id(i, person(i).household[:6]) for i in EBIKE_PAIR)
    for _ in range(EBIKE_OCCASIONS):
        gate = gates[rng.choice(gate_choice)].code
        t = _day(rng) + timedelta(seconds=rng.randrange(6 * 3600, 22 * 3600))
        ebike_reads.append(Sighting(tags[0], gate, t))
        ebike_reads.append(Sighting(tags[1], gate, t + timedelta(seconds=rng.randrange(4, 30))))

    return Planted(
        seed=seed,
        shared_phone=person(SHARED_PHONE_PEOPLE[0]).phone,
        shared_phone_people=ids(SHARED_PHONE_PEOPLE),
        repeat_offenders=ids(REPEAT_OFFENDERS),
        offender_cases=offender_cases,
        watchlisted=ids(WATCHLISTED),
        watchlisted_plates=tuple(person(i).plate for i in WATCHLISTED),
        watchlisted_phones=phones(WATCHLISTED),
        watch_cases=tuple(
            f"A{person(i).household[:6]}2026{k + 1:05d}" for k, i in enumerate(WATCHLISTED)
        ),
        watchlisted_hotels=watch_hotels,
        watchlisted_reads=tuple(watch_reads),
        associate=person(ASSOCIATE).id_number,
        convoy_plates=tuple(person(i).plate for i in CONVOY_OWNERS),
        convoy_devices=tuple(devices[d].code for d in route),
        convoy_reads=tuple(convoy_reads),
        group_a_phones=phones(GROUP_A),
        group_b_phones=phones(GROUP_B),
        go_between_phone=person(GO_BETWEEN).phone,
        go_between_person=person(GO_BETWEEN).id_number,
        ebike_tags=tags,
        ebike_reads=tuple(ebike_reads),
    )


def phone_of(world: World, index: int) -> str:
    """The phone a resident registers: the shared number for the shared-phone people."""
    if index in SHARED_PHONE_PEOPLE:
        return world.person(SHARED_PHONE_PEOPLE[0]).phone
    return world.person(index).phone
