"""Plugin trust: code runs only from configured entry points and folders, and every load is
audited with the plugin's name, version and the hash of its file."""

from __future__ import annotations

import textwrap
from pathlib import Path

from core.workspace import CONFIG_NAME, Workspace

# Importing this module leaves a marker file: proof the code ran.
SPY = textwrap.dedent("""
    from pathlib import Path
    Path({marker!r}).write_text("imported")
    from core.model import Record, RecordSchema
    from plugins.contract import Row, SourcePlugin

    class Spy(SourcePlugin):
        name = {name!r}
        version = {version!r}

        def record_schemas(self):
            return [RecordSchema("spy", "Spy", ())]

        def read(self, path):
            return iter(())

        def to_record(self, row, path):
            return Record(source=self.name, id="1", type="spy")

    plugin = Spy
""")


def _spy(folder: Path, name: str, marker: Path, version: str = "1.0") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(SPY.format(marker=str(marker), name=name, version=version), "utf-8")
    return path


def _configure(ws: Workspace, folders: list[str], entry_points: bool = True) -> Workspace:
    config = ws.root / CONFIG_NAME
    text = config.read_text("utf-8")
    start = text.index("folders = ")
    end = text.index("\n", text.index("entry_points = "))
    text = (
        text[:start] + f"folders = {folders!r}\n"
        f"entry_points = {'true' if entry_points else 'false'}" + text[end:]
    )
    config.write_text(text, "utf-8")
    return Workspace.open(ws.root)


def test_code_outside_configured_folders_never_runs(workspace: Workspace, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for folder in (
        workspace.root,
        workspace.data_dir,
        workspace.root / "plugins" / "sub",
        workspace.rejects_dir,
    ):
        _spy(folder, "stray", marker)
    _spy(workspace.root / "plugins", "_private", marker)  # leading underscore: skipped
    found = workspace.discover_sources()
    assert "stray" not in found.loaded and "_private" not in found.loaded
    assert not marker.exists(), "a plugin file outside the configured folders was imported"
    assert not any(
        e["params"]["name"] in ("stray", "_private")
        for e in workspace.audit.search(action="plugin.*")
    )


def test_removing_a_folder_from_config_stops_loading(workspace: Workspace, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    _spy(workspace.root / "extra", "extra_source", marker)
    ws = _configure(workspace, ["plugins", "extra"])
    assert "extra_source" in ws.discover_sources().loaded
    marker.unlink()
    ws = _configure(workspace, ["plugins"])
    assert "extra_source" not in ws.discover_sources().loaded
    assert not marker.exists()


def test_entry_points_can_be_switched_off(workspace: Workspace) -> None:
    assert "incidents" in workspace.discover_sources().loaded
    ws = _configure(workspace, ["plugins"], entry_points=False)
    found = ws.discover_sources()
    assert not any(lp.origin.startswith("entry point") for lp in found.loaded.values())


def test_changed_plugin_code_shows_as_a_new_hash_in_the_audit(
    workspace: Workspace, tmp_path: Path
) -> None:
    ws = _configure(workspace, ["plugins"], entry_points=False)
    path = _spy(ws.root / "plugins", "watched", tmp_path / "m", version="1.0")
    ws.discover_sources()
    path.write_text(path.read_text("utf-8") + "\n# patched by someone\n", "utf-8")
    ws.discover_sources()
    loads = [
        e["params"]
        for e in ws.audit.search(action="plugin.load")
        if e["params"]["name"] == "watched"
    ]
    assert [p["version"] for p in loads] == ["1.0", "1.0"]
    assert loads[0]["sha256"] != loads[1]["sha256"]
    assert all(p["origin"] == str(path) for p in loads)


def test_broken_plugin_failures_are_audited(workspace: Workspace) -> None:
    (workspace.root / "plugins" / "broken.py").write_text("raise ImportError('no SDK')\n")
    workspace.discover_sources()
    fails = workspace.audit.search(action="plugin.fail")
    assert [(e["params"]["name"], "no SDK" in e["params"]["error"]) for e in fails] == [
        ("broken", True)
    ]
