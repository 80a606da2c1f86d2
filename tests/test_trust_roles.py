"""Users, roles and sessions: permissions come from data, are enforced in the services, and every
refusal is audited with the user, the role and the permission."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import AccessDeniedError
from core.ingest import Ingestor
from core.security import (
    AuthenticationError,
    PermissionDeniedError,
    SecurityError,
    Session,
    audit_entries,
    default_roles,
    export_audit,
    load_roles,
    require,
    requires,
)
from core.users import UserError, add_user, change_role, set_enabled
from core.workspace import Workspace
from plugins.mapping import MappingSource, parse_mapping
from tests.trust_fixtures import PASSWORDS, as_user, staff

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def staffed(workspace: Workspace) -> Workspace:
    """A workspace with an administrator, an analyst, a supervisor and a commander."""
    return staff(workspace)


def _as(ws: Workspace, user: str) -> Workspace:
    return as_user(ws, user)


def test_roles_are_data_and_match_the_brief() -> None:
    roles = default_roles()
    assert set(roles.grants) == {
        "analyst",
        "commander",
        "supervisor",
        "administrator",
        "unit",
        "mediator",
        "public",
        "upkeep",
    }
    # the roles outside the centre's desks hold only what their page needs (docs/FIELD.md)
    assert roles.grants["unit"] == {"account", "field.unit"}
    assert roles.grants["mediator"] == {"account", "mediation.run"}
    assert roles.grants["public"] == {"report.submit"}
    assert roles.grants["upkeep"] == {"ops.retention"}  # a centre server's own retention run
    assert roles.grants["administrator"] == frozenset(roles.permissions)
    assert "faces.search" in roles.grants["analyst"]
    assert not {"export", "audit.read", "audit.export", "ops.dispatch"} & roles.grants["analyst"]
    assert {"ops.dispatch", "ops.intake", "alerts.ack"} <= roles.grants["commander"]
    assert {"audit.read", "audit.export", "faces.review", "export"} <= roles.grants["supervisor"]
    assert "users.manage" not in roles.grants["supervisor"]


def test_roles_file_errors_name_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "roles.toml"
    bad.write_text('[permissions]\nsearch = "s"\n[roles.analyst]\npermissions = ["serch"]\n')
    with pytest.raises(SecurityError, match=r"roles.toml.*\[roles.analyst\].*serch"):
        load_roles(bad)
    bad.write_text("[roles.x]\npermissions = []\n")
    with pytest.raises(SecurityError, match="missing \\[permissions\\]"):
        load_roles(bad)


def test_session_require_names_user_role_and_permission() -> None:
    s = Session("wang", "analyst")
    s.require("search")
    with pytest.raises(PermissionDeniedError) as info:
        s.require("ops.dispatch")
    assert isinstance(info.value, AccessDeniedError)
    assert "'wang'" in str(info.value) and "'analyst'" in str(info.value)
    assert "'ops.dispatch'" in str(info.value)
    with pytest.raises(SecurityError, match="unknown permission 'serch'"):
        s.require("serch")  # a typo in an engine is a loud error, not a silent allow/deny
    with pytest.raises(SecurityError, match="unknown role"):
        Session("x", "superuser")


def test_workspace_without_accounts_acts_as_administrator(workspace: Workspace) -> None:
    session = workspace.session
    assert (session.user, session.role, session.via) == ("tester", "administrator", "no-accounts")
    assert not (workspace.root / "users.sqlite").exists()  # asking does not create accounts


def test_first_account_must_be_administrator(workspace: Workspace) -> None:
    with pytest.raises(UserError, match="first account must be an administrator"):
        add_user(workspace, "ana", "analyst", "analyst-Heron-27")
    with pytest.raises(UserError, match="at least 12"):
        add_user(workspace, "root", "administrator", "short")


def test_password_hashes_are_argon2id_salted_and_file_private(staffed: Workspace) -> None:
    import sqlite3

    path = staffed.root / "users.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    con = sqlite3.connect(path)
    hashes = dict(con.execute("SELECT name, password_hash FROM users"))
    con.close()
    assert all(h.startswith("$argon2id$") and "m=65536" in h for h in hashes.values())
    assert len(set(hashes.values())) == len(hashes)  # salted: no two alike
    raw = path.read_bytes()
    assert not any(p.encode() in raw for p in PASSWORDS.values())


def test_login_failures_are_refused_and_audited(staffed: Workspace) -> None:
    ws = Workspace.open(staffed.root)
    with pytest.raises(AuthenticationError):
        ws.login("ana", "not-her-password")
    with pytest.raises(AuthenticationError):
        ws.login("nobody", "whatever-pass")
    set_enabled(staffed, "cmd", False)
    with pytest.raises(AuthenticationError):
        ws.login("cmd", PASSWORDS["cmd"])
    fails = staffed.audit.search(action="auth.fail")
    assert [(e["user"], e["params"]["reason"]) for e in fails] == [
        ("ana", "wrong name or password"),
        ("nobody", "wrong name or password"),
        ("cmd", "account disabled"),
    ]
    text = staffed.audit_path.read_text("utf-8")
    assert "not-her-password" not in text and PASSWORDS["cmd"] not in text


def test_last_administrator_cannot_be_disabled_or_demoted(staffed: Workspace) -> None:
    with pytest.raises(UserError, match="last enabled administrator"):
        set_enabled(staffed, "root", False)
    with pytest.raises(UserError, match="last enabled administrator"):
        change_role(staffed, "root", "analyst")


def test_users_manage_is_administrator_only(staffed: Workspace) -> None:
    sup = _as(staffed, "sup")
    with pytest.raises(PermissionDeniedError, match=r"users\.manage"):
        add_user(sup, "mallory", "administrator", "mallory-pass")
    with pytest.raises(PermissionDeniedError):
        change_role(sup, "sup", "administrator")
    denied = staffed.audit.search(action="access.denied")
    assert [(e["user"], e["params"]["permission"]) for e in denied] == [
        ("sup", "users.manage"),
        ("sup", "users.manage"),
    ]


def test_supervisor_searches_and_exports_audit_analyst_cannot(
    staffed: Workspace, tmp_path: Path
) -> None:
    sup = _as(staffed, "sup")
    assert any(e["action"] == "users.add" for e in audit_entries(sup, action="users.*"))
    n = export_audit(sup, tmp_path / "out.jsonl", action="users.*")
    assert n == 4 and len((tmp_path / "out.jsonl").read_text().splitlines()) == 4
    exported = staffed.audit.search(action="audit.export")
    assert exported[-1]["user"] == "sup" and exported[-1]["params"]["entries"] == 4
    ana = _as(staffed, "ana")
    with pytest.raises(PermissionDeniedError, match=r"audit\.read"):
        audit_entries(ana)
    with pytest.raises(PermissionDeniedError, match=r"audit\.export"):
        export_audit(ana, tmp_path / "leak.jsonl")
    assert not (tmp_path / "leak.jsonl").exists()
    denied = [
        (e["user"], e["params"]["permission"]) for e in staffed.audit.search(action="access.denied")
    ]
    assert denied == [("ana", "audit.read"), ("ana", "audit.export")]
    assert staffed.audit.verify() == []


def test_ingest_is_enforced_in_the_ingestor(staffed: Workspace, tmp_path: Path) -> None:
    source = MappingSource(
        parse_mapping(
            {"source": {"name": "notes", "id": ["id"]}, "fields": {"body": "text"}}, "test"
        )
    )
    data = tmp_path / "n.csv"
    data.write_text("id,body\n1,hello\n2,世界\n", encoding="utf-8")
    ana = _as(staffed, "ana")
    with pytest.raises(PermissionDeniedError, match="'ingest'"):
        Ingestor(ana, stages=[]).ingest_file(source, data)
    assert ana.store.count() == 0
    sup = _as(staffed, "sup")
    report = Ingestor(sup, stages=[]).ingest_file(source, data)
    assert (report.status, report.records) == ("done", 2)
    ingest = staffed.audit.search(action="ingest")
    assert [e["user"] for e in ingest] == ["sup"]


def test_requires_decorator_finds_the_workspace(staffed: Workspace) -> None:
    class Dispatcher:
        def __init__(self, ws: Workspace) -> None:
            self.ws = ws

        @requires("ops.dispatch")
        def dispatch(self, unit: str) -> str:
            return f"sent {unit}"

    @requires("search")
    def search(workspace: Workspace, q: str) -> str:
        return q

    assert Dispatcher(_as(staffed, "cmd")).dispatch("U1") == "sent U1"
    ana = _as(staffed, "ana")
    assert search(ana, "王") == "王"
    with pytest.raises(PermissionDeniedError):
        Dispatcher(ana).dispatch("U1")
    entry = staffed.audit.search(action="access.denied")[-1]
    assert entry["params"]["call"].endswith("Dispatcher.dispatch")
    with pytest.raises(SecurityError, match="no workspace"):
        requires("search")(lambda q: q)("x")
    assert require(ana, "faces.search").user == "ana"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )


def test_cli_users_and_environment_login(tmp_path: Path) -> None:
    root = str(tmp_path / "ws")
    base = {"SUPERBRAIN_USER": "boss"}
    assert _cli("init", root, env=base).returncode == 0
    out = _cli(
        "users",
        "-w",
        root,
        "add",
        "boss",
        "--role",
        "administrator",
        env={**base, "SUPERBRAIN_NEW_PASSWORD": "head-Osprey-19x"},
    )
    assert out.returncode == 0, out.stderr
    assert "no user accounts" in out.stderr  # the bootstrap warning
    no_pw = _cli("users", "-w", root, "list", env=base)
    assert no_pw.returncode == 2 and "SUPERBRAIN_PASSWORD" in no_pw.stderr
    boss = {**base, "SUPERBRAIN_PASSWORD": "head-Osprey-19x"}
    out = _cli(
        "users",
        "-w",
        root,
        "add",
        "li",
        "--role",
        "analyst",
        env={**boss, "SUPERBRAIN_NEW_PASSWORD": "li-Sparrow-58x"},
    )
    assert out.returncode == 0, out.stderr
    listed = _cli("users", "-w", root, "list", "--json", env=boss)
    assert '"li"' in listed.stdout and "argon2" not in listed.stdout
    li = {"SUPERBRAIN_USER": "li", "SUPERBRAIN_PASSWORD": "li-Sparrow-58x"}
    denied = _cli("audit", "-w", root, "list", env=li)
    assert denied.returncode == 2
    assert "'li'" in denied.stderr and "'analyst'" in denied.stderr
    assert "'audit.read'" in denied.stderr
    assert _cli("users", "-w", root, "list", env=li).returncode == 2
    whoami = _cli("users", "-w", root, "whoami", env=li)
    assert whoami.stdout.startswith("li (analyst, via password)")
    # self-service password change, then the old password no longer works
    out = _cli(
        "users",
        "-w",
        root,
        "passwd",
        "li",
        env={**li, "SUPERBRAIN_NEW_PASSWORD": "li-new-Magpie-93"},
    )
    assert out.returncode == 0, out.stderr
    assert _cli("users", "-w", root, "whoami", env=li).returncode == 2
    verify = _cli("audit", "-w", root, "verify", env=li)
    assert verify.returncode == 0 and "intact" in verify.stdout


def test_init_bootstraps_the_first_administrator(tmp_path: Path) -> None:
    root = str(tmp_path / "ws")
    made = _cli("init", root, "--admin", "chief", env={"SUPERBRAIN_NEW_PASSWORD": "top-Plover-46x"})
    assert made.returncode == 0 and "administrator chief created" in made.stdout
    me = _cli(
        "users",
        "-w",
        root,
        "whoami",
        env={"SUPERBRAIN_USER": "chief", "SUPERBRAIN_PASSWORD": "top-Plover-46x"},
    )
    assert me.stdout.startswith("chief (administrator, via password)")
    again = _cli(
        "init", root, "--admin", "intruder", env={"SUPERBRAIN_NEW_PASSWORD": "intruder-Rook-31"}
    )
    assert again.returncode == 2 and "already has accounts" in again.stderr


def test_repeated_wrong_passwords_lock_the_account(staffed: Workspace) -> None:
    import sqlite3

    from core.users import MAX_FAILURES, set_enabled

    ws = Workspace.open(staffed.root)
    for _ in range(MAX_FAILURES):
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            ws.login("ana", "guess-guess")
    with pytest.raises(AuthenticationError, match="too many failed logins"):
        ws.login("ana", PASSWORDS["ana"])  # even the right password, while locked
    reasons = [e["params"]["reason"] for e in staffed.audit.search(action="auth.fail")]
    assert reasons == ["wrong name or password"] * MAX_FAILURES + ["locked out"]
    con = sqlite3.connect(staffed.root / "users.sqlite")
    with con:  # the lock runs out (as if 30 s had passed) ...
        con.execute("UPDATE login_failures SET locked_until = 0")
    con.close()
    with pytest.raises(AuthenticationError):  # ... and one more failure locks again, longer
        ws.login("ana", "guess-guess")
    with pytest.raises(AuthenticationError, match="too many failed logins"):
        ws.login("ana", PASSWORDS["ana"])
    set_enabled(staffed, "ana", True)  # an administrator lifts the lock
    assert ws.login("ana", PASSWORDS["ana"]).role == "analyst"
