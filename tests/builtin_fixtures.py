"""Fixtures for the built-in sources' tests: one demo-sized workspace with all seven ingested."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.ingest import Ingestor, IngestReport
from core.workspace import Workspace
from plugins.registry import discover

BUILTIN = ("incidents", "population", "hotel", "checkpoint", "cdr", "ebike", "watchlist")
SEED = 7
COUNT = 200  # the demo's "tiny"


@dataclass
class Built:
    """A workspace holding every built-in source, generated with SEED and COUNT."""

    ws: Workspace
    files: dict[str, Path]
    reports: dict[str, IngestReport]


def build_all(root: Path, count: int = COUNT, seed: int = SEED) -> Built:
    """Generate every built-in source and ingest it into a new workspace (store only)."""
    ws = Workspace.init(root / "ws")
    found = discover()
    ingestor = Ingestor(ws, stages=[])
    files: dict[str, Path] = {}
    reports: dict[str, IngestReport] = {}
    for name in BUILTIN:
        plugin = found.get(name)
        (path,) = plugin.generate(root / "data" / name, count, seed=seed)
        files[name] = path
        reports[name] = ingestor.ingest_file(plugin, path)
    return Built(ws, files, reports)
