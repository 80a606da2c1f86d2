"""docs/SECURITY.md stays honest: every test it cites exists, every permission is documented."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "SECURITY.md").read_text("utf-8")


def _cited_tests() -> list[tuple[str, str]]:
    cited = []
    for row in DOC.splitlines():
        module = None
        for token in re.findall(r"`([^`]+)`", row):
            m = re.fullmatch(r"(?:(test_\w+\.py))?::(test_\w+)", token)
            if m:
                module = m.group(1) or module
                assert module, f"{token!r} cites a test without its module"
                cited.append((module, m.group(2)))
    return cited


def test_every_cited_test_exists() -> None:
    cited = _cited_tests()
    assert len(cited) > 30
    missing = []
    for module, name in cited:
        path = REPO / "tests" / module
        tree = ast.parse(path.read_text("utf-8")) if path.exists() else ast.Module([], [])
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        if name not in names:
            missing.append(f"{module}::{name}")
    assert not missing, f"docs/SECURITY.md cites tests that do not exist: {missing}"


def test_every_permission_is_documented() -> None:
    roles = tomllib.loads((REPO / "resources" / "security" / "roles.toml").read_text("utf-8"))
    undocumented = [p for p in roles["permissions"] if f"`{p}`" not in DOC]
    assert not undocumented, f"permissions missing from docs/SECURITY.md: {undocumented}"
