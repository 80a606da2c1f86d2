"""Re-embedding a gallery in place: a gallery enrolled with plain descriptors is migrated to the
shipped calibration's setting, keeping face ids, searches and reviews; missing and changed
photos are reported and kept out of the index; cancels and crashes leave the old gallery."""

from __future__ import annotations

import dataclasses
import functools
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.cli import main as cli_main
from core.security import PermissionDeniedError
from core.workspace import Workspace
from facematch.batch import embed_files
from facematch.calibration import Calibration, load_calibration
from facematch.errors import FaceIndexError
from facematch.gallery import Gallery
from facematch.pipeline import ImageFaces, PipelineOptions
from facematch.reembed import iou, map_path, reembed_gallery
from tests.conftest import faces_dir

FACES = faces_dir()
pytestmark = pytest.mark.skipif(
    FACES is None,
    reason="shared face photos absent (set SUPERBRAIN_FACES_DIR to "
    "../shared/data/faces with lfw-small/ and multi/)",
)

PEOPLE = ("Colin_Powell", "Laura_Bush", "Hugo_Chavez")
ENROLLED = 2  # photos per person; the fifth photo of each is never enrolled (a probe)
COUPLE = "couple.jpg"  # two faces in one photo, one record


def plain_calibration() -> Calibration:
    """The shipped calibration but with single-pass descriptors: the pre-"flip" setting."""
    cal = load_calibration()
    plain = PipelineOptions(num_jitters=cal.num_jitters, views="plain")
    assert plain.descriptor_key() != cal.pipeline_options().descriptor_key()
    return dataclasses.replace(cal, views="plain", descriptor_key=plain.descriptor_key())


def source_photos() -> dict[str, Path]:
    """file name -> shared photo: two of each person, and the two-face photo."""
    assert FACES is not None
    out = {}
    for name in PEOPLE:
        for path in sorted((FACES / "lfw-small" / name).glob("*.jpg"))[:ENROLLED]:
            out[path.name] = path
    out[COUPLE] = FACES / "multi" / COUPLE
    return out


@functools.cache
def plain_analyses() -> dict[str, ImageFaces]:
    """Every source photo analysed once per session with plain descriptors (in-process)."""
    items = list(
        embed_files(
            list(source_photos().values()), plain_calibration().pipeline_options(), workers=1
        )
    )
    assert all(item.ok for item in items), [item.error for item in items]
    return {Path(item.path).name: item.result for item in items if item.result is not None}


def unseen_photo(name: str) -> Path:
    assert FACES is not None
    return sorted((FACES / "lfw-small" / name).glob("*.jpg"))[4]


def owner(file_name: str) -> str:
    return next((p for p in PEOPLE if file_name.startswith(p)), "couple")


def enrol_plain(
    ws: Workspace, photo_dir: Path, names: list[str] | None = None
) -> dict[str, list[int]]:
    """Copy the photos to ``photo_dir`` and enrol them there with plain descriptors."""
    photo_dir.mkdir(parents=True, exist_ok=True)
    gallery = Gallery(ws, calibration=plain_calibration())
    ids = {}
    for file_name, src in source_photos().items():
        if names is not None and file_name not in names:
            continue
        copy = photo_dir / file_name
        shutil.copyfile(src, copy)
        image = dataclasses.replace(plain_analyses()[file_name], source=str(copy))
        who = owner(file_name)
        ids[file_name] = gallery.enroll_faces(
            image,
            record_uid=f"watchlist:{Path(file_name).stem}",
            entity_id=f"person:{who}",
            entity_label=who.replace("_", " "),
            save=False,
        )
    gallery.save()
    gallery.close()
    return ids


def gallery_rows(ws: Workspace) -> dict[int, dict[str, Any]]:
    con = sqlite3.connect(Path(ws.faces_dir) / "gallery.sqlite")
    try:
        rows = con.execute(
            "SELECT face_id, record_uid, attachment, face_index, entity_id, "
            "photo_sha256, box, descriptor, excluded FROM faces"
        ).fetchall()
    finally:
        con.close()
    keys = (
        "record_uid",
        "attachment",
        "face_index",
        "entity_id",
        "photo_sha256",
        "box",
        "descriptor",
        "excluded",
    )
    return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}


