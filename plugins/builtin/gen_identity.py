"""Planted identities: the same person written several ways across the population registry and
the hotel check-ins, with the truth recorded for entity resolution to be measured against.

Each planted identity is one person of the synthetic world (a non-local resident, registered as
流动人口) with a clean population row, plus one or two more rows that write them the way real
sources do: a homophone or a typo in a character, the name in pinyin (family name first or
last, spaced or not), traditional characters, a birth date as ``19860405`` / ``1986年4月5日`` /
``86年4月5日``, an ID number with one wrong digit, two swapped digits or the 15-digit number of a
first-generation card, a partial address. Every variant row carries an ID number that differs
from the clean one, so it becomes its own person entity — the one resolution has to find.

Two families are the trap: two brothers each, sharing the flat, the family phone, the surname and
the first given character, with different birth dates and ID numbers. They must never merge.

:func:`identity_truth` lists the entity ids of each identity (``person:`` + canonical ID number)
and the pairs that must stay apart; :func:`write_truth` writes it as ``identity_truth.json``.
docs/DATA.md describes the variations.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path

from plugins.builtin.lexicon import GIVEN
from plugins.builtin.world import VISITOR_BASE, Person, World, id_check_digit

#: World indices of the planted identities (visitors' index space, far above any background).
IDENTITY_BASE = VISITOR_BASE + 5_000_000
FAMILY_BASE = IDENTITY_BASE + 1000
N_IDENTITIES = 14
N_FAMILIES = 2

#: Variation scenarios, in the order identities take them (identity k takes k % len).
SCENARIOS = (
    "id_check_digit",
    "homophone",
    "pinyin",
    "latin_order",
    "traditional",
    "date_format",
    "two_digit_year",
    "partial_address",
    "typo_char",
    "id_area_typo",
    "pinyin_spaced",
    "compact_date",
)
#: Identities written three times (a hotel and a second registry row): transitive clusters.
TRIPLES = (12, 13)

# Same pinyin (toneless), different character: what a clerk types from a name heard aloud.
HOMOPHONES = dict(
    zip(
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉玲鹏宇浩婷雪琳晨欣怡佳俊峰斌梅红波海春云飞志荣新丹萍凯瑶嘉子晓振",
        "玮方纳民晶莉蔷垒君阳永燕洁鹃韬铭潮绣侠萍钢贵莹桦健囯雯晖铃朋雨昊亭学林辰新宜家骏锋彬媒宏博孩椿芸菲智蓉欣单平恺遥佳梓小震",
        strict=True,
    )
)


@dataclass(frozen=True)
class Written:
    """One row that writes a planted person: which source, the ID number as written, how."""

    source: str  # "population" or "hotel"
    id_number: str
    name: str
    birth_date: str  # as written ("" for the hotel, which has no birth date column)
    address: str
    phone: str
    gender: str
    variations: tuple[str, ...]

    @property
    def entity_id(self) -> str:
        return f"person:{self.id_number.upper()}"


def _bad_digit(id_number: str, rng: random.Random, positions: range) -> str:
    """``id_number`` with one digit in ``positions`` changed so that the check fails."""
    for _ in range(100):
        pos = rng.choice(positions)
        digit = str((int(id_number[pos]) + rng.randint(1, 9)) % 10)
        out = id_number[:pos] + digit + id_number[pos + 1 :]
        if id_check_digit(out[:17]) != out[17]:
            return out
    raise AssertionError("no invalid variant found")  # pragma: no cover


def _swapped(id_number: str, rng: random.Random) -> str:
    for _ in range(100):
        pos = rng.randrange(6, 16)
        if id_number[pos] == id_number[pos + 1]:
            continue
        out = id_number[:pos] + id_number[pos + 1] + id_number[pos] + id_number[pos + 2 :]
        if id_check_digit(out[:17]) != out[17]:
            return out
    raise AssertionError("no swap found")  # pragma: no cover


def _legacy(id_number: str) -> str:
    """The 15-digit first-generation number of the same person (no century, no check);
    first-generation cards went to people born in the 1900s only."""
    return id_number[:6] + id_number[8:17]


def _old_card(p: Person, rng: random.Random) -> tuple[str, str]:
    """The 15-digit number when the person could have had one, else a one-digit typo."""
    if p.birth_date.year < 2000:
        return _legacy(p.id_number), "id_legacy15"
    return _bad_digit(p.id_number, rng, range(14, 17)), "id_check_digit"


def _pinyin(p: Person, *, surname_last: bool = False, upper: bool = False) -> str:
    sur, given = p.name_en.split(" ", 1)
    out = f"{given} {sur}" if surname_last else f"{sur} {given}"
    return out.upper() if upper else out


def _traditional(name: str) -> str:
    import opencc

    return str(opencc.OpenCC("s2t").convert(name))


def _partial(address: str) -> str:
    # "嘉兴市南湖区解放路160号梅湾小区3幢2单元1201室" -> "南湖区解放路160号3幢"
    rest = address.removeprefix("嘉兴市")
    street_end = rest.index("号") + 1
    building = rest[rest.index("小区") + 2 : rest.index("幢") + 1]
    return rest[:street_end] + building


def _with_name_char(name: str, table: dict[str, str]) -> str:
    for i in range(len(name) - 1, 0, -1):  # replace the last given character that has one
        if name[i] in table:
            return name[:i] + table[name[i]] + name[i + 1 :]
    return name + "0"  # pragma: no cover - every given character is in HOMOPHONES


def _typo(name: str) -> str:
    """The last given character replaced by another given-name character with other pinyin."""
    pinyin = dict(GIVEN)
    chars = [c for c, _ in GIVEN]
    last = name[-1]
    k = chars.index(last) if last in pinyin else 0
    for step in range(1, len(chars)):
        other = chars[(k + step * 7) % len(chars)]
        if pinyin[other] != pinyin.get(last):
            return name[:-1] + other
    raise AssertionError("no typo found")  # pragma: no cover


def _formats(born: date) -> dict[str, str]:
    return {
        "iso": born.isoformat(),
        "compact": f"{born:%Y%m%d}",
        "zh": f"{born.year}年{born.month}月{born.day}日",
        "zh2": f"{born.year % 100:02d}年{born.month}月{born.day}日",
        "slash": f"{born.year}/{born.month}/{born.day}",
    }


def _identity(world: World, k: int) -> list[Written]:
    p = world.person(IDENTITY_BASE + k)
    scenario = SCENARIOS[k % len(SCENARIOS)]
    if scenario == "traditional":  # a name whose traditional form differs: 建国 / 建國
        p = replace(p, name=p.name[0] + "建国", name_en=p.name_en.split(" ")[0] + " Jianguo")
    rng = random.Random(f"identity:{world.seed}:{k}")
    dates = _formats(p.birth_date)
    clean = Written(
        "population", p.id_number, p.name, dates["iso"], p.address, p.phone, p.gender, ()
    )
    seq = range(14, 17)
    hotel = lambda ident, name, *kinds: Written(  # noqa: E731
        "hotel", ident, name, "", "", "", p.gender, kinds
    )
    reg = lambda ident, name, born, addr, *kinds: Written(  # noqa: E731
        "population", ident, name, born, addr, p.phone, p.gender, kinds
    )
    out = [clean]
    if scenario == "id_check_digit":
        out.append(hotel(_bad_digit(p.id_number, rng, seq), p.name, "id_check_digit"))
    elif scenario == "homophone":
        bad = p.id_number[:17] + ("0" if p.id_number[17] != "0" else "1")
        out.append(hotel(bad, _with_name_char(p.name, HOMOPHONES), "homophone", "id_check_digit"))
    elif scenario == "pinyin":
        out.append(hotel(_bad_digit(p.id_number, rng, seq), _pinyin(p), "pinyin", "id_check_digit"))
    elif scenario == "latin_order":
        out.append(
            hotel(
                _swapped(p.id_number, rng),
                _pinyin(p, surname_last=True, upper=True),
                "latin_order",
                "id_transposed",
            )
        )
    elif scenario == "traditional":
        ident, kind = _old_card(p, rng)
        out.append(
            reg(
                ident,
                _traditional(p.name),
                dates["compact"],
                p.address,
                "traditional",
                kind,
                "date_format",
            )
        )
    elif scenario == "date_format":
        out.append(
            reg(
                _bad_digit(p.id_number, rng, range(10, 14)),
                p.name,
                dates["zh"],
                p.address,
                "date_format",
                "id_check_digit",
            )
        )
    elif scenario == "two_digit_year":
        ident, kind = _old_card(p, rng)
        out.append(
            reg(
                ident,
                p.name,
                dates["zh2"],
                _partial(p.address),
                "date_format",
                kind,
                "partial_address",
            )
        )
    elif scenario == "partial_address":
        out.append(
            reg(
                _bad_digit(p.id_number, rng, seq),
                p.name,
                dates["slash"],
                _partial(p.address),
                "partial_address",
                "date_format",
                "id_check_digit",
            )
        )
    elif scenario == "typo_char":
        out.append(
            hotel(_bad_digit(p.id_number, rng, seq), _typo(p.name), "typo_char", "id_check_digit")
        )
    elif scenario == "id_area_typo":
        out.append(hotel(_bad_digit(p.id_number, rng, range(2, 6)), p.name, "id_check_digit"))
    elif scenario == "pinyin_spaced":
        spaced = " ".join([p.name_en.split(" ")[0].upper(), *(s.upper() for s in _syllables(p))])
        out.append(hotel(_swapped(p.id_number, rng), spaced, "pinyin", "id_transposed"))
    elif scenario == "compact_date":
        ident, kind = _old_card(p, rng)
        out.append(
            reg(
                ident,
                _with_name_char(p.name, HOMOPHONES),
                dates["compact"],
                p.address,
                "homophone",
                kind,
                "date_format",
            )
        )
    if k in TRIPLES:  # a third way: the Latin-script hotel row of the same person
        out.append(
            hotel(
                _bad_digit(p.id_number, rng, range(6, 10)),
                _pinyin(p, surname_last=True),
                "latin_order",
                "id_check_digit",
            )
        )
    return out


def _syllables(p: Person) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(p.name[1:])


def _family(world: World, f: int) -> list[Written]:
    """Two brothers in one flat with one phone: same surname and first given character."""
    elder = world.person(FAMILY_BASE + f)
    other = world.person(FAMILY_BASE + 100 + f)
    given = elder.name[1:] if len(elder.name) > 2 else elder.name[1:] + "国"
    second = "军" if given[-1] != "军" else "华"
    younger_name = elder.name[0] + given[0] + second
    elder_name = elder.name[0] + given
    return [
        Written(
            "population",
            elder.id_number,
            elder_name,
            elder.birth_date.isoformat(),
            elder.address,
            elder.phone,
            "男",
            ("family_phone",),
        ),
        Written(
            "population",
            other.id_number,
            younger_name,
            other.birth_date.isoformat(),
            elder.address,
            elder.phone,
            "男",
            ("family_phone",),
        ),
    ]


@cache
def identities(seed: int = 0) -> tuple[tuple[Written, ...], ...]:
    """Every planted identity's rows (clean row first); families last, one brother each."""
    world = World(seed)
    out = [tuple(_identity(world, k)) for k in range(N_IDENTITIES)]
    for f in range(N_FAMILIES):
        elder, younger = _family(world, f)
        out += [(elder,), (younger,)]
    return tuple(out)


def population_rows(world: World) -> list[tuple[object, ...]]:
    """The population rows of the planted identities (header of gen_registry)."""
    rows: list[tuple[object, ...]] = []
    for ident in identities(world.seed):
        for w in ident:
            if w.source != "population":
                continue
            rows.append(
                (
                    w.id_number,
                    w.name,
                    "",
                    w.gender,
                    "汉族",
                    w.birth_date,
                    w.phone,
                    _district(w.address),
                    w.address,
                    "",
                    "流动人口",
                    "",
                    "",
                    "2019-03-01",
                )
            )
    return rows


def _district(address: str) -> str:
    rest = address.removeprefix("嘉兴市")
    for end in ("区", "县", "市"):
        i = rest.find(end)
        if 0 < i <= 3:
            return rest[: i + 1]
    return ""


def hotel_rows(world: World) -> list[tuple[object, ...]]:
    """The hotel check-in rows of the planted identities (header of gen_registry)."""
    rows: list[tuple[object, ...]] = []
    n = 0
    for k, ident in enumerate(identities(world.seed)):
        for w in ident:
            if w.source != "hotel":
                continue
            h = world.hotels[(k * 7 + n) % len(world.hotels)]
            day = 3 + (k * 5 + n) % 50
            rows.append(
                (
                    f"{h.code}-ID{n:06d}",
                    h.code,
                    h.name,
                    h.district,
                    h.address,
                    h.lat,
                    h.lon,
                    f"{3 + k % 8}{10 + n % 20:02d}",
                    w.id_number,
                    w.name,
                    "",
                    w.gender,
                    "外地",
                    f"2026/09/{1 + day % 30:02d} 21:{10 + n % 40:02d}",
                    f"2026/09/{2 + day % 29:02d} 10:05",
                    "",
                    "",
                )
            )
            n += 1
    return rows


def identity_truth(seed: int = 0) -> dict[str, object]:
    """The truth: entity ids of each identity, their variations, and pairs that must not
    merge (``{"identities": [...], "distinct": [...]}``)."""
    idents = identities(seed)
    out = []
    for ident in idents:
        out.append(
            {
                "entities": [w.entity_id for w in ident],
                "names": [w.name for w in ident],
                "sources": [w.source for w in ident],
                "variations": sorted({v for w in ident for v in w.variations}),
            }
        )
    distinct = []
    for ident_a, ident_b in zip(
        idents[N_IDENTITIES::2], idents[N_IDENTITIES + 1 :: 2], strict=True
    ):
        distinct.append(
            {
                "a": ident_a[0].entity_id,
                "b": ident_b[0].entity_id,
                "why": "brothers sharing a flat and the family phone",
            }
        )
    return {"seed": seed, "identities": out, "distinct": distinct}


def write_truth(world: World, out_dir: Path) -> Path:
    """Write :func:`identity_truth` as ``identity_truth.json`` in ``out_dir``."""
    path = Path(out_dir) / "identity_truth.json"
    path.write_text(
        json.dumps(identity_truth(world.seed), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return path
