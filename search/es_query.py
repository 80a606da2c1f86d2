"""Translate a plan into Elasticsearch query DSL (dicts only: user text is never spliced into
a request string, so nothing in a query can change the request's structure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

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


def _escape_wildcard(pattern: str) -> str:
    return pattern.replace("\\", "\\\\")


def to_dsl(node: PNode, text_fields: Sequence[str] = ("all",)) -> dict[str, Any]:
    """The ``query`` object for ``node``; ``text_fields`` are what the field ``all`` means
    (a query without a field searches each of them)."""
    if (
        isinstance(node, PText | PWildcard | PFuzzy)
        and node.field == "all"
        and len(text_fields) > 1
    ):
        return {
            "bool": {
                "should": [_leaf(replace(node, field=f)) for f in text_fields],
                "minimum_should_match": 1,
            }
        }
    if isinstance(node, PBool):
        body: dict[str, Any] = {}
        for key in ("must", "filter", "should", "must_not"):
            children = getattr(node, key)
            if children:
                body[key] = [to_dsl(n, text_fields) for n in children]
        if node.should:
            body["minimum_should_match"] = 1
        return {"bool": body}
    return _leaf(node)


def _leaf(node: PNode) -> dict[str, Any]:
    """The query object of one leaf node."""
    if isinstance(node, PAll):
        return {"match_all": {}}
    if isinstance(node, PNone):
        return {"match_none": {}}
    if isinstance(node, PTerms):
        if len(node.values) == 1:
            return {"term": {node.field: node.values[0]}}
        return {"terms": {node.field: list(node.values)}}
    if isinstance(node, PText):
        if len(node.tokens) == 1:
            return {"term": {node.field: node.tokens[0]}}
        return {
            "span_near": {
                "clauses": [{"span_term": {node.field: t}} for t in node.tokens],
                "slop": node.slop,
                "in_order": True,
            }
        }
    if isinstance(node, PWildcard):
        return {"wildcard": {node.field: {"value": _escape_wildcard(node.pattern)}}}
    if isinstance(node, PFuzzy):
        return {
            "fuzzy": {
                node.field: {
                    "value": node.value,
                    "fuzziness": node.distance,
                    "transpositions": True,
                    "prefix_length": 0,
                    "max_expansions": 1000,
                }
            }
        }
    if isinstance(node, PRange):
        bounds: dict[str, Any] = {}
        if node.low is not None:
            bounds["gte" if node.include_low else "gt"] = (
                int(node.low) if node.kind == "date" else node.low
            )
        if node.high is not None:
            bounds["lte" if node.include_high else "lt"] = (
                int(node.high) if node.kind == "date" else node.high
            )
        if not bounds:
            return {"exists": {"field": node.field}}
        if node.kind == "date":
            bounds["format"] = "epoch_millis"
        return {"range": {node.field: bounds}}
    if isinstance(node, PGeoBox):
        return {
            "geo_bounding_box": {
                "geo": {
                    "top_left": {"lat": node.north, "lon": node.west},
                    "bottom_right": {"lat": node.south, "lon": node.east},
                }
            }
        }
    if isinstance(node, PGeoRadius):
        return {
            "geo_distance": {
                "distance": f"{node.meters}m",
                "geo": {"lat": node.lat, "lon": node.lon},
            }
        }
    raise TypeError(f"unknown plan node {node!r}")
