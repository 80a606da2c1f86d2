"""Galleries: enrol lfw-small, search unseen photos, safeguards, audit, review, ingest stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import main as cli_main
from core.model import EntityRef, Record
from facematch.errors import FaceError, SafeguardError, UnknownFaceError
from facematch.gallery import Gallery
from facematch.pipeline import Face, ImageFaces
from facematch.results import LEAD_NOTICE
from facematch.stage import make_stage
from tests.conftest import faces_dir
from tests.faces_fixtures import descriptor_like, open_cases
from tests.test_faces_pipeline import analysed_lfw_small, lfw_small

FACES = faces_dir()
pytestmark = pytest.mark.skipif(
    FACES is None,
    reason="shared face photos absent (set SUPERBRAIN_FACES_DIR to "
    "../shared/data/faces with lfw-small/ and multi/)",
)

ENROLLED_PHOTOS = 3  # per identity; the rest are unseen probes
STRANGERS = ("Serena_Williams", "Tony_Blair")  # never enrolled


@pytest.fixture
def gallery(workspace: object) -> Gallery:
    """lfw-small enrolled: 8 identities x 3 photos, linked to person entities and records."""
    open_cases(workspace)
    g = Gallery(workspace)  # type: ignore[arg-type]
    for name, images in analysed_lfw_small().items():
        if name in STRANGERS:
            continue
        for n, image in enumerate(images[:ENROLLED_PHOTOS]):
            g.enroll_faces(
                image,
                record_uid=f"watchlist:{name}-{n}",
                entity_id=f"person:{name}",
                entity_label=name.replace("_", " "),
                save=False,
            )
    g.save()
    yield g
    g.close()


def probe(name: str, n: int) -> ImageFaces:
    return analysed_lfw_small()[name][n]


def test_unseen_photo_finds_its_person_at_rank_1_above_threshold(gallery: Gallery) -> None:
    assert len(gallery) == 8 * ENROLLED_PHOTOS
    hits = 0
    probes = 0
    for name, images in analysed_lfw_small().items():
        if name in STRANGERS:
            continue
        for image in images[ENROLLED_PHOTOS:]:
            result = gallery.search(image, case="2026-FT-0001", purpose="test", k=5)
            top = result.faces[0].candidates[0]
            probes += 1
            if top.entity_id == f"person:{name}":
                assert top.record_uid.startswith(f"watchlist:{name}-")
                hits += top.above_threshold
    assert probes == 16
    assert hits >= 15, f"{hits}/16 probes found their person at rank 1 above threshold"


def test_a_stranger_gets_no_candidate_above_threshold(gallery: Gallery) -> None:
    above = 0
    for name in STRANGERS:
        for image in analysed_lfw_small()[name]:
            result = gallery.search(image, case="2026-FT-0001", purpose="test", k=3)
            assert len(result.candidates) == 3  # candidates are still listed, as leads
            above += sum(c.above_threshold for c in result.candidates)
    assert above == 0


def test_candidates_carry_threshold_fmr_links_and_the_lead_label(gallery: Gallery) -> None:
    result = gallery.search(
        probe("Colin_Powell", 4), case="2026-FT-0007", purpose="robbery suspect", k=3
    )
    assert result.notice == LEAD_NOTICE and "confirm" in result.notice
    assert result.gallery_size == 24
    ranks = [c.rank for c in result.candidates]
    sims = [c.similarity for c in result.candidates]
    assert ranks == [1, 2, 3] and sims == sorted(sims, reverse=True)
    top = result.candidates[0]
    assert top.threshold == gallery.calibration.threshold
    assert 0 < top.threshold_fmr < 0.05
    assert top.score_fmr <= top.threshold_fmr  # a higher score never carries a higher FMR
    assert top.status == "lead" and top.photo_path and top.entity_label == "Colin Powell"


def test_search_is_audited_with_probe_hash(gallery: Gallery, workspace: object) -> None:
    image = probe("Hugo_Chavez", 3)
    result = gallery.search(image, case="2026-FT-0009", purpose="identify caller", k=4)
    entries = workspace.audit.search(action="face.search")  # type: ignore[attr-defined]
    assert entries, "no audit entry"
    entry = entries[-1]
    assert entry["case"] == "2026-FT-0009" and entry["purpose"] == "identify caller"
    assert entry["user"] == "tester"
    p = entry["params"]
    assert p["probe_sha256"] == image.sha256 and p["k"] == 4
    assert p["candidates"] == 4 and p["search_id"] == result.search_id
    assert p["threshold"] == gallery.calibration.threshold
    assert workspace.audit.verify() == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "case,purpose",
    [("", "x"), ("  ", "x"), (None, "x"), ("2026-FT-0101", ""), ("2026-FT-0101", None)],
)
def test_search_and_verify_refuse_without_case_or_purpose(
    gallery: Gallery, workspace: object, case: str | None, purpose: str | None
) -> None:
    before = len(list(workspace.audit.entries()))  # type: ignore[attr-defined]
    with pytest.raises(SafeguardError, match="refused"):
        gallery.search(probe("Laura_Bush", 4), case=case, purpose=purpose)
    with pytest.raises(SafeguardError, match="refused"):
        gallery.verify(probe("Laura_Bush", 4), probe("Laura_Bush", 3), case=case, purpose=purpose)
    assert len(list(workspace.audit.entries())) == before  # type: ignore[attr-defined]


def test_cli_refuses_a_search_without_case(
    gallery: Gallery, workspace: object, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = str(lfw_small()["Laura_Bush"][4])
    ws = str(workspace.root)  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as exc:
        cli_main(["faces", "search", "-w", ws, photo, "--purpose", "x"])
    assert exc.value.code == 2
    assert cli_main(["faces", "search", "-w", ws, photo, "--case", " ", "--purpose", "x"]) == 2
    assert "case number" in capsys.readouterr().err


def test_review_is_audited_and_changes_nothing_else(gallery: Gallery, workspace: object) -> None:
    result = gallery.search(
        probe("Gerhard_Schroeder", 4), case="2026-FT-0003", purpose="lead check"
    )
    top = result.candidates[0]
    size = len(gallery)
    out = gallery.review(top, "confirmed", "same scar on the left cheek")
    assert out["decision"] == "confirmed" and out["record_uid"] == top.record_uid
    gallery.review(result.candidates[1], "rejected")
    entries = workspace.audit.search(action="face.review")  # type: ignore[attr-defined]
    assert [e["params"]["decision"] for e in entries] == ["confirmed", "rejected"]
    assert entries[0]["case"] == "2026-FT-0003" and entries[0]["params"]["face_id"] == top.face_id
    assert len(gallery) == size
    with pytest.raises(FaceError, match="must be one of"):
        gallery.review(top, "arrest")
    with pytest.raises(UnknownFaceError):
        gallery.review((result.search_id, 999_999), "rejected")
    with pytest.raises(UnknownFaceError):
        gallery.review(("no-such-search", top.face_id), "rejected")


def test_verify_one_to_one(gallery: Gallery, workspace: object) -> None:
    same = gallery.verify(
        probe("Jennifer_Capriati", 0),
        probe("Jennifer_Capriati", 4),
        case="2026-FT-0005",
        purpose="alibi check",
    )
    other = gallery.verify(
        probe("Jennifer_Capriati", 0),
        probe("Ariel_Sharon", 0),
        case="2026-FT-0005",
        purpose="alibi check",
    )
    assert same.above_threshold and not other.above_threshold
    assert same.notice == LEAD_NOTICE
    assert len(workspace.audit.search(action="face.verify")) == 2  # type: ignore[attr-defined]


def test_a_probe_with_several_faces_searches_one_or_all(gallery: Gallery) -> None:
    assert FACES is not None
    couple = gallery.analyse_probe(FACES / "multi" / "couple.jpg")
    assert len(couple.faces) == 2
    both = gallery.search(couple, case="2026-FT-0008", purpose="crowd still", k=2)
    assert [f.face.index for f in both.faces] == [0, 1]
    one = gallery.search(couple, case="2026-FT-0008", purpose="crowd still", k=2, faces=[1])
    assert [f.face.index for f in one.faces] == [1]
    assert {c.probe_face for c in one.candidates} == {1}
    with pytest.raises(UnknownFaceError, match="no face 5"):
        gallery.search(couple, case="2026-FT-0008", purpose="crowd still", faces=[5])
    with pytest.raises(FaceError, match="choose one"):
        gallery.verify(couple, probe("Ariel_Sharon", 0), case="2026-FT-0008", purpose="x")


def test_remove_and_add_without_rebuild(gallery: Gallery, workspace: object) -> None:
    image = probe("George_W_Bush", 4)
    assert (
        gallery.search(image, case="2026-FT-0000", purpose="p").candidates[0].entity_id
        == "person:George_W_Bush"
    )
    for n in range(ENROLLED_PHOTOS):
        assert gallery.remove_record(f"watchlist:George_W_Bush-{n}") == 1
    after = gallery.search(image, case="2026-FT-0000", purpose="p", k=24)
    assert all(c.entity_id != "person:George_W_Bush" for c in after.candidates)
    assert len(after.candidates) == 21
    new = gallery.enroll_faces(
        probe("George_W_Bush", 0), record_uid="registry:gwb", entity_id="person:George_W_Bush"
    )
    assert len(new) == 1
    again = Gallery(workspace)  # type: ignore[arg-type]  # reads the saved index
    top = again.search(image, case="2026-FT-0000", purpose="p").candidates[0]
    assert top.record_uid == "registry:gwb" and top.face_id == new[0]
    again.close()


def test_ingest_stage_enrols_record_photos_once(workspace: object, tmp_path: Path) -> None:
    people = lfw_small()
    records = [
        Record(
            source="watchlist",
            id=f"W{n}",
            type="watch",
            attachments={"photo": str(people[name][0])},
            entities=(EntityRef("phone", f"1380000000{n}"), EntityRef("person", name, name)),
        )
        for n, name in enumerate(["Ariel_Sharon", "Laura_Bush", "Hugo_Chavez"])
    ]
    bad = tmp_path / "scan.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 broken")
    records.append(
        Record(source="watchlist", id="W9", type="watch", attachments={"photo": str(bad)})
    )
    plain = [Record(source="incidents", id="I1", type="incident", text={"summary": "x"})]

    stage = make_stage(workspace)  # type: ignore[arg-type]
    stage.process(plain)
    assert stage._gallery is None  # nothing loaded for records without photos
    stage.process(records)
    stage.finish()
    assert stage.enrolled == 3 and len(stage.failures) == 1
    assert "scan.jpg" in stage.failures[0][2]

    again = make_stage(workspace)  # type: ignore[arg-type]  # the same batch handed over again
    again.process(records)
    again.finish()
    assert again.enrolled == 0 and again.failures == []
    g = Gallery(workspace)  # type: ignore[arg-type]
    assert len(g) == 3
    faces = g.faces_of_record("watchlist:W1")
    assert faces[0]["entity_id"] == "person:Laura_Bush"  # the person, not the phone
    g.close()


def test_face_search_needs_a_case_the_user_belongs_to(gallery: Gallery, workspace: object) -> None:
    from cases.api import member_remove, member_set
    from core.security import Session
    from core.services import ServiceContext

    with pytest.raises(SafeguardError, match=r"no case '2026-FT-0999'.*superbrain cases create"):
        gallery.search(probe("Laura_Bush", 4), case="2026-FT-0999", purpose="lead")
    lead = ServiceContext(workspace, Session("tester", "administrator"))
    member_set(lead, case="2026-FT-0003", member="lead2", role="lead")
    member_remove(
        ServiceContext(workspace, Session("lead2", "analyst")), case="2026-FT-0003", member="tester"
    )
    with pytest.raises(SafeguardError, match="not a member"):
        gallery.verify(
            probe("Laura_Bush", 4), probe("Laura_Bush", 3), case="2026-FT-0003", purpose="lead"
        )
    denied = workspace.audit.search(action="access.denied")  # type: ignore[attr-defined]
    assert [(e["params"]["action"], e["case"]) for e in denied] == [
        ("face.search", "2026-FT-0999"),
        ("face.verify", "2026-FT-0003"),
    ]
    assert workspace.audit.search(action="face.search") == []  # type: ignore[attr-defined]


def test_cli_enroll_search_review(workspace: object, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    people = lfw_small()
    records = [
        Record(
            source="registry",
            id=name,
            type="person",
            attachments={"photo": str(people[name][0])},
            entities=(EntityRef("person", name, name),),
        )
        for name in ("Colin_Powell", "Serena_Williams")
    ]
    workspace.store.upsert_batch(records)  # type: ignore[attr-defined]
    root = str(workspace.root)  # type: ignore[attr-defined]
    assert cli_main(["faces", "enroll", "-w", root]) == 0
    assert "2 photos enrolled (2 faces)" in capsys.readouterr().out
    assert cli_main(["faces", "enroll", "-w", root]) == 0  # nothing new
    assert "0 photos enrolled" in capsys.readouterr().out
    probe_photo = str(people["Serena_Williams"][3])
    # a case number no case has is refused, saying how to open one; nothing is searched
    assert (
        cli_main(
            [
                "faces",
                "search",
                "-w",
                root,
                probe_photo,
                "--case",
                "2026-FT-0011",
                "--purpose",
                "assault",
            ]
        )
        == 2
    )
    assert "superbrain cases create" in capsys.readouterr().err
    assert workspace.audit.search(action="face.search") == []  # type: ignore[attr-defined]
    open_cases(workspace)
    assert (
        cli_main(
            [
                "faces",
                "search",
                "-w",
                root,
                probe_photo,
                "--case",
                "2026-FT-0011",
                "--purpose",
                "assault",
                "-k",
                "2",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    top = out["faces"][0]["candidates"][0]
    assert top["entity_id"] == "person:Serena_Williams" and top["above_threshold"]
    assert out["notice"] == LEAD_NOTICE
    assert (
        cli_main(
            [
                "faces",
                "review",
                "-w",
                root,
                out["search_id"],
                str(top["face_id"]),
                "rejected",
                "--note",
                "different ear shape",
            ]
        )
        == 0
    )
    review = workspace.audit.search(action="face.review")[-1]  # type: ignore[attr-defined]
    assert review["case"] == "2026-FT-0011" and review["params"]["note"] == "different ear shape"


def test_warm_up_loads_the_index_its_compiled_search_and_the_models(workspace: object) -> None:
    """What the console does when the Faces view is first shown, on a large-gallery index."""
    g = Gallery(workspace, index_kind="hnsw-sq")  # type: ignore[arg-type]
    for name, images in analysed_lfw_small().items():
        if name not in STRANGERS:
            g.enroll_faces(
                images[0], record_uid=f"watchlist:{name}", entity_id=f"person:{name}", save=False
            )
    # the approximate index trains on at least 256 faces: fill up with descriptor-like ones
    for n, vector in enumerate(descriptor_like(300, seed=4)):
        face = Face(
            index=0, box=(0, 0, 100, 100), size=100, score=1.0, quality=1.0, descriptor=vector
        )
        g.enroll_faces(
            ImageFaces(f"filler-{n}.jpg", f"{n:064x}", 100, 100, (face,)),
            record_uid=f"registry:filler-{n}",
            save=False,
        )
    g.save()
    g.close()
    reopened = Gallery(workspace, index_kind="hnsw-sq")  # type: ignore[arg-type]
    report = reopened.warm_up()
    try:
        import numba  # noqa: F401
    except ImportError:
        compiled = False
    else:
        compiled = True
    assert report == {
        "faces": len(analysed_lfw_small()) - len(STRANGERS) + 300,
        "index": "hnsw-sq",
        "compiled_search": compiled,
        "engine": reopened.pipeline.engine,
    }
    assert report["engine"].startswith("onnxruntime")
    open_cases(workspace)
    top = reopened.search(probe("George_W_Bush", 4), case="2026-FT-0000", purpose="p").candidates[0]
    assert top.entity_id == "person:George_W_Bush" and top.above_threshold
    reopened.close()