@pytest.fixture
def old_gallery(workspace: Workspace, tmp_path: Path) -> dict[str, Any]:
    """A plain-descriptor gallery with one search and one review made before the upgrade."""
    from tests.faces_fixtures import open_cases

    ids = enrol_plain(workspace, tmp_path / "photos")
    open_cases(workspace)
    gallery = Gallery(workspace, calibration=plain_calibration())
    first = next(iter(source_photos()))
    result = gallery.search(
        plain_analyses()[first], case="2026-FT-0101", purpose="before the upgrade", k=3
    )
    top = result.candidates[0]
    gallery.review(top, "confirmed", "same scar")
    gallery.close()
    return {
        "ws": workspace,
        "ids": ids,
        "photos": tmp_path / "photos",
        "search_id": result.search_id,
        "reviewed": top.face_id,
    }


def test_a_plain_gallery_is_migrated_in_place(old_gallery: dict[str, Any]) -> None:
    ws = old_gallery["ws"]
    with pytest.raises(FaceIndexError, match="superbrain faces reembed"):
        Gallery(ws)
    before = gallery_rows(ws)
    assert len(before) == 3 * ENROLLED + 2 and len(old_gallery["ids"][COUPLE]) == 2

    report = reembed_gallery(ws)
    assert report.switched and not report.cancelled
    assert (report.faces, report.migrated, report.failed) == (len(before), len(before), 0)
    assert report.to_key == load_calibration().pipeline_options().descriptor_key()

    gallery = Gallery(ws)  # opens now
    try:
        assert len(gallery.index) == len(before)
        after = gallery_rows(ws)
        assert after.keys() == before.keys()
        for face_id, row in after.items():
            old = before[face_id]
            for key in ("record_uid", "attachment", "face_index", "entity_id", "photo_sha256"):
                assert row[key] == old[key], (face_id, key)
            assert row["excluded"] is None
            assert not np.array_equal(
                np.frombuffer(row["descriptor"], np.float32),
                np.frombuffer(old["descriptor"], np.float32),
            )
        # each face of the two-face photo kept its own id (matched by box, not by order)
        for face_id in old_gallery["ids"][COUPLE]:
            assert iou(tuple(json_box(after[face_id])), tuple(json_box(before[face_id]))) > 0.9

        # the review of the search made before the upgrade survives, and the search can
        # still be reviewed against the same face ids
        reviews = gallery.store.reviews(old_gallery["search_id"])
        assert [(r["face_id"], r["decision"]) for r in reviews] == [
            (old_gallery["reviewed"], "confirmed")
        ]
        gallery.review((old_gallery["search_id"], old_gallery["reviewed"]), "rejected")

        # an unseen photo of an enrolled person finds that person above the threshold
        for name in PEOPLE:
            top = gallery.search(
                unseen_photo(name), case="2026-FT-0002", purpose="after the upgrade", k=3
            ).candidates[0]
            assert top.entity_id == f"person:{name}" and top.above_threshold, (name, top)
    finally:
        gallery.close()

    entry = ws.audit.search(action="face.reembed")[-1]
    assert entry["user"] == "tester"
    assert entry["params"]["migrated"] == len(before) and entry["params"]["failed"] == 0
    assert entry["params"]["switched"] is True
    # nothing left to do: a second run changes nothing and says so
    again = reembed_gallery(ws)
    assert (again.faces, again.switched) == (0, False) and "nothing to re-embed" in again.summary()


def json_box(row: dict[str, Any]) -> list[int]:
    import json

    return json.loads(row["box"])


