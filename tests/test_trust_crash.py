"""SIGKILL during a face-index save and during dispatches: a real child process is killed with
``kill -9`` at several moments; on reopen everything is consistent, nothing acknowledged is lost
and nothing is duplicated. (SIGKILL during ingest: tests/test_core_ingest.py.)"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

# The child prints one line per acknowledged operation ("ack <id>") after the call returned.
FACE_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {repo!r})
    from core.workspace import Workspace
    from facematch.gallery import Gallery
    from facematch.pipeline import Face, ImageFaces

    def photo(n, faces=1):
        rng = np.random.default_rng(n)
        vecs = rng.normal(size=(faces, 128)).astype("float32")
        return ImageFaces(source=f"/photos/{{n}}.jpg", sha256=f"{{n:064d}}", width=200,
                          height=200, faces=tuple(
                              Face(index=i, box=(10, 10, 110, 110), size=100, score=2.0,
                                   quality=0.9, descriptor=vecs[i]) for i in range(faces)))

    import facematch.index as index_module

    original_save = index_module.VectorIndex.save

    def announced_save(self, *args, **kwargs):  # tells the parent a save has begun
        print("saving", flush=True)
        return original_save(self, *args, **kwargs)

    index_module.VectorIndex.save = announced_save
    ws = Workspace.open({root!r})
    g = Gallery(ws)
    if len(g) == 0:  # a big index first, so each save takes a while and the kill lands in one
        g.enroll_faces(photo(10**6, faces=6000), record_uid="bulk")
        print("ready", flush=True)
    start = {start}
    for n in range(start, start + 100000):
        g.enroll_faces(photo(n), record_uid=f"r:{{n}}")  # saves the index every time
        print(f"ack {{n}}", flush=True)
""")

DISPATCH_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from core.workspace import Workspace
    from ops.service import OpsService

    ws = Workspace.open({root!r})
    ops = OpsService(ws)
    units = [f"U{{i}}" for i in range(8)]
    if not ops.units.list():
        for u in units:
            ops.units.add(u, unit_type="patrol_car", lat=30.75, lon=120.76, district="南湖区")
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        inc = ops.incidents.create("纠纷", 3, lat=30.75, lon=120.76, text=f"crash test {{n}}")
        unit = units[n % len(units)]
        if ops.units.get(unit).status != "available":
            ops.dispatch.release(unit)
        ops.dispatch.assign(inc.id, unit)
        print(f"ack {{inc.id}} {{unit}}", flush=True)
""")


def _run_and_kill(
    script: str, *, after_acks: int, delay: float, trigger: str | None = None
) -> list[str]:
    """Start the child, wait for ``after_acks`` acknowledgements (then for a line starting with
    ``trigger``, when given), wait ``delay`` s, SIGKILL it; returns its ack lines."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acks: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 240
    while len(acks) < after_acks and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("ack "):
            acks.append(line.split(maxsplit=1)[1].strip())
    while trigger and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ack "):
            acks.append(line.split(maxsplit=1)[1].strip())
        if not line or line.startswith(trigger):
            break
    time.sleep(delay)
    assert proc.poll() is None, f"child ended early: {proc.stderr.read()[-2000:]}"  # type: ignore
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=60)
    acks += [
        line.split(maxsplit=1)[1].strip() for line in rest.splitlines() if line.startswith("ack ")
    ]
    assert proc.returncode == -signal.SIGKILL
    return acks


def test_sigkill_during_face_index_saves(workspace: Workspace) -> None:
    pytest.importorskip("facematch.gallery", reason="facematch/ (issue 5) not installed")
    from facematch.gallery import Gallery

    root = str(workspace.root)
    acked: list[int] = []
    start = 0
    for round_, delay in enumerate((0.0, 0.004, 0.015, 0.04)):  # into a save, at 4 moments
        acks = _run_and_kill(
            FACE_CHILD.format(repo=str(REPO), root=root, start=start),
            after_acks=2 + round_,
            delay=delay,
            trigger="saving",
        )
        acked += [int(a) for a in acks]
        start = max(acked) + 2  # the unacknowledged one in flight may or may not be there
        g = Gallery(Workspace.open(workspace.root))
        store_ids = sorted(int(i) for i in g.store.face_ids())
        index_ids = sorted(int(i) for i in g.index.ids())
        assert index_ids == store_ids, "index and gallery metadata disagree after SIGKILL"
        records = {f["record_uid"] for f in _faces(g)}
        missing = [n for n in acked if f"r:{n}" not in records]
        assert not missing, f"acknowledged enrolments lost: {missing}"
        per_record = [len(g.faces_of_record(f"r:{n}")) for n in acked]
        assert set(per_record) == {1}, "a photo's face was duplicated"
        g.save()  # a clean save works after the crash
        g.close()
    # the last acknowledged face is found again, at rank 1, through the public search
    import numpy as np

    from facematch.pipeline import Face, ImageFaces

    n = acked[-1]
    vec = np.random.default_rng(n).normal(size=(1, 128)).astype("float32")[0]
    probe = ImageFaces(
        source="probe",
        sha256="p" * 64,
        width=200,
        height=200,
        faces=(
            Face(index=0, box=(10, 10, 110, 110), size=100, score=2.0, quality=0.9, descriptor=vec),
        ),
    )
    from tests.faces_fixtures import open_cases

    reopened = Workspace.open(workspace.root)
    open_cases(reopened, numbers=("2026-FT-0000",))
    g = Gallery(reopened)
    top = g.search(probe, case="2026-FT-0000", purpose="consistency check").candidates[0]
    assert top.record_uid == f"r:{n}"
    g.close()
    assert workspace.audit.verify() == []


