"""Issue #16, done-when: a fuzz run of audit-file edits (truncate, delete, rewrite, ...) and of
logins finds nothing unreported. Bounded: ~1 minute together on a busy 2-core machine."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.anchor import Trust
from core.audit import GENESIS, AuditError, AuditLog, _canonical, entry_hash

EDITS = [
    "truncate",
    "delete",
    "drop_tail",
    "rewrite",
    "byte",
    "insert",
    "swap",
    "empty",
    "store_anchor",
    "file_anchor",
    "rewrite_and_store_anchor",
]


def _fresh(tmp: Path, n: int) -> AuditLog:
    store = tmp / "store.sqlite"
    sqlite3.connect(store).close()
    log = AuditLog(tmp / "audit.jsonl", Trust.for_workspace(tmp, store))
    for i in range(n):
        log.append("分析员", "search", {"q": f"王建国 {i}"}, case=f"案-{i}")
    return log


def _rechained(entries: list[dict]) -> bytes:
    prev, out = GENESIS, b""
    for e in entries:
        e["prev"] = prev
        e["hash"] = entry_hash(e)
        prev = e["hash"]
        out += _canonical(e) + b"\n"
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_edit_of_the_audit_file_goes_unreported(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        n = data.draw(st.integers(2, 6), label="entries")
        log = _fresh(tmp, n)
        original = log.path.read_bytes()
        lines = original.splitlines(keepends=True)
        edit = data.draw(st.sampled_from(EDITS), label="edit")
        content_changed = True
        if edit == "truncate":
            log.path.write_bytes(original[: data.draw(st.integers(0, len(original) - 1))])
        elif edit == "delete":
            log.path.unlink()
        elif edit == "drop_tail":
            log.path.write_bytes(b"".join(lines[: -data.draw(st.integers(1, n))]))
        elif edit in ("rewrite", "rewrite_and_store_anchor"):
            entries = [json.loads(x) for x in lines]
            i = data.draw(st.integers(0, n - 1))
            entries[i]["user"] = data.draw(st.text(min_size=1, max_size=8))
            if data.draw(st.booleans(), label="also drop the last entry"):
                entries = entries[:-1]
            log.path.write_bytes(_rechained(entries))
            if edit == "rewrite_and_store_anchor":  # lower/replace the store's anchor too
                con = sqlite3.connect(tmp / "store.sqlite")
                state = {
                    "accounts": False,
                    "audit_hash": entries[-1]["hash"],
                    "audit_seq": entries[-1]["seq"],
                }
                con.execute("UPDATE trust_anchor SET state=?", (json.dumps(state, sort_keys=True),))
                con.commit()
                con.close()
        elif edit == "byte":
            at = data.draw(st.integers(0, len(original) - 1))
            new = data.draw(st.integers(0, 255).filter(lambda b: b != original[at]))
            log.path.write_bytes(original[:at] + bytes([new]) + original[at + 1 :])
        elif edit == "insert":
            at = data.draw(st.integers(0, n))
            extra = data.draw(st.binary(min_size=1, max_size=30)) + b"\n"
            log.path.write_bytes(b"".join(lines[:at]) + extra + b"".join(lines[at:]))
        elif edit == "swap":
            i = data.draw(st.integers(0, n - 2))
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            log.path.write_bytes(b"".join(lines))
        elif edit == "empty":
            log.path.write_bytes(b"")
        elif edit == "store_anchor":
            con = sqlite3.connect(tmp / "store.sqlite")
            con.execute("DELETE FROM trust_anchor")
            con.commit()
            con.close()
            content_changed = False
        else:  # file_anchor
            for anchor in log.trust.anchors:
                path = getattr(anchor, "path", None)
                if path and path.suffix == ".json":
                    path.unlink()
            content_changed = False
        problems = log.verify()
        assert problems, f"{edit}: not reported"
        if not content_changed:
            return
        # An append after the damage either refuses, or (only for a half-written last line
        # after the anchored entry) quarantines it and says so in the log.
        reopened = AuditLog(log.path, Trust.for_workspace(tmp, tmp / "store.sqlite"))
        try:
            reopened.append("u", "auth.login", {})
        except AuditError:
            return
        after = list(reopened.entries())
        quarantined = [e for e in after if e.get("action") == "audit.quarantine"]
        assert quarantined or reopened.verify(), f"{edit}: damage silently absorbed"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    attempts=st.lists(
        st.tuples(
            st.sampled_from(["ana", "nobody", "ANA", "ana ", ""]) | st.text(max_size=80),
            st.sampled_from(["analyst-Heron-27", "wrong"]) | st.text(max_size=300),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_login_fuzz_only_known_errors_and_nothing_leaks(
    tmp_path_factory: pytest.TempPathFactory, attempts: list[tuple[str, str]]
) -> None:
    from core.security import AuthenticationError
    from core.users import add_user
    from core.workspace import Workspace

    root = tmp_path_factory.mktemp("login")
    ws = Workspace.init(root / "ws")
    add_user(ws, "root", "administrator", "admin-Kestrel-41")
    ws.login("root", "admin-Kestrel-41")
    add_user(ws, "ana", "analyst", "analyst-Heron-27")
    failures = 0
    for name, password in attempts:
        try:
            session = Workspace.open(ws.root).login(name, password)
        except AuthenticationError:
            failures += 1
            continue
        assert (name, password) == ("ana", "analyst-Heron-27") and session.role == "analyst"
    for entry in ws.audit.search(action="auth.*"):  # the password can never be in the audit:
        params = entry["params"]  # only fixed reasons and the role are
        assert set(params) <= {"reason", "role"}
        assert params.get("reason", "wrong name or password") in (
            "wrong name or password",
            "account disabled",
            "locked out",
        )
    assert len(ws.audit.search(action="auth.fail")) == failures  # every failure recorded
    assert ws.audit.verify() == []
    ws.close()
