"""The audit log is append-only and hash-chained: any edit, removal or reordering is found."""

from __future__ import annotations

import json
import subprocess
import sys
from multiprocessing import get_context
from pathlib import Path

from core.audit import AuditLog

REPO = Path(__file__).resolve().parent.parent


def _fill(path: Path, n: int = 6) -> AuditLog:
    log = AuditLog(path)
    for i in range(n):
        log.append("analyst1", "search", {"q": f"王建国 {i}"}, case=f"A-{i}")
    return log


def test_intact_log_verifies(tmp_path: Path) -> None:
    log = _fill(tmp_path / "a.jsonl")
    assert log.verify() == []
    assert [e["seq"] for e in log.entries()] == [1, 2, 3, 4, 5, 6]


def test_edited_line_is_found_with_its_line_number(tmp_path: Path) -> None:
    log = _fill(tmp_path / "a.jsonl")
    lines = log.path.read_text("utf-8").splitlines()
    entry = json.loads(lines[2])
    entry["user"] = "someone_else"
    lines[2] = json.dumps(entry, ensure_ascii=False)
    log.path.write_text("\n".join(lines) + "\n", "utf-8")
    problems = log.verify()
    assert problems and problems[0].line == 3
    assert "altered" in problems[0].reason


def test_removed_and_reordered_lines_are_found(tmp_path: Path) -> None:
    log = _fill(tmp_path / "a.jsonl")
    lines = log.path.read_text("utf-8").splitlines()
    log.path.write_text("\n".join(lines[:2] + lines[3:]) + "\n", "utf-8")
    assert [p.line for p in log.verify()][:1] == [3]
    log2 = _fill(tmp_path / "b.jsonl")
    lines = log2.path.read_text("utf-8").splitlines()
    lines[1], lines[4] = lines[4], lines[1]
    log2.path.write_text("\n".join(lines) + "\n", "utf-8")
    assert log2.verify()[0].line == 2


def _append_many(path: str, who: str) -> None:
    log = AuditLog(Path(path))
    for i in range(50):
        log.append(who, "dispatch", {"i": i})


def test_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    ctx = get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), f"u{i}")) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    log = AuditLog(path)
    assert log.verify() == []
    assert sum(1 for _ in log.entries()) == 150


def test_cli_verify_exits_nonzero_and_names_the_line(workspace: object, tmp_path: Path) -> None:
    root = workspace.root  # type: ignore[attr-defined]
    log = AuditLog(root / "audit.jsonl")
    _fill(root / "audit.jsonl", 3)
    ok = subprocess.run(
        [sys.executable, "main.py", "audit", "-w", str(root), "verify"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and "intact" in ok.stdout
    text = log.path.read_text("utf-8").replace("A-1", "A-9")
    log.path.write_text(text, "utf-8")
    bad = subprocess.run(
        [sys.executable, "main.py", "audit", "-w", str(root), "verify"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "line" in bad.stdout and "altered" in bad.stdout
