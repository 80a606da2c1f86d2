"""Identifier normalisers: every written form of a plate, phone or ID number becomes one key.

Search and entity resolution both call these, so "浙D·12345", "浙D 12345" and "浙d12345" find the
same vehicle and end up as the same graph node.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_NON_DIGIT = re.compile(r"\D+")
_PLATE_NOISE = re.compile(r"[\s·•・‧∙⋅.\-_/—–|]+")
_SERIAL = re.compile(r"[A-Z][A-Z0-9]{5,6}")
_LANDLINE_EXT = re.compile(r"(转|ext\.?|x)\s*\d+$", re.IGNORECASE)

# Province abbreviations as written in Latin letters: the pinyin of the plate's character and
# the two-letter administrative code (GB/T 2260). Pinyin shared by two provinces (JI 冀/吉,
# JIN 津/晋, GAN 赣/甘, GUI 桂/贵, YU 豫/渝) and the one-letter E (鄂) are ambiguous and not
# converted.
_PROVINCES = {
    "京": ("JING", "BJ"),
    "津": ("TJ",),
    "冀": ("HE",),
    "晋": ("SX",),
    "蒙": ("MENG", "NM"),
    "辽": ("LIAO", "LN"),
    "吉": ("JL",),
    "黑": ("HEI", "HL"),
    "沪": ("HU", "SH"),
    "苏": ("SU", "JS"),
    "浙": ("ZHE", "ZJ"),
    "皖": ("WAN", "AH"),
    "闽": ("MIN", "FJ"),
    "赣": ("JX",),
    "鲁": ("LU", "SD"),
    "豫": ("HA",),
    "鄂": ("HB",),
    "湘": ("XIANG", "HN"),
    "粤": ("YUE", "GD"),
    "桂": ("GX",),
    "琼": ("QIONG", "HI"),
    "渝": ("CQ",),
    "川": ("CHUAN", "SC"),
    "贵": ("GZ",),
    "云": ("YUN", "YN"),
    "藏": ("ZANG", "XZ"),
    "陕": ("SHAAN", "SN"),
    "甘": ("GS",),
    "青": ("QING", "QH"),
    "宁": ("NING", "NX"),
    "新": ("XIN", "XJ"),
}
_LATIN_PROVINCE = sorted(
    ((latin, char) for char, forms in _PROVINCES.items() for latin in forms),
    key=lambda lc: -len(lc[0]),
)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC-fold (full-width to half-width) and trim."""
    return unicodedata.normalize("NFKC", text).strip()


def phone(value: str) -> str:
    """Canonical phone number: digits only, China country code removed from mobiles.

    Letters O and l/I typed for 0 and 1 are read as digits; an extension (``转123``,
    ``ext 123``) is dropped.

    >>> phone("+86 138-0013-8000")
    '13800138000'
    >>> phone("0571-8765 4321")
    '057187654321'
    """
    folded = _LANDLINE_EXT.sub("", fold(value))
    bare = _PHONE_PUNCT.sub("", folded)
    if _PHONE_LIKE.fullmatch(bare) and sum(ch.isdigit() for ch in bare) >= 3:
        folded = bare.translate(_DIGIT_CONFUSIONS)  # a number with a few mistyped letters
    digits = _NON_DIGIT.sub("", folded)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


_PHONE_PUNCT = re.compile(r"[\s\-()+.]+")
_PHONE_LIKE = re.compile(r"[0-9OoIl]+")
_DIGIT_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})


def plate(value: str) -> str:
    """Canonical licence plate: upper case, no separators, the province as its character.

    Latin province abbreviations (``ZHE A 00001``, ``ZJ-A00001``) become the character, and
    the letters O and I, which plates never use after the city letter, are read as 0 and 1.

    >>> plate("浙d·12345")
    '浙D12345'
    >>> plate("ZHE A 00001")
    '浙A00001'
    """
    canon = _PLATE_NOISE.sub("", fold(value)).upper()
    if canon and canon[0].isascii():
        for latin, char in _LATIN_PROVINCE:
            if canon.startswith(latin) and _SERIAL.fullmatch(canon[len(latin) :]):
                canon = char + canon[len(latin) :]
                break
    if (
        ("O" in canon or "I" in canon)
        and len(canon) in (7, 8)
        and not canon[0].isascii()
        and _SERIAL.fullmatch(canon[1:])
    ):
        canon = canon[:2] + canon[2:].replace("O", "0").replace("I", "1")
    return canon


def id_number(value: str) -> str:
    """Canonical resident ID number: no spaces, upper-case check letter X.

    The number is kept even when its check digit is wrong; :func:`id_number_valid` tells.
    """
    return _SPACES.sub("", fold(value)).upper()


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_valid(value: str) -> bool:
    """True when ``value`` is a well-formed resident ID number.

    18 characters: 17 digits, a real birth date and the ISO 7064 MOD 11-2 check character;
    or the older 15 digits with a real birth date.
    """
    from datetime import date

    canon = id_number(value)
    if len(canon) == 18:
        body, check = canon[:17], canon[17]
        if not body.isdigit():
            return False
        birth = body[6:14]
        total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
        if _ID_CHECK[total % 11] != check:
            return False
    elif len(canon) == 15 and canon.isdigit():
        birth = "19" + canon[6:12]
    else:
        return False
    try:
        date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        return False
    return True


def text(value: str) -> str:
    """Canonical free-text key (names of places, organisations): folded, single spaces, lower."""
    return _SPACES.sub(" ", fold(value)).lower()


def code(value: str) -> str:
    """Canonical code (device ids, tag ids, case numbers): folded, upper, no spaces."""
    return _SPACES.sub("", fold(value)).upper()


def name(value: str) -> str:
    """Canonical person name: folded; spaces removed between CJK characters."""
    folded = _SPACES.sub(" ", fold(value))
    if any("\u4e00" <= ch <= "\u9fff" for ch in folded):
        folded = folded.replace(" ", "")
    return folded


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "phone": phone,
    "plate": plate,
    "id_number": id_number,
    "text": text,
    "code": code,
    "name": name,
}


def get(normalizer: str) -> Callable[[str], str]:
    """Return the normaliser called ``normalizer`` (KeyError names the known ones)."""
    try:
        return NORMALIZERS[normalizer]
    except KeyError:
        raise KeyError(
            f"unknown normalizer {normalizer!r}; known: {', '.join(sorted(NORMALIZERS))}"
        ) from None
