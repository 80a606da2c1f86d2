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
import json
import os
import statistics
import subprocess
import sys
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
print(json.dumps({"shown": t_shown - t0, "usable": marks["usable"] - t0}), flush=True)
w.close()
from console import offload
offload.shutdown()
"""


def run_once(code: Path, workspace: Path, settings: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run([sys.executable, "-c", CHILD, str(workspace), str(settings)],
                         env=env, capture_output=True, text=True, timeout=300, cwd=str(code))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"start-up run failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-w", "--workspace", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--code", type=Path, action="append",
                        help="checkout(s) to compare (default: this one)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[2]
    codes = args.code or [here]
    settings = Path(os.environ.get("TMPDIR", "/tmp")) / f"sb-startup-{os.getpid()}.ini"
    print(f"workspace {args.workspace}, {args.runs} runs each, platform "
          f"{os.environ.get('QT_QPA_PLATFORM') or 'xcb'}, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    for code in codes:
        run_once(code, args.workspace, settings)  # warm the OS file cache once
        runs = [run_once(code, args.workspace, settings) for _ in range(args.runs)]
        usable = sorted(r["usable"] for r in runs)
        shown = statistics.median(r["shown"] for r in runs)
        print(f"{code!s:<40} window shown {shown:5.2f} s  usable median "
              f"{statistics.median(usable):5.2f} s  (min {usable[0]:.2f}, max {usable[-1]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
