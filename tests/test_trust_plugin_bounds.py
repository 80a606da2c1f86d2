"""Issue #16 item 11: every plugin load is audited (also the search engine's), a workspace can
pin an allow-list of plugin hashes, and a plugin that sleeps cannot hang `sources`, search or
an ingest."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from core.workspace import CONFIG_NAME, Workspace

REPO = Path(__file__).resolve().parent.parent

PLUGIN = textwrap.dedent("""
    import time
    from pathlib import Path
    from core.model import Record, RecordSchema
    from plugins.contract import Row, SourcePlugin

    Path({marker!r}).write_text("imported")
    time.sleep({import_sleep})

    class P(SourcePlugin):
        name = {name!r}
        version = "1.0"
        formats = (".txt",)

        def record_schemas(self):
            time.sleep({schema_sleep})
            return [RecordSchema("note", "Note", ())]

        def read(self, path):
            yield Row(1, {{"id": "1"}})
            time.sleep({read_sleep})
            yield Row(2, {{"id": "2"}})

        def to_record(self, row, path):
            return Record(source=self.name, id=row.values["id"], type="note")

    plugin = P
""")


def _plugin(
    ws: Workspace,
    name: str,
    *,
    import_sleep: float = 0,
    schema_sleep: float = 0,
    read_sleep: float = 0,
) -> tuple[Path, Path]:
    marker = ws.root / f"{name}.ran"
    path = ws.root / "plugins" / f"{name}.py"
    path.write_text(
        PLUGIN.format(
            marker=str(marker),
            name=name,
            import_sleep=import_sleep,
            schema_sleep=schema_sleep,
            read_sleep=read_sleep,
        ),
        "utf-8",
    )
    return path, marker


def _configure(ws: Workspace, extra: str) -> Workspace:
    config = ws.root / CONFIG_NAME
    text = config.read_text("utf-8").replace("entry_points = true", f"entry_points = true\n{extra}")
    config.write_text(text, "utf-8")
    return Workspace.open(ws.root)


def test_the_search_engines_plugin_loads_are_audited(workspace: Workspace) -> None:
    from search.backend import open_backend

    path, _ = _plugin(workspace, "notes")
    open_backend(workspace).close()
    loads = [
        e["params"]
        for e in workspace.audit.search(action="plugin.load")
        if e["params"]["name"] == "notes"
    ]
    assert loads and loads[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_allow_list_refuses_unlisted_code_before_it_runs(workspace: Workspace) -> None:
    good, good_ran = _plugin(workspace, "good")
    _bad, bad_ran = _plugin(workspace, "bad")
    ws = _configure(
        workspace, f"allowed_sha256 = [{hashlib.sha256(good.read_bytes()).hexdigest()!r}]"
    )
    found = ws.discover_sources()
    assert "good" in found.loaded and good_ran.exists()
    assert "bad" not in found.loaded and not bad_ran.exists()  # its code never ran
    assert any("allowed_sha256" in f.error for f in found.failed if f.name == "bad")
    assert "hotel" in found.loaded  # built-ins are part of the application
    refused = [e for e in ws.audit.search(action="plugin.fail") if e["params"]["name"] == "bad"]
    assert refused and "not in the workspace's" in refused[0]["params"]["error"]
    good.write_text(good.read_text("utf-8") + "\n# changed\n", "utf-8")
    assert "good" not in Workspace.open(ws.root).discover_sources().loaded  # swapped code


def test_a_plugin_that_sleeps_at_import_does_not_hang_sources(workspace: Workspace) -> None:
    _plugin(workspace, "sleepy", import_sleep=300)
    ws = _configure(workspace, "load_timeout = 2")
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "main.py", "sources", "-w", str(ws.root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert time.monotonic() - started < 60
    assert out.returncode == 0 and "BROKEN  sleepy" in out.stdout and "no answer" in out.stdout


def test_a_plugin_whose_schemas_hang_does_not_stop_search(workspace: Workspace) -> None:
    from search.backend import open_backend
    from search.model import SearchRequest

    _plugin(workspace, "slowschema", schema_sleep=300)
    ws = _configure(workspace, "load_timeout = 1")
    started = time.monotonic()
    backend = open_backend(ws)
    backend.search(SearchRequest(""))
    backend.close()
    assert time.monotonic() - started < 30


def test_a_plugin_read_that_hangs_fails_that_file_only(workspace: Workspace) -> None:
    from core.ingest import Ingestor

    _plugin(workspace, "stuck", read_sleep=300)
    ws = _configure(workspace, "read_timeout = 2")
    data = ws.root / "data" / "x.txt"
    data.write_text("anything")
    plugin = ws.discover_sources().get("stuck")
    started = time.monotonic()
    report = Ingestor(ws, stages=[]).ingest_file(plugin, data)
    assert time.monotonic() - started < 60
    assert report.status == "failed" and "no rows for 2 s" in (report.error or "")
    assert report.records == 1 and ws.store.count() == 1  # what came before is kept
