"""Generators of the event sources: 110 incidents, checkpoint plate reads, call records, e-bike
RFID reads. Each streams exactly ``count`` rows (planted rows first) in day-sized chunks, so a
million rows take seconds and memory stays flat; same seed, same bytes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from plugins.builtin import geo
from plugins.builtin import planted as pl
from plugins.builtin.formats import (
    Clock,
    daily_times,
    id_variant,
    phone_variant,
    plate_variant,
    seconds_of,
    write_csv,
)
from plugins.builtin.lexicon import (
    DIRECTIONS,
    INCIDENT_WEIGHTS,
    INCIDENTS,
    OTHER_PLATE_PREFIXES,
    ROADS,
    VEHICLE_COLORS,
)
from plugins.builtin.world import DAYS, N_PLANTED, START, World, pool_size

Row = tuple[object, ...]

INCIDENTS_HEADER = (
    "case_no",
    "report_time",
    "category",
    "priority",
    "status",
    "district",
    "address",
    "lat",
    "lon",
    "reporter_name",
    "reporter_name_en",
    "reporter_id",
    "reporter_phone",
    "suspect_name",
    "suspect_id",
    "plate",
    "description",
)
CHECKPOINT_HEADER = (
    "read_id",
    "read_time",
    "plate",
    "plate_color",
    "vehicle_color",
    "vehicle_kind",
    "device_id",
    "device_name",
    "device_kind",
    "district",
    "lat",
    "lon",
    "direction",
    "speed",
)
CDR_HEADER = (
    "call_id",
    "start_time",
    "duration_s",
    "call_type",
    "caller",
    "callee",
    "cell_id",
    "cell_name",
    "district",
    "lat",
    "lon",
)
EBIKE_HEADER = (
    "read_id",
    "read_time",
    "tag_id",
    "gate_id",
    "gate_name",
    "district",
    "lat",
    "lon",
    "direction",
    "owner_id",
    "owner_name",
    "owner_phone",
)
_PRIORITY = {
    "火警": 1,
    "燃气泄漏": 1,
    "入室盗窃": 2,
    "交通事故": 2,
    "诈骗": 3,
    "纠纷": 3,
    "电动车被盗": 3,
    "噪音扰民": 4,
}
# A records export of past months: every incident in it is closed (处置 done or 立案 a case
# opened). Open incidents in the demo are its live shift, taken in relative to the time the demo
# is built (ops.seed.seed_live_shift), so the dispatch board's timers make sense.
_STATUS = ("已处置", "已处置", "已处置", "已处置", "已立案", "已处置")
_KINDS = ("小型轿车", "小型轿车", "小型轿车", "SUV", "SUV", "面包车", "货车")


# -- incidents -----------------------------------------------------------------------------------
def incident_rows(world: World, count: int) -> Iterator[Row]:
    rng = random.Random(f"incidents:{world.seed}")
    clock = Clock()
    plan = pl.planted(world.seed)
    pool = pool_size(count)
    categories = list(INCIDENT_WEIGHTS)
    weights = list(INCIDENT_WEIGHTS.values())
    owners = [i for i in range(N_PLANTED, pool) if world.person(i).plate]

    def row(
        n: int, t: int, category: str, reporter: int | None, phone: str, suspect: int | None
    ) -> Row:
        rep = world.person(reporter) if reporter is not None else None
        sus = world.person(suspect) if suspect is not None else None
        district = rep.district if rep and rng.random() < 0.7 else rng.choice(list(geo.districts()))
        lat, lon = geo.districts()[district].random_point(rng)
        street = f"嘉兴市{district}{rng.choice(ROADS)}{rng.randint(1, 399)}号"
        address = street + rng.choice(("", "附近", "小区内", "门口"))
        plate = ""
        if category == "交通事故" and owners:
            plate = world.person(rng.choice(owners)).plate
        text = rng.choice(INCIDENTS[category]).format(
            addr=street, name=rep.name if rep else "报警人", plate=plate or "不详"
        )
        shift = (rng.random() < 0.15) - (rng.random() < 0.1)
        priority = min(4, max(1, _PRIORITY[category] + shift))
        area = rep.household[:6] if rep else "330400"
        case = pl.case_number(area, clock.days[t // 86400], n)
        return (
            case,
            clock.iso(t),
            category,
            priority,
            rng.choice(_STATUS),
            district,
            address,
            lat,
            lon,
            rep.name if rep else "",
            rep.name_en if rep and rep.show_en else "",
            id_variant(rep.id_number, rng.random()) if rep else "",
            phone_variant(phone, rng.random()),
            sus.name if sus else "",
            sus.id_number if sus else "",
            plate_variant(plate, rng.random()) if plate else "",
            text,
        )

    planted_rows: list[Row] = []
    n = 0
    for offender, cases in zip(pl.REPEAT_OFFENDERS, plan.offender_cases.values(), strict=True):
        for case in cases:
            day = (datetime.strptime(case[7:15], "%Y%m%d") - START).days
            t = day * 86400 + rng.randrange(0, 86400)
            victim = rng.randrange(N_PLANTED, pool)
            r = row(
                n,
                t,
                rng.choice(("入室盗窃", "电动车被盗")),
                victim,
                world.person(victim).phone,
                offender,
            )
            planted_rows.append((case, *r[1:]))
            n += 1
    for who in pl.SHARED_PHONE_PEOPLE[1:]:
        planted_rows.append(
            row(n, rng.randrange(DAYS * 86400), "纠纷", who, plan.shared_phone, None)
        )
        n += 1
    yield from planted_rows[:count]
    for t in daily_times(rng, max(0, count - len(planted_rows))):
        category = rng.choices(categories, weights)[0]
        reporter: int | None = None
        if rng.random() < 0.8:
            reporter = rng.randrange(N_PLANTED, pool)
            phone = world.person(reporter).phone
        else:
            phone = world.visitor(rng.randrange(pool)).phone
        suspect = rng.randrange(N_PLANTED, pool) if rng.random() < 0.08 else None
        yield row(n, t, category, reporter, phone, suspect)
        n += 1


def write_incidents(world: World, out_dir: Path, count: int) -> Path:
    """110 calls / incident reports."""
    return write_csv(out_dir / "incidents.csv", INCIDENTS_HEADER, incident_rows(world, count))


# -- checkpoint plate reads ----------------------------------------------------------------------
def _out_of_town_plates(rng: random.Random, n: int) -> list[str]:
    return sorted(
        {rng.choice(OTHER_PLATE_PREFIXES) + f"{rng.randrange(100_000):05d}" for _ in range(n)}
    )


def checkpoint_rows(world: World, count: int) -> Iterator[Row]:
    rng = random.Random(f"checkpoint:{world.seed}")
    clock = Clock()
    plan = pl.planted(world.seed)
    devices = world.checkpoints
    by_code = {d.code: d for d in devices}
    local = [p.plate for p in world.resident_pool(count) if p.plate]
    plates = local + _out_of_town_plates(rng, max(20, len(local) // 6))
    n_plates = len(plates)
    n_dev = len(devices)
    n = 0

    def row(plate: str, dev_code: str, t: int) -> Row:
        nonlocal n
        d = by_code[dev_code]
        h = hash_plate(plate)
        kind = _KINDS[h % len(_KINDS)]
        n += 1
        return (
            f"KR{n:010d}",
            clock.iso(t),
            plate_variant(plate, rng.random()),
            "黄" if kind == "货车" else "蓝",
            VEHICLE_COLORS[h % len(VEHICLE_COLORS)],
            kind,
            d.code,
            d.name,
            "卡口",
            d.district,
            d.lat,
            d.lon,
            DIRECTIONS[h % 4],
            20 + int(rng.random() * 60),
        )

    sightings = sorted(plan.convoy_reads + plan.watchlisted_reads, key=lambda s: s.time)
    for s in sightings[:count]:
        yield row(s.key, s.place, seconds_of(s.time))
    for t in daily_times(rng, max(0, count - len(sightings))):
        # Skewed: a few vehicles (commuters) pass often, most rarely.
        plate = plates[int(rng.random() ** 2 * n_plates)]
        yield row(plate, devices[int(rng.random() * n_dev)].code, t)


def hash_plate(plate: str) -> int:
    """A stable small hash of a plate (Python's str hash is salted per process)."""
    return sum(ord(c) * (k + 1) for k, c in enumerate(plate))


def write_checkpoint(world: World, out_dir: Path, count: int) -> Path:
    """Vehicle checkpoint plate reads, plates written in varied forms."""
    return write_csv(out_dir / "checkpoint.csv", CHECKPOINT_HEADER, checkpoint_rows(world, count))


# -- call detail records -------------------------------------------------------------------------
def cdr_rows(world: World, count: int) -> Iterator[Row]:
    rng = random.Random(f"cdr:{world.seed}")
    clock = Clock()
    plan = pl.planted(world.seed)
    cells = world.cells
    pool = world.resident_pool(count)
    n = 0

    def row(caller: str, callee: str, t: int) -> Row:
        nonlocal n
        n += 1
        c = cells[int(rng.random() * len(cells))]
        sms = rng.random() < 0.2
        duration = 0 if sms else int(5 + rng.random() ** 3 * 1800)
        return (
            f"CDR{n:011d}",
            clock.compact(t),
            duration,
            "短信" if sms else "语音",
            phone_variant(caller, rng.random()),
            phone_variant(callee, rng.random()),
            c.code,
            c.name,
            c.district,
            c.lat,
            c.lon,
        )

    calls: list[tuple[str, str]] = []
    for group in (plan.group_a_phones, plan.group_b_phones):
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                calls += [(a, b), (b, a)]
    for member in plan.group_a_phones + plan.group_b_phones:
        calls += [(plan.go_between_phone, member), (member, plan.go_between_phone)]
    timed = sorted((rng.randrange(DAYS * 86400), a, b) for a, b in calls)
    for t, a, b in timed[:count]:
        yield row(a, b, t)
    size = len(pool)
    for t in daily_times(rng, max(0, count - len(timed))):
        pos = int(rng.random() ** 1.5 * size)
        caller = pool[pos].phone
        if rng.random() < 0.15:
            callee = world.visitor(int(rng.random() * size)).phone
        else:  # everyone calls a small circle of contacts
            callee = pool[(pos * 31 + (1 + int(rng.random() * 6)) * 97) % size].phone
        if rng.random() < 0.5:
            caller, callee = callee, caller
        yield row(caller, callee, t)


def write_cdr(world: World, out_dir: Path, count: int) -> Path:
    """Call detail records, phone numbers written in varied forms."""
    return write_csv(out_dir / "cdr.csv", CDR_HEADER, cdr_rows(world, count))


# -- e-bike RFID reads ---------------------------------------------------------------------------
def ebike_rows(world: World, count: int) -> Iterator[Row]:
    rng = random.Random(f"ebike:{world.seed}")
    clock = Clock()
    plan = pl.planted(world.seed)
    gates = world.gates
    by_code = {g.code: g for g in gates}
    owners = [p for p in world.resident_pool(count) if p.index % 5 in (0, 3)]
    local: dict[str, list[str]] = {}
    for g in gates:
        local.setdefault(g.district, []).append(g.code)
    n = 0

    def row(owner_index: int, gate_code: str, t: int) -> Row:
        nonlocal n
        n += 1
        p = world.person(owner_index)
        g = by_code[gate_code]
        return (
            f"RF{n:010d}",
            clock.offset(t),
            pl.tag_id(p.index, p.household[:6]),
            g.code,
            g.name,
            g.district,
            g.lat,
            g.lon,
            "进" if rng.random() < 0.5 else "出",
            p.id_number,
            p.name,
            phone_variant(pl.phone_of(world, owner_index), rng.random()),
        )

    owner_of = {plan.ebike_tags[k]: idx for k, idx in enumerate(pl.EBIKE_PAIR)}
    sightings = sorted(plan.ebike_reads, key=lambda s: s.time)
    for s in sightings[:count]:
        yield row(owner_of[s.key], s.place, seconds_of(s.time))
    n_owners = len(owners)
    for t in daily_times(rng, max(0, count - len(sightings))):
        owner = owners[int(rng.random() * n_owners)]
        # Most reads are at the owner's home gate.
        home = local[owner.district]
        gate = home[owner.index % len(home)] if rng.random() < 0.8 else rng.choice(gates).code
        yield row(owner.index, gate, t)


def write_ebike(world: World, out_dir: Path, count: int) -> Path:
    """E-bike RFID tag reads at community gates."""
    return write_csv(out_dir / "ebike.csv", EBIKE_HEADER, ebike_rows(world, count))
