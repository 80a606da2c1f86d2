"""The face pipeline with the real dlib models on the shared photos (../shared/data/faces)."""

from __future__ import annotations

import functools
import io
import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.progress import CancelToken, Progress
from facematch.batch import embed_files
from facematch.calibration import load_calibration
from facematch.errors import FaceError, NoFaceError
from facematch.pipeline import FacePipeline, ImageFaces, PipelineOptions
from tests.conftest import faces_dir

FACES = faces_dir()
pytestmark = pytest.mark.skipif(
    FACES is None,
    reason="shared face photos absent (set SUPERBRAIN_FACES_DIR to "
    "../shared/data/faces with lfw-small/ and multi/)",
)


# descriptors compared with the shipped threshold must be computed the way it was measured
CALIBRATED = load_calibration().pipeline_options()


def lfw_small() -> dict[str, list[Path]]:
    assert FACES is not None
    root = FACES / "lfw-small"
    return {d.name: sorted(d.glob("*.jpg")) for d in sorted(root.iterdir()) if d.is_dir()}


@functools.cache
def analysed_lfw_small() -> dict[str, list[ImageFaces]]:
    """Every lfw-small photo analysed once per test session (two worker processes)."""
    people = lfw_small()
    paths = [p for photos in people.values() for p in photos]
    progress: list[Progress] = []
    items = {
        item.path: item
        for item in embed_files(paths, CALIBRATED, workers=2, progress=progress.append)
    }
    assert progress and progress[-1].done == len(paths) == progress[-1].total
    out: dict[str, list[ImageFaces]] = {}
    for name, photos in people.items():
        out[name] = []
        for p in photos:
            item = items[str(p)]
            assert item.ok, item.error
            assert item.result is not None
            out[name].append(item.result)
    return out


@pytest.fixture
def small_faces() -> dict[str, list[ImageFaces]]:
    return analysed_lfw_small()


def test_same_person_pairs_score_above_threshold_and_strangers_below(
    small_faces: dict[str, list[ImageFaces]],
) -> None:
    threshold = load_calibration().threshold
    vectors = {
        name: [img.nearest_centre().unit_vector for img in imgs]
        for name, imgs in small_faces.items()
    }
    same = [float(a @ b) for vs in vectors.values() for a, b in itertools.combinations(vs, 2)]
    different = [
        float(a @ b)
        for (n1, v1), (n2, v2) in itertools.combinations(vectors.items(), 2)
        for a in v1
        for b in v2
    ]
    assert len(same) == 100 and len(different) == 1125
    same_ok = np.mean(np.array(same) >= threshold)
    diff_ok = np.mean(np.array(different) < threshold)
    assert same_ok >= 0.95, f"only {same_ok:.0%} of same-person pairs reach {threshold}"
    assert diff_ok >= 0.99, f"only {diff_ok:.1%} of different-person pairs stay below"


def test_couple_yields_two_faces_with_boxes_and_quality() -> None:
    assert FACES is not None
    found = FacePipeline(CALIBRATED).analyse(FACES / "multi" / "couple.jpg")
    assert len(found.faces) == 2
    left, right = found.faces
    assert left.box[2] <= right.box[0] or left.box[0] < right.box[0]  # ordered left to right
    for face in found.faces:
        assert 0 < face.quality <= 1 and face.size > 50
        assert 0 <= face.box[0] < face.box[2] <= found.width
        assert 0 <= face.box[1] < face.box[3] <= found.height
        assert face.descriptor is not None and face.descriptor.shape == (128,)
        assert len(face.landmarks) == 5
    # two different people
    assert float(left.unit_vector @ right.unit_vector) < load_calibration().threshold


def test_many_faces_are_all_detected() -> None:
    assert FACES is not None
    found = FacePipeline().detect(FACES / "multi" / "selfie-many-people.jpg")
    assert len(found.faces) >= 3
    assert all(f.descriptor is None for f in found.faces)  # detect() does not describe


def test_webp_named_jpg_decodes_and_has_a_face() -> None:
    assert FACES is not None
    pipeline = FacePipeline()
    image = pipeline.load(FACES / "multi" / "webp-named-jpg.jpg")
    assert image.format == "WEBP"
    assert len(pipeline.analyse(image).faces) >= 1


