"""Highlighted snippets computed in Python (the embedded engine; Elasticsearch highlights itself).

Snippets are HTML-escaped text with matches wrapped in :data:`search.model.MARK_OPEN` /
:data:`~search.model.MARK_CLOSE`; adjacent marks are merged so a Chinese phrase reads as one
marked run (``<mark>入室盗窃</mark>``) in both backends.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from search.analysis import tokens_with_offsets
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
    for value in values:
        toks = list(tokens_with_offsets(value))
        words = [t.text for t in toks]
        spans: list[tuple[int, int]] = []
        for phrase in phrases:
            n = len(phrase)
            for i in range(len(words) - n + 1):
                if words[i:i + n] == list(phrase):
                    spans.append((toks[i].start, toks[i + n - 1].end))
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
            parts.append(MARK_OPEN + html.escape(value[s:min(e, end)]) + MARK_CLOSE)
            cursor = min(e, end)
        parts.append(html.escape(value[cursor:end]))
        text = ("…" if start > 0 else "") + "".join(parts) + ("…" if end < len(value) else "")
        out.append(merge_adjacent_marks(text))
        if len(out) >= MAX_FRAGMENTS:
            break
    return tuple(out)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged
