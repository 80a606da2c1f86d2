"""Shared fixtures: a clean workspace, a clean plugin registry, paths to shared data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


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
