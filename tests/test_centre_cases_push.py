"""Cases through the centre server: two analysts on two server processes in one case see each
other's notes and chart saves arrive live; a reader cannot edit; a user who is not a member
neither lists nor opens the case and receives none of its events.

Real parts: PostgreSQL, two `superbrain serve` processes, SSE clients standing in for consoles.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from centre_support import (  # noqa: F401 - two_servers: a fixture
    ADMIN,
    Console,
    ServerProcess,
    call,
    login,
    ok,
    run_cli,
    two_servers,
)

pytestmark = pytest.mark.timeout(300)

LI = ("li", "Osprey-Granite-52")  # the case's lead, on server A
WANG = ("wang", "Raven-Cobalt-63")  # contributor, on server B
ZHAO = ("zhao", "Marten-Saffron-84")  # reader, on server B
QIAN = ("qian", "Plover-Basalt-95")  # not a member, on server A
CASE = "2026-JX-0117"
PUSH_BUDGET_S = 1.0

CHART = {
    "format": 1,
    "nodes": [
        {"id": "phone:13800000001", "type": "phone"},
        {"id": "phone:13800000002", "type": "phone"},
    ],
    "edges": [
        {"source": "phone:13800000001", "target": "phone:13800000002", "type": "called", "count": 3}
    ],
    "positions": {"phone:13800000001": [0.0, 0.0], "phone:13800000002": [120.0, 40.0]},
}


@pytest.fixture(scope="module")
def centre(
    two_servers: tuple[Path, ServerProcess, ServerProcess],
) -> tuple[Path, ServerProcess, ServerProcess]:
    """Two servers on one centre; Li's case with Wang contributing and Zhao reading, Qian not
    a member."""
    _, a, _ = two_servers
    admin = login(a, *ADMIN)
    for name, password in (LI, WANG, ZHAO, QIAN):
        ok(a, admin, "users.add", name=name, role="analyst", password=password)
    li = login(a, *LI)
    ok(a, li, "cases.create", case=CASE, title="入室盗窃 系列案")
    ok(a, li, "cases.member_set", case=CASE, member=WANG[0], role="contributor")
    ok(a, li, "cases.member_set", case=CASE, member=ZHAO[0], role="reader")
    return two_servers


def _case_events(console: Console, case: str = CASE) -> list:
    return [e for e in console.events if e.kind == "case" and e.data.get("case") == case]


def test_a_note_on_one_server_reaches_the_other_analyst_within_a_second(centre: tuple) -> None:
    _, a, b = centre
    li, wang = login(a, *LI), login(b, *WANG)
    watcher = Console(b, wang).start()
    try:
        note = ok(
            a,
            li,
            "cases.note_add",
            case=CASE,
            target_kind="entity",
            target="phone:13800000001",
            text="常在 02:00 后通话",
        )
        got = watcher.wait_for(lambda e: e.kind == "case" and e.data["ref"] == note["id"])
        assert got.data["kind"] == "case.note_added" and got.data["case"] == CASE
        assert got.data["user"] == LI[0]
        latency = got.at - got.data["ts"]
        assert latency < PUSH_BUDGET_S, f"the note took {latency:.3f} s to reach the console"
        # what the event announces is there when the other analyst reads it, on the other server
        assert note["id"] in [n["id"] for n in ok(b, wang, "cases.notes", case=CASE)]
    finally:
        watcher.close()


def test_a_chart_save_on_one_server_reaches_the_lead_on_the_other(centre: tuple) -> None:
    _, a, b = centre
    li, wang = login(a, *LI), login(b, *WANG)
    watcher = Console(a, li).start()
    try:
        saved = ok(b, wang, "cases.chart_save", case=CASE, name="通话网络", data=CHART)
        got = watcher.wait_for(lambda e: e.kind == "case" and e.data["ref"] == saved["id"])
        assert got.data["kind"] == "case.chart_saved" and got.data["user"] == WANG[0]
        assert got.at - got.data["ts"] < PUSH_BUDGET_S
        opened = ok(a, li, "cases.chart_open", case=CASE, chart_id=saved["id"])
        assert opened["chart"]["data"]["positions"] == CHART["positions"]
    finally:
        watcher.close()


def test_a_reader_cannot_edit_and_the_refusal_is_audited(centre: tuple) -> None:
    from centre.workspace import open_centre

    config, _, b = centre
    zhao = login(b, *ZHAO)
    assert [c["number"] for c in ok(b, zhao, "cases.list")] == [CASE]  # a reader reads
    status, body = call(
        b, zhao, "cases.note_add", case=CASE, target_kind="case", target="", text="a reader's note"
    )
    assert status == 403, body
    assert body["error"]["type"] == "PermissionDenied" and "reader" in body["error"]["message"]
    assert "a reader's note" not in [n["text"] for n in ok(b, zhao, "cases.notes", case=CASE)]
    ws = open_centre(config, application_name="superbrain-test")
    try:
        refused = [
            e
            for e in ws.audit.entries()
            if e["user"] == ZHAO[0] and e["action"] == "cases.note_add"
        ]
    finally:
        ws.close()
    assert refused and refused[-1]["params"]["outcome"] == "failed"
    assert "reader" in refused[-1]["params"]["error"]


def test_a_non_member_neither_lists_nor_opens_the_case_nor_hears_of_it(centre: tuple) -> None:
    _, a, b = centre
    li, qian = login(a, *LI), login(a, *QIAN)
    outsider = Console(a, qian).start()
    member = Console(b, login(b, *ZHAO)).start()
    try:
        assert ok(a, qian, "cases.list") == []
        for service in ("cases.get", "cases.notes", "cases.charts", "cases.pins"):
            status, body = call(a, qian, service, case=CASE)
            assert status == 403, (service, body)
        assert ok(a, qian, "cases.events") == []
        note = ok(
            a,
            li,
            "cases.note_add",
            case=CASE,
            target_kind="case",
            target="",
            text="for the members only",
        )
        member.wait_for(lambda e: e.kind == "case" and e.data["ref"] == note["id"])
        # A later event the outsider may see (her own case): once it arrived, every earlier
        # one had its chance (one stream, in id order).
        own = "2026-JX-0999"
        ok(a, qian, "cases.create", case=own, title="her own")
        outsider.wait_for(lambda e: e.kind == "case" and e.data["case"] == own)
        assert _case_events(outsider) == []
        assert "for the members only" not in str([e.data for e in outsider.events])
    finally:
        outsider.close()
        member.close()


def test_a_removed_member_stops_receiving_and_an_added_one_starts(centre: tuple) -> None:
    _, a, b = centre
    li, qian = login(a, *LI), login(b, *QIAN)
    outsider = Console(b, qian).start()
    try:
        ok(a, li, "cases.member_set", case=CASE, member=QIAN[0], role="reader")
        note = ok(
            a, li, "cases.note_add", case=CASE, target_kind="case", target="", text="now you are in"
        )
        outsider.wait_for(lambda e: e.kind == "case" and e.data["ref"] == note["id"])
        ok(a, li, "cases.member_remove", case=CASE, member=QIAN[0])
        hidden = ok(
            a,
            li,
            "cases.note_add",
            case=CASE,
            target_kind="case",
            target="",
            text="now you are out",
        )
        own = "2026-JX-0998"
        ok(b, qian, "cases.create", case=own, title="sentinel")
        outsider.wait_for(lambda e: e.kind == "case" and e.data["case"] == own)
        assert hidden["id"] not in [e.data["ref"] for e in outsider.events]
    finally:
        outsider.close()


def test_a_console_that_reconnects_receives_the_case_events_it_missed(centre: tuple) -> None:
    _, a, b = centre
    li, wang = login(a, *LI), login(b, *WANG)
    first = Console(b, wang).start()
    before = ok(
        a, li, "cases.note_add", case=CASE, target_kind="case", target="", text="before the break"
    )
    seen = first.wait_for(lambda e: e.kind == "case" and e.data["ref"] == before["id"])
    first.close()
    missed = [
        ok(
            a,
            li,
            "cases.note_add",
            case=CASE,
            target_kind="case",
            target="",
            text=f"during the break {i}",
        )["id"]
        for i in range(3)
    ]
    incident = ok(
        a,
        login(a, *ADMIN),
        "ops.incident_create",
        category="纠纷",
        priority=3,
        lat=30.7,
        lon=120.7,
        text="an operations event among them",
    )
    again = Console(b, wang, after=seen.id).start()
    try:
        for nid in missed:
            again.wait_for(lambda e, nid=nid: e.kind == "case" and e.data["ref"] == nid)
        again.wait_for(lambda e: e.kind == "incident" and e.data["ref"] == str(incident["id"]))
        ids = [e.id for e in again.events]
        assert ids == sorted(set(ids)), "events repeated or out of order"
        assert min(ids) > seen.id
    finally:
        again.close()


def test_the_cases_cli_works_on_the_centre_for_members_only(centre: tuple) -> None:
    """What a client console cannot do (files: dossier, hand-over) runs on the server with
    ``superbrain cases … -w centre.toml``, through the same checks."""
    config, a, _ = centre
    ok(
        a,
        login(a, *LI),
        "cases.note_add",
        case=CASE,
        target_kind="case",
        target="",
        text="seen from the command line",
    )
    out = run_cli(
        "cases",
        "notes",
        CASE,
        "-w",
        str(config),
        env={"SUPERBRAIN_USER": LI[0], "SUPERBRAIN_PASSWORD": LI[1]},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "seen from the command line" in out.stdout
    out = run_cli(
        "cases",
        "notes",
        CASE,
        "-w",
        str(config),
        env={"SUPERBRAIN_USER": QIAN[0], "SUPERBRAIN_PASSWORD": QIAN[1]},
    )
    assert out.returncode != 0 and "not a member" in out.stdout + out.stderr
    assert "seen from the command line" not in out.stdout
