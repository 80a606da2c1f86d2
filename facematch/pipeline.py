"""The face pipeline: detect every face (dlib HOG), align on 5 landmarks, describe (ResNet 128-d).

This is the only module (with the worker entry points in :mod:`facematch.batch`) that imports
dlib, and it does so lazily: importing :mod:`facematch` stays cheap. The models come from the
``face_recognition_models`` package; nothing is downloaded at run time.

The descriptor network runs on ONNX Runtime (:mod:`facematch.resnet`, the same weights read
from dlib's model file, ~12x faster on one core than the ``dlib-bin`` wheel's own CPU code);
dlib runs it when ``SUPERBRAIN_FACE_ENGINE=dlib``, when jittered descriptors are asked for
(dlib's own jitter), or when ONNX Runtime cannot load -- the descriptors agree to ~1e-6, so
galleries and thresholds serve both.

dlib's network keeps per-call buffers, so calls into one loaded model are serialised with a lock:
the console may call :meth:`FacePipeline.detect` and :meth:`FacePipeline.analyse` from worker
threads. For throughput, use :func:`facematch.batch.embed_files` (one process per core).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from facematch.errors import FaceError, NoFaceError
from facematch.images import DEFAULT_MAX_PIXELS, DecodedImage, read_image

log = logging.getLogger(__name__)

MODEL_NAME = "dlib_face_recognition_resnet_model_v1+shape_predictor_5_face_landmarks"
CHIP_SIZE = 150
PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"
ENCODER_FILE = "dlib_face_recognition_resnet_model_v1.dat"
CNN_DETECTOR_FILE = "mmod_human_face_detector.dat"
CHIP_PADDING = 0.25

VIEWS = ("plain", "flip", "mirror")

Box = tuple[int, int, int, int]  # left, top, right, bottom (pixels, right/bottom exclusive)


@dataclass(frozen=True)
class PipelineOptions:
    """How photos are turned into descriptors; part of every cache key and index manifest.

    Attributes
    ----------
    num_jitters:
        Descriptor averaged over this many randomly jittered copies of the aligned face
        (0 = plain). Costs ~1 extra network pass per jitter; more stable descriptors.
    views:
        Which views of the aligned face are described: ``"plain"`` (one network pass),
        ``"flip"`` (the face and its mirror image, descriptors averaged: two passes) or
        ``"mirror"`` (the mirror image only; lets an evaluation derive ``flip`` from a
        cached ``plain`` run).
    upsample:
        HOG upsampling; ``None`` chooses by size (1 for images up to 800 px on the long
        side, else 0).
    retry_upsample:
        When no face is found, try again with one more upsampling step.
    cnn_fallback_side:
        When HOG still finds no face, run dlib's CNN face detector (MMOD, shipped in
        ``face_recognition_models``) on the image shrunk to at most this long side; ``0``
        turns it off. It finds turned, tilted and badly lit faces that HOG misses, at ~0.4 s
        for a 250 px image and ~2 s at 640x480 -- paid only by images where HOG found
        nothing.
    max_detect_side:
        Large images are shrunk to this long side for detection only (alignment and
        descriptors use full resolution).
    try_rotations:
        When detection is weak (no face, only the CNN fallback's, or a HOG score below
        ``ROTATION_TRIGGER_SCORE``), also look for an upright face in the photo turned by 90,
        180 and 270 degrees (a phone photo saved sideways without its EXIF tag), and describe
        the face in the turn where HOG finds it clearly better (``Face.rotation``).
    max_pixels:
        Decompression-bomb guard, see :func:`facematch.images.read_image`.
    """

    num_jitters: int = 0
    views: str = "plain"
    upsample: int | None = None
    retry_upsample: bool = True
    cnn_fallback_side: int = 640
    max_detect_side: int = 2000
    max_pixels: int = DEFAULT_MAX_PIXELS
    try_rotations: bool = True

    def __post_init__(self) -> None:
        if self.views not in VIEWS:
            raise FaceError(f"descriptor views {self.views!r}: one of {', '.join(VIEWS)}")
        if self.num_jitters < 0:
            raise FaceError(f"num_jitters {self.num_jitters}: must be 0 or more")

    def key(self) -> str:
        """A stable string naming the model and options (cache keys, index manifests)."""
        up = "auto" if self.upsample is None else str(self.upsample)
        cnn = f"|cnn={self.cnn_fallback_side}" if self.cnn_fallback_side else ""
        rot = "" if self.try_rotations else "|rot=0"  # the default keeps earlier keys valid
        return (
            f"{self.descriptor_key()}|up={up}|retry={int(self.retry_upsample)}{cnn}"
            f"|side={self.max_detect_side}{rot}"
        )

    def descriptor_key(self) -> str:
        """What makes two descriptors comparable (the index refuses mixing these)."""
        views = "" if self.views == "plain" else f"|views={self.views}"
        return f"{MODEL_NAME}|jit={self.num_jitters}{views}"

    @property
    def network_passes(self) -> int:
        """ResNet passes per face (~6 ms each on ONNX Runtime, ~80 ms on dlib's own engine)."""
        return max(1, self.num_jitters) * (2 if self.views == "flip" else 1)


@dataclass(frozen=True)
class Face:
    """One face found in one image.

    Attributes
    ----------
    index:
        Position of the face in the image (faces are ordered left to right, then top down).
    box:
        ``(left, top, right, bottom)`` in pixels of the upright image, clipped to the image.
    size:
        The shorter side of the detection box in pixels (before clipping).
    score:
        Detector confidence: HOG's (higher is more face-like; around 0 is marginal), or the
        CNN's (around 1 for a clear face) when ``detector`` is ``"cnn"``.
    quality:
        0..1 heuristic: the geometric mean of ``quality_parts`` size, detector score,
        sharpness of the aligned face and frontal pose, times ``upright`` (a level eye line).
        Below ~0.3 treat matches with suspicion.
    landmarks:
        The 5 alignment points ``((x, y), ...)``: eye corners and the base of the nose.
    descriptor:
        128-d ResNet descriptor (raw dlib output) or ``None`` when only detected.
    rotation:
        Degrees (counter-clockwise: 90, 180, 270) the photo was turned to find this face
        upright; 0 for a face found as the photo is. ``box`` and ``landmarks`` are always in
        the photo's own coordinates.
    """

    index: int
    box: Box
    size: int
    score: float
    quality: float
    quality_parts: dict[str, float] = field(default_factory=dict)
    landmarks: tuple[tuple[int, int], ...] = ()
    descriptor: np.ndarray | None = None
    detector: str = "hog"
    rotation: int = 0

    @property
    def unit_vector(self) -> np.ndarray:
        """The descriptor scaled to unit length (what the index and thresholds use)."""
        if self.descriptor is None:
            raise FaceError(f"face {self.index} has no descriptor (detected only)")
        return normalise(self.descriptor)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view (without the descriptor)."""
        d = asdict(self)
        d.pop("descriptor")
        d["box"] = list(self.box)
        d["landmarks"] = [list(p) for p in self.landmarks]
        return d


@dataclass(frozen=True)
class ImageFaces:
    """Every face of one decoded image."""

    source: str
    sha256: str
    width: int
    height: int
    faces: tuple[Face, ...]

    def nearest_centre(self) -> Face:
        """The face whose box centre is nearest the image centre (LFW's convention)."""
        if not self.faces:
            raise NoFaceError(f"{self.source!r}: no face found")
        cx, cy = self.width / 2, self.height / 2
        return min(
            self.faces,
            key=lambda f: (
                ((f.box[0] + f.box[2]) / 2 - cx) ** 2 + ((f.box[1] + f.box[3]) / 2 - cy) ** 2
            ),
        )


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Scale vectors (1-d or rows of a 2-d array) to unit length, as ``float32``."""
    v = np.asarray(vectors, dtype=np.float32)
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(norm, 1e-12)).astype(np.float32)


def models_dir() -> Path:
    """The ``models`` folder of the ``face_recognition_models`` package.

    Found without importing the package: its ``__init__`` needs ``pkg_resources``, which
    recent setuptools no longer ships.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceError(
            "the face_recognition_models package is not installed "
            "(pip install face-recognition-models)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (PREDICTOR_FILE, ENCODER_FILE):
        if not (folder / name).is_file():
            raise FaceError(f"{str(folder / name)!r}: face model file missing")
    return folder


ENGINES = ("onnx", "dlib")


def engine_setting() -> str:
    """Which engine runs the descriptor network: ``SUPERBRAIN_FACE_ENGINE`` (default onnx)."""
    value = os.environ.get("SUPERBRAIN_FACE_ENGINE", "onnx").strip().lower() or "onnx"
    if value not in ENGINES:
        raise FaceError(f"SUPERBRAIN_FACE_ENGINE={value!r}: one of {', '.join(ENGINES)}")
    return value


class _Models:
    """dlib models loaded once per process, behind a lock."""

    _lock = threading.Lock()
    _instance: _Models | None = None

    def __init__(self) -> None:
        import dlib

        from facematch.model_cache import frontal_detector

        models = models_dir()
        self.dlib = dlib
        self.detector = frontal_detector(dlib)  # cached: 1 ms instead of ~0.4 s in the GIL
        self.predictor = dlib.shape_predictor(str(models / PREDICTOR_FILE))
        self._encoder: Any = None  # dlib's own descriptor network, loaded when first needed
        self.call_lock = threading.Lock()
        self._cnn: Any = None
        self._resnet: Any = None  # facematch.resnet.OnnxResNet, loaded on first use
        self.engine_note = ""  # why ONNX Runtime is not describing faces, when it is not

    def onnx_resnet(self) -> Any:
        """The descriptor network on ONNX Runtime, or None (``engine_note`` says why)."""
        with self._lock:
            if self._resnet is None and not self.engine_note:
                try:
                    from facematch.resnet import OnnxResNet

                    self._resnet = OnnxResNet(models_dir() / ENCODER_FILE)
                except FaceError as exc:
                    self.engine_note = f"ONNX Runtime unavailable, dlib describes faces: {exc}"
                    log.warning("%s", self.engine_note)
            return self._resnet

    @property
    def encoder(self) -> Any:
        """dlib's descriptor network: the reference engine, jittered descriptors and the
        fallback when ONNX Runtime is unavailable (ONNX Runtime describes faces otherwise)."""
        with self._lock:
            if self._encoder is None:
                path = models_dir() / ENCODER_FILE
                try:
                    self._encoder = self.dlib.face_recognition_model_v1(str(path))
                except RuntimeError as exc:
                    raise FaceError(
                        f"{str(path)!r}: cannot load the dlib face model: {exc}"
                    ) from None
            return self._encoder

    @property
    def cnn_detector(self) -> Any:
        """dlib's MMOD CNN face detector, loaded on first use (most photos never need it)."""
        if self._cnn is None:
            path = models_dir() / CNN_DETECTOR_FILE
            if not path.is_file():
                raise FaceError(f"{str(path)!r}: face model file missing")
            self._cnn = self.dlib.cnn_face_detection_model_v1(str(path))
        return self._cnn

    @classmethod
    def get(cls) -> _Models:
        with cls._lock:
            if cls._instance is None:
                try:
                    cls._instance = _Models()
                except (ImportError, RuntimeError, OSError) as exc:  # dlib's own errors
                    raise FaceError(f"cannot load the dlib face models: {exc}") from None
            return cls._instance


class FacePipeline:
    """Detect, align and describe faces. Thread-safe; one instance can serve the whole app.

    Parameters
    ----------
    options:
        See :class:`PipelineOptions`.
    """

    def __init__(
        self, options: PipelineOptions | None = None, *, engine: str | None = None
    ) -> None:
        self.options = options or PipelineOptions()
        self._engine = engine or engine_setting()
        if self._engine not in ENGINES:
            raise FaceError(f"face engine {self._engine!r}: one of {', '.join(ENGINES)}")

    def with_options(self, **changes: Any) -> FacePipeline:
        return FacePipeline(replace(self.options, **changes), engine=self._engine)

    @property
    def _models(self) -> _Models:
        return _Models.get()

    # -- public --------------------------------------------------------------------------------
    def load(self, source: str | Path | bytes, *, label: str | None = None) -> DecodedImage:
        """Decode a photo (see :func:`facematch.images.read_image`)."""
        return read_image(source, max_pixels=self.options.max_pixels, label=label)

    def detect(self, source: str | Path | bytes | DecodedImage) -> ImageFaces:
        """Find every face (boxes, size, quality) without computing descriptors.

        Raises :class:`~facematch.errors.ImageError` subclasses for unusable files; an image
        without faces returns an empty ``faces`` tuple.
        """
        image = source if isinstance(source, DecodedImage) else self.load(source)
        return self._run(image, describe=False)

    def analyse(
        self, source: str | Path | bytes | DecodedImage, *, require_face: bool = True
    ) -> ImageFaces:
        """Detect every face and compute its descriptor.

        Raises
        ------
        NoFaceError
            When ``require_face`` and no face was found.
        """
        image = source if isinstance(source, DecodedImage) else self.load(source)
        result = self._run(image, describe=True)
        if require_face and not result.faces:
            raise NoFaceError(
                f"{image.source!r}: no face found ({image.width}x{image.height} pixels)"
            )
        return result

    def describe_box(self, image: DecodedImage, box: Box) -> Face:
        """Align and describe a face at a given box (e.g. one the user drew)."""
        models = self._models
        rect = models.dlib.rectangle(*[int(v) for v in box])
        with models.call_lock:
            face = self._describe(models, image.pixels, rect, 0, 0.0, "box", describe=True)
        return face

    # -- internals -----------------------------------------------------------------------------
    def _run(self, image: DecodedImage, *, describe: bool) -> ImageFaces:
        models = self._models
        pixels = image.pixels
        with models.call_lock:
            rotations = self.options.try_rotations
            found = self._detect(models, pixels, cnn=not rotations)
            turns = 0
            if rotations and _weak(found):
                # turned photos first: a HOG pass per turn is cheaper than the CNN fallback
                turns, turned = self._best_rotation(models, pixels, found)
                if turns:
                    found = turned
                elif not found:
                    found = self._detect(models, pixels)  # now with the CNN fallback
            work = np.ascontiguousarray(np.rot90(pixels, turns)) if turns else pixels
            faces = [
                self._describe(models, work, rect, i, score, detector, describe=describe)
                for i, (rect, score, detector) in enumerate(found)
            ]
        if turns:
            h, w = pixels.shape[:2]
            faces = [_unrotate(f, turns, w, h) for f in faces]
        return ImageFaces(image.source, image.sha256, image.width, image.height, tuple(faces))

    def _best_rotation(
        self, models: _Models, pixels: np.ndarray, found: list[tuple[Any, float, str]]
    ) -> tuple[int, list[Any]]:
        """The quarter turns (0-3) under which HOG finds the clearest upright face."""
        best_turns, best_found = 0, found
        best = max((s for _, s, d in found if d == "hog"), default=float("-inf"))
        for turns in (1, 2, 3):
            turned = np.ascontiguousarray(np.rot90(pixels, turns))
            candidate = self._detect(models, turned, cnn=False)
            score = max((s for _, s, _ in candidate), default=float("-inf"))
            if score >= ROTATION_ACCEPT_SCORE and score > best + ROTATION_MARGIN:
                best, best_turns, best_found = score, turns, candidate
        return best_turns, best_found

    def _detect(
        self, models: _Models, pixels: np.ndarray, cnn: bool = True
    ) -> list[tuple[Any, float, str]]:
        h, w = pixels.shape[:2]
        long_side = max(h, w)
        scale = 1.0
        work = pixels
        if long_side > self.options.max_detect_side:
            scale = self.options.max_detect_side / long_side
            work = _resize(pixels, scale)
        up = self.options.upsample
        if up is None:
            up = 1 if max(work.shape[:2]) <= 800 else 0
        rects, scores, _ = models.detector.run(work, up, 0.0)
        if (
            not len(rects)
            and self.options.retry_upsample
            and work.shape[0] * work.shape[1] * 4 ** (up + 1) <= 40_000_000
        ):
            rects, scores, _ = models.detector.run(work, up + 1, 0.0)
        detector = "hog"
        if not len(rects) and cnn and self.options.cnn_fallback_side:
            detector = "cnn"
            scale = min(1.0, self.options.cnn_fallback_side / long_side)
            work = pixels if scale == 1.0 else _resize(pixels, scale)
            found = models.cnn_detector(work, 0)
            rects = [d.rect for d in found]
            scores = [d.confidence for d in found]
        dlib = models.dlib
        out = []
        for rect, score in zip(rects, scores, strict=True):
            if scale != 1.0:
                rect = dlib.rectangle(
                    round(rect.left() / scale),
                    round(rect.top() / scale),
                    round(rect.right() / scale),
                    round(rect.bottom() / scale),
                )
            out.append((rect, float(score), detector))
        out.sort(key=lambda rs: (rs[0].left(), rs[0].top()))
        return out

    @property
    def engine(self) -> str:
        """What runs the descriptor network: ``"onnxruntime 1.x"`` or ``"dlib"``."""
        resnet = self._resnet(self._models)
        return f"onnxruntime {resnet.version}" if resnet is not None else "dlib"

    def _resnet(self, models: _Models) -> Any:
        """The ONNX network when it describes this pipeline's faces, else None (dlib does):
        dlib keeps jittered descriptors (its own random jitter)."""
        if self._engine != "onnx" or self.options.num_jitters:
            return None
        return models.onnx_resnet()

    def _descriptor(self, models: _Models, chip: np.ndarray) -> np.ndarray:
        """The descriptor of an aligned chip under the configured views (raw dlib scale)."""
        views, jitters = self.options.views, self.options.num_jitters
        resnet = self._resnet(models)
        if resnet is not None:
            if views == "plain":
                return np.asarray(resnet.describe(chip))
            if views == "mirror":
                return np.asarray(resnet.describe(_mirror(chip)))
            # one batch of two; each row equals its single-image pass bit for bit
            both = resnet.describe(np.stack([chip, _mirror(chip)]))
            return np.asarray((both[0] + both[1]) / 2)
        encode = models.encoder.compute_face_descriptor
        if views == "plain":
            return np.asarray(encode(chip, jitters), dtype=np.float32)
        mirrored = np.asarray(encode(_mirror(chip), jitters), dtype=np.float32)
        if views == "mirror":
            return mirrored
        # two separate passes (not one batch) so the result equals the mean of a cached plain
        # and a cached mirror run bit for bit; a batch of two costs the same on CPU
        plain = np.asarray(encode(chip, jitters), dtype=np.float32)
        return (plain + mirrored) / 2

    def _describe(
        self,
        models: _Models,
        pixels: np.ndarray,
        rect: Any,
        index: int,
        score: float,
        detector: str,
        *,
        describe: bool,
    ) -> Face:
        h, w = pixels.shape[:2]
        shape = models.predictor(pixels, rect)
        landmarks = tuple((shape.part(i).x, shape.part(i).y) for i in range(shape.num_parts))
        chip = models.dlib.get_face_chip(pixels, shape, CHIP_SIZE, CHIP_PADDING)
        descriptor = self._descriptor(models, chip) if describe else None
        size = int(min(rect.width(), rect.height()))
        box = (
            max(0, rect.left()),
            max(0, rect.top()),
            min(w, rect.right() + 1),
            min(h, rect.bottom() + 1),
        )
        parts = quality_parts(size, 2 * score - 1 if detector == "cnn" else score, chip, landmarks)
        base = [v for k, v in parts.items() if k != "upright"]
        # the geometric mean as before, scaled down for a face lying sideways
        quality = float(np.prod(base) ** (1 / len(base))) * parts.get("upright", 1.0)
        return Face(
            index=index,
            box=box,
            size=size,
            score=round(score, 4),
            quality=round(quality, 3),
            quality_parts=parts,
            landmarks=landmarks,
            descriptor=descriptor,
            detector=detector,
        )


#: Rotations are tried when the best HOG score is below this (or only the CNN found a face);
#: a turn is taken when its HOG score is at least ROTATION_ACCEPT_SCORE and beats the photo's
#: own by ROTATION_MARGIN. Upright LFW faces score 0.9-2.8; sideways ones are missed by HOG.
ROTATION_TRIGGER_SCORE = 0.5
ROTATION_ACCEPT_SCORE = 0.5
ROTATION_MARGIN = 0.3


def _weak(found: list[tuple[Any, float, str]]) -> bool:
    hog = [s for _, s, d in found if d == "hog"]
    return not hog or max(hog) < ROTATION_TRIGGER_SCORE


def _unrotate(face: Face, turns: int, w: int, h: int) -> Face:
    """``face`` found in the photo turned ``turns`` quarter turns counter-clockwise
    (``np.rot90``), with its box and landmarks mapped back to the photo's coordinates."""

    def back(x: float, y: float) -> tuple[int, int]:
        if turns == 1:
            return int(w - 1 - y), int(x)
        if turns == 2:
            return int(w - 1 - x), int(h - 1 - y)
        return int(y), int(h - 1 - x)

    (x0, y0), (x1, y1) = back(face.box[0], face.box[1]), back(face.box[2] - 1, face.box[3] - 1)
    box = (
        max(0, min(x0, x1)),
        max(0, min(y0, y1)),
        min(w, max(x0, x1) + 1),
        min(h, max(y0, y1) + 1),
    )
    return replace(
        face, box=box, landmarks=tuple(back(x, y) for x, y in face.landmarks), rotation=90 * turns
    )


def _resize(pixels: np.ndarray, scale: float) -> np.ndarray:
    from PIL import Image

    h, w = pixels.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))


def _mirror(chip: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(chip[:, ::-1])


def quality_parts(
    size: int, score: float, chip: np.ndarray, landmarks: tuple[tuple[int, int], ...]
) -> dict[str, float]:
    """The factors of the quality score, each in 0.05..1 (1 = good).

    ``size``: 100 px or more between the box sides is ideal (the descriptor is computed at
    150 px). ``detector``: HOG score 1.5 or more. ``sharpness``: variance of the Laplacian of
    the aligned face. ``pose``: how centred the nose is between the eyes (frontal = 1).
    ``upright``: how level the eye line is (a face lying sideways in the photo: low).
    """
    size_q = min(1.0, size / 100)
    det_q = min(1.0, max(0.0, (score + 0.5) / 2.0))
    # integer sum of the three channels (3x the grey level), built plane by plane and in place:
    # exact, and ~5x cheaper than a float mean over the (strided) channel axis. The Laplacian
    # of 3x grey has 9x the variance.
    grey3 = chip[:, :, 0].astype(np.int16)
    grey3 += chip[:, :, 1]
    grey3 += chip[:, :, 2]
    lap = grey3[1:-1, :-2] + grey3[1:-1, 2:]
    lap += grey3[:-2, 1:-1]
    lap += grey3[2:, 1:-1]
    lap -= 4 * grey3[1:-1, 1:-1]
    sharp_q = min(1.0, float(lap.var(dtype=np.float64)) / (9 * 400.0))
    pose_q = upright_q = 1.0
    if len(landmarks) == 5:
        # dlib 5-point order: right eye (2 points), left eye (2 points), nose base
        pts = np.asarray(landmarks, dtype=np.float64)
        eye_a, eye_b, nose = pts[0:2].mean(axis=0), pts[2:4].mean(axis=0), pts[4]
        span = float(np.linalg.norm(eye_a - eye_b))
        if span > 0:
            mid = (eye_a + eye_b) / 2
            axis = (eye_b - eye_a) / span
            offset = abs(float(np.dot(nose - mid, axis))) / span
            pose_q = float(max(0.0, 1.0 - 2.0 * offset))
            # the eye line of an upright face is level; a face the aligner had to turn far
            # (a sideways photo the rotation search could not fix) gets a meaningless chip
            tilt = 180.0 - abs(math.degrees(math.atan2(axis[1], axis[0])))
            upright_q = float(min(1.0, max(0.0, 1.0 - (abs(tilt) - 20.0) / 40.0)))
    return {
        k: round(float(max(0.05, v)), 3)
        for k, v in {
            "size": size_q,
            "detector": det_q,
            "sharpness": sharp_q,
            "pose": pose_q,
            "upright": upright_q,
        }.items()
    }
