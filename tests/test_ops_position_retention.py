"""Unit position fixes are kept ``[ops] position_retention_days`` (default 90, 0 = forever); older
ones are deleted through the audited service ``ops.prune_positions`` — one audit entry with the
count and the cut-off, whoever calls it: the command line, or a centre server at start. The audit
entries that vouch for the fixes stay; every kept fix still verifies against its entry, and an
entry whose fixes retention removed is told apart from one whose fixes were altered.

On a workspace (SQLite) and on a centre (a real PostgreSQL), and with a real ``superbrain
serve``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.security import Session
from core.services import ServiceContext, acting, call
from core.workspace import Workspace
from ops.errors import OpsConfigError
from ops.positions import check_entry
from tests.ops_fixtures import CENTRE, FakeClock, north_of

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parent.parent
DAY = 86_400
UNITS = ("A", "B")


def local_workspace(root: Path, retention: object) -> Workspace:
    ws = Workspace.init(root)
    ws.close()
    config = root / "superbrain.toml"
    text = config.read_text(encoding="utf-8")
    assert "position_retention_days = 90" in text  # the shipped default, written down
    config.write_text(
        text.replace("position_retention_days = 90", f"position_retention_days = {retention}"),
        encoding="utf-8",
    )
    return Workspace.open(root)


@pytest.fixture(params=["workspace", "centre"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_kind(kind: str, folder: Path, retention: object) -> Iterator[Any]:
    """A workspace of ``kind`` keeping ``retention`` days of fixes (a generator: close it)."""
    if kind == "workspace":
        ws = local_workspace(folder / "ws", retention)
        try:
            yield ws
        finally:
            ws.close()
        return
    from centre_support import fresh_database, pg_server_url, write_centre

    from centre.workspace import open_centre

    databases = fresh_database(pg_server_url())
    database = next(databases)
    try:
        config = write_centre(
            folder / "centre", database, extra=f"[ops]\nposition_retention_days = {retention}\n"
        )
        ws = open_centre(config, application_name="superbrain-test")
        try:
            yield ws
        finally:
            ws.close()
    finally:
        databases.close()


@pytest.fixture
def ws(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("SUPERBRAIN_USER", "admin")
    yield from open_kind(kind, tmp_path, 30)


def admin(ws: Any) -> ServiceContext:
    return ServiceContext(ws, Session("admin", "administrator"))


def report(ws: Any, start: float, minutes: float, every_s: float = 30.0) -> None:
    """Units A and B report every ``every_s`` for ``minutes`` from ``start``, as devices do."""
    from ops.service import OpsService

    clock = FakeClock(start)
    ops = OpsService(ws, clock=clock)
    with acting(admin(ws)):
        for unit in UNITS:
            if not ops.ctx.con.execute("SELECT 1 FROM ops_units WHERE id=?", (unit,)).fetchone():
                ops.units.add(unit, unit_type="patrol_car", lat=CENTRE[0], lon=CENTRE[1])
        for step in range(int(minutes * 60 / every_s)):
            for n, unit in enumerate(UNITS):
                lat, lon = north_of(CENTRE, 50 * step + n)
                ops.units.update_positions(
                    [(unit, lat, lon, None)], via="device", audit_action="field.position"
                )
            clock.advance(every_s)


def fixes(ws: Any) -> list[tuple[int, str, float]]:
    """(id, unit, received) of every fix kept."""
    from ops.service import ops_for

    rows = ops_for(ws).ctx.con.execute("SELECT id, unit_id, ts FROM ops_positions ORDER BY id")
    return [(int(r[0]), str(r[1]), float(r[2])) for r in rows.fetchall()]


def position_entries(ws: Any) -> list[dict[str, Any]]:
    return [e for e in ws.audit.entries() if e["action"] == "field.position"]


def states(ws: Any) -> dict[int, str]:
    """check_entry of every position entry, by the entry's own fix id."""
    from ops.service import ops_for

    con = ops_for(ws).ctx.con
    return {
        e["params"]["position_id"]: check_entry(con, e["user"], e["params"])
        for e in position_entries(ws)
    }


