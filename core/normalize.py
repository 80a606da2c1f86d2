"""Identifier normalisers: every written form of a plate, phone or ID number becomes one key.

Search and entity resolution both call these, so "浙D·12345", "浙D 12345" and "浙d12345" find the
same vehicle and end up as the same graph node.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_NON_DIGIT = re.compile(r"\D+")
_PLATE_NOISE = re.compile(r"[\s·•・.\-_/]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC-fold (full-width to half-width) and trim."""
    return unicodedata.normalize("NFKC", text).strip()


def phone(value: str) -> str:
    """Canonical phone number: digits only, China country code removed from mobiles.

    >>> phone("+86 138-0013-8000")
    '13800138000'
    >>> phone("0571-8765 4321")
    '057187654321'
    """
    digits = _NON_DIGIT.sub("", fold(value))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def plate(value: str) -> str:
    """Canonical licence plate: upper case, no separators.

    >>> plate("浙d·12345")
    '浙D12345'
    """
    return _PLATE_NOISE.sub("", fold(value)).upper()


def id_number(value: str) -> str:
    """Canonical resident ID number: no spaces, upper-case check letter X."""
    return _SPACES.sub("", fold(value)).upper()


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
