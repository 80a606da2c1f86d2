"""Roles are enforced in the engines' services themselves (not by hiding buttons): the same call
succeeds for a role holding the permission and is refused — audited, nothing changed — for one
that does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.security import PermissionDeniedError, load_roles
from core.workspace import Workspace
from tests.trust_fixtures import PASSWORDS, as_user, staff

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def staffed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One workspace with an account per role, shared by this module (Argon2 is slow)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SUPERBRAIN_USER", "tester")
    ws = Workspace.init(tmp_path_factory.mktemp("enforce") / "ws")
    staff(ws)
    ws.close()
    mp.undo()
    return ws.root


@pytest.fixture(scope="module")
def sessions(staffed_root: Path) -> dict[str, Workspace]:
    base = Workspace.open(staffed_root)
    return {name: as_user(base, name) for name in PASSWORDS}


def _denied(ws: Workspace, permission: str) -> list[dict[str, object]]:
    return [
        e
        for e in ws.audit.search(action="access.denied")
        if e["params"].get("permission") == permission
    ]


def test_dispatch_intake_and_acks_need_operations_roles(sessions: dict[str, Workspace]) -> None:
    pytest.importorskip("ops.service", reason="ops/ (issue 7) not installed")
    from ops.service import OpsService

    cmd = OpsService(sessions["cmd"])
    cmd.units.add("E1", unit_type="patrol_car", lat=30.75, lon=120.76, district="南湖区")
    inc = cmd.incidents.create("纠纷", 3, lat=30.75, lon=120.76, text="邻居吵架")
    ana = OpsService(sessions["ana"])
    with pytest.raises(PermissionDeniedError, match=r"'ana'.*'analyst'.*'ops\.intake'"):
        ana.incidents.create("纠纷", 3, lat=30.75, lon=120.76, text="不该成立")
    with pytest.raises(PermissionDeniedError, match=r"'ops\.dispatch'"):
        ana.dispatch.assign(inc.id, "E1")
    assert cmd.units.get("E1").status == "available"  # nothing changed
    assert len(cmd.incidents.list()) == 1
    cmd.dispatch.assign(inc.id, "E1")
    with pytest.raises(PermissionDeniedError, match=r"'ops\.dispatch'"):
        ana.dispatch.release("E1")
    assert cmd.units.get("E1").status == "dispatched"
    assert [e["user"] for e in _denied(sessions["root"], "ops.dispatch")] == ["ana", "ana"]
    assign = sessions["root"].audit.search(action="ops.dispatch.assign")[-1]
    assert assign["user"] == "cmd"


def test_face_search_for_analysts_review_for_supervisors(sessions: dict[str, Workspace]) -> None:
    pytest.importorskip("facematch.gallery", reason="facematch/ (issue 5) not installed")
    from facematch.gallery import Gallery
    from tests.faces_fixtures import open_cases
    from tests.test_trust_audit import _fake_photo

    g = Gallery(sessions["root"])
    for n in range(3):
        g.enroll_faces(_fake_photo(n), record_uid=f"r:{n}", save=False)
    g.close()
    open_cases(sessions["root"], "ana", numbers=("2026-FT-0009",))
    ana = Gallery(sessions["ana"])
    result = ana.search(_fake_photo(1), case="2026-FT-0009", purpose="lead")
    assert result.candidates[0].record_uid == "r:1"
    with pytest.raises(PermissionDeniedError, match=r"'faces\.review'"):
        ana.review(result.candidates[0], "confirmed")
    ana.close()
    sup = Gallery(sessions["sup"])
    sup.review(result.candidates[0], "confirmed")
    sup.close()
    reviews = sessions["root"].audit.search(action="face.review")
    assert [e["user"] for e in reviews] == ["sup"]
    assert [e["user"] for e in _denied(sessions["root"], "faces.review")] == ["ana"]


def test_search_backend_needs_the_search_permission(
    sessions: dict[str, Workspace], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend_module = pytest.importorskip("search.backend", reason="search/ not installed")
    import core.security

    backend_module.open_backend(sessions["ana"]).close()  # analysts search
    # a site that takes "search" away from analysts: the engine refuses, whatever the UI shows
    text = core.security.ROLES_FILE.read_text("utf-8").replace(
        'permissions = ["account", "search", "graph.read", "faces.search", "ops.read", '
        '"alerts.ack"',
        'permissions = ["account", "graph.read", "faces.search", "ops.read", "alerts.ack"',
        1,
    )
    custom = tmp_path / "roles.toml"
    custom.write_text(text, "utf-8")
    monkeypatch.setattr(core.security, "default_roles", lambda: load_roles(custom))
    with pytest.raises(PermissionDeniedError, match=r"'search'"):
        backend_module.open_backend(sessions["ana"])
    assert [e["user"] for e in _denied(sessions["root"], "search")] == ["ana"]


def _cli(root: Path, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPERBRAIN_USER": user, "SUPERBRAIN_PASSWORD": PASSWORDS[user]}
    return subprocess.run(
        [sys.executable, "main.py", *args, "-w", str(root)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_chart_picture_export_needs_the_export_permission(
    sessions: dict[str, Workspace], tmp_path: Path
) -> None:
    """The console's PNG export goes through graph.export.audited_export: refused (and audited)
    for an analyst before anything is written; a supervisor's export is audited."""
    pytest.importorskip("graph.export", reason="graph/ (issue 4) not installed")
    from core.security import PermissionDeniedError
    from graph.export import audited_export
    from graph.model import GraphResult

    written: list[Path] = []

    def write() -> list[Path]:
        out = tmp_path / "chart.png"
        out.write_bytes(b"png")
        written.append(out)
        return [out]

    graph = GraphResult(seeds=("phone:13800138000",))
    with pytest.raises(PermissionDeniedError):
        audited_export(sessions["ana"], graph, tmp_path / "chart.png", "png", write)
    assert written == [] and _denied(sessions["ana"], "export")
    audited_export(sessions["sup"], graph, tmp_path / "chart.png", "png", write)
    last = sessions["sup"].audit.search(action="graph.export")[-1]
    assert last["user"] == "sup" and last["params"]["format"] == "png" and len(written) == 1


def test_graph_export_needs_the_export_permission(staffed_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("graph.cli", reason="graph/ (issue 4) not installed")
    out = tmp_path / "g.graphml"
    denied = _cli(staffed_root, "ana", "graph", "export", "13800138000", "-o", str(out))
    assert denied.returncode == 2 and "'export'" in denied.stderr and not out.exists()
    ok = _cli(staffed_root, "sup", "graph", "export", "13800138000", "-o", str(out))
    assert "access denied" not in ok.stderr
