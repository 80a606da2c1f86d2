"""The link graph on SQLite and on one Elasticsearch node, same data, same seeds, one run.

    python -m bench.graph.bench_cluster --es http://127.0.0.1:9250 [--scale 0.2] [--samples 40]

Generates (or reuses) the benchmark store at ``--scale`` (1.0 = 1M entities, 5M links;
``bench/graph/generate.py``), migrates it into Elasticsearch (timed; bytes per link measured
from the index's store size), then runs 2-hop expansions, shortest paths and a co-occurrence
query on both engines with the same seeds and prints p50/p95 and the ratio. SQLite runs with
the covering graph indexes (``superbrain graph index``), its fastest setting. The
Elasticsearch indices are deleted at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.graph.bench_graph import pct, random_ids
from bench.graph.generate import REPO, cached
from core.store import Store
from graph.backend import CLUSTER_MAX_FANOUT, EsGraphStore, GraphStore, SqlGraphStore
from graph.cooccur import cooccurring_in_store
from graph.errors import GraphError, NoPathError
from graph.expand import expand, find_path
from graph.indexes import ensure_graph_indexes
from graph.migrate import MigrationReport, migrate, position
from graph.resolution import AliasMap
from search.es_links import EsLinkIndex, es_client

FANOUT = CLUSTER_MAX_FANOUT  # the cluster's shipped cap: entities with more links are hubs


def ms(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def run(engines: dict[str, GraphStore], scale: float, samples: int) -> None:
    aliases = AliasMap()
    rng = random.Random(11)
    seeds = random_ids(rng, scale, samples)
    phones = int(350_000 * scale)
    pairs = [
        (f"phone:13{rng.randrange(phones):09d}", f"phone:13{rng.randrange(phones):09d}")
        for _ in range(max(10, samples // 2))
    ]
    vehicles = [f"vehicle:浙A{rng.randrange(int(200_000 * scale)):06d}" for _ in range(10)]
    results: dict[str, dict[str, float]] = {}
    for name, gs in engines.items():
        for s in seeds[:5]:  # warm caches a little
            expand(gs, [s], depth=2, max_nodes=2000, aliases=aliases)
        times, sizes = [], []
        for s in seeds:
            t = time.perf_counter()
            g = expand(gs, [s], depth=2, max_nodes=2000, aliases=aliases)
            times.append((time.perf_counter() - t) * 1000)
            sizes.append(len(g.nodes))
        capped = []
        for s in seeds:
            t = time.perf_counter()
            expand(gs, [s], depth=2, max_nodes=2000, max_fanout=FANOUT, aliases=aliases)
            capped.append((time.perf_counter() - t) * 1000)
        paths, missing = [], 0
        for a, b in pairs:
            t = time.perf_counter()
            try:
                find_path(gs, a, b, max_hops=6, aliases=aliases)
            except NoPathError:
                missing += 1
            paths.append((time.perf_counter() - t) * 1000)
        co = []
        for v in vehicles:
            t = time.perf_counter()
            try:
                cooccurring_in_store(gs, v, window=60, min_count=1, aliases=aliases)
            except GraphError:
                continue
            co.append((time.perf_counter() - t) * 1000)
        results[name] = {
            "x50": pct(times, 0.5),
            "x95": pct(times, 0.95),
            "f95": pct(capped, 0.95),
            "p50": pct(paths, 0.5),
            "p95": pct(paths, 0.95),
            "c50": pct(co, 0.5) if co else float("nan"),
        }
        print(
            f"[{name}] 2-hop expansion ({len(seeds)} seeds, cap 2000, nodes p50 "
            f"{sorted(sizes)[len(sizes) // 2]}): p50 {pct(times, 0.5):.1f} ms  p95 "
            f"{pct(times, 0.95):.1f} ms; with fan-out cap {FANOUT}: p50 "
            f"{pct(capped, 0.5):.1f} ms  p95 {pct(capped, 0.95):.1f} ms | shortest path "
            f"({len(pairs)} pairs, "
            f"{missing} none within 6): p50 {pct(paths, 0.5):.1f} ms  p95 "
            f"{pct(paths, 0.95):.1f} ms | co-occurrence of one vehicle ({len(co)}): p50 "
            f"{results[name]['c50']:.1f} ms",
            flush=True,
        )
    a, b = results["sqlite"], results["elasticsearch"]
    print(
        f"ratio Elasticsearch / SQLite: 2-hop p95 ×{b['x95'] / a['x95']:.1f} (capped "
        f"×{b['f95'] / a['f95']:.1f}), path p95 "
        f"×{b['p95'] / a['p95']:.1f}, co-occurrence p50 ×{b['c50'] / a['c50']:.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--es", default="http://127.0.0.1:9250")
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2, help="parallel bulk connections")
    ap.add_argument("--keep", action="store_true", help="keep the Elasticsearch indices")
    ap.add_argument(
        "--prefix",
        default="",
        help="index prefix (default: a new one); an earlier --keep run's prefix "
        "resumes its migration instead of copying again",
    )
    args = ap.parse_args()
    path = cached(REPO / ".cache" / f"graph_bench_{args.scale:g}.sqlite", args.scale)
    store = Store(path)
    ensure_graph_indexes(store)
    client, shown = es_client(args.es, timeout=120)
    index = EsLinkIndex(
        client, prefix=args.prefix or f"bench-graph-{uuid.uuid4().hex[:6]}", url=shown
    )
    try:
        t = time.perf_counter()
        if position(store, index).get("done"):  # a kept index, complete: measure it as it is
            report = MigrationReport(
                total_entities=store.connection.execute("SELECT count(*) FROM entities").fetchone()[
                    0
                ],
                total_links=store.connection.execute("SELECT count(*) FROM links").fetchone()[0],
            )
        else:
            report = migrate(store, index, batch=20_000, threads=args.threads)
        took = time.perf_counter() - t
        client.options(request_timeout=600).indices.forcemerge(
            index=f"{index.entities},{index.links}", max_num_segments=1
        )
        size = index.store_bytes()
        print(
            f"store: {report.total_entities:,} entities, {report.total_links:,} links; "
            f"migrated in {took:.0f} s ({(report.entities + report.links) / took:,.0f} rows/s, "
            f"{args.threads} bulk threads); Elasticsearch after force-merge: "
            f"{size[index.links] / report.total_links:.0f} B per link, "
            f"{size[index.entities] / report.total_entities:.0f} B per entity "
            f"(primaries, no replica)",
            flush=True,
        )
        run(
            {"sqlite": SqlGraphStore(store), "elasticsearch": EsGraphStore(index, store)},
            args.scale,
            args.samples,
        )
    finally:
        if not args.keep:
            index.drop()
        store.close()


if __name__ == "__main__":
    main()
