"""Case files through their services: membership decides who sees and changes a case, every
edit carries a version, saved charts reopen exactly as saved."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cases import service as cs
from cases.errors import CaseAccessError, CaseConflictError, CaseInvalidError, CaseNotFoundError
from core.security import PermissionDeniedError
from tests.cases_fixtures import CASE, PERSON, PHONES, calls, chart_of, ctx, populate


@pytest.fixture
def ws(workspace: Any) -> Any:
    populate(workspace)
    return workspace


def _opened(ws: Any) -> Any:
    lead = ctx(ws, "li", "analyst")
    cs.create(lead, case=CASE, title="入室盗窃 系列案")
    cs.member_set(lead, case=CASE, member="wang", role="contributor")
    cs.member_set(lead, case=CASE, member="zhao", role="reader")
    return lead


def test_case_number_format_and_unknown_case_message(ws: Any) -> None:
    lead = ctx(ws, "li", "analyst")
    with pytest.raises(CaseInvalidError, match="YEAR-UNIT-SERIAL"):
        cs.create(lead, case="burglary-1", title="x")
    with pytest.raises(CaseNotFoundError, match="superbrain cases create"):
        cs.get(lead, case="2026-JX-9999")
    made = cs.create(lead, case="2026-jx-0117 ", title="t")
    assert made["number"] == CASE and made["members"][0]["role"] == "lead"
    with pytest.raises(CaseConflictError, match="already exists"):
        cs.create(lead, case=CASE, title="again")


def test_non_member_neither_sees_nor_opens_the_case_and_is_audited(ws: Any) -> None:
    _opened(ws)
    outsider = ctx(ws, "qian", "analyst")
    assert cs.list_cases(outsider) == []
    with pytest.raises(CaseAccessError, match="not a member"):
        cs.get(outsider, case=CASE)
    with pytest.raises(CaseAccessError):
        cs.notes(outsider, case=CASE)
    refused = [e for e in ws.audit.entries() if e["user"] == "qian" and e["action"] == "cases.get"]
    assert refused and refused[-1]["params"]["outcome"] == "failed"
    assert "not a member" in refused[-1]["params"]["error"]
    assert [c["number"] for c in cs.list_cases(ctx(ws, "zhao", "analyst"))] == [CASE]


def test_reader_reads_but_cannot_edit(ws: Any) -> None:
    lead = _opened(ws)
    cs.note_add(lead, case=CASE, target_kind="case", target="", text="lead's note")
    reader = ctx(ws, "zhao", "analyst")
    assert [n["text"] for n in cs.notes(reader, case=CASE)] == ["lead's note"]
    with pytest.raises(CaseAccessError, match="reader"):
        cs.note_add(reader, case=CASE, target_kind="case", target="", text="mine")
    with pytest.raises(CaseAccessError):
        cs.chart_save(reader, case=CASE, name="c", data=chart_of(ws, [PHONES[0]]))
    assert len(cs.notes(reader, case=CASE)) == 1


def test_role_without_case_permission_is_refused() -> None:
    from core.security import Session, default_roles

    assert "cases.write" in default_roles().grants["analyst"]
    assert "export" not in default_roles().grants["analyst"]
    assert not Session("x", "analyst").can("cases.import")


def test_contributor_edits_only_the_lead_manages(ws: Any) -> None:
    _opened(ws)
    contributor = ctx(ws, "wang", "analyst")
    cs.note_add(contributor, case=CASE, target_kind="entity", target=PHONES[1], text="burner?")
    with pytest.raises(CaseAccessError, match="lead"):
        cs.member_set(contributor, case=CASE, member="qian", role="reader")
    with pytest.raises(CaseAccessError):
        cs.update(contributor, case=CASE, version=1, status="closed")


def test_stale_version_is_refused_and_nothing_is_lost(ws: Any) -> None:
    lead = _opened(ws)
    other = ctx(ws, "wang", "analyst")
    saved = cs.chart_save(lead, case=CASE, name="main", data=chart_of(ws, [PHONES[0]]))
    mine = chart_of(ws, [PHONES[0]])
    mine["hidden"] = []
    cs.chart_save(other, case=CASE, name="main", data=mine, chart_id=saved["id"], version=1)
    with pytest.raises(CaseConflictError, match="changed by someone else"):
        cs.chart_save(
            lead,
            case=CASE,
            name="main",
            data=chart_of(ws, [PHONES[0]]),
            chart_id=saved["id"],
            version=1,
        )
    opened = cs.chart_open(lead, case=CASE, chart_id=saved["id"])["chart"]
    assert opened["version"] == 2 and opened["data"]["hidden"] == []


@pytest.fixture
def reopen() -> Any:
    """Open the workspace again after closing it (tests/test_centre_cases_conformance.py
    reopens its centre instead)."""
    from core.workspace import Workspace

    return lambda ws: Workspace.open(ws.root)


def test_save_close_reopen_gives_the_same_chart_even_after_more_data(ws: Any, reopen: Any) -> None:
    lead = _opened(ws)
    doc = chart_of(ws, [PHONES[0]])
    assert doc["hidden"] and doc["styles"] and doc["positions"]
    before = copy.deepcopy(doc)
    saved = cs.chart_save(lead, case=CASE, name="main", data=doc)
    ws.close()
    again = reopen(ws)
    # more data: a new call between two phones already on the chart, and a new phone
    again.store.upsert_batch(calls(3, start=40))
    reopened = cs.chart_open(ctx(again, "li", "analyst"), case=CASE, chart_id=saved["id"])
    data = reopened["chart"]["data"]
    assert data["positions"] == before["positions"]
    assert data["hidden"] == before["hidden"]
    assert data["styles"] == before["styles"]
    assert data["groups"] == before["groups"]
    assert data["nodes"] == before["nodes"] and data["edges"] == before["edges"]
    offered = {(o["source"], o["target"], o["type"]): o for o in reopened["offered"]}
    assert offered, "the calls ingested since must be offered"
    assert all(o["count"] > o["saved_count"] for o in offered.values())
    again.close()


def test_save_as_duplicate_and_names(ws: Any) -> None:
    lead = _opened(ws)
    first = cs.chart_save(lead, case=CASE, name="main", data=chart_of(ws, [PHONES[0]]))
    with pytest.raises(CaseConflictError, match="already has a chart named"):
        cs.chart_save(lead, case=CASE, name="main", data=chart_of(ws, [PHONES[0]]))
    copy_ = cs.chart_duplicate(lead, case=CASE, chart_id=first["id"], name="main (copy)")
    assert copy_["id"] != first["id"]
    a = cs.chart_open(lead, case=CASE, chart_id=first["id"])["chart"]["data"]
    b = cs.chart_open(lead, case=CASE, chart_id=copy_["id"])["chart"]["data"]
    assert a == b
    assert {c["name"] for c in cs.charts(lead, case=CASE)} == {"main", "main (copy)"}


def test_bad_chart_is_refused_naming_the_problem(ws: Any) -> None:
    lead = _opened(ws)
    doc = chart_of(ws, [PHONES[0]])
    doc["positions"][PHONES[0]] = ["x", 1]
    with pytest.raises(CaseInvalidError, match="finite numbers"):
        cs.chart_save(lead, case=CASE, name="bad", data=doc)
    assert cs.charts(lead, case=CASE) == []


def test_note_mentions_become_links_and_must_exist(ws: Any) -> None:
    lead = _opened(ws)
    note = cs.note_add(
        lead,
        case=CASE,
        target_kind="entity",
        target=PHONES[0],
        text=f"机主 @{PERSON}，常与 @[{PHONES[1]}] 通话",
    )
    assert note["mentions"] == [PERSON, PHONES[1]]
    with pytest.raises(CaseInvalidError, match="phone:19999999999"):
        cs.note_add(lead, case=CASE, target_kind="case", target="", text="see @phone:19999999999")
    edited = cs.note_edit(lead, case=CASE, note_id=note["id"], text="no mention now", version=1)
    assert edited["mentions"] == [] and edited["version"] == 2


def test_each_edit_journals_an_event_members_can_read(ws: Any) -> None:
    lead = _opened(ws)
    seen: list[str] = []
    from cases.db import subscribe

    unsubscribe = subscribe(ws.store, lambda e: seen.append(e.kind))
    start = cs.last_event_id(lead)
    cs.note_add(lead, case=CASE, target_kind="case", target="", text="n")
    cs.chart_save(lead, case=CASE, name="c", data=chart_of(ws, [PHONES[0]]))
    unsubscribe()
    kinds = [e["kind"] for e in cs.events(ctx(ws, "wang", "analyst"), after=start)]
    assert kinds == ["case.note_added", "case.chart_saved"] == seen
    assert cs.events(ctx(ws, "qian", "analyst"), after=start) == []


def test_pins_record_with_who_and_when(ws: Any) -> None:
    lead = _opened(ws)
    pinned = cs.pin(lead, case=CASE, kind="record", ref="calls:C0001")
    assert pinned["pinned_by"] == "li" and pinned["data"]["origin"] == "calls_2026.csv:3"
    with pytest.raises(CaseConflictError, match="already pinned"):
        cs.pin(lead, case=CASE, kind="record", ref="calls:C0001")
    with pytest.raises(CaseInvalidError, match="no record"):
        cs.pin(lead, case=CASE, kind="record", ref="calls:NOPE")
    with pytest.raises(CaseInvalidError, match="pairs"):
        cs.pin(lead, case=CASE, kind="cooccur", ref="vehicle:浙F12345", data={})
    assert [p["ref"] for p in cs.pins(lead, case=CASE)] == ["calls:C0001"]


def test_administrator_manages_members_of_any_case(ws: Any) -> None:
    _opened(ws)
    root = ctx(ws, "root", "administrator")
    with pytest.raises(CaseAccessError):
        cs.notes(root, case=CASE)  # an administrator is not a member: no content
    cs.member_set(root, case=CASE, member="root", role="reader")
    assert cs.notes(root, case=CASE) == []


def test_analyst_cannot_export(ws: Any, tmp_path: Any) -> None:
    from cases import exports

    lead = _opened(ws)
    with pytest.raises(PermissionDeniedError, match="export"):
        exports.dossier(lead, case=CASE, path=str(tmp_path / "d.html"))
    assert any(e["action"] == "access.denied" and e["user"] == "li" for e in ws.audit.entries())


def test_case_errors_have_the_kinds_a_remote_caller_acts_on(ws: Any) -> None:
    from core.service_data import error_kind

    lead = _opened(ws)
    kinds = []
    for call in (
        lambda: cs.get(lead, case="2026-JX-9999"),
        lambda: cs.create(lead, case=CASE, title="again"),
        lambda: cs.create(lead, case="nope", title="x"),
        lambda: cs.get(ctx(ws, "qian", "analyst"), case=CASE),
    ):
        with pytest.raises(Exception) as caught:
            call()
        kinds.append(error_kind(caught.value))
    assert kinds == ["NotFound", "Conflict", "Invalid", "PermissionDenied"]


def test_map_place_notes_are_checked_and_placed_with_entity_and_record_notes(ws: Any) -> None:
    """Issue #17, notes on the map: a place note must be a point on the globe (kept with six
    decimals); ``cases.note_places`` places notes on places, on located entities (their latest
    located record) and on records, and leaves out what has no place."""
    lead = _opened(ws)
    place = cs.note_add(
        lead,
        case=CASE,
        target_kind="place",
        target=" 30.2741, 120.1551 ",
        text=f"车辆在此换牌 @{PHONES[1]}",
    )
    assert place["target"] == "30.274100,120.155100" and place["mentions"] == [PHONES[1]]
    for bad, why in (
        ("somewhere", "lat,lon"),
        ("95,10", "off the globe"),
        ("30.1;120.2", "lat,lon"),
    ):
        with pytest.raises(CaseInvalidError, match=why):
            cs.note_add(lead, case=CASE, target_kind="place", target=bad, text="x")
    cs.note_add(lead, case=CASE, target_kind="entity", target=PHONES[0], text="常去这里")
    cs.note_add(lead, case=CASE, target_kind="record", target="calls:C0001", text="通话处")
    cs.note_add(lead, case=CASE, target_kind="entity", target=PERSON, text="无位置")
    cs.note_add(lead, case=CASE, target_kind="case", target="", text="整案备注")
    assert len(cs.notes(lead, case=CASE)) == 5  # the refused ones left nothing behind
    placed = cs.note_places(ctx(ws, "zhao", "analyst"), case=CASE)  # a reader may look
    by_text = {p["text"]: p for p in placed}
    assert set(by_text) == {f"车辆在此换牌 @{PHONES[1]}", "常去这里", "通话处"}
    assert (
        by_text[f"车辆在此换牌 @{PHONES[1]}"]["lat"],
        by_text[f"车辆在此换牌 @{PHONES[1]}"]["lon"],
    ) == (30.2741, 120.1551)
    latest = calls(8)[5]  # the last of the calls that name PHONES[0]
    assert (by_text["常去这里"]["lat"], by_text["常去这里"]["lon"]) == latest.geo
    assert by_text["常去这里"]["placed_by"] == "entity"
    assert (by_text["通话处"]["lat"], by_text["通话处"]["lon"]) == calls(8)[1].geo
    assert by_text["通话处"]["author"] == "li"
    with pytest.raises(CaseAccessError):
        cs.note_places(ctx(ws, "qian", "analyst"), case=CASE)
