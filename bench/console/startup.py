"""Start-up to a usable console window on a workspace: process start → window shown → event
loop answering, in a fresh process each run (imports included, as a user meets it).

    QT_QPA_PLATFORM=offscreen python bench/console/startup.py -w WORKSPACE [--runs 5]
    xvfb-run -a python bench/console/startup.py -w WORKSPACE          # a real X server
    python bench/console/startup.py -w WORKSPACE --code /work/main     # another checkout, same run

"Usable" is the first event-loop turn after the window is shown (a zero-delay timer fires): the
window paints and takes input from then on; panels keep loading in workers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from console.app import create_application
app = create_application(["superbrain"])
from PyQt6.QtCore import QSettings, QTimer
from console.context import ConsoleContext
from console.mainwindow import MainWindow
from core.workspace import Workspace
ws = Workspace.open(sys.argv[1])
ctx = ConsoleContext(ws)
w = MainWindow(ctx, QSettings(sys.argv[2], QSettings.Format.IniFormat))
w.resize(1600, 960)
w.show()
t_shown = time.perf_counter()
marks = {}
def usable():
    marks["usable"] = time.perf_counter()
    app.quit()
QTimer.singleShot(0, usable)
app.exec()
import resource
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"shown": t_shown - t0, "usable": marks["usable"] - t0,
                  "cpu": r.ru_utime + r.ru_stime}), flush=True)
w.close()
from console import offload
offload.shutdown()
"""


def run_once(code: Path, workspace: Path, settings: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(code))
    # compiled modules cached as on a user's machine (an installed package has them), each
    # checkout in a folder of its own outside its tree; PYTHONDONTWRITEBYTECODE (set on the
    # build machine) made every run compile ~90 modules again (~0.3 s of CPU)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    digest = hashlib.sha256(str(code.resolve()).encode()).hexdigest()[:12]
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"sb-pycache-{digest}")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(workspace), str(settings)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(code),
    )
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"start-up run failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-w", "--workspace", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--code", type=Path, action="append", help="checkout(s) to compare (default: this one)"
    )
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[2]
    codes = args.code or [here]
    settings = Path(os.environ.get("TMPDIR", "/tmp")) / f"sb-startup-{os.getpid()}.ini"
    print(
        f"workspace {args.workspace}, {args.runs} runs each, platform "
        f"{os.environ.get('QT_QPA_PLATFORM') or 'xcb'}, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC"
    )
    for code in codes:
        run_once(code, args.workspace, settings)  # warm the OS file cache once
    results: dict[Path, list[dict[str, float]]] = {code: [] for code in codes}
    for _ in range(args.runs):  # interleaved: a change of the machine's load hits all alike
        for code in codes:
            results[code].append(run_once(code, args.workspace, settings))
    for code, runs in results.items():
        usable = sorted(r["usable"] for r in runs)
        shown = statistics.median(r["shown"] for r in runs)
        cpu = statistics.median(r.get("cpu", float("nan")) for r in runs)
        print(
            f"{code!s:<40} window shown {shown:5.2f} s  usable median "
            f"{statistics.median(usable):5.2f} s  (min {usable[0]:.2f}, max {usable[-1]:.2f})"
            f"  user+sys CPU {cpu:5.2f} s"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
