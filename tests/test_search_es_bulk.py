"""Elasticsearch ingest: compiled bulk documents and parallel bulk requests (issue 21 item 6).

The compiled builder's Elasticsearch documents must mean exactly what the Python reference's
mean (``es_doc(build_doc(record))``); whatever it declines must still be sent; a document the
cluster refuses is named and the rest are kept; what the cluster pushes back (HTTP 429) is sent
again, and no more requests are in flight than connections asked for.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.model import FieldRole, FieldSpec, Record, RecordSchema
from search import embedded_docs as ed
from search.document import FieldRegistry, build_doc
from search.errors import SearchUnavailable
from search.es_bulk import EsDocBuilder, ParallelBulk, es_doc

if ed._native is None or not hasattr(ed._native.DocBuilder, "build_es"):
    if os.environ.get("SUPERBRAIN_REQUIRE_NATIVE") == "1":
        raise RuntimeError(
            "search._native (with build_es) is not built (SUPERBRAIN_REQUIRE_NATIVE=1)"
        )
    pytest.skip(
        "search._native with build_es is not built (no Rust toolchain at install "
        "time); Elasticsearch documents are built in Python",
        allow_module_level=True,
    )

from test_search_native import SCHEMA, records  # (same generator, same fields)

REG = FieldRegistry.from_schemas([SCHEMA])


def reference(r: Record) -> dict[str, Any] | None:
    """The Python builder's document as the cluster would parse it (None: it refuses it)."""
    try:
        return json.loads(
            json.dumps(es_doc(build_doc(r, REG)), ensure_ascii=False, allow_nan=False)
        )
    except (ValueError, TypeError, OverflowError):
        return None


def compiled(rs: list[Record]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[bool]]:
    builder = EsDocBuilder(REG)._compiled()
    body, built = builder.build_es(rs, {"incident": "idx-incident"})
    lines = body.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 2 * sum(built) + 1
    actions = [json.loads(x) for x in lines[0:-1:2]]
    docs = [json.loads(x) for x in lines[1:-1:2]]
    return actions, docs, built


def rec(i: int, **kw: Any) -> Record:
    base: dict[str, Any] = dict(
        source="s",
        id=str(i),
        type="incident",
        time=datetime(2024, 3, 1, 8, 30, 15),
        geo=(30.25, 120.16),
        text={"summary": "嫌疑人入室盗窃后逃离现场，车牌浙A·12345"},
        fields={"category": "盗窃", "plate": "浙a 12345", "loss": 3},
    )
    base.update(kw)
    return Record(**base)


def test_typical_records_are_built_natively_with_their_uid_as_id() -> None:
    rs = [
        rec(0),
        rec(1, id='a,"b"\\c', time=None, geo=None, text={}),
        rec(2, fields={"category": ["盗窃", "盗窃", "诈骗"], "phone": "+86 138-0013-8000"}),
    ]
    actions, docs, built = compiled(rs)
    assert built == [True, True, True]
    assert actions == [{"index": {"_index": "idx-incident", "_id": r.uid}} for r in rs]
    assert docs == [reference(r) for r in rs]
    assert "time" not in docs[1] and "geo" not in docs[1] and docs[1]["src"]["time"] is None
    assert docs[2]["k"]["category"] == ["盗窃", "诈骗"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=5))
def test_generated_records_mean_the_same_in_both_builders(rs: list[Record]) -> None:
    _, docs, built = compiled(rs)
    it = iter(docs)
    for r, ok in zip(rs, built, strict=True):
        if ok:
            assert next(it) == reference(r), r


def test_declined_and_unbuildable_records_are_sent_or_reported() -> None:
    undeclared = rec(1, fields={"free": "值"})  # undeclared field: the compiled one declines
    greek = rec(2, text={"summary": "Ωmega"})
    bad = rec(3, fields={"loss": float("nan")})
    body, uids, failures = EsDocBuilder(REG).body(
        [rec(0), undeclared, greek, bad], lambda t: f"idx-{t}"
    )
    assert uids == [rec(0).uid, undeclared.uid, greek.uid]
    lines = body.split(b"\n")
    assert [json.loads(x) for x in lines[1:-1:2]] == [
        reference(rec(0)),
        reference(undeclared),
        reference(greek),
    ]
    assert list(failures) == [bad.uid] and "ValueError" in failures[bad.uid]


# -- sending ------------------------------------------------------------------------------------
class PushingBack:
    """Answers bulk requests like a busy cluster (its documented bulk response), recording
    what was sent: Elasticsearch cannot be made to push back on demand on a shared test node."""

    def __init__(self, item_429: int = 0, request_429: int = 0, delay: float = 0.0) -> None:
        self.item_429 = item_429  # how many times the 2nd document of a request gets a 429
        self.request_429 = request_429  # how many requests get a 429 as a whole
        self.delay = delay
        self.bodies: list[bytes] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def bulk(self, operations: bytes, filter_path: str) -> dict[str, Any]:
        with self.lock:
            self.bodies.append(operations)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            whole = self.request_429 > 0
            self.request_429 -= whole
        try:
            time.sleep(self.delay)
            if whole:
                import elastic_transport
                from elasticsearch import ApiError

                meta = elastic_transport.ApiResponseMeta(
                    status=429,
                    http_version="1.1",
                    headers=elastic_transport.HttpHeaders(),
                    duration=0.0,
                    node=elastic_transport.NodeConfig("http", "127.0.0.1", 9),
                )
                raise ApiError(
                    "es_rejected_execution_exception",
                    meta,
                    {"error": {"type": "es_rejected_execution_exception", "reason": "queue full"}},
                )
            n = operations.count(b"\n") // 2
            items = [{"index": {"status": 201}} for _ in range(n)]
            errors = False
            with self.lock:
                if self.item_429 > 0 and n > 1:
                    self.item_429 -= 1
                    items[1] = {
                        "index": {
                            "status": 429,
                            "error": {"type": "es_rejected_execution_exception", "reason": "busy"},
                        }
                    }
                    errors = True
            return {"errors": errors, "items": items}
        finally:
            with self.lock:
                self.in_flight -= 1


