"""facematch imports without Qt, and loads dlib, faiss and ONNX only when they are used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_facematch_imports_without_qt_dlib_or_faiss() -> None:
    code = (
        "import sys\n"
        "import facematch.gallery, facematch.cli, facematch.stage, facematch.enrol, "
        "facematch.lfw, facematch.batch\n"
        "from core.cli import build_parser\n"
        "build_parser()\n"
        "heavy = ('PyQt6', 'dlib', 'faiss', 'onnxruntime', 'onnx')\n"
        "loaded = sorted(m for m in heavy if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"imported eagerly: {out.stdout.strip()}"


def test_dlib_and_faiss_are_imported_only_in_their_modules() -> None:
    offenders = []
    for path in sorted((REPO / "facematch").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "import dlib" in text and path.name != "pipeline.py":
            offenders.append(f"{path.name}: dlib")
        if "import faiss" in text and path.name != "index.py":
            offenders.append(f"{path.name}: faiss")
        if "import onnx" in text and path.name != "resnet.py":
            offenders.append(f"{path.name}: onnx")
    assert offenders == []
