"""``superbrain migrate WS --to postgresql://…`` into a real PostgreSQL: everything arrives, the
audit chain verifies in the centre, reruns never duplicate, Ctrl+C stops and a rerun resumes,
and a broken source chain, a foreign target chain, a short target table or a role without
``users.manage`` are refused with a message naming the culprit."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.centre_fixtures import REPO, cli, copy_workspace, pg_url, tiny_demo  # noqa: F401

psycopg = pytest.importorskip("psycopg")

ADMIN = {"SUPERBRAIN_USER": "chief", "SUPERBRAIN_PASSWORD": "Quartz-Harbor-19"}


def _with_accounts(ws: Path) -> Path:
    """Add an administrator and an analyst (the accounts must move too)."""
    out = cli(
        "users",
        "-w",
        str(ws),
        "add",
        "chief",
        "--role",
        "administrator",
        env={"SUPERBRAIN_USER": "chief", "SUPERBRAIN_NEW_PASSWORD": ADMIN["SUPERBRAIN_PASSWORD"]},
    )
    assert out.returncode == 0, out.stderr
    out = cli(
        "users",
        "-w",
        str(ws),
        "add",
        "li",
        "--role",
        "analyst",
        env={**ADMIN, "SUPERBRAIN_NEW_PASSWORD": "Willow-Ember-64"},
    )
    assert out.returncode == 0, out.stderr
    return ws


def _sqlite_counts(ws: Path) -> dict[str, int]:
    counts = {}
    for file in ("store.sqlite", "users.sqlite"):
        con = sqlite3.connect(ws / file)
        for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        ):
            counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        con.close()
    return counts


def _pg_counts(url: str, names: list[str]) -> dict[str, int]:
    with psycopg.connect(url) as con:
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def test_migrate_moves_the_demo_workspace_and_the_audit_chain_verifies(
    tiny_demo: Path, pg_url: str, tmp_path: Path
) -> None:
    ws = _with_accounts(copy_workspace(tiny_demo, tmp_path / "ws"))
    out = cli("migrate", str(ws), "--to", pg_url, "--batch-size", "700", env=ADMIN)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "audit chain verifies" in out.stdout
    assert "migrate" in out.stderr  # progress was shown
    source = _sqlite_counts(ws)
    assert source["records"] > 1000 and source["links"] > 2000 and source["users"] == 2
    assert source["ops_incidents"] > 0 and source["ops_units"] == 40
    assert source["case_files"] == 1 and source["case_members"] == 1  # the demo's case
    assert _pg_counts(pg_url, list(source)) == source
    with psycopg.connect(pg_url) as con:
        # a record arrives whole, and a user's Argon2 hash with it (so they can log in there)
        uid, fields = (
            sqlite3.connect(ws / "store.sqlite")
            .execute("SELECT uid, fields FROM records ORDER BY uid LIMIT 1")
            .fetchone()
        )
        assert (
            con.execute("SELECT fields FROM records WHERE uid=%s", (uid,)).fetchone()[0] == fields
        )
        pw_hash = con.execute("SELECT password_hash FROM users WHERE name='li'").fetchone()[0]
        assert pw_hash.startswith("$argon2id$")
        rows = con.execute("SELECT seq, line FROM audit_log ORDER BY seq").fetchall()
    file_lines = (ws / "audit.jsonl").read_text("utf-8").splitlines()
    assert [r[1] for r in rows] == file_lines  # byte for byte, in order
    assert json.loads(rows[-1][1])["action"] == "centre.migrate"
    assert json.loads(rows[-1][1])["user"] == "chief"  # from the session, not a parameter
    assert "chief-password" not in "".join(file_lines)
    # `superbrain audit verify` on the centre passes, and can fail: alter one entry there
    centre = _centre_toml(tmp_path, pg_url)
    out = cli("audit", "-w", str(centre), "verify", env=ADMIN)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(file_lines)} entries, chain verified" in out.stdout
    with psycopg.connect(pg_url) as con:
        con.execute(
            "UPDATE audit_log SET line = replace(line, '\"chief\"', '\"li\"') WHERE seq = 3"
        )
    out = cli("audit", "-w", str(centre), "verify", env=ADMIN)
    assert out.returncode == 1 and "altered" in out.stdout


def test_the_demo_case_moves_and_works_on_the_centre(
    tiny_demo: Path,
    pg_url: str,
    tmp_path: Path,
) -> None:
    """The demo's case arrives with its member, opens for its lead through the case services
    on the centre, and a change made there journals an event after every copied one (the case
    and operations journals share one id space on a centre: the push stream resumes by it)."""
    from cases import service as cs
    from centre.workspace import open_centre
    from core.security import Session
    from core.services import ServiceContext

    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    out = cli("migrate", str(ws), "--to", pg_url, env={"SUPERBRAIN_USER": "chief"})
    assert out.returncode == 0, out.stdout + out.stderr
    src = sqlite3.connect(ws / "store.sqlite")
    (number,) = src.execute("SELECT number FROM case_files").fetchone()
    copied_max = max(
        src.execute("SELECT coalesce(max(id), 0) FROM case_events").fetchone()[0],
        src.execute("SELECT coalesce(max(id), 0) FROM ops_events").fetchone()[0],
    )
    src.close()
    centre = open_centre(_centre_toml(tmp_path, pg_url))
    try:
        chief = ServiceContext(centre, Session("chief", "administrator", "password"))
        assert [c["number"] for c in cs.list_cases(chief)] == [number]
        cs.note_add(chief, case=number, target_kind="case", target="", text="moved to the centre")
        assert [n["text"] for n in cs.notes(chief, case=number)] == ["moved to the centre"]
        new = cs.events(chief, after=copied_max)
        assert [e["kind"] for e in new] == ["case.note_added"] and new[0]["id"] > copied_max
        outsider = ServiceContext(centre, Session("li", "analyst", "password"))
        assert cs.list_cases(outsider) == []
    finally:
        centre.close()


def _centre_toml(tmp_path: Path, url: str) -> Path:
    from centre.config import write_template

    path = tmp_path / "centre.toml"
    write_template(path, database_url=url)
    return path


def test_rerun_copies_nothing_twice(
    tiny_demo: Path,
    pg_url: str,
    tmp_path: Path,
) -> None:
    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    first = cli("migrate", str(ws), "--to", pg_url, env={"SUPERBRAIN_USER": "chief"})
    assert first.returncode == 0, first.stderr
    again = cli("migrate", str(ws), "--to", pg_url, env={"SUPERBRAIN_USER": "chief"})
    assert again.returncode == 0, again.stderr
    source = _sqlite_counts(ws)
    n = source["records"]
    assert (
        f"records: {n:,} rows in the workspace, {n:,} in the centre (0 copied now)" in again.stdout
    )
    assert _pg_counts(pg_url, list(source)) == source
    # only the second run's own audit entry was added, and the chain still verifies
    assert "(1 copied now)" in again.stdout.splitlines()[-2]


def test_ctrl_c_stops_and_a_rerun_resumes(
    tiny_demo: Path,
    pg_url: str,
    tmp_path: Path,
) -> None:
    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    proc = subprocess.Popen(
        [sys.executable, "main.py", "migrate", str(ws), "--to", pg_url, "--batch-size", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "SUPERBRAIN_USER": "chief"},
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while "migrate" not in proc.stderr.readline():  # the first progress line: copying started
        assert time.monotonic() < deadline and proc.poll() is None
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "resume" in stderr
    source = _sqlite_counts(ws)
    with psycopg.connect(pg_url) as con:
        created = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            )
        ]
        partial = sum(
            con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in source if t in created
        )
    assert 0 < partial < sum(source.values())  # stopped part-way, keeping what it committed
    out = cli("migrate", str(ws), "--to", pg_url, env={"SUPERBRAIN_USER": "chief"})
    assert out.returncode == 0, out.stdout + out.stderr
    source = _sqlite_counts(ws)
    assert _pg_counts(pg_url, list(source)) == source


def test_in_process_cancel_keeps_committed_batches(
    tiny_demo: Path,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from centre.migrate import migrate
    from core.progress import CancelToken
    from core.workspace import Workspace

    monkeypatch.setenv("SUPERBRAIN_USER", "chief")
    ws = Workspace.open(copy_workspace(tiny_demo, tmp_path / "ws"))
    token = CancelToken()
    seen = []

    def progress(p: object) -> None:
        seen.append(p)
        if p.done >= 3000:  # type: ignore[attr-defined]
            token.cancel()

    report = migrate(ws, pg_url, batch_size=200, progress=progress, cancel=token)
    assert report.cancelled and not report.ok
    assert seen and seen[-1].total > 3000  # type: ignore[attr-defined]
    report = migrate(ws, pg_url, batch_size=200)
    assert report.ok, report.lines()
    assert all(t.target_rows == t.source_rows for t in report.tables)
    ws.close()


def test_refusals_name_the_culprit(
    tiny_demo: Path,
    pg_url: str,
    tmp_path: Path,
) -> None:
    ws = _with_accounts(copy_workspace(tiny_demo, tmp_path / "ws"))
    # an analyst may not move the workspace (user accounts move with it); the refusal is audited
    li = {"SUPERBRAIN_USER": "li", "SUPERBRAIN_PASSWORD": "Willow-Ember-64"}
    out = cli("migrate", str(ws), "--to", pg_url, env=li)
    assert out.returncode == 2 and "users.manage" in out.stderr
    last = json.loads((ws / "audit.jsonl").read_text("utf-8").splitlines()[-1])
    assert last["action"] == "access.denied" and last["user"] == "li"
    # a centre table that lacks a column the workspace holds
    with psycopg.connect(pg_url) as con:
        con.execute("CREATE TABLE ops_meta (key TEXT PRIMARY KEY)")
    out = cli("migrate", str(ws), "--to", pg_url, env=ADMIN)
    assert out.returncode == 2 and "'ops_meta'" in out.stderr and "'value'" in out.stderr
    with psycopg.connect(pg_url) as con:
        con.execute("DROP TABLE ops_meta")
    # a centre whose audit log is another chain
    other = copy_workspace(tiny_demo, tmp_path / "other")
    assert (
        cli("migrate", str(other), "--to", pg_url, env={"SUPERBRAIN_USER": "chief"}).returncode == 0
    )
    out = cli("migrate", str(ws), "--to", pg_url, env=ADMIN)
    assert out.returncode == 2 and "different chain" in out.stderr
    # a workspace whose own chain is broken is not moved
    lines = (ws / "audit.jsonl").read_text("utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace('"seq":4', '"seq":4 ', 1)
    (ws / "audit.jsonl").write_text("".join(lines), "utf-8")
    out = cli("migrate", str(ws), "--to", pg_url, env=ADMIN)
    assert out.returncode == 2 and "line 4" in out.stderr and "audit" in out.stderr
