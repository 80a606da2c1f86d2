"""Translate a plan into tantivy queries for the embedded engine."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from search.analysis import is_han_char, wildcard_to_regex
from search.embedded_docs import BIGRAM_PREFIX, field_name
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


def _ms_to_dt(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)


def radius_box(node: PGeoRadius) -> PGeoBox:
    """The lat/lon box around a circle (the exact distance test runs afterwards)."""
    dlat = math.degrees(node.meters / 6_371_008.8)
    coslat = max(0.01, math.cos(math.radians(node.lat)))
    dlon = min(180.0, dlat / coslat)
    return PGeoBox(node.lat - dlat, node.lon - dlon, node.lat + dlat, node.lon + dlon)


class TantivyTranslator:
    """Builds tantivy queries for one index schema (``fields``: the names it has)."""

    def __init__(
        self, schema: tantivy.Schema, fields: set[str], text_fields: Sequence[str] = ("all",)
    ) -> None:
        self.schema = schema
        self.fields = fields
        self.text_fields = [f for f in text_fields if field_name(f) in fields]

    def translate(self, node: PNode) -> Query:
        if (
            isinstance(node, PText | PWildcard | PFuzzy)
            and node.field == "all"
            and len(self.text_fields) > 1
        ):
            return Query.boolean_query(
                [(Occur.Should, self._leaf(replace(node, field=f))) for f in self.text_fields]
            )
        return self._leaf(node)

    def _leaf(self, node: PNode) -> Query:
        s = self.schema
        if isinstance(node, PAll):
            return Query.all_query()
        if isinstance(node, PNone):
            return Query.empty_query()
        if isinstance(node, PBool):
            clauses: list[tuple[Occur, Query]] = []
            clauses += [(Occur.Must, self.translate(n)) for n in node.must]
            clauses += [
                (Occur.Must, Query.const_score_query(self.translate(n), 0.0)) for n in node.filter
            ]
            if node.should:
                shoulds = [(Occur.Should, self.translate(n)) for n in node.should]
                if clauses:
                    clauses.append((Occur.Must, Query.boolean_query(shoulds)))
                else:
                    clauses = shoulds
            nots = [(Occur.MustNot, self.translate(n)) for n in node.must_not]
            if nots and not clauses:
                clauses.append((Occur.Must, Query.all_query()))
            return Query.boolean_query(clauses + nots)
        if isinstance(node, PGeoRadius):
            node = radius_box(node)  # exact distance: EmbeddedBackend filters afterwards
        if isinstance(node, PGeoBox):
            return Query.boolean_query(
                [
                    (
                        Occur.Must,
                        Query.range_query(s, "lat", FieldType.Float, node.south, node.north),
                    ),
                    (
                        Occur.Must,
                        Query.range_query(s, "lon", FieldType.Float, node.west, node.east),
                    ),
                ]
            )
        name = field_name(node.field)
        if name not in self.fields:
            return self._undeclared(node)
        if isinstance(node, PTerms):
            if len(node.values) == 1:
                return Query.term_query(s, name, node.values[0])
            return Query.term_set_query(s, name, list(node.values))
        if isinstance(node, PText):
            if len(node.tokens) == 1:
                return Query.term_query(s, name, node.tokens[0])
            bigrams = BIGRAM_PREFIX + name
            if (
                len(node.tokens) == 2
                and bigrams in self.fields
                and all(is_han_char(t) for t in node.tokens)
            ):
                # A two-character Chinese word: one term of the bigram twin, same documents
                # as the phrase (see search.analysis.han_runs), without reading positions.
                return Query.term_query(s, bigrams, node.tokens[0] + node.tokens[1])
            return Query.phrase_query(s, name, list(node.tokens), node.slop)
        if isinstance(node, PWildcard):
            return Query.regex_query(s, name, wildcard_to_regex(node.pattern))
        if isinstance(node, PFuzzy):
            return Query.fuzzy_term_query(s, name, node.value, node.distance, True, False)
        if isinstance(node, PRange):
            return self._range(name, node)
        raise TypeError(f"unknown plan node {node!r}")

    def _range(self, name: str, node: PRange) -> Query:
        if node.kind == "date":
            ftype: Any = FieldType.Date
            low: Any = _ms_to_dt(node.low) if node.low is not None else None
            high: Any = _ms_to_dt(node.high) if node.high is not None else None
        else:
            ftype, low, high = FieldType.Float, node.low, node.high
        if low is None and high is None:
            return Query.exists_query(name)
        return Query.range_query(
            self.schema,
            name,
            ftype,
            low,
            high,
            node.include_low if low is not None else True,
            node.include_high if high is not None else True,
        )

    def _undeclared(self, node: PNode) -> Query:
        """Fields no schema declared live in the ``kx`` JSON field (exact terms only)."""
        field = getattr(node, "field", "")
        if isinstance(node, PTerms) and field.startswith("k."):
            path = f"kx.{field[2:]}"
            return Query.boolean_query(
                [(Occur.Should, Query.term_query(self.schema, path, v)) for v in node.values]
            )
        return Query.empty_query()
