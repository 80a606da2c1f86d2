"""Evaluate a plan against one indexed document in Python.

Saved searches use this to test newly ingested records without a round trip to the backend, and
the conformance suite holds it to the same answers as the two engines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from search.analysis import tokenize, wildcard_to_regex
from search.document import text_values
from search.plan import (
    PAll,
    PBool,
    PFuzzy,
    PGeoBox,
    PGeoRadius,
    PNode,
    PNone,
    PRange,
    PTerms,
    PText,
    PWildcard,
)

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (adjacent transpositions cost 1), stopping early above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(wildcard_to_regex(pattern), re.DOTALL)


def _keyword_values(doc: Mapping[str, Any], field: str) -> list[str]:
    if field.startswith("k."):
        return [str(v) for v in doc.get("k", {}).get(field[2:], [])]
    value = doc.get(field)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class DocMatcher:
    """Matches plans against one document; tokenizes each text value once."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self._tokens: dict[str, list[list[str]]] = {}

    def text_tokens(self, field: str) -> list[list[str]]:
        if field not in self._tokens:
            if field == "all":
                values = text_values(self.doc)
            else:
                v = self.doc.get("t", {}).get(field[2:])
                values = [v] if v else []
            self._tokens[field] = [tokenize(v) for v in values]
        return self._tokens[field]

    def matches(self, node: PNode) -> bool:
        if isinstance(node, PAll):
            return True
        if isinstance(node, PNone):
            return False
        if isinstance(node, PBool):
            if not all(self.matches(n) for n in node.must + node.filter):
                return False
            if node.should and not any(self.matches(n) for n in node.should):
                return False
            return not any(self.matches(n) for n in node.must_not)
        if isinstance(node, PTerms):
            wanted = set(node.values)
            return any(v in wanted for v in _keyword_values(self.doc, node.field))
        if isinstance(node, PText):
            return any(
                _has_phrase(toks, node.tokens, node.slop) for toks in self.text_tokens(node.field)
            )
        if isinstance(node, PWildcard):
            rx = _regex(node.pattern)
            values = (
                [t for toks in self.text_tokens(node.field) for t in toks]
                if node.text
                else _keyword_values(self.doc, node.field)
            )
            return any(rx.fullmatch(v) for v in values)
        if isinstance(node, PFuzzy):
            values = (
                [t for toks in self.text_tokens(node.field) for t in toks]
                if node.field == "all" or node.field.startswith("t.")
                else _keyword_values(self.doc, node.field)
            )
            return any(edit_distance(v, node.value, node.distance) <= node.distance for v in values)
        if isinstance(node, PRange):
            value = _range_value(self.doc, node.field)
            if value is None:
                return False
            if node.low is not None and (
                value < node.low or (value == node.low and not node.include_low)
            ):
                return False
            return node.high is None or not (
                value > node.high or (value == node.high and not node.include_high)
            )
        geo: Any = self.doc.get("geo")
        if isinstance(node, PGeoBox):
            return bool(geo) and (
                node.south <= geo[0] <= node.north and node.west <= geo[1] <= node.east
            )
        if isinstance(node, PGeoRadius):
            return bool(geo) and haversine_m(node.lat, node.lon, geo[0], geo[1]) <= node.meters
        raise TypeError(f"unknown plan node {node!r}")


def _range_value(doc: Mapping[str, Any], field: str) -> float | None:
    if field == "time":
        return doc.get("time")
    space, _, name = field.partition(".")
    value = doc.get(space, {}).get(name)
    return None if value is None else float(value)


def _has_phrase(tokens: list[str], phrase: tuple[str, ...], slop: int) -> bool:
    n = len(phrase)
    if n == 1:
        return phrase[0] in tokens
    first = phrase[0]
    for i, tok in enumerate(tokens):
        if tok != first:
            continue
        if slop == 0:
            if tokens[i : i + n] == list(phrase):
                return True
            continue
        pos, ok = i, True  # in order, total gaps at most ``slop``
        gaps = 0
        for want in phrase[1:]:
            try:
                nxt = tokens.index(want, pos + 1, pos + 2 + slop - gaps)
            except ValueError:
                ok = False
                break
            gaps += nxt - pos - 1
            pos = nxt
        if ok:
            return True
    return False


def matches(doc: Mapping[str, Any], node: PNode) -> bool:
    """True when ``doc`` (from :func:`search.document.build_doc`) satisfies the plan."""
    return DocMatcher(doc).matches(node)
