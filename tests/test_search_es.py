"""Elasticsearch specifics against a real server: errors, aliases, rebuilds, bulk failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from search_backends import drop_es_indices, es_backend, registry
from search_fixtures import corpus

from core.model import Record
from core.progress import CancelToken
from core.workspace import SearchConfig
from search.elastic import ElasticsearchBackend
from search.errors import SearchUnavailable
from search.model import SearchRequest

pytestmark = pytest.mark.elasticsearch


@pytest.fixture(params=["es9", "es8"])
def es(request: pytest.FixtureRequest) -> Iterator[ElasticsearchBackend]:
    backend = es_backend(request.param, registry())
    yield backend
    drop_es_indices(backend)


def test_unreachable_cluster_is_a_clear_error_not_a_traceback() -> None:
    cfg = SearchConfig("elasticsearch", "http://127.0.0.1:9", "", "", "", "", "x")
    backend = ElasticsearchBackend.from_config(cfg, registry())
    backend.client = backend.client.options(request_timeout=2, max_retries=0)
    with pytest.raises(SearchUnavailable, match=r"http://127.0.0.1:9 is unreachable"):
        backend.search(SearchRequest("王建国"))
    health = backend.health()
    assert health.status == "red" and "unreachable" in health.message


def test_indices_per_record_type_behind_aliases(es: ElasticsearchBackend) -> None:
    es.index(corpus())
    es.flush()
    aliases = es._alias_targets()
    assert len(aliases) == 2
    names = {a for v in aliases.values() for a in v}
    assert names == {es.read_alias, es.type_alias("incident"), es.type_alias("person")}
    mapping = es.client.indices.get_mapping(index=es.type_alias("incident"))
    props = next(iter(mapping.body.values()))["mappings"]["properties"]
    assert props["k"]["properties"]["plate"] == {"type": "keyword"}
    assert props["n"]["properties"]["loss"] == {"type": "double"}
    assert es.health().status == "green" and es.health().documents == 21


def test_rebuild_switches_aliases_while_searches_keep_answering(es: ElasticsearchBackend) -> None:
    es.index(corpus())
    es.flush()
    before = set(es._alias_targets())
    errors: list[Exception] = []
    counts: list[int] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                counts.append(es.count("王建国"))
            except Exception as exc:  # any failure during the swap is downtime
                errors.append(exc)

    worker = threading.Thread(target=searcher)
    worker.start()
    try:
        report = es.rebuild(iter(corpus() * 1), total=21)
    finally:
        stop.set()
        worker.join()
    assert report.indexed == 21 and not report.failures
    assert not errors and counts and set(counts) == {2}
    after = set(es._alias_targets())
    assert after.isdisjoint(before) and len(after) == 2  # old indices dropped
    assert es.count("王建国") == 2


def test_cancelled_rebuild_keeps_the_old_index(es: ElasticsearchBackend) -> None:
    es.index(corpus())
    es.flush()
    before = es._alias_targets()
    cancel = CancelToken()
    cancel.cancel()
    many = (corpus()[i % 21] for i in range(2500))
    report = es.rebuild(many, cancel=cancel)
    assert report.cancelled
    assert es._alias_targets() == before
    assert es.count("") == 21


def test_bulk_reports_each_rejected_document(es: ElasticsearchBackend) -> None:
    good = corpus()[:3]
    # 1,200 undeclared fields exceed the index's total-fields limit: that record alone fails.
    bad = Record(
        source="incidents", id="BAD", type="incident", fields={f"x{i}": i for i in range(1200)}
    )
    report = es.index([*good, bad])
    assert report.indexed == 3
    assert set(report.failures) == {"incidents:BAD"}
    assert "limit" in report.failures["incidents:BAD"].lower()
