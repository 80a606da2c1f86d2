"""The Faces view's first opening: how long the window stalls while the gallery and the face
models load, in a fresh console process per run (the models load once per process).

    QT_QPA_PLATFORM=offscreen python bench/console/faces_open.py -w WORKSPACE --runs 3 \\
        --code /work/main --code .          # before and after, side by side, one session
    ... --cold                              # an empty model cache for every run (first use)

Each run opens the main window on the workspace, waits until the start-up jobs are done, then
shows Faces and waits for its warm-up (``FacesPanel.warm_job``). Reported per checkout: the
longest stall of the console's heartbeat (``console.stall.StallMonitor``, 10 ms timer) while
Faces opened, the most GUI-thread CPU time between two heartbeats, and the process's user+sys
CPU seconds spent by the opening (which a busy machine affects less than wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
from console import qtinit
qtinit.prepare()
from console.app import create_application
app = create_application(["superbrain"])
from PyQt6.QtCore import QEventLoop, QSettings, QTimer
from console.context import ConsoleContext
from console.mainwindow import MainWindow
from console.workers import running_jobs
from core.workspace import Workspace

def wait(ms):
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

ctx = ConsoleContext(Workspace.open(sys.argv[1]))
w = MainWindow(ctx, QSettings(sys.argv[2], QSettings.Format.IniFormat))
w.resize(1600, 960)
w.show()
wait(3000)
deadline = time.perf_counter() + 120
while running_jobs() and time.perf_counter() < deadline:
    wait(100)
wait(1000)
monitor = w.stall_monitor
monitor.reset()
c0, t0 = cpu(), time.perf_counter()
w.show_panel("faces")
faces = w.panels["faces"]
while (faces.warm_job is None or faces.warm_job.running or running_jobs()) \
        and time.perf_counter() - t0 < 120:
    wait(10)
wall = time.perf_counter() - t0
wait(200)
stats = monitor.stats()
print(json.dumps({"max_stall_ms": stats.max_ms, "busy_ms": stats.max_busy_ms,
                  "over_100": stats.over_threshold, "wall_s": wall, "cpu_s": cpu() - c0,
                  "report": faces.warm_report}), flush=True)
w.close()
from console import offload
offload.shutdown()
"""


def run_once(code: Path, workspace: Path, cold: bool) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(code))
    settings = Path(tempfile.mkdtemp(prefix="sb-faces-open-")) / "settings.ini"
    if cold:
        env["SUPERBRAIN_CACHE_DIR"] = tempfile.mkdtemp(prefix="sb-model-cache-")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(workspace), str(settings)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(code),
    )
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"run failed ({code}):\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-w", "--workspace", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--code", type=Path, action="append", help="checkout(s) to compare (default: this one)"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="an empty model cache for every run (the first use on a machine)",
    )
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[2]
    codes = [c.resolve() for c in args.code] if args.code else [here]
    load = os.getloadavg()[0]
    print(
        f"workspace {args.workspace}, {args.runs} runs each, platform "
        f"{os.environ.get('QT_QPA_PLATFORM') or 'xcb'}, "
        f"{'cold' if args.cold else 'warm'} model cache, load average {load:.1f} on "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC"
    )
    # interleaved, so that a change of the machine's load hits every checkout alike
    results: dict[Path, list[dict[str, object]]] = {c: [] for c in codes}
    for code in codes:  # warms the OS file cache (and, unless --cold, the model cache)
        run_once(code, args.workspace, args.cold)
    for _ in range(args.runs):
        for code in codes:
            results[code].append(run_once(code, args.workspace, args.cold))
    for code, runs in results.items():

        def med(key: str, rows: list[dict[str, object]] = runs) -> float:
            return float(statistics.median(float(r[key]) for r in rows))  # type: ignore[arg-type]

        stalls = sorted(float(r["max_stall_ms"]) for r in runs)  # type: ignore[arg-type]
        print(
            f"{code!s:<34} max stall median {med('max_stall_ms'):6.0f} ms (min "
            f"{stalls[0]:.0f}, max {stalls[-1]:.0f})  busy {med('busy_ms'):5.1f} ms  "
            f"CPU {med('cpu_s'):5.2f} s  warm-up {med('wall_s'):5.2f} s"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