def test_missing_and_changed_photos_are_reported_and_the_rest_migrate(
    old_gallery: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws, ids, photos = old_gallery["ws"], old_gallery["ids"], old_gallery["photos"]
    moved_name, changed_name = "Laura_Bush_0001.jpg", "Hugo_Chavez_0002.jpg"
    moved_to = tmp_path / "archive"
    moved_to.mkdir()
    (photos / moved_name).rename(moved_to / moved_name)
    (photos / changed_name).write_bytes((photos / "Hugo_Chavez_0001.jpg").read_bytes())
    (moved_id,), (changed_id,) = ids[moved_name], ids[changed_name]

    check = reembed_gallery(ws, check_only=True)  # only looks: hashes, no embedding
    assert sorted((f.face_id, f.reason) for f in check.failures) == sorted(
        [(moved_id, "missing"), (changed_id, "changed")]
    )
    with pytest.raises(FaceIndexError):
        Gallery(ws)

    assert cli_main(["faces", "reembed", "-w", str(ws.root)]) == 1  # 1: some faces failed
    out, err = capsys.readouterr()
    assert f"face {moved_id} " in err and str(photos / moved_name) in err and "missing" in err
    assert f"face {changed_id} " in err and "changed" in err
    assert "6 of 8 faces re-embedded" in out

    gallery = Gallery(ws)
    try:
        excluded = {f["face_id"]: f for f in gallery.excluded_faces()}
        assert excluded.keys() == {moved_id, changed_id}
        assert excluded[moved_id]["excluded"] == "missing"
        assert excluded[changed_id]["excluded"] == "changed"
        assert set(gallery.index.ids().tolist()) == set(gallery_rows(ws)) - {moved_id, changed_id}
        # the excluded faces keep their rows and links, but no search returns them
        result = gallery.search(moved_to / moved_name, case="2026-FT-0003", purpose="test", k=8)
        assert moved_id not in {c.face_id for c in result.candidates}
    finally:
        gallery.close()
    entry = ws.audit.search(action="face.reembed")[-1]
    assert entry["params"]["failed"] == 2
    assert sorted(entry["params"]["failed_faces"]) == sorted([moved_id, changed_id])

    # found again in its new folder (same SHA-256): a rerun retries only the excluded faces
    report = reembed_gallery(ws, path_map=[(str(photos), str(moved_to))])
    assert report.faces == 2 and report.migrated == 1
    assert [(f.face_id, f.reason) for f in report.failures] == [(changed_id, "changed")]
    gallery = Gallery(ws)
    try:
        assert moved_id in gallery.index.ids().tolist()
        assert gallery.store.faces([moved_id])[moved_id].photo_path == str(moved_to / moved_name)
        top = gallery.search(
            unseen_photo("Laura_Bush"), case="2026-FT-0003", purpose="test", k=3
        ).candidates[0]
        assert top.entity_id == "person:Laura_Bush" and top.above_threshold
    finally:
        gallery.close()


def test_a_cancelled_run_changes_nothing_and_a_rerun_resumes(old_gallery: dict[str, Any]) -> None:
    from core.progress import CancelToken, Progress

    ws = old_gallery["ws"]
    before = gallery_rows(ws)
    cancel = CancelToken()

    def cancel_after_first_photo(p: Progress) -> None:
        if not p.message.startswith("checked") and p.done >= 1:
            cancel.cancel()

    report = reembed_gallery(ws, progress=cancel_after_first_photo, cancel=cancel)
    assert report.cancelled and not report.switched
    assert 1 <= report.migrated < len(before)
    assert gallery_rows(ws) == before  # the gallery itself is untouched
    with pytest.raises(FaceIndexError, match="faces reembed"):
        Gallery(ws)
    assert ws.audit.search(action="face.reembed")[-1]["params"]["cancelled"] is True

    rerun = reembed_gallery(ws)
    assert rerun.switched and rerun.resumed == report.migrated
    assert (rerun.migrated, rerun.failed) == (len(before), 0)
    Gallery(ws).close()


def test_a_crash_inside_the_switch_leaves_the_old_gallery_and_one_after_it_is_repaired(
    old_gallery: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = old_gallery["ws"]
    before = gallery_rows(ws)
    db = Path(ws.faces_dir) / "gallery.sqlite"
    last = max(before)
    con = sqlite3.connect(db)
    # fails the switch transaction on its last face, after the others were updated
    con.execute(
        f"CREATE TRIGGER crash BEFORE UPDATE OF descriptor ON faces "
        f"WHEN NEW.face_id = {last} BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
    )
    con.commit()
    with pytest.raises(sqlite3.DatabaseError, match="simulated crash"):
        reembed_gallery(ws)
    assert gallery_rows(ws) == before
    with pytest.raises(FaceIndexError, match="faces reembed"):
        Gallery(ws)
    con.execute("DROP TRIGGER crash")
    con.commit()
    con.close()

    # the rerun takes every descriptor from the staging table (nothing is embedded again);
    # this time the process dies after the switch, before the new index is saved
    def killed(self: Gallery, kind: str | None = None) -> int:
        raise KeyboardInterrupt("killed before the index save")

    monkeypatch.setattr(Gallery, "rebuild", killed)
    with pytest.raises(KeyboardInterrupt):
        reembed_gallery(ws)
    monkeypatch.undo()
    entry = ws.audit.search(action="face.reembed")[-1]["params"]
    assert (entry["resumed"], entry["migrated"], entry["switched"], entry["index_saved"]) == (
        len(before),
        len(before),
        True,
        False,
    )
    # the index file on disk still holds the old descriptors: opening rebuilds it from the
    # gallery, so searches use the new ones
    gallery = Gallery(ws)
    try:
        ids, vectors = gallery.store.all_vectors()
        assert sorted(gallery.index.ids().tolist()) == sorted(ids.tolist()) == sorted(before)
        sims, found = gallery.index.search(vectors, 1)  # the index holds the new descriptors
        assert found[:, 0].tolist() == ids.tolist() and sims.min() > 0.999
        top = gallery.search(
            unseen_photo("Colin_Powell"), case="2026-FT-0004", purpose="test", k=1
        ).candidates[0]
        assert top.entity_id == "person:Colin_Powell" and top.above_threshold
    finally:
        gallery.close()
    assert cli_main(["faces", "reembed", "-w", str(ws.root), "--json"]) == 0
    assert '"faces": 0' in capsys.readouterr().out  # nothing left to do


def test_reembedding_needs_the_ingest_permission(workspace: Workspace, tmp_path: Path) -> None:
    from tests.trust_fixtures import as_user, staff

    staff(workspace)
    enrol_plain(workspace, tmp_path / "photos", names=[COUPLE])
    analyst = as_user(workspace, "ana")
    with pytest.raises(PermissionDeniedError, match="'ingest'"):
        reembed_gallery(analyst)
    denied = workspace.audit.search(action="access.denied")[-1]
    assert denied["user"] == "ana" and denied["params"]["action"] == "face.reembed"
    with pytest.raises(FaceIndexError):
        Gallery(analyst)

    supervisor = as_user(workspace, "sup")
    report = reembed_gallery(supervisor)
    assert report.switched and report.migrated == 2
    assert workspace.audit.search(action="face.reembed")[-1]["user"] == "sup"
    supervisor.close()

    # enrolment, which re-embedding mirrors, needs the same permission
    gallery = Gallery(analyst)
    try:
        with pytest.raises(PermissionDeniedError, match="'ingest'"):
            gallery.enroll_faces(plain_analyses()["Colin_Powell_0001.jpg"], record_uid="r:x")
        assert len(gallery) == 2
    finally:
        gallery.close()
        analyst.close()
    assert workspace.audit.search(action="access.denied")[-1]["params"]["action"] == "face.enroll"


def test_box_overlap_and_path_mapping() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (10, 10, 20, 20)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    mapping = [("/old/photos", "/mnt/new")]
    assert map_path("/old/photos/a/b.jpg", mapping) == "/mnt/new/a/b.jpg"
    assert map_path("/old/photos-2/b.jpg", mapping) == "/old/photos-2/b.jpg"
