"""`superbrain` with no arguments: the last workspace, else the default one, else an offer to
build the demo (in a child process, with its progress shown and a cancel that works)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.workspace import Workspace
from tests import console_fixtures  # noqa: F401 - Qt offscreen unless a platform is set


def test_pick_workspace_prefers_last_then_default_then_offers_the_demo(tmp_path: Path) -> None:
    from console.startup import pick_workspace

    last, default = tmp_path / "last", tmp_path / "default"
    assert pick_workspace(str(last), default) == ("offer_demo", default)  # neither exists
    Workspace.init(default).close()
    assert pick_workspace(str(last), default) == ("open", default)  # last is gone
    Workspace.init(last).close()
    assert pick_workspace(str(last), default) == ("open", last)
    assert pick_workspace(None, tmp_path / "nowhere") == ("offer_demo", tmp_path / "nowhere")


def test_start_dialog_builds_the_demo_and_opens_it(qtbot, tmp_path: Path) -> None:
    from console.startup import StartDialog

    target = tmp_path / "demo"
    dialog = StartDialog(target, size="tiny")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.finished_build, timeout=240_000) as done:
        dialog.build_demo()
    assert done.args == [0], dialog.log.toPlainText()
    assert dialog.result() == dialog.DialogCode.Accepted and dialog.workspace == target
    assert "demo workspace at" in dialog.log.toPlainText()  # the builder's output was shown
    ws = Workspace.open(target)
    try:
        assert ws.store.count() > 0
    finally:
        ws.close()


def test_start_dialog_cancel_stops_the_build_and_keeps_the_dialog(qtbot, tmp_path: Path) -> None:
    from console.startup import StartDialog

    dialog = StartDialog(tmp_path / "demo", size="20000")
    qtbot.addWidget(dialog)
    dialog.build_demo()
    qtbot.waitUntil(lambda: "generating" in dialog.log.toPlainText(), timeout=120_000)
    with qtbot.waitSignal(dialog.finished_build, timeout=120_000) as done:
        dialog.cancel()
    assert done.args[0] != 0
    assert dialog.workspace is None and dialog.result() != dialog.DialogCode.Accepted
    assert "Cancelled" in dialog.status.text()
    assert dialog.build_button.isEnabled()  # the user can build again (it resumes)


def test_open_folder_refuses_a_folder_that_is_not_a_workspace(qtbot, tmp_path: Path) -> None:
    from console.startup import StartDialog

    dialog = StartDialog(tmp_path / "demo")
    qtbot.addWidget(dialog)
    assert not dialog.open_folder(tmp_path)
    assert "not a superbrain workspace" in dialog.status.text()
    Workspace.init(tmp_path / "ws").close()
    assert dialog.open_folder(tmp_path / "ws") and dialog.workspace == tmp_path / "ws"


def test_no_arguments_without_a_display_prints_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a server (no display) `superbrain` alone must not try to open a window."""
    from core.cli import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 0
    assert "usage: superbrain" in capsys.readouterr().out