def bodies(n: int, chunk: int) -> list[tuple[bytes, list[str], dict[str, str]]]:
    rs = [rec(i) for i in range(n)]
    return list(EsDocBuilder(REG).bodies(rs, lambda t: "idx", chunk=chunk))


def test_pushed_back_documents_and_requests_are_sent_again_after_a_pause() -> None:
    client = PushingBack(item_429=2, request_429=1)
    waits: list[float] = []
    loader = ParallelBulk(client, "http://es", threads=1, sleep=waits.append)
    ok, failures = loader.load(bodies(6, 3))
    assert (ok, failures) == (6, {})
    assert loader.retried == 2
    # request 1: pushed back whole (0.5 s), then its 2nd document (1.0 s: doubled); request 2:
    # its 2nd document (0.5 s)
    assert waits == [0.5, 1.0, 0.5]
    # a document sent again goes alone, not with its acknowledged neighbours
    resent = [b for b in client.bodies if b.count(b"\n") == 2]
    assert len(resent) == 2 and all(b'"_id":"s:1"' in b or b'"_id":"s:4"' in b for b in resent)


def test_a_cluster_that_keeps_pushing_back_is_an_error_naming_it() -> None:
    client = PushingBack(request_429=100)
    loader = ParallelBulk(client, "http://es", threads=2, sleep=lambda s: None)
    with pytest.raises(SearchUnavailable, match=r"http://es refused bulk indexing .*HTTP 429"):
        loader.load(bodies(4, 2))


def test_no_more_requests_in_flight_than_connections() -> None:
    client = PushingBack(delay=0.02)
    ok, _ = ParallelBulk(client, "http://es", threads=3).load(bodies(40, 2))
    assert ok == 40 and len(client.bodies) == 20
    assert 2 <= client.most_in_flight <= 3


def test_a_batch_starts_and_ends_in_smaller_requests() -> None:
    # the cluster gets work sooner, and the connections finish close together
    rs = [rec(i) for i in range(4500)]
    got = list(EsDocBuilder(REG).bodies(rs, lambda t: "idx", chunk=1000, taper=1000))
    sizes = [len(uids) for _, uids, _ in got]
    assert sizes == [125] * 8 + [1000, 1000, 500] + [250] * 4
    assert [u for _, uids, _ in got for u in uids] == [r.uid for r in rs]  # each once, in order
    # records that come as a stream (no length), or too few to taper, keep whole chunks
    streamed = list(EsDocBuilder(REG).bodies(iter(rs), lambda t: "idx", chunk=1000, taper=1000))
    assert [len(uids) for _, uids, _ in streamed] == [1000] * 4 + [500]
    few = list(EsDocBuilder(REG).bodies(rs[:1500], lambda t: "idx", chunk=1000, taper=1000))
    assert [len(uids) for _, uids, _ in few] == [1000, 500]


# -- a real cluster -----------------------------------------------------------------------------
@pytest.mark.elasticsearch
def test_a_refused_document_is_named_and_the_others_are_indexed() -> None:
    from search_backends import drop_es_indices, es_backend

    es = es_backend(
        "es9",
        FieldRegistry.from_schemas(
            [SCHEMA, RecordSchema("person", "Person", (FieldSpec("name", FieldRole.KEYWORD),))]
        ),
    )
    es.bulk_threads = 3
    try:
        good = [rec(i) for i in range(2500)]
        wrong = rec(9999, geo=(95.0, 10.0))  # latitude out of range: the cluster refuses it
        report = es.index([*good[:1200], wrong, *good[1200:]])
        es.flush()
        assert report.indexed == 2500
        assert list(report.failures) == [wrong.uid] and "geo" in report.failures[wrong.uid]
        assert es.count() == 2500
    finally:
        drop_es_indices(es)


def test_compiled_documents_count_days_in_the_workspace_zone() -> None:
    """The cluster's day facet follows the workspace's zone on the compiled path too: 23:30 on
    31 March in New York is a March day there (it is already 1 April in Shanghai)."""
    from zoneinfo import ZoneInfo

    york = FieldRegistry.from_schemas([SCHEMA], zone=ZoneInfo("America/New_York"))
    late = rec(0, time=datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("America/New_York")))
    body, built = EsDocBuilder(york)._compiled().build_es([late], {"incident": "idx"})
    assert built == [True]
    doc = json.loads(body.split(b"\n")[1])
    assert doc == json.loads(json.dumps(es_doc(build_doc(late, york)), ensure_ascii=False))
    assert "2026-03-31" in json.dumps(doc) and "2026-04-01" not in json.dumps(doc)
