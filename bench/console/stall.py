"""Event-loop stalls of the console during a large search and a 5,000-node expansion.

The console's heartbeat (``console.stall.StallMonitor``, a 10 ms timer measuring its own
lateness) runs while the real panels do the work in their workers; the longest stall is what an
analyst would feel as a frozen window. For a side-by-side ratio the same work is also run the
naive way, blocking the GUI thread, under the same monitor.

    QT_QPA_PLATFORM=offscreen python bench/console/stall.py -w WORKSPACE
    QT_QPA_PLATFORM=offscreen python bench/console/stall.py --build medium   # builds one first
    QT_QPA_PLATFORM=offscreen python bench/console/stall.py -w WORKSPACE --only search

Scenarios
---------
search:    ``SearchPanel.run_query("")`` (every record), then scrolling: fetchMore until
           ``--rows`` rows are loaded (lazy pages of 200), then a sort by time (re-query).
expansion: ``GraphPanel.expand`` from the busiest entity, depth 3, up to ``--nodes`` nodes,
           then drawing them (node scatter, edge lines, 250 labels): once as the console does
           it (graph work in the helper process, ``console.offload``) and once with the graph
           work in the worker thread (``GraphPanel.offload = False``, the previous design).
baseline:  the same search pages and expansion run blocking the GUI thread.

The helper process is started (``console.offload.warm_up``) with the window, as the console
does, so its ~1 s start is part of start-up, not of the expansion. As in ``console.app.run``,
full garbage collections are held back during start-up and the objects of start-up frozen
out of them once it is done (``console.stall.GcSettler``; ``--no-gc-freeze``: neither, for
comparison). ``-v`` lists
every stall over 100 ms and every garbage collection over 20 ms (generation, thread).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SCENARIOS = ("search", "expansion", "baseline")


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
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run (of {', '.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="no GcSettler: full GC in start-up, nothing frozen (to compare)",
    )
    parser.add_argument(
        "--helper-nice",
        type=int,
        default=None,
        help="nice increment of the graph helper process (default: the "
        "console's, console.offload.HELPER_NICE)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list every stall over 100 ms with the jobs running at the time",
    )
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    if not only or only - set(SCENARIOS):
        parser.error(f"--only: choose from {', '.join(SCENARIOS)}, got {args.only!r}")

    from console import qtinit

    qtinit.prepare()  # here, not at import: the helper process (spawn) imports this module
    from PyQt6.QtCore import QSettings, Qt

    from console.app import create_application
    from console.context import ConsoleContext
    from console.mainwindow import MainWindow
    from core.workspace import Workspace

    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    root = args.workspace or build(args.build)
    app = create_application()  # must stay alive
    ws = Workspace.open(root)
    ctx = ConsoleContext(ws)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    # the bench's own set-up query (a scan of record_entities) before the window exists
    seed = ws.store.connection.execute(
        "SELECT entity_id FROM record_entities GROUP BY entity_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    from console import offload
    from console.stall import GcSettler
    from console.workers import running_jobs

    if args.helper_nice is not None:
        offload.HELPER_NICE = args.helper_nice
    print(f"graph helper process nice {offload.HELPER_NICE}")

    settler = GcSettler(app)  # as console.app.run does
    if not args.no_gc_freeze:
        settler.start()
    window = MainWindow(ctx, settings)
    window.resize(1600, 960)
    window.show()
    gc_pauses: list[tuple[float, float, int, str]] = []  # (at, ms, generation, thread)
    gc_started: dict[str, float] = {}

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started["t"] = time.perf_counter()
        elif "t" in gc_started:
            ms = (time.perf_counter() - gc_started.pop("t")) * 1000
            if ms > 20:
                gc_pauses.append(
                    (time.perf_counter(), ms, info["generation"], threading.current_thread().name)
                )

    gc.callbacks.append(on_gc)
    wait(4000)  # start-up (WebEngine, first map page, dashboards) is not part of the scenarios
    started = time.perf_counter()
    wait_until(lambda: running_jobs() == 0)
    wait(1000)  # the settler looks every 500 ms
    print(
        f"start-up jobs finished {time.perf_counter() - started + 4:.1f} s after the window "
        f"showed; start-up stalls: {window.stall_monitor.stats().describe()}; "
        f"{settler.frozen:,} objects frozen out of full GC"
        + (" (--no-gc-freeze)" if args.no_gc_freeze else "")
    )
    monitor = window.stall_monitor
    stalls: list[tuple[float, float, list[str]]] = []

    def note(ms: float) -> None:
        from console.workers import _running

        stalls.append((time.perf_counter(), ms, sorted(j.name for j in _running)))

    monitor.stalled.connect(note)
    records = ws.store.count()
    print(
        f"workspace {root}: {records:,} records, {ws.store.count('entities'):,} entities, "
        f"{ws.store.count('links'):,} links"
    )

    # (kind, name, seconds, stats); kind "console" is what the analyst gets, the rest compare
    results: list[tuple[str, str, float, object]] = []

    def measure(kind: str, name: str, run, settle_ms: int = 200) -> None:
        monitor.reset()
        t0 = time.perf_counter()
        label = run()
        wait(settle_ms)
        results.append((kind, label or name, time.perf_counter() - t0, monitor.stats()))

    # -- search ---------------------------------------------------------------------------
    search = window.panels["search"]
    if "search" in only:
        window.show_panel("search")

        def first_page() -> str:
            search.run_query("")
            wait_until(lambda: search.model.total > 0 and not search.model.loading)
            return f"search: first page of {search.model.total:,} hits + facets"

        def scroll() -> str:
            target = min(args.rows, search.model.total)
            while search.model.rowCount() < target:
                if search.model.canFetchMore():
                    search.model.fetchMore()
                    search.table.scrollToBottom()
                wait_until(lambda: not search.model.loading)
            return f"search: scroll to {search.model.rowCount():,} rows (lazy pages)"

        def sort() -> None:
            search.model.sort(0, Qt.SortOrder.DescendingOrder)
            wait_until(lambda: not search.model.loading and search.model.rowCount() > 0)

        measure("console", "", first_page)
        measure("console", "", scroll)
        measure("console", "search: sort all hits by time (engine re-query)", sort)

    # -- expansion ------------------------------------------------------------------------
    graph = window.panels["graph"]

    def expansion(offload: bool) -> str:
        graph.clear()
        wait(300)
        monitor.reset()
        graph.offload = offload
        job = graph.expand([seed], depth=3, max_nodes=args.nodes)
        wait_until(lambda: graph.job is None and job is not None and not job.running)
        wait(300)  # labels are drawn in the next event-loop turns
        n = len(graph.model.graph.nodes) if graph.model.graph is not None else 0
        e = len(graph.model.graph.edges) if graph.model.graph is not None else 0
        where = "helper process" if offload else "worker thread"
        graph.offload = True
        return f"expansion ({where}): {n:,} nodes, {e:,} edges drawn"

    if "expansion" in only:
        window.show_panel("graph")
        wait(300)
        measure("console", "", lambda: expansion(True), settle_ms=0)
        measure("thread", "", lambda: expansion(False), settle_ms=0)

    # -- the same work blocking the GUI thread (what the workers avoid) ------------------------
    if "baseline" in only:
        from console.chart_model import grow
        from search.model import SearchRequest

        def pages() -> None:
            backend = ctx.search_backend()
            blocking = backend.search(SearchRequest(query="", size=200))
            for _ in range(20):
                if blocking.next_cursor is None:
                    break
                blocking = backend.search(
                    SearchRequest(query="", size=200, cursor=blocking.next_cursor)
                )

        measure("blocking", "baseline: 21 search pages in the GUI thread", pages)
        measure(
            "blocking",
            "baseline: same expansion in the GUI thread",
            lambda: (
                grow(ws.store, [], [seed], positions={}, depth=3, max_nodes=args.nodes) and None
            ),
        )

    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"load average (1 min) {load_start:.1f} at the start, {load_end:.1f} at the end, "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"{'scenario':<62} {'wall s':>7} {'max stall ms':>13} {'busy ms':>8} {'p99 ms':>8} "
        f"{'>100ms':>7}"
    )
    for _kind, name, seconds, stats in results:
        print(
            f"{name:<62} {seconds:>7.2f} {stats.max_ms:>13.1f} {stats.max_busy_ms:>8.1f} "
            f"{stats.p99_ms:>8.1f} {stats.over_threshold:>7}"
        )
    console = [st for kind, _, _, st in results if kind == "console"]
    worker_max = max((st.max_ms for st in console), default=0.0)
    worker_busy = max((st.max_busy_ms for st in console), default=0.0)
    line = (
        f"worst stall in the console's scenarios {worker_max:.0f} ms (GUI thread busy at "
        f"most {worker_busy:.0f} ms between heartbeats)"
    )
    for kind, what in (
        ("thread", "graph work in the worker thread"),
        ("blocking", "blocking the GUI thread"),
    ):
        worst = max((st.max_ms for k, _, _, st in results if k == kind), default=None)
        if worst is not None:
            line += f"; {what} {worst:.0f} ms ({worst / max(worker_max, 1e-9):.1f}x)"
    print(line)
    if args.verbose:
        for t, ms, jobs in stalls:
            print(f"  stall {ms:6.0f} ms at {t:10.2f}; jobs running: {', '.join(jobs)}")
        for t, ms, generation, thread in gc_pauses:
            print(f"  GC generation {generation} {ms:6.0f} ms at {t:10.2f} in {thread}")
    wait_until(lambda: running_jobs() == 0)
    window.close()
    offload.shutdown()
    ctx.close()
    return 0 if worker_max <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
