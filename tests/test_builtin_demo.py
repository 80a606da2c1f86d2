"""`superbrain demo` builds a workspace from all seven built-in sources, end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from plugins.builtin import gen_identity
from plugins.builtin.world import World
from tests.builtin_fixtures import BUILTIN

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_demo_builds_a_workspace_from_all_seven_sources(tmp_path: Path) -> None:
    ws_dir = tmp_path / "demo"
    env = {**os.environ, "SUPERBRAIN_USER": "tester", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "main.py"),
            "demo",
            "--no-console",
            "--size",
            "tiny",
            "-w",
            str(ws_dir),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    built = re.search(r"(\d+) sources", done.stdout)
    assert built and int(built.group(1)) >= len(BUILTIN), done.stdout
    from core.workspace import Workspace

    ws = Workspace.open(ws_dir)
    try:
        counts = ws.store.sources()
        from core.cli import DEMO_SIZES
        from plugins.builtin.sources import FACTORIES

        expected = {}
        for name in BUILTIN:
            fraction = FACTORIES[name]().demo_fraction
            tiny = DEMO_SIZES["tiny"]
            expected[name] = tiny if fraction >= 1 else max(10, round(tiny * fraction))
        # the registry also holds the planted identities' rows (people registered twice)
        expected["population"] += len(gen_identity.population_rows(World(7)))
        assert {name: counts.get(name) for name in BUILTIN} == expected
        assert expected["watchlist"] < expected["population"]  # a watchlist is not everyone
        assert all(cp.status == "done" and cp.rejects == 0 for cp in ws.store.checkpoints())
        assert not list(ws.rejects_dir.glob("*.jsonl"))
    finally:
        ws.close()
