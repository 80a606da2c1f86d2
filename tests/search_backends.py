"""Fixtures' helpers for the search tests: the backends under test on one shared corpus.

Elasticsearch URLs come from the environment: SUPERBRAIN_ES_URL (9.x) and SUPERBRAIN_ES8_URL
(8.x), exported by tools/ci-services in CI or by `eval "$(tools/dev-elasticsearch start)"`.
With SUPERBRAIN_ES_REQUIRED=1 (CI) an unreachable server FAILS the tests; otherwise they skip.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from search_fixtures import SCHEMAS, corpus

from core.workspace import SearchConfig
from search.backend import SearchBackend
from search.document import FieldRegistry, build_doc
from search.elastic import ElasticsearchBackend
from search.embedded import EmbeddedBackend
from search.matcher import DocMatcher
from search.model import SearchRequest

ES_ENV = {"es9": "SUPERBRAIN_ES_URL", "es8": "SUPERBRAIN_ES8_URL"}


def registry() -> FieldRegistry:
    return FieldRegistry.from_schemas(SCHEMAS)


def es_url(kind: str) -> str:
    """The URL of a running Elasticsearch of ``kind`` or skip/fail as the environment says."""
    url = os.environ.get(ES_ENV[kind], "")
    required = os.environ.get("SUPERBRAIN_ES_REQUIRED") == "1"
    if not url:
        if required and kind == "es9":
            pytest.fail(f"SUPERBRAIN_ES_REQUIRED=1 but {ES_ENV[kind]} is not set")
        reason = os.environ.get("SUPERBRAIN_ES_SKIP_REASON") or (
            f"{ES_ENV[kind]} is not set (start one with tools/dev-elasticsearch)"
        )
        pytest.skip(f"no Elasticsearch {kind}: {reason}")
    import elasticsearch

    client = elasticsearch.Elasticsearch(url, request_timeout=10)
    try:
        client.cluster.health(wait_for_status="yellow", timeout="30s")
    except (elasticsearch.ConnectionError, elasticsearch.ApiError) as exc:
        message = f"Elasticsearch {kind} at {url} is not usable: {exc}"
        if os.environ.get("SUPERBRAIN_ES_START_ERROR"):
            message += f" ({os.environ['SUPERBRAIN_ES_START_ERROR']})"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return url


def es_backend(kind: str, reg: FieldRegistry) -> ElasticsearchBackend:
    prefix = f"sbtest-{uuid.uuid4().hex[:8]}"
    cfg = SearchConfig("elasticsearch", es_url(kind), "", "", "", "", prefix)
    return ElasticsearchBackend.from_config(cfg, reg)


def drop_es_indices(backend: ElasticsearchBackend) -> None:
    backend.client.indices.delete(
        index=f"{backend.prefix}-*",
        ignore_unavailable=True,
        allow_no_indices=True,
        expand_wildcards="all",
    )
    backend.close()


class MatcherBackend:
    """The Python matcher (saved searches) as a searchable "backend" over the same corpus."""

    name = "python-matcher"

    def __init__(self, reg: FieldRegistry) -> None:
        from search.plan import Planner

        self.planner = Planner(reg)
        self.docs = [build_doc(r, reg) for r in corpus()]

    def uids(self, request: SearchRequest) -> set[str]:
        root = self.planner.plan(request.query, request.filters).root
        return {d["uid"] for d in self.docs if DocMatcher(d).matches(root)}


def open_kind(kind: str, tmp: Path) -> SearchBackend | MatcherBackend:
    reg = registry()
    if kind == "python-matcher":
        return MatcherBackend(reg)
    backend: SearchBackend = (
        EmbeddedBackend(tmp, reg) if kind == "embedded" else es_backend(kind, reg)
    )
    report = backend.index(corpus())
    assert not report.failures, report.failures
    backend.flush()
    return backend


def hit_uids(backend: SearchBackend | MatcherBackend, request: SearchRequest) -> set[str]:
    if isinstance(backend, MatcherBackend):
        return backend.uids(request)
    result = backend.search(request)
    assert result.total == len(result.hits) or result.next_cursor, "total disagrees with hits"
    return {h.uid for h in result.hits}
