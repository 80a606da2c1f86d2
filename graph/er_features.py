"""The comparable form of a person record: what entity resolution compares, field by field.

Sources write one person many ways — 王建国 / 王建國 / 王建囯 / ``Wang Jianguo`` /
``JIANGUO WANG``, a birth date as ``1986-04-05`` / ``19860405`` / ``86年4月5日``, an 18-digit ID
number with one wrong digit or the 15-digit number of a first-generation card, an address with or
without its city and flat. :func:`person_features` turns a person entity's properties (and the
phones and addresses linked to it) into flat, normalised columns that the match model
(:mod:`graph.er_model`) compares with plain SQL: simplified characters (OpenCC), a pinyin key
that does not care about tones, homophones or the order of family and given name (pypinyin), a
birth date and gender taken from the ID number when the record has none, the ID number's first
17 digits (15-digit numbers converted), and the address split into district, street and number.
Pure Python; no Qt, no database.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from core import normalize

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_TOKEN = re.compile(r"[a-z]+")
_DATE_ISO = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATE_SHORT = re.compile(r"^\s*(\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_DATE_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")
_ADDR_NUMBER = re.compile(r"(\d+)\s*号")
_ADDR_STREET = re.compile(r"([\u4e00-\u9fff]{1,8}?(?:路|街|大道|巷|弄|道))")
_ADMIN_UNIT = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:自治区|省|市|区|县)")
_ADDR_BUILDING = re.compile(r"(\d+)\s*(?:幢|栋|号楼)")

#: Compound surnames (two characters) — the rest are one character.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "司徒",
        "夏侯",
        "轩辕",
        "端木",
        "长孙",
        "宇文",
    }
)
#: Surnames read otherwise than the character's everyday reading (曾 zēng, not céng).
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "查": "zha",
    "区": "ou",
    "仇": "qiu",
    "朴": "piao",
    "乐": "yue",
    "缪": "miao",
    "翟": "zhai",
    "覃": "qin",
    "盖": "ge",
    "种": "chong",
    "秘": "bi",
    "折": "she",
    "黑": "he",
    "柏": "bai",
    "祭": "zhai",
    "句": "gou",
    "蔚": "yu",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "长孙": "zhangsun",
    "召": "shao",
    "员": "yun",
    "华": "hua",
    "任": "ren",
}
#: Pinyin of common surnames: tells which token of a Latin-script name is the family name.
_SURNAMES_TEXT = (
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng "
    "liang xie song tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai jia "
    "ding wei xue ye yan lu du dai xia zhong fu shen ren yao qian shi cui tan fan jin wan qin "
    "gu kong qiu mao hao gong shao kang bai niu hong meng long duan lei lai tao yin yi su "
    "cheng chu jiao qi wen fang hou xiong ge ke ni zou mo zhan qu kuang xiang ling gan lan mu "
    "ou bi geng guan hang ji kou lian man ning pang rao sang tong xi xing zuo an ai bao chang "
    "chai chi cong dang di fei gai hua huo ju le liao lou mi miao nie pu qiao quan ran rong "
    "sha shan shang sui tai tu yue zang zha zhai zhen zhuo "
    "ouyang sima zhuge shangguan situ murong"
)
SURNAME_PINYIN = frozenset(_SURNAMES_TEXT.split())

#: The columns every person record has (None when unknown), in the model's order.
COLUMNS = (
    "unique_id",
    "name",
    "name_hz",
    "name_key",
    "surname",
    "birth_date",
    "birth_shown",
    "birth_y",
    "birth_m",
    "birth_d",
    "gender",
    "id_shown",
    "id17",
    "id_head",
    "id_area",
    "id_core",
    "id_valid",
    "phones",
    "phone1",
    "address",
    "district",
    "street",
    "street_no",
    "building",
)


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id17(value: str | None) -> tuple[str | None, bool]:
    """The first 17 digits of an ID number (15-digit numbers converted) and whether the number
    as written is valid (right length and check character).

    >>> id17("330402198604050017")[0]
    '33040219860405001'
    >>> id17("330402860405001")
    ('33040219860405001', True)
    """
    if not value:
        return None, False
    v = normalize.id_number(str(value))
    if len(v) == 18 and v[:17].isdigit():
        return v[:17], id_check_digit(v[:17]) == v[17]
    if len(v) == 15 and v.isdigit():  # first-generation card: YYMMDD, no check character
        return v[:6] + "19" + v[6:], True
    return None, False


def parse_birth(value: Any) -> date | None:
    """A birth date from any of the ways sources write one, or None.

    >>> [str(parse_birth(v)) for v in ("1986-04-05", "19860405", "1986年4月5日", "86年4月5日")]
    ['1986-04-05', '1986-04-05', '1986-04-05', '1986-04-05']
    """
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    text = normalize.fold(str(value))
    for pattern, short in ((_DATE_ISO, False), (_DATE_COMPACT, False), (_DATE_SHORT, True)):
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            if short:  # two-digit year: people in a registry were born 1930..2029
                y += 1900 if y >= 30 else 2000
            try:
                return date(y, mo, d)
            except ValueError:
                return None
    return None


def _ymd_from_id(first17: str | None) -> tuple[int, int, int] | None:
    if not first17:
        return None
    return int(first17[6:10]), int(first17[10:12]), int(first17[12:14])


@functools.lru_cache(maxsize=200_000)
def name_forms(raw: str) -> tuple[str | None, str | None, str | None]:
    """(simplified hanzi or None, pinyin key, surname pinyin) of one name; the key is the
    family and the given name's pinyin, sorted (``jianguo|wang``).

    The key ignores tones, homophones (国/囯/果 are all ``guo``), traditional characters, case,
    spaces and the order of family and given name in Latin script.
    """
    folded = normalize.name(raw)
    if not folded:
        return None, None, None
    if _CJK.search(folded):
        hz = _t2s(re.sub(r"[^\u3400-\u9fff]", "", folded))
        from pypinyin import lazy_pinyin

        split = 2 if hz[:2] in COMPOUND_SURNAMES else 1
        sur = _u(SURNAME_READINGS.get(hz[:split]) or "".join(lazy_pinyin(hz[:split])))
        given = _u("".join(lazy_pinyin(hz[split:])))
        return hz, _key(sur, given), sur
    tokens = [
        _u(t) for t in _LATIN_TOKEN.findall(folded.lower().replace("ü", "v").replace("u:", "v"))
    ]
    if not tokens:
        return None, None, None
    if len(tokens) == 1:
        return None, f"|{tokens[0]}", None
    if tokens[0] in SURNAME_PINYIN or tokens[-1] not in SURNAME_PINYIN:
        sur, rest = tokens[0], tokens[1:]
    else:  # "Jianguo Wang": Western order, family name last
        sur, rest = tokens[-1], tokens[:-1]
    return None, _key(sur, "".join(rest)), sur


def _u(syllables: str) -> str:
    # 吕 is "lv" in pypinyin, "LÜ", "LYU" or "LU" on documents: one spelling for all
    return syllables.replace("lyu", "lu").replace("nyu", "nu").replace("v", "u")


def _key(surname: str, given: str) -> str:
    """Order-free: "Lei Lü" and 吕磊 agree whichever token the writer put first."""
    return "|".join(sorted((surname, given)))


@functools.lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _t2s(text: str) -> str:
    return str(_converter().convert(text))


@functools.lru_cache(maxsize=100_000)
def parse_address(raw: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(district, street, number, building) of a Chinese street address, None where absent.

    The district is the last administrative unit before the street (a county-level city
    counts; a lone prefecture city is taken as the district when nothing finer is written).

    >>> parse_address("嘉兴市南湖区解放路160号梅湾小区3幢2单元")
    ('南湖区', '解放路', '160', '3')
    >>> parse_address("南湖区解放路160号3幢")
    ('南湖区', '解放路', '160', '3')
    >>> parse_address("浙江省嘉兴市海宁市建设路338号")
    ('海宁市', '建设路', '338', None)
    """
    text = normalize.fold(raw)
    pos, units = 0, []
    while (m := _ADMIN_UNIT.match(text, pos)) and not any(c in m.group() for c in "路街道巷弄"):
        units.append(m.group())
        pos = m.end()
    district = next((u for u in reversed(units) if not u.endswith(("省", "自治区"))), None)
    street = number = building = None
    sm = _ADDR_STREET.search(text, pos)
    if sm:
        street = sm.group(1)
        nm = _ADDR_NUMBER.search(text, sm.end())
        if nm and nm.start() - sm.end() <= 2:
            number = nm.group(1)
            bm = _ADDR_BUILDING.search(text, nm.end())
            building = bm.group(1) if bm else None
    return district, street, number, building


