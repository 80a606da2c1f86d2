"""Issue #16 items 3, 4 and 5: the audit log survives a full disk, its lost tail or file is
reported, and accounts fail closed — each test replays the attack from the issue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core import audit as audit_module
from core.audit import AuditError
from core.security import AuthenticationError
from core.users import add_user
from core.workspace import Workspace
from tests.trust_fixtures import PASSWORDS, staff

REPO = Path(__file__).resolve().parent.parent


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def _busy(ws: Workspace, n: int = 5) -> None:
    for i in range(n):
        ws.audit.append(ws.user, "search", {"q": f"query {i}"})


# -- item 3: a full disk during an append ----------------------------------------------------
def test_half_written_last_line_is_quarantined_and_audited(workspace: Workspace) -> None:
    """A crash or full disk left half a line: the next login is not blocked for good."""
    _busy(workspace)
    with workspace.audit_path.open("ab") as fh:
        fh.write(b'{"seq":6,"ts":"2026-')  # no newline: an interrupted append
    entry = workspace.audit.append("tester", "auth.login", {})
    quarantine = [e for e in workspace.audit.entries() if e["action"] == "audit.quarantine"]
    assert len(quarantine) == 1 and quarantine[0]["seq"] == 6 and entry["seq"] == 7
    moved = Path(quarantine[0]["params"]["file"])
    assert moved.read_bytes() == b'{"seq":6,"ts":"2026-'  # nothing is thrown away
    assert workspace.audit.verify() == []


def test_a_write_that_fails_midway_leaves_no_half_line(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC after part of the line reached the file: the part is taken back out."""
    import errno

    _busy(workspace, 2)
    real_write = os.write

    def half_then_enospc(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audit_module.os, "write", half_then_enospc)
    with pytest.raises(AuditError, match=r"No space left on device.*free disk space"):
        workspace.audit.append("tester", "search", {"q": "lost"})
    monkeypatch.setattr(audit_module.os, "write", real_write)
    assert workspace.audit_path.read_bytes().endswith(b"\n")
    assert workspace.audit.verify() == []
    assert workspace.audit.append("tester", "search", {"q": "after"})["seq"] == 3


