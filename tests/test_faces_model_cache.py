"""Issue #15: opening Faces must not stall the window. The face models' slow first forms (dlib's
detector built from text, the ONNX network built by importing ``onnx``, both inside C calls
that hold the GIL) are cached per machine; the cached forms give the very same detections and
descriptors, and a damaged cache is rebuilt, never trusted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facematch import model_cache
from tests.conftest import faces_dir

REPO = Path(__file__).resolve().parent.parent
FACES = faces_dir()


def test_the_cached_detector_finds_the_same_faces_and_is_built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dlib

    from facematch.images import read_image

    monkeypatch.setenv("SUPERBRAIN_CACHE_DIR", str(tmp_path))
    reference = dlib.get_frontal_face_detector()
    built = model_cache.frontal_detector(dlib)
    cached_files = list(tmp_path.glob("*.svm"))
    assert len(cached_files) == 1
    calls: list[int] = []
    original = dlib.get_frontal_face_detector
    monkeypatch.setattr(dlib, "get_frontal_face_detector", lambda: calls.append(1) or original())
    loaded = model_cache.frontal_detector(dlib)
    assert calls == []  # from the cache, not rebuilt
    photos = sorted((FACES / "lfw-small").rglob("*.jpg"))[:6] if FACES else []
    rng = np.random.default_rng(5)
    images = [read_image(p).pixels for p in photos] or [
        rng.integers(0, 255, (160, 160, 3), dtype=np.uint8)
    ]
    found = 0
    for image in images:
        want = reference.run(image, 1, 0.0)
        for detector in (built, loaded):
            rects, scores, kinds = detector.run(image, 1, 0.0)
            assert [(r.left(), r.top(), r.right(), r.bottom()) for r in rects] == [
                (r.left(), r.top(), r.right(), r.bottom()) for r in want[0]
            ]
            assert list(scores) == list(want[1]) and list(kinds) == list(want[2])
        found += len(want[0])
    if FACES:
        assert found >= len(images)  # real faces were compared, not empty results

    cached_files[0].write_bytes(b"damaged")
    assert (
        model_cache.frontal_detector(dlib).run(images[0], 1, 0.0)[1]
        == reference.run(images[0], 1, 0.0)[1]
    )  # rebuilt
    assert calls == [1]


_DESCRIBE = """
import hashlib, sys
import numpy as np
if sys.argv[1] == "without-onnx":
    sys.modules["onnx"] = None  # as if not installed
from facematch.pipeline import ENCODER_FILE, models_dir
from facematch.resnet import OnnxResNet
net = OnnxResNet(models_dir() / ENCODER_FILE)
chips = np.random.default_rng(3).integers(0, 255, (2, 150, 150, 3), dtype=np.uint8)
print(hashlib.sha256(net.describe(chips).tobytes()).hexdigest())
print("onnx" in sys.modules and sys.modules["onnx"] is not None)
"""


def _describe(cache: Path, mode: str) -> list[str]:
    env = {**os.environ, "SUPERBRAIN_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _DESCRIBE, mode],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_the_cached_network_needs_no_onnx_package_and_describes_bit_for_bit(tmp_path: Path) -> None:
    first = _describe(tmp_path, "build")
    assert first[1] == "True"  # built: onnx was imported
    assert len(list(tmp_path.glob("face-resnet-*.onnx"))) == 1
    again = _describe(tmp_path, "without-onnx")
    assert again == [first[0], "False"]  # same descriptors, onnx never imported
    model = next(tmp_path.glob("face-resnet-*.onnx"))
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a damaged cache is rebuilt, not loaded
    model.write_bytes(bytes(data))
    assert _describe(tmp_path, "build") == first
    assert _describe(tmp_path, "without-onnx") == [first[0], "False"]


def test_an_unwritable_cache_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dlib

    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("SUPERBRAIN_CACHE_DIR", str(blocked / "cache"))
    detector = model_cache.frontal_detector(dlib)
    image = np.zeros((80, 80, 3), dtype=np.uint8)
    assert detector.run(image, 0, 0.0)[0] is not None