def expected_cuts(ws: Any, cutoff: float) -> dict[str, int]:
    """The rule, recomputed from the audit log: per unit, the first fix that opened an entry
    in the last hour (of the fixes' arrival) that ended before the cut-off's hour."""
    opened: dict[str, dict[int, int]] = {}
    for e in position_entries(ws):
        p = e["params"]
        hour = int(p["at"] // 3600)  # here a fix's time is when it arrived
        if hour < int(cutoff // 3600):
            first = opened.setdefault(p["unit"], {})
            first[hour] = min(first.get(hour, p["position_id"]), p["position_id"])
    return {unit: hours[max(hours)] for unit, hours in opened.items()}


def test_old_fixes_are_pruned_the_rest_still_verifies_and_one_entry_says_how_many(
    ws: Any,
) -> None:
    now = time.time()
    report(ws, now - 100 * DAY, minutes=150)  # 300 fixes a unit, 100 days ago
    report(ws, now - 10 * DAY, minutes=10)  # 20 a unit, 10 days ago
    before = fixes(ws)
    assert len(before) == 2 * (300 + 20)
    assert set(states(ws).values()) == {"intact"}
    audit_before = sum(1 for _ in ws.audit.entries())

    done = call("ops.prune_positions", admin(ws))

    cutoff = now - 30 * DAY
    cuts = expected_cuts(ws, cutoff)
    assert set(cuts) == set(UNITS)
    gone = [f for f in before if f[0] < cuts[f[1]]]
    kept = [f for f in before if f[0] >= cuts[f[1]]]
    assert len(gone) > 300 and all(ts < cutoff for _, _, ts in gone)  # 2.5 of 3–4 hours
    assert fixes(ws) == kept  # the recent ones, and the old ones from each cut on
    assert done["deleted"] == len(gone) and done["retention_days"] == 30
    assert done["cuts"] == 2 and not done["cancelled"]
    new = list(ws.audit.entries())[audit_before:]
    assert [(e["user"], e["action"]) for e in new] == [("admin", "ops.prune_positions")]
    assert new[0]["params"]["deleted"] == len(gone)
    assert abs(_epoch(new[0]["params"]["cutoff"]) - cutoff) < 120  # ISO with its offset
    # every entry stays; what is kept verifies; what retention removed is "pruned"
    after = states(ws)
    assert len(after) == len(position_entries(ws)) and "altered" not in after.values()
    for fix_id, state in after.items():
        unit = next(u for i, u, _ in before if i == fix_id)
        assert state == ("intact" if fix_id > cuts[unit] else "pruned"), fix_id
    assert ws.audit.verify() == []
    # a kept fix changed afterwards is still caught, next to the pruned ones
    victim = next(i for i, u, _ in kept if u == "A" and i > cuts["A"] + 6)
    from ops.service import ops_for

    with ops_for(ws).ctx.store.transaction() as con:
        con.execute("UPDATE ops_positions SET lat = lat + 0.001 WHERE id=?", (victim,))
    assert "altered" in states(ws).values()
    # a second run finds nothing more, and is audited too
    again = call("ops.prune_positions", admin(ws))
    assert again["deleted"] == 0
    assert [e["action"] for e in list(ws.audit.entries())[-1:]] == ["ops.prune_positions"]


def _epoch(iso: str) -> float:
    from datetime import datetime

    when = datetime.fromisoformat(iso)
    assert when.utcoffset() is not None
    return when.timestamp()


def test_a_cancelled_prune_leaves_nothing_unexplained_and_the_next_one_finishes(
    ws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ops.retention
    from core.progress import CancelToken

    now = time.time()
    report(ws, now - 100 * DAY, minutes=150)
    monkeypatch.setattr(ops.retention, "CHUNK_IDS", 50)
    cancel = CancelToken()
    seen: list[Any] = []

    def progress(p: Any) -> None:
        seen.append(p)
        cancel.cancel()  # Ctrl+C at the first report

    first = call("ops.prune_positions", admin(ws), progress=progress, cancel=cancel)
    assert first["cancelled"] and 0 < first["deleted"] <= 50 and seen  # one range of 50 ids
    assert "altered" not in states(ws).values()  # a half-pruned summary is "pruned"
    rest = call("ops.prune_positions", admin(ws))
    assert not rest["cancelled"] and rest["deleted"] > 0
    cuts = expected_cuts(ws, now - 30 * DAY)
    assert all(i >= cuts[u] for i, u, _ in fixes(ws))
    assert "altered" not in states(ws).values()


def test_zero_keeps_every_fix_and_a_bad_value_names_the_file_and_key(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERBRAIN_USER", "admin")
    opened = open_kind(kind, tmp_path / "zero", 0)
    ws = next(opened)
    try:
        report(ws, time.time() - 400 * DAY, minutes=90)
        n = len(fixes(ws))
        done = call("ops.prune_positions", admin(ws))
        assert (done["deleted"], done["cutoff"], done["retention_days"]) == (0, None, 0)
        assert len(fixes(ws)) == n
        assert ws.audit.search(action="ops.prune_positions")[-1]["params"]["retention_days"] == 0
    finally:
        opened.close()
    opened = open_kind(kind, tmp_path / "bad", '"ninety"')
    ws = next(opened)
    try:
        with pytest.raises(OpsConfigError, match=r"\.toml'?: \[ops\] position_retention_days"):
            call("ops.prune_positions", admin(ws))
        failed = ws.audit.search(action="ops.prune_positions")[-1]["params"]
        assert failed["outcome"] == "failed" and "ninety" in failed["error"]
    finally:
        opened.close()


def test_the_command_line_prunes_with_progress_and_json(tmp_path: Path) -> None:
    """``superbrain ops prune-positions`` on a workspace folder: what it deleted, the cut-off in
    the workspace's zone, and ``--json``."""
    root = tmp_path / "ws"
    env = {**os.environ, "SUPERBRAIN_USER": "admin", "PYTHONPATH": str(REPO)}
    env.pop("SUPERBRAIN_PASSWORD", None)
    ws = local_workspace(root, 30)
    try:
        report(ws, time.time() - 100 * DAY, minutes=150)
        total = len(fixes(ws))
    finally:
        ws.close()

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "main.py", "ops", "prune-positions", "-w", str(root), *extra],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    out = run()
    assert out.returncode == 0, out.stderr
    assert "position fixes received before" in out.stdout and "CST" in out.stdout
    assert "retention 30 days; their audit entries stay" in out.stdout
    deleted = int(out.stdout.split()[0])
    assert deleted > 300
    again = run("--json")
    assert again.returncode == 0, again.stderr
    answer = json.loads(again.stdout)
    assert answer["deleted"] == 0 and answer["cutoff"].endswith("+08:00")
    ws = Workspace.open(root)
    try:
        assert len(fixes(ws)) == total - deleted
        assert [e["user"] for e in ws.audit.search(action="ops.prune_positions")] == ["admin"] * 2
    finally:
        ws.close()


def test_a_centre_server_prunes_at_start_as_its_own_audited_upkeep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real ``superbrain serve`` on PostgreSQL deletes the fixes past the retention of its
    centre.toml when it starts, as the session ``server:upkeep`` (role ``upkeep``)."""
    from centre_support import ServerProcess, free_port, init_centre

    from centre.workspace import open_centre

    monkeypatch.setenv("SUPERBRAIN_USER", "admin")
    opened = open_kind("centre", tmp_path, 30)
    ws = next(opened)
    try:
        report(ws, time.time() - 100 * DAY, minutes=150)
        config = ws.config_file
        total = len(fixes(ws))
        init_centre(config, "chief", "Heron-Lantern-71")
        server = ServerProcess(config, free_port()).start()
        try:
            deadline = time.monotonic() + 90
            entries: list[dict[str, Any]] = []
            while not entries and time.monotonic() < deadline:
                time.sleep(0.5)
                check = open_centre(config, application_name="superbrain-test")
                try:
                    entries = check.audit.search(action="ops.prune_positions")
                    left = len(fixes(check))
                finally:
                    check.close()
            assert entries, "the server did not prune at start"
            (entry,) = entries
            assert entry["user"] == "server:upkeep"
            assert entry["params"]["deleted"] > 300 and entry["params"]["retention_days"] == 30
            assert left == total - entry["params"]["deleted"]
        finally:
            server.stop()
    finally:
        opened.close()
