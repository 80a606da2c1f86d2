"""The Qt-free centre client (core.remote) against a real `superbrain serve` on PostgreSQL:
login, lock-out, logout, calls with the role checked on the server, errors that say what went
wrong, and the live event stream that resumes after the last event id without missing any."""

from __future__ import annotations

import threading
import time

import pytest

from core.errors import AccessDeniedError
from core.remote import (
    AuthError,
    CentreClient,
    LockedOutError,
    RemoteError,
    RemoteInvalidError,
    RemoteNotFoundError,
    RemotePermissionDeniedError,
    ServerEvent,
    SessionExpiredError,
    UnreachableError,
)
from tests.centre_fixtures import PASSWORDS, Centre, centre, tiny_demo  # noqa: F401

pytestmark = pytest.mark.timeout(300)


def _client(centre: Centre, user: str) -> CentreClient:
    client = CentreClient(centre.url, timeout=60)
    client.login(user, PASSWORDS[user])
    return client


def test_login_logout_and_what_a_token_opens(centre: Centre) -> None:
    client = CentreClient(centre.url)
    with pytest.raises(SessionExpiredError):
        client.services()  # nothing without a session
    session = client.login("li", PASSWORDS["li"])
    assert (session.user, session.role) == ("li", "analyst") and session.token
    listed = {s.name: s for s in client.services()}
    assert listed["search.query"].allowed and not listed["ops.assign"].allowed
    result = client.call("search.query", query="盗窃", size=5)
    assert result["total"] > 0 and len(result["hits"]) == 5
    token = client.token
    client.logout()
    again = CentreClient(centre.url, token=token)
    with pytest.raises(SessionExpiredError, match="log in again"):
        again.call("search.query", query="盗窃")


def test_wrong_password_then_lock_out(centre: Centre) -> None:
    client = CentreClient(centre.url)
    with pytest.raises(AuthError) as wrong:
        client.login("locky", "not-the-password")
    assert not isinstance(wrong.value, LockedOutError)
    with pytest.raises(AuthError):
        client.login("nobody-at-all", "whatever")  # the same answer for an unknown user
    answers = []
    for _ in range(8):
        try:
            client.login("locky", "not-the-password")
        except AuthError as exc:
            answers.append(type(exc).__name__)
    # five wrong passwords in all (one above), then the account is locked
    assert answers == ["AuthError"] * 4 + ["LockedOutError"] * 4, answers
    with pytest.raises(LockedOutError):  # even the right password, while locked
        client.login("locky", PASSWORDS["locky"])


def test_the_server_checks_the_role_and_names_the_problem(centre: Centre) -> None:
    li = _client(centre, "li")
    with pytest.raises(RemotePermissionDeniedError) as denied:
        li.call("ops.incident_create", category="burglary", priority=2, text="x")
    assert isinstance(denied.value, AccessDeniedError) and denied.value.status == 403
    assert "ops.intake" in str(denied.value)
    with pytest.raises(RemoteNotFoundError, match=r"no\.such"):
        li.call("no.such")
    with pytest.raises(RemoteInvalidError, match="bogus"):
        li.call("search.query", bogus=1)
    with pytest.raises(UnreachableError):
        CentreClient("http://127.0.0.1:9", timeout=2).login("li", "x")
    with pytest.raises(RemoteError, match="http"):
        CentreClient("ftp://127.0.0.1")
    with pytest.raises(RemoteError, match="https"):  # no password in clear over a network
        CentreClient("http://10.1.2.3:8443")


