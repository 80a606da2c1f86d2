"""Highlighted snippets computed in Python (the embedded engine; Elasticsearch highlights itself).

Snippets are HTML-escaped text with matches wrapped in :data:`search.model.MARK_OPEN` /
:data:`~search.model.MARK_CLOSE`; adjacent marks are merged so a Chinese phrase reads as one
marked run (``<mark>入室盗窃</mark>``) in both backends.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from search.analysis import token_spans
from search.model import MARK_CLOSE, MARK_OPEN

FRAGMENT_CHARS = 120
MAX_FRAGMENTS = 3


def merge_adjacent_marks(snippet: str) -> str:
    return snippet.replace(MARK_CLOSE + MARK_OPEN, "")


def snippets(values: Sequence[str], phrases: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """Fragments of ``values`` (folded text) around the tokens/phrases in ``phrases``."""
    if not phrases:
        return ()
    out: list[str] = []
    # A value can only match a phrase that has every token in it: most values of a hit
    # (other fields, keywords) are skipped without tokenizing them. (Final sigma is the one
    # letter whose lower case depends on its neighbours, so ς and σ compare equal here.)
    needles = [[t.replace("ς", "σ") for t in p] for p in phrases]
    for value in values:
        lowered = value.lower().replace("ς", "σ")
        candidates = [
            p for p, ts in zip(phrases, needles, strict=True) if all(t in lowered for t in ts)
        ]
        if not candidates:
            continue
        spans = _phrase_spans(value, candidates)
        if not spans:
            continue
        spans = _merge(sorted(spans))
        start = max(0, spans[0][0] - FRAGMENT_CHARS // 3)
        end = min(len(value), start + FRAGMENT_CHARS)
        parts, cursor = [], start
        for s, e in spans:
            if s >= end:
                break
            parts.append(html.escape(value[cursor:s]))
            parts.append(MARK_OPEN + html.escape(value[s : min(e, end)]) + MARK_CLOSE)
            cursor = min(e, end)
        parts.append(html.escape(value[cursor:end]))
        text = ("…" if start > 0 else "") + "".join(parts) + ("…" if end < len(value) else "")
        out.append(merge_adjacent_marks(text))
        if len(out) >= MAX_FRAGMENTS:
            break
    return tuple(out)


def _phrase_spans(value: str, phrases: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Character spans in ``value`` where a phrase's tokens stand one after another."""
    words, starts, ends = token_spans(value)
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        n, first, rest = len(phrase), phrase[0], list(phrase[1:])
        for i, word in enumerate(words):
            if word == first and words[i + 1 : i + n] == rest:
                spans.append((starts[i], ends[i + n - 1]))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged
