"""Event-loop stalls of the console during a large search and a 5,000-node expansion.

The console's heartbeat (``console.stall.StallMonitor``, a 10 ms timer measuring its own
lateness) runs while the real panels do the work in their workers; the longest stall is what an
analyst would feel as a frozen window. For a side-by-side ratio the same work is also run the
naive way, blocking the GUI thread, under the same monitor.

    QT_QPA_PLATFORM=offscreen python bench/console/stall.py -w WORKSPACE
    QT_QPA_PLATFORM=offscreen python bench/console/stall.py --build medium   # builds one first

Scenarios
---------
search:    ``SearchPanel.run_query("")`` (every record), then scrolling: fetchMore until
           ``--rows`` rows are loaded (lazy pages of 200), then a sort by time (re-query).
expansion: ``GraphPanel.expand`` from the busiest entity, depth 3, up to ``--nodes`` nodes,
           then drawing them (node scatter, edge lines, 250 labels).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from console import qtinit

qtinit.prepare()


def wait(ms: int) -> None:
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(predicate, timeout_s: float = 600.0) -> float:
    from PyQt6.QtWidgets import QApplication

    start = time.perf_counter()
    while not predicate():
        QApplication.processEvents()
        time.sleep(0.002)
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError("scenario did not finish")
    return time.perf_counter() - start


def build(size: str) -> Path:
    from core.cli import main as cli_main

    root = Path(tempfile.mkdtemp(prefix="superbrain-bench-console-")) / "ws"
    rc = cli_main(["demo", "--no-console", "-w", str(root), "--size", size])
    if rc:
        raise SystemExit(f"demo build failed ({rc})")
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-w", "--workspace", type=Path)
    parser.add_argument("--build", default="medium", help="demo size when -w is not given")
    parser.add_argument("--rows", type=int, default=20_000, help="rows to scroll through")
    parser.add_argument("--nodes", type=int, default=5_000, help="expansion node cap")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list every stall over 100 ms with the jobs running at the time")
    args = parser.parse_args()

    from PyQt6.QtCore import QSettings, Qt

    from console.app import create_application
    from console.context import ConsoleContext
    from console.mainwindow import MainWindow
    from core.workspace import Workspace

    root = args.workspace or build(args.build)
    app = create_application()  # noqa: F841 - must stay alive
    ws = Workspace.open(root)
    ctx = ConsoleContext(ws)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ctx, settings)
    window.resize(1600, 960)
    window.show()
    from console.workers import running_jobs

    wait(4000)  # start-up (WebEngine, first map page, dashboards) is not part of the scenarios
    started = time.perf_counter()
    wait_until(lambda: running_jobs() == 0)
    print(f"start-up jobs finished {time.perf_counter() - started + 4:.1f} s after the window "
          f"showed; start-up stalls: {window.stall_monitor.stats().describe()}")
    monitor = window.stall_monitor
    stalls: list[tuple[float, float, list[str]]] = []

    def note(ms: float) -> None:
        from console.workers import _running

        stalls.append((time.perf_counter(), ms, sorted(j.name for j in _running)))

    monitor.stalled.connect(note)
    records = ws.store.count()
    print(f"workspace {root}: {records:,} records, {ws.store.count('entities'):,} entities, "
          f"{ws.store.count('links'):,} links")

    results: list[tuple[str, float, object]] = []

    # -- search ---------------------------------------------------------------------------
    search = window.panels["search"]
    window.show_panel("search")
    monitor.reset()
    t0 = time.perf_counter()
    search.run_query("")
    wait_until(lambda: search.model.total > 0 and not search.model.loading)
    wait(200)
    results.append((f"search: first page of {search.model.total:,} hits + facets",
                    time.perf_counter() - t0, monitor.stats()))
    monitor.reset()
    t0 = time.perf_counter()
    target = min(args.rows, search.model.total)
    while search.model.rowCount() < target:
        if search.model.canFetchMore():
            search.model.fetchMore()
            search.table.scrollToBottom()
        wait_until(lambda: not search.model.loading)
    wait(200)
    results.append((f"search: scroll to {search.model.rowCount():,} rows (lazy pages)",
                    time.perf_counter() - t0, monitor.stats()))
    monitor.reset()
    t0 = time.perf_counter()
    search.model.sort(0, Qt.SortOrder.DescendingOrder)
    wait_until(lambda: not search.model.loading and search.model.rowCount() > 0)
    wait(200)
    results.append(("search: sort all hits by time (engine re-query)",
                    time.perf_counter() - t0, monitor.stats()))

    # -- expansion ------------------------------------------------------------------------
    graph = window.panels["graph"]
    window.show_panel("graph")
    seed = ws.store.connection.execute(
        "SELECT entity_id FROM record_entities GROUP BY entity_id "
        "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    wait(300)
    monitor.reset()
    t0 = time.perf_counter()
    job = graph.expand([seed], depth=3, max_nodes=args.nodes)
    wait_until(lambda: graph.job is None and job is not None and not job.running)
    wait(300)
    n = len(graph.model.graph.nodes) if graph.model.graph is not None else 0
    e = len(graph.model.graph.edges) if graph.model.graph is not None else 0
    results.append((f"expansion: {n:,} nodes, {e:,} edges drawn", time.perf_counter() - t0,
                    monitor.stats()))

    # -- the same work blocking the GUI thread (what the workers avoid) ------------------------
    from console.chart_model import grow
    from search.model import SearchRequest

    monitor.reset()
    t0 = time.perf_counter()
    backend = ctx.search_backend()
    blocking = backend.search(SearchRequest(query="", size=200))
    for _ in range(20):
        if blocking.next_cursor is None:
            break
        blocking = backend.search(SearchRequest(query="", size=200, cursor=blocking.next_cursor))
    wait(200)
    results.append(("baseline: 21 search pages in the GUI thread", time.perf_counter() - t0,
                    monitor.stats()))
    monitor.reset()
    t0 = time.perf_counter()
    grow(ws.store, [], [seed], positions={}, depth=3, max_nodes=args.nodes)
    wait(200)
    results.append(("baseline: same expansion in the GUI thread", time.perf_counter() - t0,
                    monitor.stats()))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) {load:.1f} on {os.cpu_count()} CPUs")
    print(f"{'scenario':<58} {'wall s':>7} {'max stall ms':>13} {'busy ms':>8} {'p99 ms':>8} "
          f"{'>100ms':>7}")
    for name, seconds, stats in results:
        print(f"{name:<58} {seconds:>7.2f} {stats.max_ms:>13.1f} {stats.max_busy_ms:>8.1f} "
              f"{stats.p99_ms:>8.1f} {stats.over_threshold:>7}")
    worker_max = max(s.max_ms for _, _, s in results[:4])
    worker_busy = max(s.max_busy_ms for _, _, s in results[:4])
    base_max = max(s.max_ms for _, _, s in results[4:])
    print(f"worst stall with workers {worker_max:.0f} ms (GUI thread busy at most "
          f"{worker_busy:.0f} ms between heartbeats) vs blocking {base_max:.0f} ms "
          f"({base_max / max(worker_max, 1e-9):.1f}x)")
    if args.verbose:
        for t, ms, jobs in stalls:
            print(f"  stall {ms:6.0f} ms at {t:10.2f}; jobs running: {', '.join(jobs)}")
    wait_until(lambda: running_jobs() == 0)
    window.close()
    ctx.close()
    return 0 if worker_busy <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
