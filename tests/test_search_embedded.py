"""The embedded engine's document pipeline: worker-built documents, indexes written by earlier
versions (index format 1, tantivy's regex tokenizer), and values that must not lose a record.

The conformance cases run again here on indexes built these other ways: the same hits."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from search_backends import hit_uids, registry
from search_fixtures import corpus
from test_search_conformance import CASES

from core.model import Record
from search.embedded import EmbeddedBackend
from search.embedded_docs import DocumentBuilder
from search.model import Filters, SearchRequest

CASE_IDS = [f"{i}:{c[0] or 'filters'}" for i, c in enumerate(CASES)]


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBackend]:
    """The corpus built by two worker processes, four records per chunk (so chunks come back
    from different workers and must still be added in order)."""
    backend = EmbeddedBackend(tmp_path_factory.mktemp("pooled"), registry())
    backend._builder = DocumentBuilder(backend.registry, 2, chunk=4, min_pooled=0)
    report = backend.index(corpus())
    assert report.indexed == 21 and not report.failures
    assert backend._builder.workers == 2, "the worker pool failed; documents were built here"
    backend.flush()
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def format1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBackend]:
    """An index as versions before index format 2 wrote it (layout.json without "format"):
    text goes through tantivy's regex tokenizer, not the Python one."""
    root = tmp_path_factory.mktemp("format1")
    gen = root / "tantivy" / "g-1"
    gen.mkdir(parents=True)
    reg = registry()
    from core.model import FieldRole

    layout = {
        "text": reg.names(FieldRole.TEXT),
        "keyword": sorted({*reg.names(FieldRole.KEYWORD), *reg.names(FieldRole.IDENTIFIER)}),
        "number": reg.names(FieldRole.NUMBER),
        "time": reg.names(FieldRole.TIME),
    }
    (gen / "layout.json").write_text(json.dumps(layout), encoding="utf-8")
    (root / "tantivy" / "CURRENT").write_text("g-1", encoding="utf-8")
    backend = EmbeddedBackend(root, reg, index_workers=0)
    assert not backend._gen.pretokenized
    backend.index(corpus())
    backend.flush()
    yield backend
    backend.close()


@pytest.mark.parametrize(("query", "filters", "expected"), CASES, ids=CASE_IDS)
def test_worker_built_index_gives_the_same_hits(
    pooled: EmbeddedBackend, query: str, filters: Filters, expected: set[str]
) -> None:
    assert hit_uids(pooled, SearchRequest(query, filters, size=100)) == expected


@pytest.mark.parametrize(("query", "filters", "expected"), CASES, ids=CASE_IDS)
def test_format1_index_keeps_answering(
    format1: EmbeddedBackend, query: str, filters: Filters, expected: set[str]
) -> None:
    assert hit_uids(format1, SearchRequest(query, filters, size=100)) == expected


def test_a_new_index_is_written_in_format_2(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path, registry())
    layout = json.loads((backend._gen.path / "layout.json").read_text(encoding="utf-8"))
    backend.close()
    assert layout["format"] == 2


def test_worker_batches_keep_the_last_version_of_a_record(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path, registry())
    backend._builder = DocumentBuilder(backend.registry, 2, chunk=3, min_pooled=0)
    first = corpus()[5]  # I006, "Burglary reported at warehouse…"
    versions = [
        replace(first, text={"summary": f"version {word}"})
        for word in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf")
    ]
    try:
        backend.index(versions)
        backend.flush()
        assert backend.count("golf") == 1
        assert backend.count("") == 1
        assert backend.count("alpha OR bravo OR charlie OR delta OR echo OR foxtrot") == 0
    finally:
        backend.close()


