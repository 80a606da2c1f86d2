"""The face ResNet on ONNX Runtime gives dlib's descriptors (same weights, same network)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facematch.errors import FaceError
from facematch.pipeline import ENCODER_FILE, FacePipeline, PipelineOptions, models_dir
from facematch.resnet import OnnxResNet, build_onnx, parse_weights, read_weights
from tests.conftest import faces_dir

REPO = Path(__file__).resolve().parent.parent
FACES = faces_dir()
# dlib and ONNX Runtime sum the convolutions in different orders; descriptor values are ~0.1
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def engines() -> tuple[OnnxResNet, object]:
    import dlib

    path = models_dir() / ENCODER_FILE
    return OnnxResNet(path), dlib.face_recognition_model_v1(str(path))


def _dlib(encoder: object, chips: np.ndarray) -> np.ndarray:
    return np.array(
        [encoder.compute_face_descriptor(c) for c in chips],  # type: ignore[attr-defined]
        dtype=np.float32,
    )


def test_descriptors_equal_dlibs_on_arbitrary_chips(engines: tuple[OnnxResNet, object]) -> None:
    """Noise, flat grey and saturated chips exercise every channel and the ReLUs' both sides."""
    onnx, dlib_encoder = engines
    rng = np.random.default_rng(5)
    chips = np.concatenate(
        [
            rng.integers(0, 256, size=(4, 150, 150, 3), dtype=np.uint8),
            np.full((1, 150, 150, 3), 128, dtype=np.uint8),
            np.zeros((1, 150, 150, 3), dtype=np.uint8),
            np.full((1, 150, 150, 3), 255, dtype=np.uint8),
        ]
    )
    ours, theirs = onnx.describe(chips), _dlib(dlib_encoder, chips)
    assert ours.shape == (7, 128) and ours.dtype == np.float32
    assert np.abs(ours - theirs).max() < TOLERANCE
    # one chip alone gives the same as in a batch (the flip view relies on it)
    assert np.array_equal(onnx.describe(chips[2]), ours[2])


@pytest.mark.skipif(FACES is None, reason="shared face photos absent (set SUPERBRAIN_FACES_DIR)")
def test_descriptors_equal_dlibs_on_real_faces(engines: tuple[OnnxResNet, object]) -> None:
    import dlib

    assert FACES is not None
    onnx, dlib_encoder = engines
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(models_dir() / "shape_predictor_5_face_landmarks.dat"))
    chips = []
    for path in sorted((FACES / "lfw-small").glob("*/*.jpg"))[:24]:
        pixels = dlib.load_rgb_image(str(path))
        for rect in detector(pixels, 1)[:1]:
            chips.append(dlib.get_face_chip(pixels, predictor(pixels, rect), 150, 0.25))
    assert len(chips) >= 20
    batch = np.stack(chips)
    ours, theirs = onnx.describe(batch), _dlib(dlib_encoder, batch)
    assert np.abs(ours - theirs).max() < TOLERANCE
    # what matching uses: the cosine of the unit vectors agrees to far below any threshold step
    unit = ours / np.linalg.norm(ours, axis=1, keepdims=True)
    ref = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    assert np.abs(unit @ unit.T - ref @ ref.T).max() < 1e-5


@pytest.mark.skipif(FACES is None, reason="shared face photos absent (set SUPERBRAIN_FACES_DIR)")
def test_pipeline_engines_agree_on_the_flip_descriptor() -> None:
    """The shipped setting (photo + mirror) through the whole pipeline, ONNX against dlib."""
    assert FACES is not None
    photo = sorted((FACES / "lfw-small").glob("*/*.jpg"))[0]
    onnx = FacePipeline(PipelineOptions(views="flip"), engine="onnx")
    dlib = FacePipeline(PipelineOptions(views="flip"), engine="dlib")
    assert onnx.engine.startswith("onnxruntime") and dlib.engine == "dlib"
    ours, theirs = (p.analyse(photo).faces[0].descriptor for p in (onnx, dlib))
    assert ours is not None and theirs is not None
    assert np.abs(ours - theirs).max() < TOLERANCE
    # jittered descriptors stay with dlib (its own random jitter)
    assert FacePipeline(PipelineOptions(num_jitters=2), engine="onnx").engine == "dlib"


@pytest.mark.parametrize("missing", ["onnxruntime", "onnx"])
def test_without_onnx_runtime_dlib_describes(missing: str, tmp_path: Path) -> None:
    code = (
        "import sys, numpy as np\n"
        f"sys.modules[{missing!r}] = None  # as if not installed\n"
        "from facematch.pipeline import FacePipeline, _Models\n"
        "p = FacePipeline()\n"
        "print(p.engine)\n"
        "print(_Models.get().engine_note)\n"
        "chip = np.full((150, 150, 3), 120, dtype=np.uint8)\n"
        "print(p._descriptor(_Models.get(), chip).shape)\n"
    )
    # an empty model cache: a cached network would need no onnx package (test_faces_model_cache)
    env = {**os.environ, "SUPERBRAIN_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, env=env
    ).stdout.splitlines()
    assert out[0] == "dlib"
    assert f"{missing} is not installed" in out[1]
    assert out[2] == "(128,)"


def test_unknown_engine_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from facematch.pipeline import engine_setting

    monkeypatch.setenv("SUPERBRAIN_FACE_ENGINE", "tensorflow")
    with pytest.raises(FaceError, match="SUPERBRAIN_FACE_ENGINE='tensorflow'"):
        engine_setting()
    with pytest.raises(FaceError, match="SUPERBRAIN_FACE_ENGINE='tensorflow'"):
        FacePipeline()
    monkeypatch.setenv("SUPERBRAIN_FACE_ENGINE", "dlib")
    assert FacePipeline().engine == "dlib"


def test_a_damaged_model_file_is_named(tmp_path: Path) -> None:
    real = (models_dir() / ENCODER_FILE).read_bytes()
    cut = tmp_path / "cut.dat"
    cut.write_bytes(real[: len(real) // 2])
    with pytest.raises(FaceError, match=r"cut\.dat"):
        read_weights(cut)
    other = tmp_path / "other.dat"
    other.write_bytes((models_dir() / "shape_predictor_5_face_landmarks.dat").read_bytes())
    with pytest.raises(FaceError, match=r"other\.dat"):
        read_weights(other)
    with pytest.raises(FaceError, match=r"missing\.dat"):
        read_weights(tmp_path / "missing.dat")


def test_chips_of_the_wrong_shape_are_refused(engines: tuple[OnnxResNet, object]) -> None:
    onnx, _ = engines
    with pytest.raises(FaceError, match="uint8"):
        onnx.describe(np.zeros((2, 100, 100, 3), dtype=np.uint8))
    with pytest.raises(FaceError, match="float32"):
        onnx.describe(np.zeros((150, 150, 3), dtype=np.float32))


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return (models_dir() / ENCODER_FILE).read_bytes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.one_of(st.integers(0, 60_000), st.integers(-140_000, -1)), st.integers(0, 255)
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_corrupted_model_file_gives_face_error_or_weights(
    model_bytes: bytes, edits: list[tuple[int, int]]
) -> None:
    """Byte edits in the layer headers (the first layers and the last ones, where the metadata
    is) either still parse -- a changed weight is still a weight -- or raise FaceError naming
    the file; never another exception."""
    data = bytearray(model_bytes)
    for at, value in edits:
        data[at] = value
    try:
        build_onnx(parse_weights(bytes(data), Path("edited.dat")))
    except FaceError as exc:
        assert "edited.dat" in str(exc) or "face ResNet" in str(exc)
