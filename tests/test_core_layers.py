"""Layering: Qt lives in console/ only, heavy libraries behind their adapters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "plugins", "search", "graph", "facematch", "ops", "centre", "server", "cases",
            "console")

# library -> packages allowed to import it
ALLOWED = {
    "PyQt6": {"console"},
    "pyqtgraph": {"console"},
    "folium": {"console"},
    "faiss": {"facematch"},
    "dlib": {"facematch"},
    "face_recognition_models": {"facematch"},
    "onnxruntime": {"facematch"},
    "onnx": {"facematch"},
    "elasticsearch": {"search"},
    "tantivy": {"search"},
    "networkx": {"graph"},
    "psycopg": {"centre"},
    "starlette": {"server"},
    "uvicorn": {"server"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_heavy_libraries_only_in_their_package(package: str) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        for lib in _imports(path) & ALLOWED.keys():
            if package not in ALLOWED[lib]:
                offenders.append(f"{path.relative_to(REPO)} imports {lib}")
    assert not offenders, "\n".join(offenders)


def test_engines_import_without_qt() -> None:
    """Import every non-console module with PyQt6 made unimportable."""
    modules = []
    for package in PACKAGES:
        if package == "console":
            continue
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).with_suffix("")
            modules.append(".".join(rel.parts).removesuffix(".__init__"))
    code = (
        "import sys, importlib\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PyQt6', 'pyqtgraph'):\n"
        "            raise ImportError('Qt imported outside console/: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
