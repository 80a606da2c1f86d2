"""Plugin discovery: entry points and folders, broken plugins reported, the example package."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.ingest import Ingestor
from core.workspace import Workspace
from plugins.registry import discover

REPO = Path(__file__).resolve().parent.parent

IMPORT_BOMB = "raise RuntimeError('vendor SDK missing: libfoo.so')\n"

MID_READ = textwrap.dedent('''
    from pathlib import Path
    from core.model import Record, RecordSchema
    from plugins.contract import Row, SourcePlugin

    class Flaky(SourcePlugin):
        """Raises on its 10th record, like a plugin with a bug."""
        name = "flaky"
        version = "0.1"
        formats = ("txt",)

        def record_schemas(self):
            return [RecordSchema("flaky", "Flaky", ())]

        def read(self, path):
            for i, line in enumerate(Path(path).read_text().splitlines(), start=1):
                yield Row(i, {"n": line})

        def to_record(self, row, path):
            if row.line == 10:
                raise ZeroDivisionError("bug in plugin at record 10")
            return Record(source=self.name, id=row.values["n"], type="flaky")

    plugin = Flaky
''')

GOOD_MAPPING = textwrap.dedent("""
    [source]
    name = "notes"
    record_type = "note"
    id = ["id"]
    [fields]
    body = "text"
""")


@pytest.fixture
def plugin_ws(workspace: Workspace) -> Workspace:
    folder = workspace.root / "plugins"
    (folder / "exploding.py").write_text(IMPORT_BOMB)
    (folder / "flaky.py").write_text(MID_READ)
    (folder / "notes.toml").write_text(GOOD_MAPPING)
    (folder / "bad_mapping.toml").write_text("[source]\nname = 'Bad Name'\n")
    return workspace


def test_broken_plugins_are_reported_and_others_load(plugin_ws: Workspace) -> None:
    found = discover(plugin_ws.plugin_folders(), use_entry_points=False)
    assert set(found.loaded) == {"flaky", "notes"}
    errors = {f.name: f.error for f in found.failed}
    assert "vendor SDK missing" in errors["exploding"]
    assert "lower_snake_case" in errors["bad_mapping"]
    with pytest.raises(KeyError, match="broken"):
        found.get("exploding")


def test_plugin_raising_on_10th_record_fails_that_file_only(
    plugin_ws: Workspace, tmp_path: Path
) -> None:
    found = discover(plugin_ws.plugin_folders(), use_entry_points=False)
    flaky_file = tmp_path / "f.txt"
    flaky_file.write_text("\n".join(f"r{i}" for i in range(1, 31)))
    notes_file = tmp_path / "n.csv"
    notes_file.write_text("id,body\n1,hello\n2,世界\n")
    ing = Ingestor(plugin_ws, stages=[])
    bad = ing.ingest_file(found.get("flaky"), flaky_file)
    good = ing.ingest_file(found.get("notes"), notes_file)
    assert bad.status == "failed" and "bug in plugin at record 10" in (bad.error or "")
    assert bad.records == 9  # the nine rows before the bug are kept
    assert (good.status, good.records) == ("done", 2)
    assert plugin_ws.store.sources() == {"flaky": 9, "notes": 2}
    failed = plugin_ws.audit.search(action="ingest")
    assert any(e["params"]["status"] == "failed" for e in failed)


def test_sources_command_lists_both_errors(plugin_ws: Workspace) -> None:
    out = subprocess.run(
        [sys.executable, "main.py", "sources", "--json", "-w", str(plugin_ws.root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["exploding"]["status"] == "broken"
    assert "vendor SDK missing" in rows["exploding"]["error"]
    assert rows["bad_mapping"]["status"] == "broken"
    assert rows["notes"]["status"] == "ok" and rows["flaky"]["status"] == "ok"
    # built-in sources arrive through the same entry-point group as third-party ones
    builtins = {"incidents", "population", "hotel", "checkpoint", "cdr", "ebike", "watchlist"}
    assert builtins <= set(rows)
    assert all(rows[b]["origin"].startswith("entry point") for b in builtins)
    loads = plugin_ws.audit.search(action="plugin.load")
    assert {e["params"]["name"] for e in loads} >= {"notes", "flaky"}
    assert all(len(e["params"]["sha256"]) == 64 for e in loads)


def test_example_plugin_package_installs_and_ingests(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "site"
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
            str(REPO / "examples" / "superbrain-example-plugin"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    monkeypatch.syspath_prepend(str(target))
    importlib.invalidate_caches()
    found = discover()
    assert "gridlog" in found.loaded, [f.error for f in found.failed]
    loaded = found.loaded["gridlog"]
    assert loaded.origin.startswith("entry point gridlog")
    plugin = loaded.plugin
    files = plugin.generate(tmp_path, 50, seed=3)
    with files[0].open("a", encoding="utf-8") as fh:
        fh.write("garbage line without separators\n")
    report = Ingestor(workspace, stages=[]).ingest_file(plugin, files[0])
    assert (report.status, report.records, report.rejects) == ("done", 50, 1)
    workers = {
        line.split("|")[1].strip()
        for line in files[0].read_text("utf-8").splitlines()
        if line.count("|") == 5
    }
    assert workspace.store.count("entities", type="phone") == len(workers)
    assert workspace.store.count("links", type="owns") == 50
