"""The attacks of issue #16 replayed against the real command line (``python main.py …``) and the
console, each now refused (the console's side: tests/test_console_services.py).

Before the service layer: ``SUPERBRAIN_USER=root superbrain ops show 1`` printed the reporter's
name and phone without a password, ``faces rebuild`` was audited as whoever the variable named,
``ops position`` moved units without a permission or an audit line, an analyst could overwrite a
supervisor's saved-search rule, and a face search with an unreadable probe left no trace.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.workspace import Workspace
from tests.trust_fixtures import PASSWORDS, staff

REPO = Path(__file__).resolve().parent.parent
REPORTER, PHONE = "李秀英", "13912345678"
FACE_CASE = "2026-KX-0007"
MAPPING = """
[source]
name = "calls"
record_type = "call"
id = ["id"]

[fields]
a = { role = "identifier", normalizer = "phone" }
b = { role = "identifier", normalizer = "phone" }

[entities.pa]
type = "phone"
key = "a"

[entities.pb]
type = "phone"
key = "b"

[[links]]
type = "called"
from = "pa"
to = "pb"
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workspace with accounts (root, ana, sup, cmd), calls between phones, ops units and
    one incident whose reporter is a private person."""
    from core.services import call, local_context

    mp = pytest.MonkeyPatch()
    mp.setenv("SUPERBRAIN_USER", "root")
    base = tmp_path_factory.mktemp("attacks")
    ws = staff(Workspace.init(base / "ws"))
    (ws.root / "plugins" / "calls.toml").write_text(MAPPING, "utf-8")
    data = base / "calls.csv"
    data.write_text("id,a,b\n1,13800138000,13900139000\n2,13900139000,13700137000\n", "utf-8")
    admin = local_context(ws)
    call("ingest.file", admin, source="calls", path=str(data))
    units = call("ops.seed_units", admin, count=4)
    call(
        "ops.incident_create",
        admin,
        category="纠纷",
        priority=3,
        lat=units[0].lat,
        lon=units[0].lon,
        reporter=REPORTER,
        reporter_phone=PHONE,
        text="邻居吵架",
    )
    from tests.faces_fixtures import open_cases

    open_cases(ws, "ana", numbers=(FACE_CASE,))  # face searches name a case ana belongs to
    ws.close()
    mp.undo()
    yield ws.root


def _env(user: str, password: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SUPERBRAIN_PASSWORD"}
    env["SUPERBRAIN_USER"] = user
    if password is not None:
        env["SUPERBRAIN_PASSWORD"] = password
    return env


def _run_all(
    root: Path, user: str, password: str | None, commands: list[list[str]]
) -> list[subprocess.CompletedProcess[str]]:
    """Run the commands as ``user`` (in parallel: each is a fresh interpreter), stdin closed
    so no password can be typed."""
    procs = [
        subprocess.Popen(
            [sys.executable, "main.py", *_with_workspace(args, root)],
            cwd=REPO,
            env=_env(user, password),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    out = []
    for p, args in zip(procs, commands, strict=True):
        stdout, stderr = p.communicate(timeout=300)
        out.append(subprocess.CompletedProcess(args, p.returncode, stdout, stderr))
    return out


def _with_workspace(args: list[str], root: Path) -> list[str]:
    if args[0] in ("users", "audit"):  # -w belongs to the command, before its subcommand
        return [args[0], "-w", str(root), *args[1:]]
    return [*args, "-w", str(root)]


def _audit(root: Path) -> list[dict[str, object]]:
    return list(Workspace.open(root).audit.entries())


READS = [
    ["ops", "show", "1"],
    ["ops", "incidents"],
    ["ops", "units"],
    ["ops", "alerts"],
    ["ops", "events"],
    ["ops", "board"],
    ["ops", "metrics"],
    ["ops", "recommend", "1"],
    ["ops", "hotspots"],
    ["ops", "rescan"],
    ["faces", "rebuild"],
    ["search", "13800138000"],
    ["graph", "expand", "13800138000"],
    ["users", "list"],
    ["audit", "list"],
    ["sources"],
    ["services"],
    ["demo", "--no-console", "--size", "20"],
]


def test_a_claimed_user_without_a_password_is_refused_by_every_command(root: Path) -> None:
    before = len(_audit(root))
    runs = _run_all(root, "root", None, READS)
    for run in runs:
        assert run.returncode == 2, (run.args, run.stdout, run.stderr)
        assert "SUPERBRAIN_PASSWORD" in run.stderr and "Traceback" not in run.stderr
        assert REPORTER not in run.stdout and PHONE not in run.stdout
    new = _audit(root)[before:]
    assert new == [], "nothing ran, so nothing may be audited as 'root'"


def test_with_a_password_reads_work_and_are_audited_as_the_authenticated_user(root: Path) -> None:
    before = len(_audit(root))
    show, rebuild = _run_all(
        root, "ana", PASSWORDS["ana"], [["ops", "show", "1"], ["faces", "rebuild"]]
    )
    assert show.returncode == 0 and REPORTER in show.stdout and PHONE in show.stdout
    assert rebuild.returncode == 2 and "'ingest'" in rebuild.stderr  # analysts cannot
    (ok,) = _run_all(root, "root", PASSWORDS["root"], [["faces", "rebuild"]])
    assert ok.returncode == 0, ok.stderr
    new = _audit(root)[before:]
    shown = [e for e in new if e["action"] == "ops.incident"]
    assert [(e["user"], e["params"]["incident_id"]) for e in shown] == [("ana", 1)]
    denied = [e for e in new if e["action"] == "access.denied"]
    assert [(e["user"], e["params"]["service"]) for e in denied] == [("ana", "faces.rebuild")]
    assert [e["user"] for e in new if e["action"] == "face.rebuild"] == ["root"]


def test_unit_positions_need_the_dispatch_permission_and_are_audited(root: Path) -> None:
    from core.security import Session
    from core.services import ServiceContext, call

    ws = Workspace.open(root)
    unit = call("ops.units", ServiceContext(ws, Session("root", "administrator")))[0]
    far = ["ops", "position", unit.id, "30.9", "120.9"]
    (anonymous,) = _run_all(root, "root", None, [far])
    (analyst,) = _run_all(root, "ana", PASSWORDS["ana"], [far])
    assert anonymous.returncode == 2 and "SUPERBRAIN_PASSWORD" in anonymous.stderr
    assert analyst.returncode == 2 and "'ops.dispatch'" in analyst.stderr
    assert Workspace.open(root).store.connection.execute(
        "SELECT lat, lon FROM ops_units WHERE id=?", (unit.id,)
    ).fetchone() == (unit.lat, unit.lon)
    (commander,) = _run_all(root, "cmd", PASSWORDS["cmd"], [far])
    assert commander.returncode == 0, commander.stderr
    moved = [e for e in _audit(root) if e["action"] == "ops.position"]
    assert [(e["user"], e["params"]["unit_id"], e["params"]["lat"]) for e in moved] == [
        ("cmd", unit.id, 30.9)
    ]
    denied = [
        e
        for e in _audit(root)
        if e["action"] == "access.denied" and e["params"].get("service") == "ops.position"
    ]
    assert [e["user"] for e in denied] == ["ana"]


def test_an_analyst_cannot_overwrite_or_delete_a_supervisors_saved_search(root: Path) -> None:
    from ops.watch import SavedSearch  # noqa: F401 - the engine is installed

    (saved,) = _run_all(
        root, "sup", PASSWORDS["sup"], [["ops", "saved-search", "quarrels", "--text", "吵架"]]
    )
    assert saved.returncode == 0, saved.stderr
    (overwrite,) = _run_all(
        root, "ana", PASSWORDS["ana"], [["ops", "saved-search", "quarrels", "--text", "nothing"]]
    )
    assert overwrite.returncode == 2
    assert "belongs to 'sup'" in overwrite.stderr and "'ana' may not change" in overwrite.stderr
    row = (
        Workspace.open(root)
        .store.connection.execute(
            "SELECT query, owner FROM ops_saved_searches WHERE name='quarrels'"
        )
        .fetchone()
    )
    assert "吵架" in row[0] and "nothing" not in row[0] and row[1] == "sup"
    failed = [
        e
        for e in _audit(root)
        if e["action"] == "ops.saved_search" and e["params"].get("outcome") == "failed"
    ]
    assert [(e["user"], "belongs to 'sup'" in e["params"]["error"]) for e in failed] == [
        ("ana", True)
    ]
    (admin,) = _run_all(
        root,
        "root",
        PASSWORDS["root"],
        [["ops", "saved-search", "quarrels", "--text", "吵架 打架"]],
    )
    assert admin.returncode == 0, admin.stderr  # an administrator may take it over


def test_failed_face_searches_are_audited_with_the_reason(root: Path, tmp_path: Path) -> None:
    pytest.importorskip("facematch.gallery", reason="facematch/ not installed")
    from PIL import Image

    broken = tmp_path / "probe.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    blank = tmp_path / "wall.png"
    Image.new("RGB", (160, 160), (128, 128, 128)).save(blank)
    runs = _run_all(
        root,
        "ana",
        PASSWORDS["ana"],
        [
            ["faces", "search", str(p), "--case", FACE_CASE, "--purpose", "robbery lead"]
            for p in (broken, blank)
        ],
    )
    assert [r.returncode for r in runs] == [2, 2], [r.stderr for r in runs]
    failed = [
        e
        for e in _audit(root)
        if e["action"] == "faces.search" and e["params"].get("outcome") == "failed"
    ]
    assert [(e["user"], e["case"], e["purpose"]) for e in failed] == [
        ("ana", FACE_CASE, "robbery lead")
    ] * 2
    assert str(broken) in failed[0]["params"]["error"]
    assert "no face" in failed[1]["params"]["error"]
