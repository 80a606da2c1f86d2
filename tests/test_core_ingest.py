"""Ingest: encodings, quarantined rows, idempotence, resume after SIGKILL, broken plugins."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.ingest import Ingestor
from core.progress import CancelToken
from core.workspace import Workspace
from plugins.mapping import MappingSource, parse_mapping

READS_MAPPING = textwrap.dedent("""
    [source]
    name = "reads"
    version = "2.1"
    description = "plate reads for tests"
    record_type = "plate_read"
    id = ["rid"]
    time = { column = "t" }
    geo = { lat = "lat", lon = "lon" }
    [fields]
    plate = { role = "identifier", normalizer = "plate" }
    cam = { role = "keyword", facet = true }
    note = "text"
    [entities.car]
    type = "vehicle"
    key = "plate"
    [entities.cam]
    type = "device"
    key = "cam"
    [[links]]
    type = "passed"
    from = "car"
    to = "cam"
""")


def write_reads(
    path: Path, rows: int, *, encoding: str = "utf-8", bad: dict[int, str] | None = None
) -> None:
    """Write ``rows`` data rows; ``bad`` maps a data-row index to a malformed replacement line."""
    bad = bad or {}
    with path.open("w", encoding=encoding, newline="") as fh:
        fh.write("rid,t,lat,lon,plate,cam,note\n")
        for i in range(rows):
            if i in bad:
                fh.write(bad[i] + "\n")
                continue
            fh.write(
                f"{i},2024-03-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00,30.7{i % 10},"
                f"120.7{i % 7},浙F·{10000 + i % 500},K{i % 40:02d},"
                f"嘉兴南湖区 入室盗窃 第{i}条\n"
            )


@pytest.fixture
def reads_source() -> MappingSource:
    import tomllib

    return MappingSource(parse_mapping(tomllib.loads(READS_MAPPING), "test mapping"))


def test_gbk_csv_with_three_malformed_rows_quarantines_exactly_those(
    workspace: Workspace, reads_source: MappingSource, tmp_path: Path
) -> None:
    path = tmp_path / "reads_gbk.csv"
    bad = {
        10: "10,2024-03-01 01:00:00,30.7,120.7,浙F·1,K01",  # one column short
        20: "20,不是时间,30.7,120.7,浙F·2,K01,备注",  # unparseable time
        30: "30,2024-03-01 01:00:00,北纬,120.7,浙F·3,K01,备注",  # invalid latitude
    }
    write_reads(path, 100, encoding="gbk", bad=bad)
    report = Ingestor(workspace, stages=[]).ingest_file(reads_source, path)
    assert report.status == "done"
    assert (report.records, report.rejects) == (97, 3)
    lines = Path(report.rejects_path or "").read_text("utf-8").splitlines()
    rejects = [json.loads(x) for x in lines]
    # data row i sits on line i + 2 (line 1 is the header)
    assert sorted(r["line"] for r in rejects) == [12, 22, 32]
    assert {r["line"]: r["column"] for r in rejects}[22] == "t"
    assert all(r["reason"] for r in rejects)
    rec = workspace.store.get_record("reads:5")
    assert rec is not None and "入室盗窃" in rec.text["note"]  # Chinese decoded from GBK intact


def test_utf8_bom_and_jsonl_and_xlsx_read_the_same_records(
    workspace: Workspace, reads_source: MappingSource, tmp_path: Path
) -> None:
    import openpyxl

    csv_path = tmp_path / "bom.csv"
    write_reads(csv_path, 5, encoding="utf-8-sig")
    jsonl = tmp_path / "reads.jsonl"
    xlsx = tmp_path / "reads.xlsx"
    header = ["rid", "t", "lat", "lon", "plate", "cam", "note"]
    rows = [line.split(",") for line in csv_path.read_text("utf-8-sig").splitlines()[1:]]
    jsonl.write_text(
        "".join(
            json.dumps(dict(zip(header, r, strict=True)), ensure_ascii=False) + "\n" for r in rows
        ),
        "utf-8",
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    book.save(xlsx)
    ing = Ingestor(workspace, stages=[])
    for path in (csv_path, jsonl, xlsx):
        report = ing.ingest_file(reads_source, path)
        assert (report.status, report.records, report.rejects) == ("done", 5, 0), path
    assert workspace.store.count() == 5  # same ids from three formats: no duplicates
    rec = workspace.store.get_record("reads:0")
    assert rec is not None and rec.text["note"].startswith("嘉兴")


def test_reingesting_a_file_creates_no_duplicates(
    workspace: Workspace, reads_source: MappingSource, tmp_path: Path
) -> None:
    path = tmp_path / "r.csv"
    write_reads(path, 300)
    ing = Ingestor(workspace, stages=[], batch_size=50)
    first = ing.ingest_file(reads_source, path)
    counts = (
        workspace.store.count(),
        workspace.store.count("entities"),
        workspace.store.count("links"),
    )
    assert ing.ingest_file(reads_source, path).status == "skipped"
    forced = ing.ingest_file(reads_source, path, force=True)
    assert first.records == forced.records == 300
    assert counts == (
        workspace.store.count(),
        workspace.store.count("entities"),
        workspace.store.count("links"),
    )
    assert workspace.store.count("entities", type="vehicle") == 300


def test_cancel_stops_at_a_checkpoint_and_rerun_completes(
    workspace: Workspace, reads_source: MappingSource, tmp_path: Path
) -> None:
    path = tmp_path / "r.csv"
    write_reads(path, 1000)
    token = CancelToken()
    seen: list[int] = []
    mapped = 0
    original = reads_source.to_record

    def to_record(row: object, p: Path) -> object:  # the user presses Cancel at row 300
        nonlocal mapped
        mapped += 1
        if mapped == 300:
            token.cancel()
        return original(row, p)  # type: ignore[arg-type]

    reads_source.to_record = to_record  # type: ignore[method-assign,assignment]

    def progress(p: object) -> None:
        seen.append(p.done)  # type: ignore[attr-defined]

    ing = Ingestor(workspace, stages=[], batch_size=100)
    first = ing.ingest_file(reads_source, path, progress=progress, cancel=token)
    assert first.status == "cancelled"
    assert 300 <= workspace.store.count() <= 400  # stopped at the next batch boundary
    assert seen, "progress was reported"
    reads_source.to_record = original  # type: ignore[method-assign]
    second = ing.ingest_file(reads_source, path)
    assert second.status == "done" and second.resumed_from >= 300
    assert workspace.store.count() == 1000


def test_sigkill_halfway_then_rerun_ends_with_exact_count(tmp_path: Path) -> None:
    """A real process killed with SIGKILL mid-ingest; the rerun resumes with no duplicates."""
    rows = 60_000
    data = tmp_path / "big.csv"
    write_reads(data, rows)
    env = {**os.environ, "SUPERBRAIN_USER": "tester"}
    killed_ws, clean_ws = tmp_path / "killed", tmp_path / "clean"
    for ws in (killed_ws, clean_ws):
        Workspace.init(ws).close()
        (ws / "plugins" / "reads.toml").write_text(READS_MAPPING, "utf-8")
    cmd = [sys.executable, "main.py", "ingest", "-s", "reads", "--batch-size", "500", str(data)]
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [*cmd, "-w", str(killed_ws)],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import sqlite3

    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            con = sqlite3.connect(killed_ws / "store.sqlite", timeout=1)
            row = con.execute("SELECT rows_done FROM ingest_files").fetchone()
            con.close()
            done = row[0] if row else 0
        except sqlite3.Error:
            done = 0
        if done >= rows // 4:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed; raise `rows`"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < done < rows
    rerun = subprocess.run(
        [*cmd, "-w", str(killed_ws)], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed after row" in rerun.stdout
    clean = subprocess.run(
        [*cmd, "-w", str(clean_ws)], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert clean.returncode == 0, clean.stderr
    counts = []
    for ws in (killed_ws, clean_ws):
        w = Workspace.open(ws)
        counts.append((w.store.count(), w.store.count("entities"), w.store.count("links")))
        w.close()
    assert counts[0] == counts[1]
    assert counts[0][0] == rows
