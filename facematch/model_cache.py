"""Face models in a ready-to-load form, cached per machine, so opening Faces is quick.

Loading the models the first time costs ~1.3 s of CPU, nearly all of it inside C calls that hold
the GIL (the console's window cannot paint meanwhile): dlib builds its frontal face detector
from a text form (~0.4 s), and building the descriptor network for ONNX Runtime imports the
``onnx`` package (~0.6 s). Both results are saved once in the user's cache folder
(``SUPERBRAIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/superbrain``, else ``~/.cache/superbrain``)
and loaded from there afterwards in milliseconds: dlib's own binary form of the same detector,
and the serialised ONNX model, checked against its recorded SHA-256 and keyed by the SHA-256 of
the ``.dat`` file it was built from. A cache that cannot be written or read is skipped (logged);
the models are then built as before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Bump when :func:`facematch.resnet.build_onnx` changes the graph it writes.
ONNX_BUILDER_VERSION = 1


def cache_dir() -> Path:
    """The folder of cached model forms (not created here)."""
    configured = os.environ.get("SUPERBRAIN_CACHE_DIR", "").strip()
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "superbrain"


def _write_atomic(path: Path, write: Callable[[Path], object]) -> bool:
    """Write ``path`` through a temporary file beside it; False (logged) when that fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
        os.close(fd)
        try:
            write(Path(tmp))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return True
    except OSError as exc:
        log.info("face model cache %s not written: %s", path, exc)
        return False


def frontal_detector(dlib: Any) -> Any:
    """dlib's frontal face detector, from the cache when it is there (dlib's own serialised
    form of the very same detector), else built and then cached."""
    version = str(getattr(dlib, "__version__", "unknown")).replace("/", "_")
    path = cache_dir() / f"dlib-{version}-frontal-face-hog.svm"
    if path.is_file():
        try:
            return dlib.fhog_object_detector(str(path))
        except RuntimeError as exc:  # a damaged file: build it again
            log.warning("%s: unreadable cached face detector, rebuilding it: %s", path, exc)
    detector = dlib.get_frontal_face_detector()
    _write_atomic(path, lambda tmp: detector.save(str(tmp)))
    return detector


def onnx_model(dat: Path, build: Callable[[], bytes]) -> bytes:
    """The serialised ONNX model built from ``dat``: cached bytes when their recorded digest
    matches, else ``build()`` (which imports ``onnx``), then cached."""
    digest = hashlib.sha256(dat.read_bytes()).hexdigest()
    path = cache_dir() / f"face-resnet-v{ONNX_BUILDER_VERSION}-{digest[:32]}.onnx"
    check = path.with_suffix(".sha256")
    if path.is_file() and check.is_file():
        try:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == check.read_text(encoding="ascii").strip():
                return data
            log.warning("%s: cached face network does not match its digest; rebuilding", path)
        except (OSError, ValueError) as exc:
            log.warning("%s: unreadable cached face network, rebuilding it: %s", path, exc)
    data = build()
    if _write_atomic(path, lambda tmp: tmp.write_bytes(data)):
        _write_atomic(
            check, lambda tmp: tmp.write_text(hashlib.sha256(data).hexdigest(), encoding="ascii")
        )
    return data
