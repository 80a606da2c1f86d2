"""Hand-over: a case exported to one file and imported into a fresh workspace reproduces its
charts, notes and pins with the same ids; a clash is refused and changes nothing."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cases import handover
from cases import service as cs
from cases.errors import CaseConflictError, CaseInvalidError
from core.workspace import Workspace
from tests.cases_fixtures import CASE, PERSON, PHONES, chart_of, ctx, populate


@pytest.fixture
def exported(workspace: Any, tmp_path: Path) -> tuple[Any, Path]:
    populate(workspace)
    sun = ctx(workspace, "sun", "supervisor")
    cs.create(sun, case=CASE, title="入室盗窃 系列案")
    cs.member_set(sun, case=CASE, member="wang", role="reader")
    cs.chart_save(sun, case=CASE, name="main", data=chart_of(workspace, [PHONES[0]]))
    cs.note_add(sun, case=CASE, target_kind="entity", target=PHONES[0], text=f"@{PERSON}")
    cs.pin(sun, case=CASE, kind="record", ref="calls:C0001")
    out = tmp_path / "case.sbcase"
    result = handover.handover_export(sun, case=CASE, path=str(out))
    assert result["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    entry = [e for e in workspace.audit.entries() if e["action"] == "cases.handover_export"]
    assert entry[-1]["params"]["sha256"] == result["sha256"] and entry[-1]["case"] == CASE
    return workspace, out


def _content(w: Any, user: str = "sun") -> dict[str, Any]:
    c = ctx(w, user, "supervisor")
    charts = cs.charts(c, case=CASE)
    return {
        "charts": [
            cs.chart_open(c, case=CASE, chart_id=x["id"], offer_new_links=False)["chart"]
            for x in charts
        ],
        "notes": cs.notes(c, case=CASE),
        "pins": cs.pins(c, case=CASE),
        "members": cs.get(c, case=CASE)["members"],
    }


def test_import_into_fresh_workspace_reproduces_charts_notes_pins(
    exported: tuple[Any, Path], tmp_path: Path
) -> None:
    source, out = exported
    fresh = Workspace.init(tmp_path / "other")
    result = handover.handover_import(ctx(fresh, "sun", "supervisor"), path=str(out))
    assert result["number"] == CASE and result["added_as_lead"] is False
    assert _content(fresh) == _content(source)
    assert json.loads((fresh.root / "cases" / CASE / "records.json").read_text())
    fresh.close()


def test_importer_who_is_not_a_member_becomes_lead(
    exported: tuple[Any, Path], tmp_path: Path
) -> None:
    _, out = exported
    fresh = Workspace.init(tmp_path / "other")
    result = handover.handover_import(ctx(fresh, "zhou", "supervisor"), path=str(out))
    assert result["added_as_lead"] is True
    assert {m["user"]: m["role"] for m in result["members"]}["zhou"] == "lead"
    fresh.close()


def test_conflict_is_refused_with_a_clear_message_and_nothing_changes(
    exported: tuple[Any, Path],
) -> None:
    source, out = exported
    before = _content(source)
    with pytest.raises(
        CaseConflictError,
        match=r"already exists here.*nothing was changed|"
        r"nothing was changed.*already exists",
    ):
        handover.handover_import(ctx(source, "sun", "supervisor"), path=str(out))
    assert _content(source) == before


def test_altered_file_is_refused(exported: tuple[Any, Path], tmp_path: Path) -> None:
    _, out = exported
    bad = tmp_path / "bad.sbcase"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w") as zout:
        doc = json.loads(zin.read("case.json"))
        doc["attachments"].append({"file": "../../etc/passwd", "sha256": "0"})
        zout.writestr("case.json", json.dumps(doc))
    fresh = Workspace.init(tmp_path / "other")
    with pytest.raises(CaseInvalidError, match="plain file name"):
        handover.handover_import(ctx(fresh, "sun", "supervisor"), path=str(bad))
    assert cs.list_cases(ctx(fresh, "sun", "supervisor")) == []
    fresh.close()


def test_analyst_cannot_import(exported: tuple[Any, Path], tmp_path: Path) -> None:
    from core.security import PermissionDeniedError

    _, out = exported
    fresh = Workspace.init(tmp_path / "other")
    with pytest.raises(PermissionDeniedError, match=r"cases\.import"):
        handover.handover_import(ctx(fresh, "li", "analyst"), path=str(out))
    fresh.close()


def test_photos_of_pinned_records_travel_with_their_hashes(workspace: Any, tmp_path: Path) -> None:
    from core.model import EntityRef, Record

    photo = tmp_path / "suspect.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg, but bytes to carry")
    workspace.store.upsert_batch(
        [
            Record(
                source="watchlist",
                id="W1",
                type="person",
                attachments={"photo": str(photo)},
                entities=(EntityRef("person", "330402199001011234", "张伟"),),
                origin="w.csv:2",
            )
        ]
    )
    sun = ctx(workspace, "sun", "supervisor")
    cs.create(sun, case=CASE, title="photo")
    cs.pin(sun, case=CASE, kind="record", ref="watchlist:W1")
    out = tmp_path / "c.sbcase"
    handover.handover_export(sun, case=CASE, path=str(out))
    with zipfile.ZipFile(out) as zf:
        listed = json.loads(zf.read("case.json"))["attachments"]
        assert [a["original"] for a in listed] == ["suspect.jpg"]
        assert zf.read(f"attachments/{listed[0]['file']}") == photo.read_bytes()
    fresh = Workspace.init(tmp_path / "other")
    handover.handover_import(ctx(fresh, "sun", "supervisor"), path=str(out))
    kept = fresh.root / "cases" / CASE / "attachments" / listed[0]["file"]
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == listed[0]["sha256"]
    fresh.close()
