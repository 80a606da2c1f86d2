"""Small generated graphs with planted structure for the graph tests (no plugin generators).

Everything is written through ``Store.upsert_batch`` as ordinary records, so the tests read the
store the same way the console does.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from core.model import EntityRef, LinkRef, Record
from core.store import Store

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday, 16:00 China time

GO_BETWEEN = "phone:13900000000"
CONVOY_TARGET = "vehicle:浙A00001"
CONVOY_MATE = "vehicle:浙A00002"
PERSON_A = "person:330100198001010011"
PERSON_B = "person:33010019800101001X"  # same name and birth date, different ID number


def _ref(eid: str, props: dict[str, Any] | None = None) -> EntityRef:
    etype, key = eid.split(":", 1)
    return EntityRef(etype, key, (props or {}).get("name", key), props or {})


class Builder:
    """Collects one record per link and writes them in one batch."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.props: dict[str, dict[str, Any]] = {}

    def link(self, ltype: str, a: str, b: str, when: datetime | None, source: str = "test") -> None:
        rid = f"r{len(self.records):05d}"
        self.records.append(
            Record(
                source=source,
                id=rid,
                type=ltype,
                time=when,
                text={"summary": f"{a} {ltype} {b}"},
                entities=(_ref(a, self.props.get(a)), _ref(b, self.props.get(b))),
                links=(LinkRef(ltype, a, b, when),),
            )
        )

    def write(self, store: Store) -> None:
        store.upsert_batch(self.records)


def phone(n: int) -> str:
    return f"phone:138{n:08d}"


def add_two_gangs(b: Builder, rng: random.Random) -> tuple[list[str], list[str]]:
    """Two dense call clusters of 12 joined only through the go-between phone."""
    gangs = ([phone(i) for i in range(12)], [phone(100 + i) for i in range(12)])
    for gang in gangs:
        for i, x in enumerate(gang):
            for y in gang[i + 1 :]:
                if rng.random() < 0.8 or gang.index(y) == i + 1:
                    b.link("called", x, y, T0 + timedelta(minutes=rng.randrange(10_000)))
    for gang in gangs:
        for x in gang[:2]:
            b.link("called", GO_BETWEEN, x, T0 + timedelta(minutes=rng.randrange(10_000)))
    return gangs


def add_time_paths(b: Builder) -> None:
    """X–Y–Z is short but goes back in time; X–P–Q–Z is longer and follows time order."""
    b.link("called", "phone:13700000001", "phone:13700000002", T0 + timedelta(hours=10))  # X-Y
    b.link("called", "phone:13700000002", "phone:13700000003", T0 + timedelta(hours=5))  # Y-Z
    b.link("called", "phone:13700000001", "phone:13700000004", T0 + timedelta(hours=1))  # X-P
    b.link("called", "phone:13700000004", "phone:13700000005", T0 + timedelta(hours=2))  # P-Q
    b.link("called", "phone:13700000005", "phone:13700000003", T0 + timedelta(hours=3))  # Q-Z


def add_convoy(
    b: Builder, rng: random.Random, *, vehicles: int = 150, days: int = 4, devices: int = 12
) -> None:
    """The target and its mate pass 4 devices a day within seconds of each other; other cars
    pass the same devices at random; one commuter shares the target's first device daily."""
    devs = [f"device:KK{d:03d}" for d in range(devices)]
    for day in range(days):
        base = T0 + timedelta(days=day)
        route = rng.sample(devs, 4)
        for hop, dev in enumerate(route):
            when = base + timedelta(minutes=15 * hop)
            b.link("passed", CONVOY_TARGET, dev, when)
            b.link("passed", CONVOY_MATE, dev, when + timedelta(seconds=rng.randrange(5, 40)))
            if hop == 0:  # the commuter: same place, same time, but only ever this one device
                b.link("passed", "vehicle:浙A09999", dev, when - timedelta(seconds=20))
        for v in range(vehicles):
            for _ in range(3):
                b.link(
                    "passed",
                    f"vehicle:浙B{v:05d}",
                    rng.choice(devs),
                    base + timedelta(seconds=rng.randrange(0, 4 * 3600)),
                )


def add_lookalikes(b: Builder) -> None:
    """Two person records with one name and birth date but different ID numbers."""
    for pid, ph in ((PERSON_A, "phone:13600000001"), (PERSON_B, "phone:13600000002")):
        b.props[pid] = {"name": "王 伟", "birth_date": "1980-01-01", "address": "杭州市西湖区"}
        b.link("owns", pid, ph, T0)
    b.props[PERSON_B]["name"] = "王伟"
    b.props[PERSON_B]["birth_date"] = "19800101"
    b.link("called", "phone:13600000001", "phone:13600000003", T0 + timedelta(hours=1))
    b.link("called", "phone:13600000002", "phone:13600000004", T0 + timedelta(hours=2))


def build_planted(store: Store, seed: int = 7) -> None:
    """All the planted structures above in one store."""
    rng = random.Random(seed)
    b = Builder()
    add_two_gangs(b, rng)
    add_time_paths(b)
    add_convoy(b, rng)
    add_lookalikes(b)
    b.write(store)


REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
