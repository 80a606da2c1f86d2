"""The dossier and the chart picture: every note and every cited record id is in the PDF's text
(pdftotext), each export is permission-checked and audited with the SHA-256 of the file."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cases import exports
from cases import service as cs
from tests.cases_fixtures import CASE, PERSON, PHONES, chart_of, ctx, populate


@pytest.fixture
def case_ws(workspace: Any) -> Any:
    populate(workspace)
    lead = ctx(workspace, "sun", "supervisor")
    cs.create(lead, case=CASE, title="入室盗窃 系列案 <script>alert(1)</script>")
    cs.member_set(lead, case=CASE, member="wang", role="contributor")
    cs.member_set(lead, case=CASE, member="tester", role="contributor")
    cs.chart_save(lead, case=CASE, name="通话圈", data=chart_of(workspace, [PHONES[0]]))
    wang = ctx(workspace, "wang", "analyst")
    cs.note_add(
        wang,
        case=CASE,
        target_kind="entity",
        target=PHONES[0],
        text=f"机主 @{PERSON}，案发当晚 <b>三次</b> 通话",
    )
    cs.note_add(
        lead,
        case=CASE,
        target_kind="record",
        target="calls:C0003",
        text="Call at 23:10 right after the break-in",
    )
    cs.note_add(
        lead,
        case=CASE,
        target_kind="place",
        target="30.7521,120.7613",
        text="车辆停放处 parking spot",
    )
    cs.note_add(
        lead,
        case=CASE,
        target_kind="timeline",
        target="calls:C0005",
        text="Last contact before the suspect left",
    )
    cs.pin(lead, case=CASE, kind="record", ref="registry:P1")
    cs.pin(lead, case=CASE, kind="record", ref="calls:C0002")
    return workspace


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export_entry(ws: Any, path: Path) -> dict[str, Any]:
    found = [
        e
        for e in ws.audit.entries()
        if e["action"] == "cases.dossier" and e["params"].get("file") == str(path.resolve())
    ]
    assert len(found) == 1
    return found[0]


def test_html_dossier_escapes_and_cites(case_ws: Any, tmp_path: Path) -> None:
    out = tmp_path / "dossier.html"
    result = exports.dossier(ctx(case_ws, "sun", "supervisor"), case=CASE, path=str(out))
    html = out.read_text("utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;三次&lt;/b&gt;" in html
    for uid in ("registry:P1", "calls:C0002", "calls:C0003", "calls:C0005"):
        assert uid in html
    assert "calls_2026.csv" in html and "population.csv" in html
    entry = _export_entry(case_ws, out)
    assert entry["params"]["sha256"] == result["sha256"] == _sha(out)
    assert entry["case"] == CASE and entry["user"] == "sun"


@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)
def test_pdf_dossier_text_holds_every_note_and_cited_record(case_ws: Any, tmp_path: Path) -> None:
    out = tmp_path / "dossier.pdf"
    sun = ctx(case_ws, "sun", "supervisor")
    result = exports.dossier(sun, case=CASE, path=str(out))
    assert out.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for note in cs.notes(sun, case=CASE):
        assert " ".join(note["text"].split()) in flat, note["text"]
    cited = {"registry:P1", "calls:C0002", "calls:C0003", "calls:C0005"}
    chart = cs.chart_open(sun, case=CASE, chart_id=cs.charts(sun, case=CASE)[0]["id"])
    cited |= {u for e in chart["chart"]["data"]["edges"] for u in e["record_uids"]}
    for uid in cited:
        assert uid in flat, uid
    assert "2026-JX-0117" in flat and "内部 INTERNAL" in flat
    assert "Asia/Shanghai" in flat
    assert "calls_2026.csv" in flat and "not recorded" not in flat  # file and ingest time
    entry = _export_entry(case_ws, out)
    assert entry["params"]["sha256"] == result["sha256"] == _sha(out)


def test_non_member_cannot_export_and_is_audited(case_ws: Any, tmp_path: Path) -> None:
    from cases.errors import CaseAccessError

    out = tmp_path / "x.html"
    with pytest.raises(CaseAccessError):
        exports.dossier(ctx(case_ws, "boss", "supervisor"), case=CASE, path=str(out))
    assert not out.exists()
    last = [e for e in case_ws.audit.entries() if e["user"] == "boss"][-1]
    assert last["action"] == "cases.dossier" and last["params"]["outcome"] == "failed"


def test_chart_image_carries_title_case_legend_date_classification(
    case_ws: Any, tmp_path: Path
) -> None:
    sun = ctx(case_ws, "sun", "supervisor")
    chart_id = cs.charts(sun, case=CASE)[0]["id"]
    out = tmp_path / "chart.svg"
    result = exports.chart_image(sun, case=CASE, chart_id=chart_id, path=str(out))
    svg = out.read_text("utf-8")
    assert "通话圈" in svg and CASE in svg and "Legend" in svg and "内部 INTERNAL" in svg
    assert "Asia/Shanghai" in svg and "called" in svg
    assert "&lt;script&gt;" in svg and "<script>" not in svg
    assert result["sha256"] == _sha(out)
    assert any(
        e["action"] == "cases.chart_image" and e["params"]["sha256"] == _sha(out)
        for e in case_ws.audit.entries()
    )


@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)
def test_face_lead_is_pinned_with_its_review_and_reported(case_ws: Any, tmp_path: Path) -> None:
    """A face lead from a search in the case: pinned with similarity, threshold and false-match
    rate; the dossier shows the review decision and the reviewer made after pinning."""
    from facematch.gallery import Gallery
    from tests.test_trust_audit import _fake_photo

    g = Gallery(case_ws)
    for n in range(3):
        g.enroll_faces(_fake_photo(n), record_uid=f"calls:C000{n}", save=False)
    result = g.search(_fake_photo(1), case=CASE, purpose="who called")
    top = result.candidates[0]
    sun = ctx(case_ws, "sun", "supervisor")
    pinned = cs.pin(
        sun,
        case=CASE,
        kind="face_lead",
        ref=f"{top.search_id}:{top.face_id}",
        data={
            "similarity": top.similarity,
            "threshold": top.threshold,
            "threshold_fmr": top.threshold_fmr,
            "score_fmr": top.score_fmr,
        },
    )
    assert (
        pinned["data"]["review"] == "not reviewed" and pinned["data"]["record_uid"] == "calls:C0001"
    )
    g.review(top, "confirmed", "same scar")
    g.close()
    now = next(p for p in cs.pins(sun, case=CASE, recount=True) if p["kind"] == "face_lead")
    assert now["data"]["review"] == "confirmed" and now["data"]["reviewer"] == "tester"
    out = tmp_path / "d.pdf"
    exports.dossier(sun, case=CASE, path=str(out))
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "confirmed" in text and "never an identification" in text
    assert f"{top.similarity:.4f}" in text and f"{top.threshold:.4f}" in text
    with pytest.raises(Exception, match="not a candidate"):
        cs.pin(
            sun,
            case=CASE,
            kind="face_lead",
            ref=f"{top.search_id}:99999",
            data={"similarity": 1.0, "threshold": 0.5, "threshold_fmr": 0.001},
        )


def test_dossier_maps_located_notes_and_lists_cooccurrence_pins(
    case_ws: Any, tmp_path: Path
) -> None:
    """Issue #17: the dossier's map has the notes the console's map draws (a note on a located
    entity at its latest located record, not only place notes), and a pinned co-occurrence
    result reads as a table of who moved with whom, with who pinned it and when."""
    from cases.places import entity_point

    lead = ctx(case_ws, "sun", "supervisor")
    cs.pin(
        lead,
        case=CASE,
        kind="cooccur",
        ref=f"{PHONES[0]} ±60s ≥2",
        title=f"{PHONES[0]}: 1 moving together",
        data={
            "entity": PHONES[0],
            "window_s": 60,
            "min_count": 2,
            "pairs": [
                {
                    "a": PHONES[0],
                    "b": PHONES[3],
                    "count": 4,
                    "places": 2,
                    "days": 3,
                    "sightings": 9,
                    "evidence": [],
                }
            ],
        },
    )
    out = tmp_path / "dossier.html"
    exports.dossier(lead, case=CASE, path=str(out))
    html = out.read_text("utf-8")
    lat, lon = entity_point(case_ws.store, PHONES[0])
    assert f"{lat:.5f}, {lon:.5f}</td><td>✎ wang: 机主" in html  # the entity note, placed
    assert "✎ sun: 车辆停放处 parking spot" in html
    assert f"<td>{PHONES[0]}</td><td>{PHONES[3]}</td><td>4</td><td>2</td><td>3</td>" in html
    assert "seen within 60 s of each other, at least 2 meetings" in html
    assert "pinned by sun" in html