def test_real_full_disk_refuses_before_writing_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a real (tmpfs) disk that fills up: no half line, a clear error, and appends work
    again once space is back."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {made.stderr.strip()}")
    try:
        log = audit_module.AuditLog(mnt / "audit.jsonl")
        with pytest.raises(AuditError, match="bytes free on its disk"):
            log.append("u", "search", {})  # below MIN_FREE_BYTES: refused up front
        assert not log.path.exists() or log.path.read_bytes() == b""
        monkeypatch.setattr(audit_module, "MIN_FREE_BYTES", 0)  # now write until it is full
        with pytest.raises(AuditError, match="cannot write the audit entry"):
            for i in range(10_000):
                log.append("u", "search", {"q": "x" * 2000, "i": i})
        assert log.path.read_bytes().endswith(b"\n")
        assert log.verify() == []
        n = sum(1 for _ in log.entries())
        # space comes back (an administrator archives the log elsewhere, here: shrink it)
        entries = log.path.read_bytes().splitlines(keepends=True)
        log.path.write_bytes(b"".join(entries[: n // 2]))
        assert log.append("u", "search", {"q": "after"})["seq"] == n // 2 + 1
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


# -- item 4: tail removed, file deleted, file rewritten ----------------------------------------
def test_removing_the_last_lines_is_reported(workspace: Workspace) -> None:
    _busy(workspace, 6)
    lines = workspace.audit_path.read_bytes().splitlines(keepends=True)
    workspace.audit_path.write_bytes(b"".join(lines[:-2]))
    problems = [str(p) for p in workspace.audit.verify()]
    assert any("missing tail" in p and "entries 5..6 were removed" in p for p in problems)
    with pytest.raises(AuditError, match="entries were removed"):
        workspace.audit.append("tester", "search", {})


def test_deleting_the_file_is_reported_and_no_new_chain_starts(workspace: Workspace) -> None:
    _busy(workspace, 3)
    workspace.audit_path.unlink()
    problems = [str(p) for p in Workspace.open(workspace.root).audit.verify()]
    assert any("is missing" in p and "3 entries" in p for p in problems)
    again = Workspace.open(workspace.root)
    with pytest.raises(AuditError, match="a new chain is not started where history existed"):
        again.audit.append("tester", "auth.login", {})
    assert not again.audit_path.exists() or again.audit_path.read_bytes() == b""


def test_rewriting_the_file_with_recomputed_hashes_is_reported(workspace: Workspace) -> None:
    """The attacker edits an entry and recomputes every hash: the chain alone says intact."""
    from core.audit import _canonical, entry_hash

    _busy(workspace, 4)
    entries = list(workspace.audit.entries())
    entries[1]["params"]["q"] = "something harmless"
    prev = audit_module.GENESIS
    out = b""
    for e in entries:
        e["prev"] = prev
        e["hash"] = entry_hash(e)
        prev = e["hash"]
        out += _canonical(e) + b"\n"
    workspace.audit_path.write_bytes(out)
    assert audit_module.AuditLog(workspace.audit_path).verify() == []  # the chain alone: fooled
    problems = [str(p) for p in workspace.audit.verify()]
    assert any("file was rewritten" in p for p in problems)
    with pytest.raises(AuditError, match="rewritten"):
        workspace.audit.append("tester", "search", {})


def test_forging_the_store_anchor_too_is_reported(workspace: Workspace) -> None:
    """Lowering the anchor in the store (to hide a removed tail) breaks its signature, and the
    anchor outside the workspace still holds the truth."""
    import sqlite3

    _busy(workspace, 4)
    lines = workspace.audit_path.read_bytes().splitlines(keepends=True)
    workspace.audit_path.write_bytes(b"".join(lines[:2]))
    con = sqlite3.connect(workspace.store_path)
    state = json.loads(con.execute("SELECT state FROM trust_anchor").fetchone()[0])
    state.update(audit_seq=2, audit_hash=json.loads(lines[1])["hash"])
    con.execute("UPDATE trust_anchor SET state=?", (json.dumps(state, sort_keys=True),))
    con.commit()
    con.close()
    problems = [str(p) for p in workspace.audit.verify()]
    assert any("signature does not match" in p for p in problems)
    assert any("missing tail" in p for p in problems)


def test_repair_keeps_every_byte_and_records_the_loss(workspace: Workspace) -> None:
    _busy(workspace, 5)
    lines = workspace.audit_path.read_bytes().splitlines(keepends=True)
    workspace.audit_path.write_bytes(b"".join(lines[:2]) + b"garbage line\n" + lines[3])
    out = _cli("audit", "-w", str(workspace.root), "verify")
    assert out.returncode == 1 and "audit repair" in out.stdout
    out = _cli("audit", "-w", str(workspace.root), "repair")
    assert out.returncode == 0, out.stderr
    assert "missing entries: 3..5" in out.stdout
    repaired = Workspace.open(workspace.root)
    assert repaired.audit.verify() == []
    last = list(repaired.audit.entries())[-1]
    assert last["action"] == "audit.repair" and last["params"]["missing_entries"] == "3..5"
    assert Path(last["params"]["quarantine_file"]).read_bytes() == b"garbage line\n" + lines[3]
    assert repaired.audit.append("tester", "search", {})["seq"] == 4


def test_repair_after_deletion_starts_a_chain_that_says_so(workspace: Workspace) -> None:
    _busy(workspace, 3)
    workspace.audit_path.unlink()
    ws = Workspace.open(workspace.root)
    entry = ws.audit.repair("os:tester")
    assert entry["seq"] == 1 and entry["params"]["missing_entries"] == "1..3"
    assert ws.audit.verify() == []
    ws.audit.append("tester", "search", {})


# -- item 5: accounts fail closed ------------------------------------------------------------
@pytest.mark.parametrize("damage", ["delete", "empty", "garbage", "no rows"])
def test_losing_the_users_file_refuses_everyone(workspace: Workspace, damage: str) -> None:
    staff(workspace)
    users = workspace.root / "users.sqlite"
    if damage == "delete":
        users.unlink()
    elif damage == "empty":
        users.write_bytes(b"")
    elif damage == "garbage":
        users.write_bytes(b"not a database" * 100)
    else:
        import sqlite3

        con = sqlite3.connect(users)
        con.execute("DELETE FROM users")
        con.commit()
        con.close()
    mallory = Workspace.open(workspace.root)
    with pytest.raises(AuthenticationError, match=r"(missing or empty|unreadable).*refused"):
        mallory.session  # noqa: B018
    with pytest.raises(AuthenticationError):
        add_user(mallory, "mallory", "administrator", "mallory-Vulture-66")
    out = _cli(
        "users",
        "-w",
        str(workspace.root),
        "add",
        "mallory",
        "--role",
        "administrator",
        env={"SUPERBRAIN_USER": "mallory", "SUPERBRAIN_NEW_PASSWORD": "Vulture-66-x"},
    )
    assert out.returncode != 0 and "refused" in out.stderr
    assert not any(e["params"].get("name") == "mallory" for e in workspace.audit.entries())


def test_restoring_the_users_file_lets_people_back_in(workspace: Workspace) -> None:
    staff(workspace)
    users = workspace.root / "users.sqlite"
    backup = users.read_bytes()
    users.unlink()
    with pytest.raises(AuthenticationError):
        Workspace.open(workspace.root).login("root", PASSWORDS["root"])
    users.write_bytes(backup)
    assert Workspace.open(workspace.root).login("root", PASSWORDS["root"]).role == "administrator"


def test_a_workspace_that_never_had_accounts_still_works_without_login(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / f"ws-{uuid.uuid4().hex[:6]}")
    assert ws.session.via == "no-accounts"


def test_a_moved_workspace_is_not_silently_re_anchored(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Its anchors were signed with the key of its old path: appends stop (logins too) until
    `audit repair`, which re-anchors and records why; accounts stay required throughout."""
    import shutil

    staff(workspace)
    workspace.close()
    moved = tmp_path / "moved"
    shutil.copytree(workspace.root, moved)
    ws = Workspace.open(moved)
    assert any("anchor key" in str(p) and "missing" in str(p) for p in ws.audit.verify())
    with pytest.raises(AuditError, match="audit repair"):
        ws.audit.append("tester", "search", {})
    (moved / "users.sqlite").unlink()
    with pytest.raises(AuthenticationError):  # an unverifiable claim still fails closed
        Workspace.open(moved).session  # noqa: B018
    shutil.copy(workspace.root / "users.sqlite", moved / "users.sqlite")
    entry = Workspace.open(moved).audit.repair("os:tester")
    assert entry["params"]["anchor_problems"] and entry["params"]["missing_entries"] == ""
    again = Workspace.open(moved)
    assert again.audit.verify() == []
    assert again.login("root", PASSWORDS["root"]).role == "administrator"
    assert again.trust.state().accounts


def test_the_console_asks_for_a_login_when_the_users_file_is_gone(workspace: Workspace) -> None:
    """The console must not open without a login ("no accounts") either; its dialog shows
    why every login is refused."""
    pytest.importorskip("PyQt6", reason="the console is not installed")
    from console.login import needs_login

    staff(workspace)
    (workspace.root / "users.sqlite").unlink()
    again = Workspace.open(workspace.root)
    assert needs_login(again)
    with pytest.raises(AuthenticationError, match="missing or empty"):
        again.login("root", PASSWORDS["root"])