def person_features(
    entity_id: str,
    props: Mapping[str, Any],
    *,
    phones: Iterable[str] = (),
    addresses: Iterable[str] = (),
) -> dict[str, Any]:
    """The comparable columns (:data:`COLUMNS`) of one person entity.

    Parameters
    ----------
    entity_id:
        The store's entity id; becomes ``unique_id``.
    props:
        The entity's properties (``name``, ``birth_date``, ``gender``, ``id_number``,
        ``address``); any may be missing.
    phones, addresses:
        Canonical phone numbers and address texts linked to the entity (``owns`` / ``lives_at``).
    """
    name = str(props.get("name") or "")
    hz, key, sur = name_forms(name) if name else (None, None, None)
    written_id = str(props.get("id_number") or _key_of(entity_id))
    first17, valid = id17(written_id)
    # The birth date as written, else the one in the ID number. The model compares the ID
    # number without its birth-date digits, so the date counts once either way. Gender only
    # as written (the ID's parity digit is part of the compared sequence).
    born = parse_birth(props.get("birth_date"))
    ymd = (born.year, born.month, born.day) if born else _ymd_from_id(first17)
    gender = str(props.get("gender") or "") or None
    phone_set = sorted({normalize.phone(p) for p in phones if p} - {""})
    addr_texts = [str(props["address"])] if props.get("address") else []
    addr_texts += [a for a in addresses if a and a not in addr_texts]
    district = street = number = building = None
    address = None
    for text in addr_texts:  # the most complete parse wins
        d, s, n, b = parse_address(text)
        if s and (street is None or (n and not number)):
            district, street, number, building, address = d, s, n, b, text
        elif district is None and d:
            district = d
            address = address or text
    return {
        "unique_id": entity_id,
        "name": name or None,
        "name_hz": hz,
        "name_key": key,
        "surname": sur,
        # from the ID the parts are kept even when the date is impossible (a typo'd "1957-11-66"
        # still agrees on year and month)
        "birth_date": f"{ymd[0]:04d}-{ymd[1]:02d}-{ymd[2]:02d}" if ymd else None,
        "birth_shown": (
            str(props.get("birth_date"))
            if born
            else f"{ymd[0]:04d}-{ymd[1]:02d}-{ymd[2]:02d} (in the ID)"
            if ymd
            else None
        ),
        "birth_y": ymd[0] if ymd else None,
        "birth_m": ymd[1] if ymd else None,
        "birth_d": ymd[2] if ymd else None,
        "gender": gender,
        "id_shown": normalize.id_number(written_id) or None,
        "id17": first17,
        "id_head": first17[:14] if first17 else None,
        "id_area": first17[:6] if first17 else None,
        "id_core": first17[:6] + first17[14:] if first17 else None,
        "id_valid": valid,
        "phones": phone_set or None,
        "phone1": phone_set[0] if phone_set else None,
        "address": address,
        "district": district,
        "street": street,
        "street_no": f"{street}{number}" if street and number else None,
        "building": building,
    }


def _key_of(entity_id: str) -> str:
    return entity_id.split(":", 1)[1] if ":" in entity_id else entity_id
