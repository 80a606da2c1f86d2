"""Link-graph benchmark: 2-hop expansion, shortest path, Louvain, co-occurrence, memory/edge.

    python -m bench.graph.bench_graph [--quick]

Uses the generated store in ``.cache/graph_bench.sqlite`` (1M entities, 5M links; built by
``bench/graph/generate.py`` on first run, ~2 minutes) and 5M synthetic plate reads made with
numpy. ``--quick`` runs everything at 1/20 scale.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bench.graph.generate import DEFAULT_PATH, ENTITIES, cached
from core.store import Store
from graph.analysis import communities
from graph.cooccur import Sightings, cooccurrence_pairs, cooccurring_with
from graph.errors import NoPathError
from graph.expand import expand, find_path
from graph.indexes import drop_graph_indexes, ensure_graph_indexes
from graph.layout import layout_edges
from graph.resolution import AliasMap


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


CPU: list[float] = []  # CPU seconds of the last timed() calls (the machine is shared)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    c = time.process_time()
    t = time.perf_counter()
    out = fn()
    CPU.append(time.process_time() - c)
    return time.perf_counter() - t, out


def random_ids(rng: random.Random, scale: float, n: int) -> list[str]:
    people = int(ENTITIES["person"] * scale)
    phones = int(ENTITIES["phone"] * scale)
    vehicles = int(ENTITIES["vehicle"] * scale)
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            out.append(f"person:3301{rng.randrange(people):014d}")
        elif kind == 1:
            out.append(f"phone:13{rng.randrange(phones):09d}")
        else:
            out.append(f"vehicle:浙A{rng.randrange(vehicles):06d}")
    return out


def bench_queries(
    store: Store, aliases: AliasMap, scale: float, samples: int, label: str
) -> tuple[float, float]:
    """2-hop expansions and shortest paths from fixed random seeds; returns the two p50s."""
    rng = random.Random(11)
    for seed in random_ids(rng, scale, 6):  # warm the page cache a little
        expand(store, [seed], depth=2, max_nodes=2000, aliases=aliases)
    by_type: dict[str, list[float]] = {}
    times, sizes, cut = [], [], 0
    CPU.clear()
    for seed in random_ids(rng, scale, samples):
        dt, g = timed(lambda s=seed: expand(store, [s], depth=2, max_nodes=2000, aliases=aliases))
        times.append(dt * 1000)
        by_type.setdefault(seed.split(":")[0], []).append(dt * 1000)
        sizes.append(len(g.nodes))
        cut += g.truncated
    kinds = "  ".join(f"{k} p50 {pct(v, 0.5):.1f} ms" for k, v in by_type.items())
    print(
        f"[{label}] 2-hop expansion ({samples} seeds, cap 2000): p50 {pct(times, 0.5):.1f} ms"
        f"  p90 {pct(times, 0.9):.1f} ms  max {max(times):.0f} ms | nodes p50 "
        f"{statistics.median(sizes):.0f} p90 {pct(sizes, 0.9):.0f}  truncated {cut} | CPU "
        f"p50 {pct(CPU, 0.5) * 1000:.1f} ms\n"
        f"[{label}]   by seed type: {kinds}"
    )
    p50_expand = pct(times, 0.5)
    times, hops, missing = [], [], 0
    CPU.clear()
    phones = int(ENTITIES["phone"] * scale)
    for _ in range(max(10, samples // 3)):
        a = f"phone:13{rng.randrange(phones):09d}"
        b = f"phone:13{rng.randrange(phones):09d}"
        try:
            dt, p = timed(lambda a=a, b=b: find_path(store, a, b, max_hops=6, aliases=aliases))
            hops.append(len(p.seeds) - 1)
        except NoPathError:
            missing += 1
            continue
        times.append(dt * 1000)
    print(
        f"[{label}] shortest path, phone to phone ({len(times)} pairs, bidirectional BFS in "
        f"SQL): p50 {pct(times, 0.5):.1f} ms  p90 {pct(times, 0.9):.1f} ms  CPU p50 "
        f"{pct(CPU, 0.5) * 1000:.1f} ms | hops p50 "
        f"{statistics.median(hops):.0f}  no path within 6: {missing}"
    )
    return p50_expand, pct(times, 0.5)


def bench_store(path: Path, scale: float, samples: int) -> None:
    store = Store(path)
    aliases = AliasMap.load(store)
    drop_graph_indexes(store)
    print(
        f"store: {store.count('entities'):,} entities, {store.count('links'):,} links "
        f"({path.stat().st_size / 2**30:.2f} GiB)"
    )
    plain = bench_queries(store, aliases, scale, samples, "store indexes only")
    dt, _ = timed(lambda: ensure_graph_indexes(store))
    print(
        f"graph covering indexes built in {dt:.0f} s; store now "
        f"{path.stat().st_size / 2**30:.2f} GiB"
    )
    covered = bench_queries(store, aliases, scale, samples, "covering indexes")
    print(
        f"speed-up from covering indexes: 2-hop ×{plain[0] / covered[0]:.1f}, "
        f"path ×{plain[1] / covered[1]:.1f}"
    )
    target = 50_000 if scale >= 1 else 5_000
    gc.collect()
    rss0 = psutil.Process().memory_info().rss
    dt, g = timed(
        lambda: expand(store, ["phone:13000000007"], depth=8, max_nodes=target, aliases=aliases)
    )
    cpu = CPU[-1]
    gc.collect()
    used = psutil.Process().memory_info().rss - rss0
    print(
        f"neighbourhood for Louvain: {len(g.nodes):,} nodes, {len(g.edges):,} edges "
        f"({sum(e.count for e in g.edges):,} links) in {dt:.1f} s (CPU {cpu:.1f} s); "
        f"GraphResult RSS "
        f"{used / 2**20:.0f} MiB = {used / max(1, len(g.edges)):.0f} B per edge "
        f"(nodes and evidence included)"
    )
    gc.collect()
    rss0 = psutil.Process().memory_info().rss
    nxg = g.to_networkx(multigraph=False)
    used = psutil.Process().memory_info().rss - rss0
    print(
        f"networkx Graph of it: {used / max(1, nxg.number_of_edges()):.0f} B per edge "
        f"(evidence lists copied)"
    )
    del nxg
    dt, found = timed(lambda: communities(g, seed=1))
    print(
        f"Louvain on {len(g.nodes):,} nodes: {dt:.1f} s (CPU {CPU[-1]:.1f} s), "
        f"{len(found)} communities, "
        f"largest {len(found[0]) if found else 0}"
    )
    store.close()


def make_reads(
    n_reads: int, n_vehicles: int, n_devices: int, days: int, seed: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random plate reads plus a planted convoy: vehicles 0 (target) and 1 pass 8 devices a
    day together (within 30 s) for 5 days."""
    rng = np.random.default_rng(seed)
    ent = rng.integers(2, n_vehicles, size=n_reads)
    dev = rng.integers(0, n_devices, size=n_reads)
    t = rng.random(n_reads) * days * 86400.0
    conv_e, conv_d, conv_t = [], [], []
    for day in range(5):
        for hop, d in enumerate(rng.choice(n_devices, size=8, replace=False)):
            when = day * 86400.0 + 8 * 3600 + hop * 600
            conv_e += [0, 1]
            conv_d += [d, d]
            conv_t += [when, when + rng.uniform(2, 30)]
    return (
        np.concatenate([ent, conv_e]),
        np.concatenate([dev, conv_d]),
        np.concatenate([t, conv_t]),
    )