def _faces(g: object) -> list[dict[str, object]]:
    con = sqlite3.connect(g.store.path)  # type: ignore[attr-defined]
    try:
        return [{"record_uid": r[0]} for r in con.execute("SELECT record_uid FROM faces")]
    finally:
        con.close()


def test_sigkill_during_dispatches(workspace: Workspace) -> None:
    pytest.importorskip("ops.service", reason="ops/ (issue 7) not installed")
    from ops.service import OpsService

    root = str(workspace.root)
    acked: list[tuple[int, str]] = []
    for after, delay in ((5, 0.0), (20, 0.011), (40, 0.037)):
        acks = _run_and_kill(
            DISPATCH_CHILD.format(repo=str(REPO), root=root), after_acks=after, delay=delay
        )
        acked += [(int(a.split()[0]), a.split()[1]) for a in acks]
        ops = OpsService(Workspace.open(workspace.root))
        # The child is dead: whatever it committed but had not audited is in the ops outbox.
        ops.ctx.recover_audit(older_than_s=0)
        for unit in ops.units.list():
            active = [a for a in ops.dispatch.assignments() if a.unit_id == unit.id]
            if unit.status == "dispatched":
                assert len(active) == 1, f"unit {unit.id} dispatched with {len(active)} jobs"
                assert active[0].incident_id == unit.incident_id
                assert ops.incidents.get(unit.incident_id).status == "dispatched"
            else:
                assert not active, f"unit {unit.id} is {unit.status} but still assigned"
        made = [(a.incident_id, a.unit_id) for a in ops.dispatch.assignments(active_only=False)]
        assert len(made) == len(set(made)), "a dispatch was recorded twice"
        lost = set(acked) - set(made)
        assert not lost, f"acknowledged dispatches lost: {sorted(lost)[:5]}"
    audited = {
        (e["params"]["incident"], tuple(e["params"]["units"]))
        for e in workspace.audit.search(action="ops.dispatch.assign")
    }
    assert {(i, (u,)) for i, u in acked} <= audited, "an acknowledged dispatch was not audited"
    assert workspace.audit.verify() == []
    # Every committed dispatch is audited exactly once: its audit line is written in the same
    # transaction (the outbox) and recovered after the kill if the child died before appending.
    assigned = [
        (e["params"]["incident"], tuple(e["params"]["units"]))
        for e in workspace.audit.search(action="ops.dispatch.assign")
    ]
    assert len(assigned) == len(set(assigned)), "a dispatch was audited twice"
    db_dispatches = _count(workspace, "SELECT count(*) FROM ops_assignments")
    assert db_dispatches == len(audited), "a committed dispatch has no audit line"
    assert _count(workspace, "SELECT count(*) FROM ops_audit_outbox") == 0


def test_audit_line_survives_a_crash_between_commit_and_append(workspace: Workspace) -> None:
    """The process dies right after COMMIT, before the audit append: the next start writes
    the line (marked recovered), once, even if recovery runs twice."""
    from ops.service import OpsService

    child = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        from core.workspace import Workspace
        from ops.events import OpsContext
        from ops.service import OpsService
        ops = OpsService(Workspace.open({str(workspace.root)!r}))
        ops.units.add("K1", unit_type="patrol_car", lat=30.75, lon=120.76, district="南湖区")
        inc = ops.incidents.create("纠纷", 3, lat=30.75, lon=120.76, text="crash test")
        OpsContext.flush_audit = lambda self, ids: os._exit(9)  # die between COMMIT and append
        ops.dispatch.assign(inc.id, "K1")
    """)
    proc = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 9, proc.stderr
    assert workspace.audit.search(action="ops.dispatch.assign") == []
    ops = OpsService(Workspace.open(workspace.root))
    assert ops.units.get("K1").status == "dispatched"  # the change committed
    assert ops.ctx.recover_audit(older_than_s=0) == 1
    assert ops.ctx.recover_audit(older_than_s=0) == 0
    lines = workspace.audit.search(action="ops.dispatch.assign")
    assert len(lines) == 1 and lines[0]["params"]["recovered"] is True
    assert lines[0]["params"]["units"] == ["K1"]
    assert workspace.audit.verify() == []


def _count(ws: Workspace, sql: str) -> int:
    con = sqlite3.connect(ws.store_path)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()