def test_a_record_workers_cannot_receive_is_built_here(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path, registry())
    backend._builder = DocumentBuilder(backend.registry, 1, chunk=2, min_pooled=0)
    records = corpus()[:4]
    # A lock cannot be pickled to a worker process; its chunk is built in this process.
    records[1] = replace(records[1], fields={**records[1].fields, "note": threading.Lock()})
    try:
        report = backend.index(records)
        backend.flush()
        assert report.indexed == 4 and not report.failures
        assert backend.count("") == 4
        assert backend._builder.workers == 1  # the other chunks still went to the worker
    finally:
        backend.close()


def test_blank_identifier_and_nan_number_keep_the_record(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path, registry(), index_workers=0)
    record = Record(
        source="incidents",
        id="X1",
        type="incident",
        time=datetime(2024, 2, 1),
        text={"summary": "窗户被撬"},
        fields={"phone": "   ", "loss": float("nan"), "category": "盗窃"},
    )
    try:
        report = backend.index([record])
        backend.flush()
        assert report.indexed == 1 and not report.failures
        assert {h.uid for h in backend.search(SearchRequest("窗户被撬")).hits} == {"incidents:X1"}
        assert backend.count("loss:[0 TO *]") == 0
    finally:
        backend.close()


def test_index_workers_come_from_the_workspace_config(workspace: Any) -> None:
    from search.backend import open_backend
    from search.errors import SearchConfigError

    workspace.config.setdefault("search", {})["index_workers"] = 3
    backend = open_backend(workspace, registry())
    try:
        assert backend._builder.workers == 3  # type: ignore[attr-defined]
    finally:
        backend.close()
    workspace.config["search"]["index_workers"] = "two"
    with pytest.raises(SearchConfigError, match="index_workers = 'two'"):
        open_backend(workspace, registry())


def test_worker_built_rebuild_switches_and_a_cancelled_one_keeps_the_old_index(
    tmp_path: Path,
) -> None:
    from core.progress import CancelToken

    backend = EmbeddedBackend(tmp_path, registry())
    backend._builder = DocumentBuilder(backend.registry, 2, chunk=5, min_pooled=0)
    try:
        report = backend.rebuild(iter(corpus()), total=21)
        assert report.indexed == 21 and not report.failures and not report.cancelled
        assert hit_uids(backend, SearchRequest("入室盗窃")) == {"incidents:I001", "incidents:I003"}
        before = set((tmp_path / "tantivy").glob("g-*"))
        cancel = CancelToken()
        many = (replace(r, id=f"{i}-{r.id}") for i in range(50) for r in corpus())

        def cancelling() -> Iterator[Record]:
            for n, r in enumerate(many):
                if n == 300:  # chunks are in flight in the workers when this lands
                    cancel.cancel()
                yield r

        report = backend.rebuild(cancelling(), cancel=cancel)
        assert report.cancelled
        assert backend.count("") == 21
        assert set((tmp_path / "tantivy").glob("g-*")) == before  # the new one is removed
    finally:
        backend.close()


def test_upserts_replace_committed_uncommitted_and_repeated_records(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path, registry(), index_workers=0)
    first, second = corpus()[5], corpus()[6]  # I006, I007

    def version(record: Record, word: str) -> Record:
        return replace(record, text={"summary": f"version {word}"})

    try:
        backend.index([version(first, "alpha")])  # not committed yet …
        backend.index([version(first, "bravo")])  # … and replaced in a second call
        backend.flush()
        assert backend.count("") == 1 and backend.count("bravo") == 1
        # committed, then replaced next to a new record and a repeat within one batch
        backend.index(
            [version(second, "charlie"), version(first, "delta"), version(second, "echo")]
        )
        backend.flush()
        assert backend.count("") == 2
        assert {h.uid for h in backend.search(SearchRequest("delta OR echo")).hits} == {
            first.uid,
            second.uid,
        }
        assert backend.count("alpha OR bravo OR charlie") == 0
        backend.delete([first.uid])
        backend.index([version(first, "foxtrot")])  # deleted, then added again before commit
        backend.flush()
        assert backend.count("") == 2 and backend.count("foxtrot") == 1
    finally:
        backend.close()
