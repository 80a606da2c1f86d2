"""Text analysis shared by every backend: tokens, identifier detection, and the indexed document.

One tokenizer rule serves the embedded engine (as a Rust regex), Elasticsearch (its ``standard``
analyzer, which follows Unicode UAX #29 word boundaries) and the Python matcher:

* every Han character is a token of its own, so a Chinese phrase query (入室盗窃) is a sequence
  of adjacent characters and matches only where they stand together;
* a word is a run of letters, digits and ``_``; letters stay joined across ``. ' ’ :`` (U.S.A,
  don't) and digits across ``. , ; ' ’`` (3.5, 1,000), as in UAX #29;
* text is NFKC-folded (full-width ＡＢＣ１２３ becomes ABC123) before indexing and before
  querying, and tokens are lower-cased.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from core import normalize
from core.normalize import fold

_HAN_RANGES = (
    "\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
)
_LET = f"[^\\W\\d{_HAN_RANGES}]"  # letters and "_", not Han
_NUM = r"\d"
_TOKEN = re.compile(f"[{_HAN_RANGES}]|(?:{_LET}+(?:[.'’:]{_LET}+)*|{_NUM}+(?:[.,;'’]{_NUM}+)*)+")

#: The same rule for tantivy's regex tokenizer (Rust ``regex`` syntax).
RUST_TOKEN_PATTERN = (
    r"\p{Han}|(?:[\p{L}\p{Mn}\p{Mc}_--\p{Han}]+(?:[.'’:][\p{L}\p{Mn}\p{Mc}_--\p{Han}]+)*"
    r"|\p{Nd}+(?:[.,;'’]\p{Nd}+)*)+"
)

_HAN_CHAR = re.compile(f"[{_HAN_RANGES}]")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Token:
    """A token with its character offsets in the folded text."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens of ``text`` (folded first)."""
    return [m.group().lower() for m in _TOKEN.finditer(fold(text))]


def index_text(folded_text: str) -> str:
    """The lower-cased tokens of already folded text joined by single spaces.

    The embedded engine indexes this with a whitespace tokenizer: the tokens are by
    construction the ones queries and the matcher use, and this pass plus tantivy's whitespace
    split cost less than tantivy's Unicode regex tokenizer on the raw text (measured: ~10 µs +
    ~8 µs against ~28 µs per benchmark document).
    (Joined lower-casing equals per-token lower-casing: spaces end Greek final-sigma context.)
    """
    return " ".join(_TOKEN.findall(folded_text)).lower()


_HAN_RUN = re.compile(f"[{_HAN_RANGES}](?: [{_HAN_RANGES}])+")


def han_runs(indexed_text: str) -> list[str]:
    """The runs of two or more consecutive Han tokens in :func:`index_text` output, each
    joined without spaces: ``"车 辆 被 盗 at 6 am 报 警"`` -> ``["车辆被盗", "报警"]``.

    The embedded engine indexes these with a character-bigram tokenizer, so a two-character
    Chinese word (盗窃) is one term instead of a phrase of two very common characters. A
    bigram is found exactly where the two characters are adjacent tokens of one value,
    which is what the phrase query matches (punctuation between them counts as adjacent in
    both, as it does in Elasticsearch's standard analyzer).
    """
    return [run.replace(" ", "") for run in _HAN_RUN.findall(indexed_text)]


def is_han_char(token: str) -> bool:
    """Whether ``token`` is a single Han character (a token of its own)."""
    return len(token) == 1 and _HAN_CHAR.match(token) is not None


def token_spans(folded_text: str) -> tuple[list[str], list[int], list[int]]:
    """Tokens of already folded text and their start and end offsets, as three lists (the
    highlighter's fast path: no object per token)."""
    matches = list(_TOKEN.finditer(folded_text))
    return (
        [m.group().lower() for m in matches],
        [m.start() for m in matches],
        [m.end() for m in matches],
    )


def tokens_with_offsets(folded_text: str) -> Iterator[Token]:
    """Tokens of already folded text, with offsets (for highlighting)."""
    for m in _TOKEN.finditer(folded_text):
        yield Token(m.group().lower(), m.start(), m.end())


def has_han(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None


# -- identifiers ---------------------------------------------------------------------------------
_PLATE = re.compile(r"^[\u4e00-\u9fff][A-Z](?:[A-Z0-9]{5,6}|[A-Z0-9]{4}[挂学警港澳领])$")
_PHONE_RAW = re.compile(r"^[+\d(][\d\s\-()·]{6,}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_ID = re.compile(r"^(?:\d{17}[\dX]|\d{15})$")

# Identifiers written inside free text (a narrative that mentions a plate or a phone).
_PLATE_IN_TEXT = re.compile(
    r"[\u4e00-\u9fff]\s?[A-Za-z][\s·•・.\-]?[A-Za-z0-9]{5,6}(?![A-Za-z0-9])"
)
_PHONE_IN_TEXT = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?!\d)"
)
_ID_IN_TEXT = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")


def identifier_forms(value: str) -> list[str]:
    """The canonical forms ``value`` takes if it looks like a plate, phone or ID number.

    >>> identifier_forms("浙d·12345")
    ['浙D12345']
    >>> identifier_forms("+86 138-0013-8000")
    ['13800138000']
    >>> identifier_forms("hello")
    []
    """
    folded = fold(value)
    out: list[str] = []
    p = normalize.plate(folded)
    if _PLATE.match(p):
        out.append(p)
    if _PHONE_RAW.match(folded):
        ph = normalize.phone(folded)
        if _MOBILE.match(ph) or _LANDLINE.match(ph):
            out.append(ph)
    i = normalize.id_number(folded)
    if _ID.match(i) and i not in out:
        out.append(i)
    return out


def identifiers_in_text(text: str) -> set[str]:
    """Canonical plates, phones and ID numbers written anywhere in ``text``."""
    found: set[str] = set()
    if _DIGIT.search(text) is None:
        return found
    for m in _PLATE_IN_TEXT.finditer(text):
        p = normalize.plate(m.group())
        if _PLATE.match(p):
            found.add(p)
    for m in _PHONE_IN_TEXT.finditer(text):
        found.add(normalize.phone(m.group()))
    for m in _ID_IN_TEXT.finditer(text):
        found.add(normalize.id_number(m.group()))
    return found


_SPACED_ID = re.compile(
    r"(?<![\w.])\+?[\d\-()]+(?:[ \t][\d\-()]+)+|[\u4e00-\u9fff][A-Za-z][ \t][A-Za-z0-9]{4,6}"
)


def join_spaced_identifiers(query: str) -> str:
    """Join identifiers written with spaces (``+86 138 0013 8000``, ``浙D 12345``) outside
    quotes, so they stay one term; spaces become ``·`` (same length: error positions hold)."""
    if not any(ch.isdigit() for ch in query):
        return query
    quoted: list[tuple[int, int]] = [(m.start(), m.end()) for m in re.finditer(r'"[^"]*"?', query)]
    out = list(query)
    for m in _SPACED_ID.finditer(query):
        if any(s <= m.start() < e for s, e in quoted) or not identifier_forms(m.group()):
            continue
        for i in range(m.start(), m.end()):
            if query[i] in " \t":
                out[i] = "·"
    return "".join(out)


def wildcard_to_regex(pattern: str) -> str:
    """A Lucene wildcard (``*`` any run, ``?`` one character) as an anchored-by-use regex."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return "".join(out)
