"""Run inside a real X server (``xvfb-run``): the console on a workspace, pivoting an entity
chart → map → timeline N times; prints one JSON line with the web renderer's memory.

Used by ``tests/test_console_xserver.py``; also handy by hand::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/xserver_pivots.py WORKSPACE
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def renderer_rss(pid: int) -> int:
    """Resident bytes of the largest process under ``pid`` (the WebEngine renderer)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    biggest, todo = 0, list(children.get(pid, []))
    while todo:
        child = todo.pop()
        todo += children.get(child, [])
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    biggest = max(biggest, int(line.split()[1]) * 1024)
        except OSError:
            continue
    return biggest


def main(root: str, rounds: int = 10) -> int:
    from console.app import create_application

    app = create_application(["superbrain"])
    from PyQt6.QtCore import QSettings

    from console.context import ConsoleContext
    from console.mainwindow import MainWindow
    from console.navigation import Focus
    from core.workspace import Workspace

    def pump(seconds: float, until: object = None) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            if until is not None and until():
                return True
            time.sleep(0.01)
        return until is None

    platform = app.platformName()
    ctx = ConsoleContext(Workspace.open(Path(root)))
    settings = QSettings(str(Path(root) / "xserver-test.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ctx, settings)
    window.resize(1600, 960)
    window.show()
    map_panel = window.panels["map"]
    window.show_panel("map")
    first_load = pump(60, lambda: map_panel.loaded)
    pump(1)
    entities = [
        r[0]
        for r in ctx.workspace.store.connection.execute(
            "SELECT re.entity_id FROM record_entities re JOIN records r ON r.uid = re.record_uid "
            "WHERE re.entity_id LIKE 'vehicle:%' AND r.lat IS NOT NULL GROUP BY re.entity_id "
            "ORDER BY count(*) DESC LIMIT ?",
            (rounds,),
        )
    ]
    baseline = renderer_rss(os.getpid())
    peak, loads, failed = baseline, 0, []
    for i in range(rounds):
        entity = entities[i % len(entities)]
        window.bus.pivot.emit(Focus("graph", "entity", (entity,)))
        pump(3, lambda: window.panels["graph"].job is None)
        window.bus.pivot.emit(Focus("map", "entity", (entity,)))
        loaded = pump(
            30,
            lambda e=entity: (
                map_panel.loaded
                and map_panel.layers is not None
                and [t["id"] for t in map_panel.layers.tracks] == [e]
            ),
        )
        loads += bool(loaded)
        if not loaded:
            failed.append(entity)
        peak = max(peak, renderer_rss(os.getpid()))
        window.bus.pivot.emit(Focus("timeline", "entity", (entity,)))
        pump(1)
        peak = max(peak, renderer_rss(os.getpid()))
    pump(2)
    final = renderer_rss(os.getpid())
    shot = os.environ.get("SUPERBRAIN_XSERVER_SHOT")
    if shot:
        window.show_panel("map")
        pump(2)
        window.grab().save(shot)
    print(
        json.dumps(
            {
                "platform": platform,
                "first_load": first_load,
                "rounds": rounds,
                "map_loads": loads,
                "failed": failed,
                "baseline": baseline,
                "peak": peak,
                "final": final,
            }
        ),
        flush=True,
    )
    window.close()
    from console import offload

    offload.shutdown()
    ctx.close()
    return 0


if __name__ == "__main__":  # the graph helper process re-imports this module: keep the guard
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10))
