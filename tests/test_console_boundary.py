"""Qt lives in console/ only: every other package imports with PyQt6 and pyqtgraph blocked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_PROBE = r"""
import importlib, importlib.abc, pkgutil, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PyQt6", "pyqtgraph"):
            raise ImportError(f"{name} imported outside console/")
        return None

sys.meta_path.insert(0, Block())
failed = []
for package in ("core", "plugins", "search", "graph", "facematch", "ops"):
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        try:
            importlib.import_module(info.name)
        except ImportError as exc:
            if "outside console/" in str(exc):
                failed.append(f"{info.name}: {exc}")
        except Exception:
            pass  # other import problems are those packages' own tests' business
print("\n".join(failed))
"""


def test_no_package_but_console_imports_qt() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"Qt imported outside console/:\n{out.stdout}"
