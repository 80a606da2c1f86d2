"""The test harness itself: the measured slow list names real tests, markers reach the tests."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
from conftest import REPO, needs, slow_tests


def _test_functions(path: str) -> set[str]:
    tree = ast.parse((REPO / "tests" / path).read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name.startswith("test")
    }


def test_every_listed_slow_test_exists() -> None:
    """A renamed or deleted test left in tests/slow_tests.txt would silently join the fast loop
    under its new name; the list must name tests that exist."""
    stale = []
    for entry in sorted(slow_tests()):
        path, _, name = entry.partition("::")
        exists = (REPO / "tests" / path).is_file()
        if not exists or re.sub(r"\[.*\]$", "", name) not in _test_functions(path):
            stale.append(entry)
    assert not stale, f"stale entries in tests/slow_tests.txt (tools/measure-slow-tests): {stale}"


def test_server_and_browser_modules_are_marked_for_what_they_need() -> None:
    assert {"postgres", "slow"} <= set(needs("test_field_loop"))
    assert {"elasticsearch", "slow"} <= set(needs("test_graph_conformance"))
    assert {"elasticsearch", "slow"} <= set(needs("test_faces_conformance"))


@pytest.mark.parametrize("entry", sorted(slow_tests())[:1])
def test_a_listed_test_is_deselected_by_the_fast_loop(entry: str) -> None:
    """The list takes effect: the fast loop's expression deselects a listed test."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--collect-only",
            "-p",
            "no:cacheprovider",
            "-m",
            "not slow and not gui",
            f"tests/{entry}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "1 deselected" in out, out[-800:]
