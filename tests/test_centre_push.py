"""Live push across server processes: what one desk (or an ingest job) changes reaches every
console within a second, and a console that reconnects receives what it missed.

Real parts: PostgreSQL, two `superbrain serve` processes, a third process running
`superbrain ingest` on the centre, and SSE clients standing in for consoles.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from centre_support import (  # noqa: F401 - two_servers: a fixture
    ADMIN,
    Console,
    ServerProcess,
    login,
    ok,
    run_cli,
    two_servers,
)

pytestmark = pytest.mark.timeout(300)

DESK1 = ("desk1", "Osprey-Granite-52")
DESK2 = ("desk2", "Raven-Cobalt-63")
PUSH_BUDGET_S = 1.0

WATCH = "\n".join(
    [
        "entry_id,id_number,name,name_en,gender,reason,category,level,plate,phone,photo,case_no,"
        "district,listed_at,listed_by",
        "W-1,330402198001010012,张三,Zhang San,男,盗窃嫌疑,在逃,一级,浙F·99T01,,,2026-JX-1,南湖区,"
        "2026-12-01 08:00:00,南湖分局",
        "",
    ]
)
READS = "\n".join(
    [
        "read_id,plate,plate_color,vehicle_color,vehicle_kind,device_id,device_name,device_kind,"
        "district,direction,speed,read_time,lat,lon",
        "R-1,浙F99T01,蓝,白,小型轿车,KK-001,中山路卡口,卡口,南湖区,东向西,42,2026-12-06 08:00:00,"
        "30.75,120.76",
        "",
    ]
)


@pytest.fixture(scope="module")
def centre(
    two_servers: tuple[Path, ServerProcess, ServerProcess],
) -> tuple[Path, ServerProcess, ServerProcess]:
    """Two servers on one centre with two commanders' desks and twelve units."""
    _, a, _ = two_servers
    admin = login(a, *ADMIN)
    for name, password in (DESK1, DESK2):
        ok(a, admin, "users.add", name=name, role="commander", password=password)
    ok(a, admin, "ops.seed_units", count=12)
    return two_servers