def test_greyscale_cmyk_and_16_bit_versions_match_the_colour_photo(tmp_path: Path) -> None:
    photo = lfw_small()["Tony_Blair"][0]
    pipeline = FacePipeline()
    reference = pipeline.analyse(photo).nearest_centre().unit_vector
    rgb = Image.open(photo).convert("RGB")
    variants = {
        "grey.png": rgb.convert("L"),
        "cmyk.jpg": rgb.convert("CMYK"),
        "deep.png": Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257),
    }
    threshold = load_calibration().threshold
    for name, im in variants.items():
        path = tmp_path / name
        im.save(path)
        face = pipeline.analyse(path).nearest_centre()
        assert float(face.unit_vector @ reference) >= threshold, name


def test_no_face_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "wall.png"
    Image.new("RGB", (320, 240), (200, 190, 180)).save(path)
    pipeline = FacePipeline()
    assert pipeline.detect(path).faces == ()
    with pytest.raises(NoFaceError, match=r"wall\.png"):
        pipeline.analyse(path)


def test_a_batch_reports_each_bad_file_and_carries_on(tmp_path: Path) -> None:
    good = lfw_small()["Colin_Powell"][:2]
    text = tmp_path / "notes.jpg"
    text.write_text("no image here", encoding="utf-8")
    buf = io.BytesIO()
    Image.open(good[0]).save(buf, "JPEG")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(buf.getvalue()[:2000])
    wall = tmp_path / "wall.png"
    Image.new("RGB", (200, 200), (90, 90, 90)).save(wall)
    paths = [text, good[0], cut, wall, tmp_path / "gone.jpg", good[1]]
    items = {Path(i.path).name: i for i in embed_files(paths, workers=2)}
    assert len(items) == 6
    assert items["notes.jpg"].error_kind == "NotAnImageError"
    assert items["cut.jpg"].error_kind == "TruncatedImageError"
    assert items["wall.png"].error_kind == "NoFaceError"
    assert items["gone.jpg"].error_kind == "NotAnImageError"
    for name in ("notes.jpg", "cut.jpg", "wall.png", "gone.jpg"):
        assert name in str(items[name].error)
    assert items[good[0].name].ok and items[good[1].name].ok


def test_cancel_stops_a_batch() -> None:
    paths = lfw_small()["Laura_Bush"]
    token = CancelToken()
    token.cancel()
    assert list(embed_files(paths, workers=1, cancel=token)) == []
    token = CancelToken()
    seen = []
    for item in embed_files(paths * 2, workers=2, cancel=token):
        seen.append(item)
        token.cancel()
    assert 1 <= len(seen) < len(paths) * 2


def test_describe_a_box_the_user_drew() -> None:
    photo = lfw_small()["Hugo_Chavez"][0]
    pipeline = FacePipeline()
    found = pipeline.analyse(photo)
    face = found.nearest_centre()
    again = pipeline.describe_box(pipeline.load(photo), face.box)
    assert float(again.unit_vector @ face.unit_vector) > 0.97


def test_flip_descriptor_is_the_mean_of_the_face_and_its_mirror_image() -> None:
    photo = next(iter(lfw_small().values()))[0]
    plain, mirror, flip = (
        FacePipeline(PipelineOptions(views=v)).analyse(photo).nearest_centre()
        for v in ("plain", "mirror", "flip")
    )
    assert plain.descriptor is not None and mirror.descriptor is not None
    assert flip.descriptor is not None
    # what lets an LFW evaluation derive flip from cached plain and mirror runs
    assert np.array_equal(flip.descriptor, (plain.descriptor + mirror.descriptor) / 2)
    assert float(plain.unit_vector @ mirror.unit_vector) > load_calibration().threshold
    assert not np.allclose(plain.descriptor, mirror.descriptor)
    assert flip.box == plain.box and flip.quality == plain.quality
    keys = {PipelineOptions(views=v).descriptor_key() for v in ("plain", "mirror", "flip")}
    assert len(keys) == 3, "a gallery must never mix descriptors of different views"
    with pytest.raises(FaceError, match="sideways"):
        PipelineOptions(views="sideways")


def test_the_cnn_detector_finds_a_face_hog_misses() -> None:
    assert FACES is not None
    photo = FACES / "lfw" / "Jelena_Dokic" / "Jelena_Dokic_0004.jpg"  # HOG misses this face
    if not photo.exists():
        pytest.skip(f"{photo} absent (the full LFW folder is not in the shared data)")
    assert FacePipeline(PipelineOptions(cnn_fallback_side=0)).detect(photo).faces == ()
    found = FacePipeline().detect(photo).faces
    assert len(found) == 1 and found[0].detector == "cnn"
    left, top, right, bottom = found[0].box
    assert left < 125 < right and top < 125 < bottom  # LFW centres the face
    assert PipelineOptions().key() != PipelineOptions(cnn_fallback_side=0).key()
