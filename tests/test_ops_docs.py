"""The operations API the console builds on is documented, in the code and in
docs/OPERATIONS.md; the engine imports no Qt (also checked for every package in
test_core_layers.py)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from ops.alerts import AlertCenter
from ops.dispatch import Dispatcher
from ops.incidents import IncidentDesk
from ops.service import OpsService
from ops.units import UnitRoster

DOC = (Path(__file__).resolve().parent.parent / "docs" / "OPERATIONS.md").read_text("utf-8")
API = (OpsService, IncidentDesk, UnitRoster, Dispatcher, AlertCenter)


def _public(cls: type) -> list[str]:
    return [n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")]


@pytest.mark.parametrize("cls", API, ids=lambda c: c.__name__)
def test_public_methods_have_docstrings(cls: type) -> None:
    missing = [n for n in _public(cls) if not inspect.getdoc(getattr(cls, n))]
    assert not missing, f"{cls.__name__} methods without docstrings: {missing}"


@pytest.mark.parametrize("cls", API, ids=lambda c: c.__name__)
def test_public_methods_are_in_operations_md(cls: type) -> None:
    missing = [n for n in _public(cls) if f"{n}(" not in DOC and f"`{n}`" not in DOC]
    assert not missing, f"docs/OPERATIONS.md does not describe {cls.__name__}: {missing}"


def test_documented_event_kinds_are_the_ones_emitted() -> None:
    import re

    emitted = set()
    for path in (Path(__file__).resolve().parent.parent / "ops").glob("*.py"):
        emitted |= set(re.findall(r'event\(\s*"([a-z]+\.[a-z]+)"', path.read_text("utf-8")))
        emitted |= set(
            re.findall(r'"((?:unit|incident)\.(?:created|updated))" if', path.read_text("utf-8"))
        )
    assert emitted, "no events found: the pattern is out of date"
    undocumented = [k for k in sorted(emitted) if f"`{k}`" not in DOC]
    assert not undocumented, f"event kinds missing from docs/OPERATIONS.md: {undocumented}"