def _ingest(config: Path, source: str, text: str, name: str) -> None:
    path = config.parent / name
    path.write_text(text, encoding="utf-8")
    out = run_cli(
        "ingest",
        "-w",
        str(config),
        "-s",
        source,
        str(path),
        env={"SUPERBRAIN_USER": ADMIN[0], "SUPERBRAIN_PASSWORD": ADMIN[1]},
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _dispute(server: ServerProcess, token: str, text: str) -> dict:
    """A new incident (a dispute at one place) created through ``server``: an event to push."""
    return ok(
        server,
        token,
        "ops.incident_create",
        category="纠纷",
        priority=3,
        lat=30.7,
        lon=120.7,
        text=text,
    )


def test_an_ingest_alert_reaches_consoles_on_both_server_processes(centre: tuple) -> None:
    config, a, b = centre
    _ingest(config, "watchlist", WATCH, "watch.csv")  # the watchlist, before the consoles
    c1 = Console(a, login(a, *DESK1)).start()
    c2 = Console(b, login(b, *DESK2)).start()
    try:
        _ingest(config, "checkpoint", READS, "reads.csv")  # a third process sights the plate
        for console in (c1, c2):
            got = console.wait_for(
                lambda e: e.kind == "alert" and e.data["payload"]["kind"] == "watchlist"
            )
            assert "浙F·99T01" in got.data["payload"]["title"]
            latency = got.at - got.data["ts"]
            assert latency < PUSH_BUDGET_S, f"alert took {latency:.3f} s to reach the console"
    finally:
        c1.close()
        c2.close()


def test_an_assignment_on_one_desk_appears_on_the_other(centre: tuple) -> None:
    _, a, b = centre
    desk1, desk2 = login(a, *DESK1), login(b, *DESK2)
    watcher = Console(b, desk2).start()
    try:
        incident = ok(
            a,
            desk1,
            "ops.incident_create",
            category="盗窃",
            priority=2,
            lat=30.75,
            lon=120.76,
            text="push test",
        )
        unit = ok(a, desk1, "ops.recommend", incident_id=incident["id"])[0]["unit_id"]
        ok(a, desk1, "ops.assign", incident_id=incident["id"], unit_ids=[unit])
        got = watcher.wait_for(
            lambda e: e.kind == "assignment" and e.data["payload"]["unit_id"] == unit
        )
        assert got.data["user"] == DESK1[0]
        assert got.at - got.data["ts"] < PUSH_BUDGET_S
        watcher.wait_for(
            lambda e: (
                e.kind == "unit"
                and e.data["ref"] == unit
                and e.data["payload"]["status"] == "dispatched"
            )
        )
        # The other desk's board, read through the other process, agrees.
        board = {u["id"]: u for u in ok(b, desk2, "ops.units")}
        assert board[unit]["status"] == "dispatched"
        assert board[unit]["incident_id"] == incident["id"]
    finally:
        watcher.close()


def test_a_position_fix_on_one_process_reaches_a_console_on_the_other(centre: tuple) -> None:
    _, a, b = centre
    desk1 = login(a, *DESK1)
    watcher = Console(b, login(b, *DESK2)).start()
    try:
        unit = ok(a, desk1, "ops.units")[0]["id"]
        ok(a, desk1, "ops.position", unit_id=unit, lat=30.7512, lon=120.7634)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            moved = [e for e in watcher.announced if e.data["ref"] == unit]
            if moved:
                break
            time.sleep(0.01)
        else:
            pytest.fail(f"no position fix reached the console: {watcher.announced}")
        assert moved[0].kind == "unit" and moved[0].data["kind"] == "unit.moved"
        assert moved[0].data["payload"]["lat"] == 30.7512
        assert moved[0].at - moved[0].data["ts"] < PUSH_BUDGET_S
    finally:
        watcher.close()


def test_a_console_that_reconnects_receives_what_it_missed(centre: tuple) -> None:
    _, a, b = centre
    desk1, desk2 = login(a, *DESK1), login(b, *DESK2)
    first = Console(b, desk2).start()
    incident = _dispute(a, desk1, "before the break")
    seen = first.wait_for(lambda e: e.kind == "incident" and e.data["ref"] == str(incident["id"]))
    first.close()  # the console's network drops
    missed = [_dispute(a, desk1, f"during the break {i}")["id"] for i in range(5)]
    alert = ok(a, desk1, "ops.alerts")  # reads are not events; nothing else is journalled
    assert isinstance(alert, list)
    again = Console(b, desk2, after=max(e.id for e in first.events)).start()
    try:
        for iid in missed:
            again.wait_for(lambda e, iid=iid: e.kind == "incident" and e.data["ref"] == str(iid))
        ids = [e.id for e in again.events]
        assert ids == sorted(set(ids)), "events repeated or out of order"
        assert min(ids) > seen.id
    finally:
        again.close()


def test_a_stream_ends_when_its_session_does(centre: tuple) -> None:
    from centre_support import api

    _, a, b = centre
    token = login(b, *DESK2)
    console = Console(a, token).start()
    try:
        assert api(b, "DELETE", "/api/v1/session", token=token)[0] == 204  # logged out on B
        assert console.finished.wait(15), "the stream outlived its session"
        assert console.ended == ["session-ended"]
    finally:
        console.close()


def test_only_journals_that_say_who_may_see_them_are_pushed() -> None:
    from server.push import Event, visible

    def event(kind: str) -> Event:
        return Event(1, 0.0, kind, "ref", "someone", "{}")

    reader = frozenset({"ops.read"})
    for kind in ("alert.raised", "incident.created", "unit.updated", "assignment.created"):
        assert visible(event(kind), reader)
        assert not visible(event(kind), frozenset({"search"}))
    assert not visible(event("journal.unknown"), frozenset({"ops.read", "cases.read"}))
    # Case edits are for a case's members only: the kind needs cases.read, and delivery also
    # membership, which a stream without a user to ask about never has.
    import asyncio

    from server.push import deliver

    assert not visible(event("case.note_added"), reader)
    case_event = Event(1, 0.0, "case.note_added", "ref", "someone", "{}", "2026-JX-0117")
    assert visible(case_event, frozenset({"cases.read"}))
    assert not asyncio.run(deliver(case_event, frozenset({"cases.read"}), None))


def test_a_console_back_after_the_journal_was_pruned_is_told_to_reload(centre: tuple) -> None:
    from datetime import UTC, datetime

    from centre.workspace import open_centre
    from ops.service import OpsService

    config, a, b = centre
    desk1 = login(a, *DESK1)
    _dispute(a, desk1, "before the pruning")
    ws = open_centre(config, application_name="superbrain-test")
    try:  # what an operator's clean-up job does
        assert OpsService(ws).prune_events(datetime.now(UTC)) > 0
    finally:
        ws.close()
    incident = _dispute(a, desk1, "after the pruning")
    console = Console(b, login(b, *DESK2), after=1).start()
    try:
        console.wait_for(lambda e: e.kind == "incident" and e.data["ref"] == str(incident["id"]))
        assert console.ended == ["reset"]  # before any event: reload, then follow
    finally:
        console.close()
    fresh = Console(b, login(b, *DESK2), after=console.events[-1].id).start()
    try:
        time.sleep(1.5)
        assert fresh.ended == []  # nothing pruned since: no reset
    finally:
        fresh.close()
