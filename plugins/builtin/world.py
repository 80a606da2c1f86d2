"""One synthetic 嘉兴市, deterministic by seed, shared by every built-in source's generator.

People, phones, vehicles, hotels, checkpoints, gates and cell towers are functions of
``(seed, index)``, so the population registry, the hotel check-ins, the plate reads and the call
records generated with the same seed talk about the same people. Sources generated with the same
``count`` draw their background people from the same pool (the first ``pool_size(count)``
residents). On top of the background, :mod:`plugins.builtin.planted` plants structure worth
finding; :func:`plugins.builtin.planted.planted` returns its ids.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from plugins.builtin import geo, streets
from plugins.builtin.lexicon import (
    COMMUNITIES,
    DISTRICTS,
    GIVEN,
    HOTEL_BRANDS,
    MOBILE_PREFIXES,
    ORG_KINDS,
    ORG_WORDS,
    PUBLIC_UNITS,
    ROADS,
    SURNAMES,
)

#: First local day (China Standard Time) of the generated activity, and its length in days.
START = datetime(2026, 9, 1)
DAYS = 60

#: Residents with these indices carry the planted structure (see plugins.builtin.planted).
N_PLANTED = 24
#: Planted residents who always own a vehicle (convoy owners and watchlisted people).
_FORCE_VEHICLE = frozenset({6, 7, 8, 18, 19, 20})
#: Index of the first visitor (someone from outside the city: hotel guests, callers).
VISITOR_BASE = 10_000_000
_VISITOR_AREAS = (
    "310101",
    "310115",
    "320505",
    "320583",
    "330106",
    "340104",
    "410105",
    "420111",
    "510107",
    "360102",
)

_BIRTH_FIRST = date(1955, 1, 1)
_BIRTH_DAYS = 18993  # 1955-01-01 .. 2006-12-31; coprime with the multiplier below
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PLATE_LETTERS = "ABCDEFGHJK"
DISTRICT_NAMES: tuple[str, ...] = tuple(DISTRICTS)
_DISTRICT_WEIGHTS = (22, 16, 12, 9, 15, 12, 14)  # urban districts are busier


def pool_size(count: int) -> int:
    """How many residents the background of a ``count``-row source draws from."""
    return min(max(count, 100), 50_000)


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character of an 18-digit resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_id_number(value: str) -> bool:
    """True for 17 digits followed by the right check character."""
    value = value.strip().upper()
    return len(value) == 18 and value[:17].isdigit() and id_check_digit(value[:17]) == value[17]


@dataclass(frozen=True)
class Person:
    """A resident (or a visitor) of the synthetic city."""

    index: int
    id_number: str
    name: str
    name_en: str  # pinyin; shown beside the Chinese name in some sources
    show_en: bool  # whether sources print the English name for this person
    gender: str  # "男" / "女"
    birth_date: date
    phone: str  # 11-digit mobile, canonical form
    district: str
    address: str
    lat: float
    lon: float
    household: str
    work_unit: str  # "" when none
    plate: str  # canonical plate ("浙F12345") or "" when the person has no vehicle


@dataclass(frozen=True)
class Place:
    """A fixed place: hotel, checkpoint camera, community gate or cell tower."""

    code: str
    name: str
    district: str
    address: str
    lat: float
    lon: float


class World:
    """The synthetic city for one seed. Cheap to build; everything is computed on demand."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        # Sources draw the same pool residents again and again; a bounded cache keeps that
        # cheap while a million-row population registry still streams in flat memory.
        self.person = functools.lru_cache(maxsize=60_000)(self._make_person)

    def _rng(self, kind: int, index: int) -> random.Random:
        return random.Random((self.seed << 40) ^ (kind << 32) ^ index)

    # -- people -----------------------------------------------------------------------------
    def _make_person(self, index: int) -> Person:
        """Resident ``index`` (0, 1, …), or a visitor for indices from :data:`VISITOR_BASE`."""
        rng = self._rng(1, index)
        visitor = index >= VISITOR_BASE
        district = rng.choices(DISTRICT_NAMES, _DISTRICT_WEIGHTS)[0]
        area = rng.choice(_VISITOR_AREAS) if visitor else DISTRICTS[district][0]
        # Birth day and sequence number are a bijection of the index: ID numbers never collide.
        slot = index - VISITOR_BASE if visitor else index
        day = (slot * 7919 + self.seed * 31 + (5 if visitor else 0)) % _BIRTH_DAYS
        block = slot // _BIRTH_DAYS
        seq = (block + day * 13) % 500
        male = rng.random() < 0.52
        born = _BIRTH_FIRST + timedelta(days=day)
        first17 = f"{area}{born:%Y%m%d}{seq * 2 + (1 if male else 0):03d}"
        id_number = first17 + id_check_digit(first17)
        surname, surname_py = rng.choice(SURNAMES)
        given = [rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2)]
        name = surname + "".join(g for g, _ in given)
        name_en = f"{surname_py} {''.join(p for _, p in given).capitalize()}"
        suffix = (slot * 48271 + self.seed * 977 + (55_555_555 if visitor else 23_456_789)) % 10**8
        phone = MOBILE_PREFIXES[(slot * 7 + (3 if visitor else 0)) % len(MOBILE_PREFIXES)]
        phone += f"{suffix:08d}"
        road = rng.choice(ROADS)
        address = (
            f"嘉兴市{district}{road}{rng.randint(1, 399)}号{rng.choice(COMMUNITIES)}小区"
            f"{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{rng.randint(1, 18)}"
            f"{rng.randint(1, 4):02d}室"
        )
        lat, lon = geo.districts()[district].random_point(rng)
        orgs = self.organisations
        work_unit = orgs[rng.randrange(len(orgs))] if rng.random() < 0.7 else ""
        plate = ""
        if not visitor and (index in _FORCE_VEHICLE or rng.random() < 0.35):
            digits = f"{(slot * 7919 + self.seed * 13) % 100_000:05d}"
            if rng.random() < 0.3:
                digits = _PLATE_LETTERS[int(digits[0])] + digits[1:]
            plate = "浙F" + digits
        return Person(
            index=index,
            id_number=id_number,
            name=name,
            name_en=name_en,
            show_en=rng.random() < 0.3,
            gender="男" if male else "女",
            birth_date=born,
            phone=phone,
            district=district,
            address=address,
            lat=lat,
            lon=lon,
            household=f"{area}{slot:09d}",
            work_unit=work_unit,
            plate=plate,
        )

    def resident_pool(self, count: int) -> list[Person]:
        """The background residents a ``count``-row source draws from (planted ones excluded)."""
        return [self.person(i) for i in range(N_PLANTED, pool_size(count))]

    def visitor(self, k: int) -> Person:
        return self.person(VISITOR_BASE + k)

    # -- fixed places -----------------------------------------------------------------------
    @cached_property
    def organisations(self) -> tuple[str, ...]:
        rng = self._rng(2, 0)
        names = {f"嘉兴市{w}{k}" for w in ORG_WORDS for k in ORG_KINDS}
        names |= {f"{d}{u}" for d in DISTRICT_NAMES for u in PUBLIC_UNITS}
        ordered = sorted(names)
        rng.shuffle(ordered)
        return tuple(ordered[:150])

    def _places(self, kind: int, n: int, make: type[_PlaceNamer]) -> tuple[Place, ...]:
        rng = self._rng(kind, 0)
        out = []
        for k in range(n):
            district = DISTRICT_NAMES[k % len(DISTRICT_NAMES)]
            lat, lon = geo.districts()[district].random_point(rng)
            code, name, address = make.make(rng, k, district)
            out.append(Place(code, name, district, address, lat, lon))
        return tuple(out)

    @cached_property
    def hotels(self) -> tuple[Place, ...]:
        return self._places(3, 60, _HotelNamer)

    @cached_property
    def checkpoints(self) -> tuple[Place, ...]:
        """Plate-reading cameras, each on a crossing of its district's streets
        (:mod:`plugins.builtin.streets`) and named after the two streets that cross there."""
        rng = self._rng(4, 0)
        spots = {
            d: rng.sample(streets.crossings(d), len(streets.crossings(d))) for d in DISTRICT_NAMES
        }
        out = []
        for k in range(84):
            district = DISTRICT_NAMES[k % len(DISTRICT_NAMES)]
            c = spots[district][(k // len(DISTRICT_NAMES)) % len(spots[district])]
            out.append(
                Place(
                    f"KK{DISTRICTS[district][0]}{k:03d}",
                    f"{c.a}与{c.b}交叉口卡口",
                    district,
                    f"嘉兴市{district}{c.a}与{c.b}交叉口",
                    c.lat,
                    c.lon,
                )
            )
        return tuple(out)

    @cached_property
    def gates(self) -> tuple[Place, ...]:
        return self._places(5, 42, _GateNamer)

    @cached_property
    def cells(self) -> tuple[Place, ...]:
        return self._places(6, 126, _CellNamer)


class _PlaceNamer:
    @staticmethod
    def make(rng: random.Random, k: int, district: str) -> tuple[str, str, str]:
        raise NotImplementedError


def _street(rng: random.Random, district: str) -> str:
    return f"嘉兴市{district}{rng.choice(ROADS)}{rng.randint(1, 399)}号"


class _HotelNamer(_PlaceNamer):
    @staticmethod
    def make(rng: random.Random, k: int, district: str) -> tuple[str, str, str]:
        area = DISTRICTS[district][0]
        road = rng.choice(ROADS)
        return (
            f"H{area}{k:03d}",
            f"{rng.choice(HOTEL_BRANDS)}(嘉兴{road}店)",
            f"嘉兴市{district}{road}{rng.randint(1, 399)}号",
        )


class _GateNamer(_PlaceNamer):
    @staticmethod
    def make(rng: random.Random, k: int, district: str) -> tuple[str, str, str]:
        area = DISTRICTS[district][0]
        side = rng.choice("东南西北")
        community = rng.choice(COMMUNITIES)
        return f"MJ{area}{k:03d}", f"{community}小区{side}门", _street(rng, district)


class _CellNamer(_PlaceNamer):
    @staticmethod
    def make(rng: random.Random, k: int, district: str) -> tuple[str, str, str]:
        lac = 22000 + k // 6
        ci = 10000 + k * 401 + rng.randint(0, 400)  # distinct per tower
        return f"LAC{lac}-CI{ci}", f"{district}基站{k:03d}", _street(rng, district)
