"""Ingest benchmark: a generated checkpoint CSV (1M rows by default) through the pipeline.

Each configuration runs in its own fresh process and workspace, so peak RSS is its own:

* ``read``        — the source's reader only (CSV decode and split);
* ``read+map``    — reader and ``to_record`` (mapping, normalisers, time parsing), no store;
* ``store``       — the full Ingestor with ``stages=[]`` (SQLite store only);
* ``stages``      — the full Ingestor with the default stages (search, faces, … whatever the
  installed engine packages provide); skipped when there are none.

Usage::

    python bench/ingest/run.py                 # 1,000,000 rows, cached under bench/ingest/.cache
    python bench/ingest/run.py --rows 100000 --profile store   # cProfile top functions
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

CONFIGS = ("read", "read+map", "store", "stages")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ensure_file(cache: Path, rows: int, seed: int) -> tuple[Path, float | None]:
    """The cached checkpoint CSV for (rows, seed); generated (and timed) when missing."""
    from plugins.builtin.sources import checkpoint

    target = cache / f"checkpoint-{rows}-s{seed}" / "checkpoint.csv"
    if target.exists():
        return target, None
    started = time.perf_counter()
    (path,) = checkpoint().generate(target.parent, rows, seed=seed)
    return path, time.perf_counter() - started


def worker(config: str, path: Path, batch: int, profile: bool) -> dict[str, object]:
    """Run one configuration in this process and return its measurements."""
    from core.ingest import Ingestor
    from core.stages import default_stages
    from core.workspace import Workspace
    from plugins.builtin.sources import checkpoint

    plugin = checkpoint()
    result: dict[str, object] = {"config": config}
    with tempfile.TemporaryDirectory(prefix="sb-bench-ingest-") as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        stages = default_stages(ws) if config == "stages" else []
        if config == "stages" and not stages:
            return {**result, "skipped": "no ingest stages installed"}
        result["stages"] = [s.name for s in stages]
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started, cpu_started = time.perf_counter(), time.process_time()
        records = rejects = 0
        if config in ("read", "read+map"):
            for item in plugin.read(path):
                if config == "read+map" and not isinstance(item, Exception):
                    plugin.to_record(item, path)
                records += 1
        else:
            report = Ingestor(ws, stages=stages, batch_size=batch).ingest_file(plugin, path)
            records, rejects = report.records, report.rejects
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        if profiler is not None:
            import io
            import pstats

            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
            result["profile"] = out.getvalue()
        store_mb = sum(f.stat().st_size for f in Path(tmp, "ws").glob("store.sqlite*")) / 2**20
        ws.close()
    result.update(
        records=records,
        rejects=rejects,
        seconds=seconds,
        cpu=cpu,
        rate=records / seconds if seconds else 0.0,
        cpu_rate=records / cpu if cpu else 0.0,
        rss_mb=_peak_rss_mb(),
        store_mb=store_mb,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "ingest" / ".cache")
    parser.add_argument(
        "--configs",
        default=",".join(CONFIGS),
        help=f"comma-separated subset of {','.join(CONFIGS)}",
    )
    parser.add_argument("--profile", default="", help="configuration to run under cProfile")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        res = worker(args.worker, args.file, args.batch_size, args.profile == args.worker)
        print(json.dumps(res))
        return 0

    args.cache.mkdir(parents=True, exist_ok=True)
    path, gen_seconds = ensure_file(args.cache, args.rows, args.seed)
    size_mb = path.stat().st_size / 2**20
    gen = f"generated in {gen_seconds:.1f} s" if gen_seconds is not None else "cached"
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print(
        f"input: {path} — {args.rows:,} rows, {size_mb:,.1f} MiB ({gen}), "
        f"batch {args.batch_size}, python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    results = []
    for config in args.configs.split(","):
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            config,
            "--file",
            str(path),
            "--batch-size",
            str(args.batch_size),
            "--profile",
            args.profile,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{config}: FAILED\n{done.stderr[-2000:]}")
            continue
        res = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(res)
        if "profile" in res:
            print(f"--- cProfile of {config} ---\n{res['profile']}")
    base = next((r for r in results if r["config"] == "store" and "skipped" not in r), None)
    print(
        f"{'config':<10} {'records':>10} {'wall s':>8} {'rec/s wall':>11} {'CPU s':>8} "
        f"{'rec/s CPU':>10} {'peak RSS':>10} {'store':>9} {'CPU vs store':>13}"
    )
    for r in results:
        if "skipped" in r:
            print(f"{r['config']:<10} skipped: {r['skipped']}")
            continue
        ratio = f"{r['cpu'] / base['cpu']:.2f}x" if base else "-"
        store = f"{r['store_mb']:.0f} MiB" if r["config"] in ("store", "stages") else "-"
        print(
            f"{r['config']:<10} {r['records']:>10,} {r['seconds']:>8.1f} {r['rate']:>11,.0f} "
            f"{r['cpu']:>8.1f} {r['cpu_rate']:>10,.0f} {r['rss_mb']:>7.0f} MiB {store:>9} "
            f"{ratio:>13}"
        )
        if r.get("stages"):
            print(f"{'':<10} stages: {', '.join(r['stages'])}")
        if r.get("rejects"):
            print(f"{'':<10} rejects: {r['rejects']:,}")
    load = os.getloadavg()
    print(
        f"load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"(wall times stretch when the machine is shared; CPU seconds are this process's own)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
