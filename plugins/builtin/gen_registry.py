"""Generators of the register-like sources: population registry, hotel check-ins, watchlist.

Each ``write_*`` streams exactly ``count`` rows (planted rows first, see
:mod:`plugins.builtin.planted`) and returns the file it wrote; same seed, same bytes. The
population registry has, on top, the rows of the planted identities
(:mod:`plugins.builtin.gen_identity`) — people registered twice.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from plugins.builtin import gen_identity
from plugins.builtin import planted as pl
from plugins.builtin.formats import (
    Clock,
    daily_times,
    id_variant,
    phone_variant,
    write_csv,
    write_xlsx,
)
from plugins.builtin.lexicon import WATCH_REASONS
from plugins.builtin.world import DAYS, N_PLANTED, START, VISITOR_BASE, World, pool_size

POPULATION_HEADER = (
    "id_number",
    "name",
    "name_en",
    "gender",
    "ethnicity",
    "birth_date",
    "phone",
    "district",
    "address",
    "household_no",
    "resident_type",
    "work_unit",
    "plate",
    "registered_at",
)
HOTEL_HEADER = (
    "checkin_id",
    "hotel_code",
    "hotel_name",
    "district",
    "hotel_address",
    "lat",
    "lon",
    "room",
    "guest_id",
    "guest_name",
    "guest_name_en",
    "gender",
    "guest_origin",
    "checkin_time",
    "checkout_time",
    "co_guest_id",
    "co_guest_name",
)
WATCHLIST_HEADER = (
    "entry_id",
    "id_number",
    "name",
    "name_en",
    "gender",
    "reason",
    "category",
    "level",
    "plate",
    "phone",
    "photo",
    "case_no",
    "district",
    "listed_at",
    "listed_by",
)
_ETHNICITIES = ("汉族",) * 40 + ("回族", "满族", "土家族", "苗族", "畲族")
_REASON_CATEGORY = {
    "涉嫌盗窃，在逃": "在逃人员",
    "网上追逃": "在逃人员",
    "电信诈骗嫌疑人": "涉诈人员",
    "多次入室盗窃前科": "前科人员",
    "涉毒人员": "涉毒人员",
    "重点关注人员": "重点人员",
    "涉嫌故意伤害": "在逃人员",
}


# -- population --------------------------------------------------------------------------------
def population_rows(world: World, count: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(f"population:{world.seed}")
    for i in range(count):
        if i == N_PLANTED:  # the planted identities' rows, on top of the residents
            yield from gen_identity.population_rows(world)
        p = world.person(i)
        reg = datetime(2000, 1, 1) + timedelta(days=rng.randrange(9400))
        yield (
            id_variant(p.id_number, rng.random()),
            p.name,
            p.name_en if p.show_en else "",
            p.gender,
            rng.choice(_ETHNICITIES),
            p.birth_date.isoformat(),
            phone_variant(pl.phone_of(world, i), rng.random() * 0.9),
            p.district,
            p.address,
            p.household,
            "流动人口" if rng.random() < 0.15 else "户籍人口",
            p.work_unit,
            p.plate,
            reg.date().isoformat(),
        )


def write_population(world: World, out_dir: Path, count: int, encoding: str = "utf-8") -> Path:
    """The population–house–unit registry: one row per resident (residents 0 … count-1), and
    after the planted residents the rows of the planted identities
    (:func:`gen_identity.population_rows`; with ``count`` above :data:`pl.MIN_COUNT`)."""
    codec = encoding.lower().replace("-", "").replace("_", "")
    suffix = "" if codec in ("utf8", "utf8sig") else f".{codec}"
    path = out_dir / f"population{suffix}.csv"
    return write_csv(path, POPULATION_HEADER, population_rows(world, count), encoding=encoding)


# -- hotel ---------------------------------------------------------------------------------------
def _stay(
    world: World,
    rng: random.Random,
    clock: Clock,
    n: int,
    hotel_index: int,
    start: int,
    guest: int,
    co: int | None,
) -> list[tuple[object, ...]]:
    """Rows for one room: the guest, and the co-guest (each registers) when there is one."""
    h = world.hotels[hotel_index]
    nights = 1 + int(rng.random() ** 2 * 3)
    out = 86400 * (start // 86400 + nights) + 11 * 3600 + rng.randrange(3600)
    room = f"{rng.randint(2, 12)}{rng.randint(1, 30):02d}"
    people = [world.person(guest)] + ([world.person(co)] if co is not None else [])
    rows: list[tuple[object, ...]] = []
    for k, p in enumerate(people):
        other = people[1 - k] if len(people) == 2 else None
        rows.append(
            (
                f"{h.code}-{n + k:08d}",
                h.code,
                h.name,
                h.district,
                h.address,
                h.lat,
                h.lon,
                room,
                id_variant(p.id_number, rng.random()),
                p.name,
                p.name_en if p.show_en else "",
                p.gender,
                "外地" if p.index >= VISITOR_BASE else "本地",
                clock.slashed(start + k * 40),
                clock.slashed(out),
                other.id_number if other else "",
                other.name if other else "",
            )
        )
    return rows


def hotel_rows(world: World, count: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(f"hotel:{world.seed}")
    clock = Clock()
    plan = pl.planted(world.seed)
    codes = [h.code for h in world.hotels]
    planted_rows: list[tuple[object, ...]] = []
    n = 0
    for k, w in enumerate(pl.WATCHLISTED):
        hotel = codes.index(plan.watchlisted_hotels[k])
        for visit in range(2):
            start = rng.randrange(DAYS - 3) * 86400 + rng.randrange(13 * 3600, 23 * 3600)
            co = pl.ASSOCIATE if k == 0 and visit == 0 else None
            planted_rows += _stay(world, rng, clock, n, hotel, start, w, co)
            n += 2
    planted_rows += gen_identity.hotel_rows(world)  # the planted identities' check-ins
    written = 0
    for row in planted_rows[:count]:
        yield row
        written += 1
    pool = pool_size(count)
    for start in daily_times(rng, max(0, count - written), days=DAYS - 4):
        if written >= count:
            return
        guest = (
            rng.randrange(N_PLANTED, pool)
            if rng.random() < 0.4
            else VISITOR_BASE + rng.randrange(pool)
        )
        co = None
        if rng.random() < 0.25 and written + 1 < count:
            co = (
                VISITOR_BASE + rng.randrange(pool)
                if guest >= VISITOR_BASE
                else rng.randrange(N_PLANTED, pool)
            )
        for row in _stay(world, rng, clock, n, rng.randrange(len(codes)), start, guest, co):
            yield row
            written += 1
        n += 2


def write_hotel(world: World, out_dir: Path, count: int, fmt: str = "csv") -> Path:
    """Hotel check-ins; ``fmt`` "csv" or "xlsx" (the same rows either way)."""
    if fmt == "xlsx":
        return write_xlsx(
            out_dir / "hotel.xlsx", HOTEL_HEADER, hotel_rows(world, count), sheet="住宿登记"
        )
    if fmt != "csv":
        raise ValueError(f"hotel: unknown format {fmt!r} (csv, xlsx)")
    return write_csv(out_dir / "hotel.csv", HOTEL_HEADER, hotel_rows(world, count))


# -- watchlist -----------------------------------------------------------------------------------
def face_photos(faces_dir: str | None = None) -> list[str]:
    """One photo per identity of ``$SUPERBRAIN_FACES_DIR/lfw-small`` (absolute paths), sorted
    by identity; empty when the folder is not there. Images are referenced, never copied."""
    root = faces_dir if faces_dir is not None else os.environ.get("SUPERBRAIN_FACES_DIR", "")
    if not root:
        return []
    small = Path(root) / "lfw-small"
    if not small.is_dir():
        return []
    photos = []
    for identity in sorted(p for p in small.iterdir() if p.is_dir()):
        jpgs = sorted(identity.glob("*.jpg"))
        if jpgs:
            photos.append(str(jpgs[0].resolve()))
    return photos


def watchlist_rows(world: World, count: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(f"watchlist:{world.seed}")
    plan = pl.planted(world.seed)
    photos = face_photos()
    pool = list(range(N_PLANTED, pool_size(count)))
    background = rng.sample(pool, min(len(pool), max(0, count - len(pl.WATCHLISTED))))
    people = list(pl.WATCHLISTED) + background
    for k in range(count):
        idx = people[k] if k < len(people) else rng.choice(pool)
        p = world.person(idx)
        if k < len(pl.WATCHLISTED):
            reason, case = ("涉嫌盗窃，在逃", "电信诈骗嫌疑人", "涉毒人员")[k], plan.watch_cases[k]
        else:
            reason, case = rng.choice(WATCH_REASONS), f"A{p.household[:6]}2026{k + 1:05d}"
        listed = START - timedelta(days=rng.randrange(30, 400), seconds=rng.randrange(86400))
        yield (
            f"BK2026{k:07d}",
            p.id_number,
            p.name,
            p.name_en,
            p.gender,
            reason,
            _REASON_CATEGORY[reason],
            rng.choice(("一级", "二级", "三级")),
            p.plate if k < len(pl.WATCHLISTED) or rng.random() < 0.5 else "",
            phone_variant(p.phone, rng.random()) if k < 3 or rng.random() < 0.7 else "",
            photos[k] if k < len(photos) else "",
            case,
            p.district,
            f"{listed:%Y-%m-%d %H:%M:%S}",
            f"嘉兴市公安局{p.district}分局",
        )


def write_watchlist(world: World, out_dir: Path, count: int) -> Path:
    """Watchlist entries; photos from $SUPERBRAIN_FACES_DIR when set (see face_photos)."""
    return write_csv(out_dir / "watchlist.csv", WATCHLIST_HEADER, watchlist_rows(world, count))
