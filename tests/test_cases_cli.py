"""``superbrain cases``: the command line reaches the case services and says what went wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from tests.cases_fixtures import PHONES, populate


def test_cli_opens_notes_and_exports_a_case(
    workspace: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(workspace)
    w = ["-w", str(workspace.root)]
    assert main(["cases", "create", "2026-jx-0042", "--title", "电动车盗窃", *w]) == 0
    assert (
        main(
            [
                "cases",
                "note",
                "2026-JX-0042",
                f"常用号码 @{PHONES[1]}",
                "--on",
                "entity",
                "--target",
                PHONES[0],
                *w,
            ]
        )
        == 0
    )
    assert main(["cases", "pin", "2026-JX-0042", "record", "calls:C0001", *w]) == 0
    capsys.readouterr()
    assert main(["cases", "show", "2026-JX-0042", "--json", *w]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["counts"] == {"charts": 0, "notes": 1, "pins": 1}
    out = tmp_path / "d.html"
    assert main(["cases", "dossier", "2026-JX-0042", "-o", str(out), *w]) == 0
    assert "常用号码" in out.read_text("utf-8") and "calls:C0001" in out.read_text("utf-8")


def test_cli_unknown_case_says_how_to_open_one(
    workspace: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cases", "show", "2026-JX-0999", "-w", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "no case '2026-JX-0999'" in err and "superbrain cases create" in err
