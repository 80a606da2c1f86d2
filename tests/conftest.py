"""Shared fixtures: a clean workspace, a clean plugin registry, paths to shared data."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: Fixture modules every test module gets (the rest are imported by the modules that use them).
pytest_plugins = ["registry_fixtures"]

#: What the tests of a module need, in one place (markers registered in pyproject.toml), so that
#: ``python -m pytest -m "not slow and not gui"`` is the fast loop. ``gui``: Qt (also every test
#: that uses pytest-qt's ``qtbot``/``qapp``); ``postgres``/``elasticsearch``/``faces``: that real
#: server or the shared face photos (the tests skip, saying so, without them); ``slow``: a demo
#: workspace, a server process, a face model or a fuzzing run — seconds to minutes each.
NEEDS: dict[str, tuple[str, ...]] = {
    "test_builtin_demo": ("slow",),
    "test_centre_console": ("gui", "postgres", "slow"),
    "test_centre_db": ("postgres",),
    "test_centre_*": ("postgres", "slow"),
    "test_console_logic": ("gui",),
    "test_console_boundary": ("gui",),
    "test_console_engines": (),
    "test_console_*": ("gui", "slow"),
    "test_core_extensions": (),
    "test_faces_imports": (),
    "test_faces_conformance": ("elasticsearch", "slow"),
    "test_faces_*": ("faces", "slow"),
    "test_field_loop": ("postgres", "slow"),
    "test_field_basemap": ("postgres", "slow"),
    "test_field_console": ("slow",),
    "test_graph_conformance": ("elasticsearch", "slow"),
    "test_plugins_walkthrough": ("slow",),
    "test_search_conformance": ("elasticsearch", "slow"),
    "test_search_es": ("elasticsearch", "slow"),
    "test_search_native": ("slow",),
    "test_trust_cluster": ("elasticsearch", "slow"),
    "test_trust_crash": ("slow",),
    "test_trust_faces_rotation": ("faces", "slow"),
    "test_trust_fuzz*": ("slow",),
    "test_trust_login": ("slow",),
    "test_trust_service_attacks": ("slow",),
    "test_trust_services": ("slow",),
}
#: Single slow tests in otherwise quick modules: measured, listed in tests/slow_tests.txt by
#: ``tools/measure-slow-tests`` (setup + call + teardown of at least half a second). Setting
#: SUPERBRAIN_SLOW_TESTS to an empty string ignores the list (the tool does, to measure them all).
SLOW_TESTS_FILE = Path(__file__).with_name("slow_tests.txt")


def slow_tests() -> frozenset[str]:
    """``file.py::test_name[params]`` of every test listed in :data:`SLOW_TESTS_FILE`."""
    if os.environ.get("SUPERBRAIN_SLOW_TESTS") == "":
        return frozenset()
    lines = SLOW_TESTS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


_QT_FIXTURES = {"qtbot", "qapp"}


def needs(module: str) -> tuple[str, ...]:
    """The markers of test module ``module`` (first matching pattern of :data:`NEEDS`)."""
    for pattern, marks in NEEDS.items():
        if fnmatch.fnmatchcase(module, pattern):
            return marks
    return ()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    listed = slow_tests()
    for item in items:
        path = Path(str(item.fspath))
        marks = set(needs(path.stem))
        if f"{path.name}::{item.name}" in listed:
            marks.add("slow")
        if _QT_FIXTURES & set(getattr(item, "fixturenames", ())):
            marks.add("gui")
        for mark in sorted(marks - {m.name for m in item.iter_markers()}):
            item.add_marker(mark)


@pytest.fixture(autouse=True, scope="session")
def _anchor_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Trust anchors (core.anchor) of test workspaces go to a temporary folder, not ~/.local;
    subprocesses (`python main.py ...`) inherit it."""
    if os.environ.get("SUPERBRAIN_ANCHOR_DIR"):
        yield
        return
    os.environ["SUPERBRAIN_ANCHOR_DIR"] = str(tmp_path_factory.mktemp("anchors"))
    yield
    os.environ.pop("SUPERBRAIN_ANCHOR_DIR", None)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A fresh embedded workspace in a temporary folder, user ``tester``."""
    from core.workspace import Workspace

    monkeypatch.setenv("SUPERBRAIN_USER", "tester")
    ws = Workspace.init(tmp_path / "ws")
    yield ws
    ws.close()


def faces_dir() -> Path | None:
    """The shared face photos folder, or None when this machine does not have it."""
    raw = os.environ.get("SUPERBRAIN_FACES_DIR")
    path = Path(raw) if raw else REPO.parent / "shared" / "data" / "faces"
    return path if path.is_dir() else None
