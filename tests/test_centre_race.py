"""Race-safe across desks and processes: two commanders on two server processes racing for one
unit (exactly one wins, the other is told why), stale edits refused, and a server process
killed with SIGKILL in the middle of a dispatch (nothing half done, audited exactly once).

Real parts: PostgreSQL and two `superbrain serve` processes on 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from centre_support import (
    ServerProcess,
    call,
    chain_problems,
    free_port,
    fresh_database,
    init_centre,
    login,
    ok,
    pg_server_url,
    write_centre,
)

pytestmark = pytest.mark.timeout(600)

ADMIN = ("admin", "Heron-Lantern-71")
DESK1 = ("desk1", "Osprey-Granite-52")
DESK2 = ("desk2", "Raven-Cobalt-63")
ROUNDS = 20


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    gen = fresh_database(pg_server_url())
    database = next(gen)
    config = write_centre(tmp_path_factory.mktemp("race"), database)
    init_centre(config, *ADMIN)
    yield config, database
    gen.close()


@pytest.fixture
def servers(centre: tuple[Path, str]) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    config, _ = centre
    a = ServerProcess(config, free_port()).start()
    b = ServerProcess(config, free_port()).start()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def _desks(a: ServerProcess) -> tuple[str, str, str]:
    admin = login(a, *ADMIN)
    for name, password in (DESK1, DESK2):
        status, body = call(a, admin, "users.add", name=name, role="commander", password=password)
        assert status == 200 or "already exists" in body["error"]["message"], body
    ok(a, admin, "ops.seed_units", count=12)
    return admin, login(a, *DESK1), login(a, *DESK2)


def _incident(server: ServerProcess, token: str, text: str) -> int:
    return int(
        ok(
            server,
            token,
            "ops.incident_create",
            category="盗窃",
            priority=2,
            lat=30.75,
            lon=120.76,
            text=text,
        )["id"]
    )


def test_two_commanders_race_for_one_unit_exactly_one_wins(servers: tuple) -> None:
    a, b = servers
    admin, desk1, desk2 = _desks(a)
    for rnd in range(ROUNDS):
        inc1 = _incident(a, desk1, f"round {rnd} desk 1")
        inc2 = _incident(b, desk2, f"round {rnd} desk 2")
        unit = ok(a, desk1, "ops.recommend", incident_id=inc1)[0]["unit_id"]
        barrier = threading.Barrier(2)
        answers: dict[str, tuple[int, dict]] = {}
        threads = [
            threading.Thread(target=_race, args=(barrier, answers, "desk1", a, desk1, inc1, unit)),
            threading.Thread(target=_race, args=(barrier, answers, "desk2", b, desk2, inc2, unit)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(status for status, _ in answers.values())
        assert statuses == [200, 409], (rnd, answers)
        winner = next(w for w, (s, _) in answers.items() if s == 200)
        loser = next(body for w, (_, body) in answers.items() if w != winner)
        message = loser["error"]["message"]
        assert loser["error"]["type"] == "Conflict"
        assert unit in message and winner in message, message  # told who took it
        won_incident = inc1 if winner == "desk1" else inc2
        board = {u["id"]: u for u in ok(b, desk2, "ops.units")}
        assert board[unit]["status"] == "dispatched"
        assert board[unit]["incident_id"] == won_incident
        ok(a, desk1, "ops.release", unit_id=unit)
    # Exactly one audited assignment per round, and the chain is intact.
    assigned = ok(a, admin, "audit.list", action="ops.dispatch.assign")
    assert len(assigned) == ROUNDS, len(assigned)
    assert chain_problems(a.config) == []


def _race(
    barrier: threading.Barrier,
    answers: dict,
    who: str,
    server: ServerProcess,
    token: str,
    incident: int,
    unit: str,
) -> None:
    barrier.wait()
    answers[who] = call(server, token, "ops.assign", incident_id=incident, unit_ids=[unit])


def test_a_stale_edit_is_refused_with_a_clear_message(servers: tuple) -> None:
    a, b = servers
    _, desk1, desk2 = _desks(a)
    incident = ok(a, desk1, "ops.incident", incident_id=_incident(a, desk1, "stale edit"))
    seen_version = incident["version"]
    ok(
        b,
        desk2,
        "ops.incident_status",
        incident_id=incident["id"],
        status="accepted",
        expected_version=seen_version,
    )
    status, body = call(
        a,
        desk1,
        "ops.incident_status",
        incident_id=incident["id"],
        status="cancelled",
        expected_version=seen_version,
    )
    assert status == 409, body
    assert body["error"]["type"] == "Conflict"
    assert "changed since you looked" in body["error"]["message"]
    assert ok(a, desk1, "ops.incident", incident_id=incident["id"])["status"] == "accepted"


def test_kill_9_in_the_middle_of_a_dispatch(servers: tuple, centre: tuple) -> None:
    import psycopg

    from centre.db import AUDIT_LOCK

    a, b = servers
    _, database = centre
    admin, desk1, _ = _desks(a)
    incident = _incident(a, desk1, "kill -9 test")
    unit = ok(a, desk1, "ops.recommend", incident_id=incident)[0]["unit_id"]
    before = len(ok(b, admin, "audit.list", action="ops.dispatch.assign"))
    # Hold the audit chain: the dispatch on A writes the unit, the assignment and its events,
    # then waits for the chain inside its transaction. That is where A is killed.
    holder = psycopg.connect(database, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (AUDIT_LOCK,))
    answer: list[object] = []
    t = threading.Thread(target=lambda: answer.append(_try_call(a, desk1, incident, unit)))
    t.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = holder.execute(  # A's backend waits for the audit chain's lock
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid "
                "WHERE s.application_name = %s AND l.locktype = 'advisory' AND NOT l.granted "
                "AND l.classid = %s AND l.objid = %s",
                (f"superbrain-serve:{a.port}", AUDIT_LOCK >> 32, AUDIT_LOCK & 0xFFFFFFFF),
            ).fetchone()[0]
            if waiting:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the dispatch on A never reached its audit append")
        written = holder.execute(  # … having written the assignment and the unit already
            "SELECT count(DISTINCT c.relname) FROM pg_locks l JOIN pg_class c ON c.oid = "
            "l.relation JOIN pg_stat_activity s ON s.pid = l.pid WHERE s.application_name = %s"
            " AND l.mode = 'RowExclusiveLock' AND l.granted AND c.relname IN "
            "('ops_assignments', 'ops_units', 'ops_events')",
            (f"superbrain-serve:{a.port}",),
        ).fetchone()[0]
        assert written == 3
        a.kill()
    finally:
        holder.execute("SELECT pg_advisory_unlock(%s)", (AUDIT_LOCK,))
        holder.close()
    t.join(30)
    assert answer and answer[0] is None  # A's desk got no answer: its server died
    # B serves on; the dispatch never happened, not even in part.
    desk1_b = login(b, *DESK1)
    deadline = time.monotonic() + 30
    while True:  # PostgreSQL rolls A's transaction back once it sees the client gone
        units = {u["id"]: u for u in ok(b, desk1_b, "ops.units")}
        if units[unit]["status"] == "available" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert units[unit]["status"] == "available" and units[unit]["incident_id"] is None
    detail = ok(b, desk1_b, "ops.incident", incident_id=incident)
    assert detail["assignments"] == [] and detail["status"] != "dispatched", detail
    assert len(ok(b, admin, "audit.list", action="ops.dispatch.assign")) == before
    # The commander tries again on B: done once, audited once, chain intact.
    ok(b, desk1_b, "ops.assign", incident_id=incident, unit_ids=[unit])
    entries = [
        e
        for e in ok(b, admin, "audit.list", action="ops.dispatch.assign")
        if e["params"].get("incident") == incident
    ]
    assert len(entries) == 1 and entries[0]["user"] == DESK1[0], entries
    assert chain_problems(b.config) == []


def _try_call(server: ServerProcess, token: str, incident: int, unit: str) -> object:
    try:
        return call(server, token, "ops.assign", incident_id=incident, unit_ids=[unit])
    except OSError:  # connection reset: the server process was killed
        return None
