"""One discovery path: commands, stages, engines, panels and services are entry points.

The built-ins are declared in pyproject.toml only; a third-party package (the example under
examples/, installed for real with pip into a folder of its own) adds a command and a console
panel with no change to superbrain.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.extensions import COMMANDS, ENGINES, PANELS, STAGES, Extension, extensions, load_optional

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "superbrain-example-plugin"


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example package pip-installed (not editable) into a folder put on sys.path."""
    target = tmp_path_factory.mktemp("example-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    importlib.invalidate_caches()


def test_builtins_come_from_pyproject_in_declared_order() -> None:
    assert [e.name for e in extensions(STAGES)] == [
        "search",
        "facematch",
        "ops",
        "graph",
        "cluster",
    ]
    assert [e.name for e in extensions(ENGINES)] == ["search", "graph", "facematch", "ops"]
    commands = extensions(COMMANDS)
    assert [e.value for e in commands][:2] == ["search.cli", "graph.cli"]
    assert all(e.origin == "superbrain" for e in commands if e.name != "gridlog")


def test_every_builtin_stage_and_panel_target_exists() -> None:
    """A typo in pyproject.toml would silently drop a stage; each target must resolve."""
    for ext in extensions(STAGES):
        assert callable(ext.load()), ext
    for ext in extensions(PANELS):
        if ext.origin == "superbrain":
            module = importlib.util.find_spec(ext.module)
            assert module is not None, ext


def test_missing_optional_module_is_skipped_but_a_broken_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = Extension("superbrain.commands", "absent", "no_such_engine_xyz.cli", "someone")
    assert load_optional(absent) is None
    (tmp_path / "half_installed_xyz.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    broken = Extension("superbrain.commands", "broken", "half_installed_xyz", "someone")
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):
        load_optional(broken)


@pytest.mark.slow
def test_example_package_adds_a_command(example_site: Path, tmp_path: Path) -> None:
    names = {e.name: e for e in extensions(COMMANDS)}
    assert names["gridlog"].origin == "superbrain-example-plugin"
    from superbrain_example_plugin import GridLogSource

    log = GridLogSource().generate(tmp_path, 20, seed=1)[0]
    with log.open("a", encoding="utf-8") as fh:
        fh.write("a line without separators\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(example_site), str(REPO)])}
    out = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "gridlog-check", str(log)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 1, out.stderr[-2000:]  # one bad line
    assert f"{log}: 20 rows, 1 bad" in out.stdout
    help_out = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert "gridlog-check" in help_out.stdout


@pytest.mark.slow
@pytest.mark.gui
def test_example_package_adds_a_panel(example_site: Path, workspace: object, qtbot) -> None:
    from console import qtinit

    qtinit.prepare()
    from console.bus import Bus
    from console.context import ConsoleContext
    from console.mainwindow import build_panel, panel_specs

    specs = {s.key: s for s in panel_specs()}
    spec = specs["gridlog"]
    assert (spec.title, spec.place, spec.target) == (
        "Grid logs",
        "bottom",
        "superbrain_example_plugin.panel:GridLogPanel",
    )
    assert list(specs)[:2] == ["search", "graph"]  # built-ins keep their order, add-ons after
    ctx = ConsoleContext(workspace)  # type: ignore[arg-type]
    bus = Bus()
    panel = build_panel(spec, ctx, bus)
    qtbot.addWidget(panel)
    assert panel.objectName() == "gridlog-panel"  # not a "broken-…" notice
    assert panel.label.text() == "0 grid-worker patrol log records"


@pytest.mark.slow
def test_clean_registry_hides_installed_packages(example_site: Path, clean_registry: None) -> None:
    """With the ``clean_registry`` fixture a test sees superbrain's own extensions only."""
    from plugins.registry import discover

    assert "gridlog" not in {e.name for e in extensions(COMMANDS)}
    assert "gridlog" not in {e.name for e in extensions(PANELS)}
    assert "search" in {e.name for e in extensions(COMMANDS)}
    found = discover()
    assert "gridlog" not in found.loaded and "incidents" in found.loaded
