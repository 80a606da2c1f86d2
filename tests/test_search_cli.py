"""The ingest stage, saved searches and the CLI on an embedded workspace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from search_backends import registry
from search_fixtures import corpus

from core.cli import main
from search.backend import open_backend
from search.model import Filters, SearchRequest
from search.saved import SavedSearches
from search.stage import make_stage, stale_reason


def _ingest(ws: Any) -> None:
    stage = make_stage(ws)
    assert stage is not None
    records = corpus()
    for i in range(0, len(records), 8):  # batches, as the ingestor hands them over
        stage.process(records[i : i + 8])
        ws.store.upsert_batch(records[i : i + 8])
    stage.finish()
    stage.backend.close()


def test_stage_indexes_ingested_records_idempotently(workspace: Any) -> None:
    _ingest(workspace)
    _ingest(workspace)  # a rerun after a crash hands the same batches again
    backend = open_backend(workspace)
    try:
        assert backend.count("") == 21
        assert {h.uid for h in backend.search(SearchRequest("入室盗窃")).hits} == {
            "incidents:I001",
            "incidents:I003",
        }
    finally:
        backend.close()


def test_cli_search_json_health_and_reindex(
    workspace: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(workspace)
    ws = ["-w", str(workspace.root)]
    assert main(["search", *ws, "浙D 12345", "--json", "--facets"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {h["uid"] for h in out["hits"]} == {"incidents:I005", "incidents:I008", "incidents:I012"}
    assert out["facets"]["source"] == [{"value": "incidents", "count": 3}]
    assert main(["search", *ws, "王建国", "--source", "population"]) == 0
    assert "population:P001" in capsys.readouterr().out
    assert main(["search", *ws, "王建国 AND (x"]) == 2
    err = capsys.readouterr().err
    assert "missing ')'" in err and "Traceback" not in err
    assert main(["search-health", *ws, "--json"]) == 0
    health = json.loads(capsys.readouterr().out)
    assert health["status"] == "green" and health["documents"] == 21
    assert main(["reindex", *ws]) == 0
    assert "reindexed 21 of 21" in capsys.readouterr().out
    assert main(["search", *ws, "13800138000", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["hits"]) == 2
    actions = [e["action"] for e in workspace.audit.entries()]
    searches = [e["params"] for e in workspace.audit.search(action="search.query")]
    # three searches, and the malformed one audited with its reason (core.services)
    assert [p.get("outcome") for p in searches] == [None, None, "failed", None]
    assert "missing ')'" in searches[2]["error"] and "search.reindex" in actions


def test_unreachable_elasticsearch_workspace(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.workspace import Workspace

    ws = Workspace.init(tmp_path / "es", backend="elasticsearch", url="http://127.0.0.1:9")
    assert main(["search", "-w", str(ws.root), "王建国"]) == 2
    err = capsys.readouterr().err
    assert "unreachable" in err and "Traceback" not in err
    assert main(["search-health", "-w", str(ws.root)]) == 1
    assert "red" in capsys.readouterr().out
    stage = make_stage(ws)
    assert stage is not None
    stage.process(corpus()[:2])  # the ingest goes on; the index is marked stale
    assert stage.failed and "unreachable" in (stale_reason(ws.search_dir) or "")


def test_saved_searches_match_new_records(workspace: Any) -> None:
    saved = SavedSearches(workspace.search_dir, registry())
    burglary = saved.add("入室盗窃 in 西湖区", "入室盗窃", Filters(districts=("西湖区",)))
    plate = saved.add("plate watch", "浙D·12345")
    assert [s.name for s in saved.list()] == ["入室盗窃 in 西湖区", "plate watch"]
    matches = {m.search.id: set(m.uids) for m in saved.match(corpus())}
    assert matches == {
        burglary.id: {"incidents:I001", "incidents:I003"},
        plate.id: {"incidents:I005", "incidents:I008", "incidents:I012"},
    }
    saved.remove(plate.id)
    assert [s.id for s in SavedSearches(workspace.search_dir, registry()).list()] == [burglary.id]
    from search.errors import QuerySyntaxError

    with pytest.raises(QuerySyntaxError):
        saved.add("broken", '"unterminated')


def test_embedded_search_is_thread_safe_while_indexing(workspace: Any) -> None:
    import threading
    from dataclasses import replace

    _ingest(workspace)
    backend = open_backend(workspace)
    errors: list[BaseException] = []
    answers: list[set[str]] = []

    def reader() -> None:
        try:
            for _ in range(20):
                hits = backend.search(SearchRequest("入室盗窃", size=10)).hits
                answers.append({h.uid for h in hits})
        except BaseException as exc:  # any exception in a worker fails the test
            errors.append(exc)

    def writer() -> None:
        try:
            for i in range(10):
                backend.index([replace(r, id=f"X{i}-{r.id}") for r in corpus()[5:10]])
                backend.flush()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    backend.close()
    assert not errors
    assert len(answers) == 80
    assert all(a == {"incidents:I001", "incidents:I003"} for a in answers)


def test_embedded_rebuild_cancel_keeps_the_old_index_and_rebuild_switches(workspace: Any) -> None:
    from dataclasses import replace

    from core.progress import CancelToken, Progress

    _ingest(workspace)
    backend = open_backend(workspace)
    try:
        cancel = CancelToken()
        cancel.cancel()
        many = (replace(r, id=f"{i}-{r.id}") for i in range(150) for r in corpus())
        report = backend.rebuild(many, cancel=cancel)
        assert report.cancelled and backend.count("") == 21
        seen: list[Progress] = []
        report = backend.rebuild(iter(corpus()[:10]), total=10, progress=seen.append)
        assert report.indexed == 10 and not report.cancelled and seen
        assert backend.count("") == 10
        generations = list((workspace.search_dir / "tantivy").glob("g-*"))
        assert len(generations) == 2  # the live one and the previous one, for open readers
    finally:
        backend.close()
