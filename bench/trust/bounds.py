"""What the issue #16 defences cost, side by side in one run.

1. An audit append with the chain only vs with the trust anchors (store row + signed file).
2. Searches on a demo workspace: the worst query the limits allow (8 wildcard terms of 4
   wildcards each) next to an ordinary wildcard query, and the issue's 10,000-character
   wildcard query (refused up front now).

Run: python bench/trust/bounds.py [--records 18000] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def audit_appends(tmp: Path, n: int = 200, rounds: int = 5) -> dict[str, float]:
    from core.audit import AuditLog
    from core.workspace import Workspace

    before = os.environ.get("SUPERBRAIN_ANCHOR_DIR")
    os.environ["SUPERBRAIN_ANCHOR_DIR"] = str(tmp / "anchors")  # throw-away anchors
    try:
        ws = Workspace.init(tmp / "audit-ws")
        ws.audit.append("bench", "start", {})  # the anchors are made here, under tmp
    finally:
        if before is None:
            os.environ.pop("SUPERBRAIN_ANCHOR_DIR")
        else:
            os.environ["SUPERBRAIN_ANCHOR_DIR"] = before
    plain = AuditLog(tmp / "plain.jsonl")
    per: dict[str, list[float]] = {"chain only": [], "anchored": []}
    for _ in range(rounds):  # interleaved, so a busy machine slows both alike
        for name, log in (("chain only", plain), ("anchored", ws.audit)):
            started = time.perf_counter()
            for i in range(n // rounds):
                log.append("bench", "search", {"q": f"x{i}"})
            per[name].append((time.perf_counter() - started) / (n // rounds) * 1000)
    ws.close()
    return {k: statistics.median(v) for k, v in per.items()}


def searches(root: Path) -> list[tuple[str, str, float]]:
    from core.workspace import Workspace
    from search.backend import open_backend
    from search.errors import SearchError
    from search.model import SearchRequest

    ws = Workspace.open(root)
    backend = open_backend(ws)
    queries = {
        "ordinary wildcard (王*)": "王*",
        "worst allowed (8 x *a*a*a*)": " OR ".join(f"*{c}*{c}*{c}*" for c in "abcdefgh"),
        "issue's 10,000-char wildcard": "*a*" * 3333,
    }
    out = []
    for label, query in queries.items():
        times, result = [], ""
        for _ in range(3):
            started = time.perf_counter()
            try:
                result = f"{backend.search(SearchRequest(query)).total:,} hits"
            except SearchError as exc:
                result = f"refused: {type(exc).__name__}"
            times.append(time.perf_counter() - started)
        out.append((label, result, min(times)))
    backend.close()
    ws.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3000, help="demo size (rows/source)")
    parser.add_argument("--workspace", type=Path, help="an existing demo workspace to search")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        root = args.workspace
        if root is None:
            # a throw-away workspace: its anchors too (an existing one keeps its own anchors)
            os.environ.setdefault("SUPERBRAIN_ANCHOR_DIR", str(tmp / "anchors"))
            root = tmp / "demo"
            subprocess.run(
                [
                    sys.executable,
                    str(REPO / "main.py"),
                    "demo",
                    "-w",
                    str(root),
                    "--size",
                    str(args.records),
                    "--no-console",
                ],
                check=True,
                capture_output=True,
            )
        print("audit append, median ms (chain only | anchored):")
        costs = audit_appends(tmp)
        print(
            f"  {costs['chain only']:.2f} | {costs['anchored']:.2f}  "
            f"(anchored/chain {costs['anchored'] / costs['chain only']:.1f}x)"
        )
        from core.workspace import Workspace

        records = Workspace.open(root).store.count()
        print(f"search on {records:,} records, best of 3:")
        for label, result, seconds in searches(root):
            print(f"  {label:<32} {seconds * 1000:8.1f} ms  {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
