"""Layering: Qt lives in console/ only, heavy libraries behind their adapters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = (
    "core",
    "plugins",
    "search",
    "graph",
    "facematch",
    "ops",
    "centre",
    "server",
    "cases",
    "console",
)

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
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the repository's contracts over the packages found in ``root``."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--config",
            str(REPO / "pyproject.toml"),
            "--no-cache",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_layer_contract_holds() -> None:
    """The import-linter contracts of pyproject.toml (run by .ci/run) hold on this tree."""
    pytest.importorskip("importlinter")
    out = _lint_imports(REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken" in out.stdout


def test_layer_contract_fails_on_a_violation(tmp_path: Path) -> None:
    """A core module importing the console — even inside a function — breaks the contract."""
    pytest.importorskip("importlinter")
    for package in (*PACKAGES, "cases"):
        for path in (REPO / package).rglob("*.py"):
            dest = tmp_path / path.relative_to(REPO)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes())
    victim = tmp_path / "core" / "timeouts.py"
    victim.write_text(
        victim.read_text("utf-8") + "\n\ndef _peek():\n"
        "    from console import errors\n    return errors\n",
        "utf-8",
    )
    out = _lint_imports(tmp_path)
    assert out.returncode != 0
    assert "core is not allowed to import console" in out.stdout
    assert "core.timeouts -> console.errors" in out.stdout