def test_events_are_pushed_and_resume_after_the_last_id(centre: Centre) -> None:
    cmd = _client(centre, "cmd")
    watcher = _client(centre, "li")
    got: list[ServerEvent] = []
    stop = threading.Event()
    connected = threading.Event()

    def follow(after: int | None) -> None:
        for ev in watcher.events(
            after, stop=stop, on_state=lambda s: s == "connected" and connected.set()
        ):
            got.append(ev)

    thread = threading.Thread(target=follow, args=(None,), daemon=True)
    thread.start()
    assert connected.wait(30)
    created = cmd.call(
        "ops.incident_create",
        category="burglary",
        priority=2,
        lat=30.75,
        lon=120.75,
        text="pushed while connected",
    )
    deadline = time.monotonic() + 30
    while not any(e.data.get("ref") == str(created["id"]) for e in got if isinstance(e.data, dict)):
        assert time.monotonic() < deadline, f"no event for incident {created['id']}: {got}"
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    assert not thread.is_alive(), "stop ends the stream within seconds"
    last = got[-1].id
    # while this console is away, two more incidents arrive
    missed = [
        cmd.call(
            "ops.incident_create",
            category="fight",
            priority=1,
            lat=30.7,
            lon=120.7,
            text=f"while away {i}",
        )["id"]
        for i in range(2)
    ]
    resumed: list[ServerEvent] = []
    stop2 = threading.Event()

    def follow_again() -> None:
        for ev in watcher.events(last, stop=stop2):
            resumed.append(ev)
            refs = {e.data.get("ref") for e in resumed if isinstance(e.data, dict)}
            if {str(m) for m in missed} <= refs:
                stop2.set()

    thread = threading.Thread(target=follow_again, daemon=True)
    thread.start()
    thread.join(30)
    stop2.set()
    ids = [e.id for e in resumed]
    assert ids and ids[0] == last + 1 and ids == sorted(set(ids)), ids  # none missed, none twice
    assert {str(m) for m in missed} <= {e.data.get("ref") for e in resumed}


def test_https_with_the_centre_certificate(centre: Centre, tmp_path) -> None:
    """The deployment path: TLS with the centre's certificate as the client's CA file; a
    client without it refuses the server (no silent fallback to an unchecked connection)."""
    import signal
    import subprocess
    import sys

    from centre.config import write_template
    from core.remote import wait_until_up
    from tests.centre_fixtures import REPO, _free_port, cli

    out = cli("centre", "cert", "--out", str(tmp_path / "tls"), "--host", "127.0.0.1")
    assert out.returncode == 0, out.stderr
    config = tmp_path / "centre.toml"
    write_template(
        config,
        database_url=centre.pg_url,
        certificate=str(tmp_path / "tls" / "cert.pem"),
        private_key=str(tmp_path / "tls" / "key.pem"),
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"https://127.0.0.1:{port}"
    ca = str(tmp_path / "tls" / "cert.pem")
    try:
        wait_until_up(url, timeout=60, ca_certs=ca)
        client = CentreClient(url, ca_certs=ca)
        assert client.login("li", PASSWORDS["li"]).role == "analyst"
        import psycopg

        with psycopg.connect(centre.pg_url) as con:
            uid = con.execute("SELECT uid FROM records ORDER BY uid LIMIT 1").fetchone()[0]
        assert client.call("search.record", uid=uid)["id"] == uid.split(":", 1)[1]
        client.logout()
        with pytest.raises(UnreachableError, match=r"TLS|certificate"):
            CentreClient(url).login("li", PASSWORDS["li"])  # the system CAs do not know it
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_position_fixes_arrive_live_without_an_id(centre: Centre) -> None:
    cmd = _client(centre, "cmd")
    unit = cmd.call("ops.units")[0]["id"]
    watcher = _client(centre, "li")
    got: list[ServerEvent] = []
    stop = threading.Event()
    connected = threading.Event()

    def follow() -> None:
        for ev in watcher.events(
            None, stop=stop, on_state=lambda s: s == "connected" and connected.set()
        ):
            got.append(ev)
            if ev.id is None:
                stop.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    assert connected.wait(30)
    cmd.call("ops.position", unit_id=unit, lat=30.76, lon=120.76)
    thread.join(30)
    moved = [e for e in got if e.id is None]
    assert moved and moved[0].kind == "unit" and moved[0].data["ref"] == unit