def bench_cooccurrence(n_reads: int) -> None:
    # sparse: 3k devices over 30 days; dense: 500 devices over 7 days (a read a minute at
    # every device, about one joint read per read)
    cases = [(n_reads // 5, 3_000, 30), (n_reads, 3_000, 30), (n_reads, 500, 7)]
    for size, devices, days in cases:
        ent, dev, t = make_reads(size, n_vehicles=200_000, n_devices=devices, days=days)
        dt_build, s = timed(lambda ent=ent, dev=dev, t=t: Sightings.from_arrays(ent, dev, t))
        dt_target, mates = timed(lambda s=s: cooccurring_with(s, "0", window=60, min_count=3))
        dt_all, pairs = timed(lambda s=s: cooccurrence_pairs(s, window=60, min_count=3))
        top = pairs[0] if pairs else None
        print(
            f"co-occurrence, {len(t):,} reads / 200k plates / {devices:,} devices / {days} "
            f"days, ±60 s: sort {dt_build:.1f} s, one target {dt_target:.2f} s, all pairs "
            f"{dt_all:.1f} s (CPU {CPU[-1]:.1f} s) | target's top mate "
            f"{mates[0].b if mates else None} ({mates[0].count if mates else 0} meetings); "
            f"top pair {(top.a, top.b, top.count) if top else None}; {len(pairs)} pairs ≥ 3"
        )


def bench_layout() -> None:
    rng = random.Random(4)
    for n in (1000, 3000, 5000):
        nodes = [f"n{i}" for i in range(n)]
        edges = [(f"n{i}", f"n{rng.randrange(n)}") for i in range(2 * n)]
        dt, pos = timed(lambda nodes=nodes, edges=edges: layout_edges(nodes, edges))
        grown = nodes + [f"new{i}" for i in range(50)]
        more = edges + [(f"new{i}", f"n{rng.randrange(n)}") for i in range(50)]
        dt_inc, _ = timed(
            lambda grown=grown, more=more, pos=pos: layout_edges(grown, more, fixed=pos)
        )
        print(
            f"layout {n:,} nodes / {2 * n:,} edges: {dt:.1f} s fresh; +50 nodes "
            f"incremental {dt_inc:.2f} s"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1/20 scale (smoke run)")
    ap.add_argument("--samples", type=int, default=60)
    args = ap.parse_args()
    scale = 0.05 if args.quick else 1.0
    path = DEFAULT_PATH if not args.quick else DEFAULT_PATH.with_name("graph_bench_quick.sqlite")
    t0 = time.perf_counter()
    bench_store(cached(path, scale), scale, args.samples)
    bench_cooccurrence(int(5_000_000 * scale))
    bench_layout()
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
