"""Face search on one Elasticsearch node against the embedded FAISS index, same vectors, one run.

    python -m bench.faces.bench_cluster --es http://127.0.0.1:9250 [--n 200000] [--queries 200] \\
        [--keep --prefix bench-faces-1m] [--sq-cache .cache/faces_sq_1m.idx]

``--n`` unit 128-d vectors shaped like face descriptors (a cone spanning ~40 dimensions, as
dlib's do; the LFW-fitted base of ``bench_faces.py`` needs its embedding cache) are indexed in
FAISS flat (exact), the shipped ``hnsw-sq`` setting and Elasticsearch ``int8_hnsw`` (with raw
vector rescoring). For each: build/ingest time, p50/p95 single-query latency, recall@10 against
exact; plus numpy's brute-force scan, and the bytes per vector Elasticsearch stores.

``--ef-sq`` and ``--num-candidates`` take comma-separated lists: every value is measured on the
same built index (the shipped values are marked), so a recall/latency trade-off is one run.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from facematch import index as fx  # noqa: E402
from search.es_links import es_client  # noqa: E402
from search.es_vectors import NUM_CANDIDATES, OVERSAMPLE, EsVectorIndex  # noqa: E402


def descriptors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(99).normal(size=(41, 128))
    out = np.empty((n, 128), dtype=np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        v = basis[0] + rng.normal(size=(m, 40)) @ basis[1:] * 0.08
        out[i : i + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def timings(search: object, queries: np.ndarray) -> tuple[float, float, list[np.ndarray]]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        found.append(search(q[None, :]))  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95)), found


def es_rows(
    args: argparse.Namespace,
    ids: np.ndarray,
    base: np.ndarray,
    queries: np.ndarray,
    rows: list[tuple[str, float, float, float, float]],
    recall: Any,
    settings: list[tuple[float, int]],
) -> tuple[int, float]:
    """Index ``base`` on Elasticsearch, add a row per ``num_candidates``; (shipped row, bytes
    per vector)."""
    client, shown = es_client(args.es, timeout=300)
    es = EsVectorIndex(
        client, prefix=args.prefix or f"bench-faces-{uuid.uuid4().hex[:6]}", url=shown
    )
    reused = bool(args.prefix) and client.indices.exists(index=es.name) and len(es) == args.n
    built = float("nan")
    try:
        if reused:  # an earlier --keep run with the same --n and --prefix: same vectors
            print(f"Elasticsearch: reusing {es.name} ({args.n:,} vectors)", flush=True)
        else:
            es.drop()
            es.ensure()
            t = time.perf_counter()
            with es.bulk_load():
                for i in range(0, args.n, 20_000):
                    es.add(ids[i : i + 20_000], base[i : i + 20_000], threads=args.threads)
            loaded = time.perf_counter() - t
            client.options(request_timeout=3600).indices.forcemerge(
                index=es.name, max_num_segments=1
            )
            built = time.perf_counter() - t
            print(
                f"Elasticsearch: {args.n:,} vectors indexed in {loaded:.0f} s and force-merged "
                f"in {built - loaded:.0f} s more ({args.n / built:,.0f} vectors/s overall, "
                f"{args.threads} bulk threads)",
                flush=True,
            )
        shipped_es = len(rows)
        for over, nc in settings:
            es.num_candidates, es.oversample = nc, over
            for q in queries[:20]:  # load the graph
                es.search(q[None, :], 10)
            p50, p95, found = timings(lambda q: es.search(q, 10)[1][0], queries)
            shipped = (over, nc) == (OVERSAMPLE, NUM_CANDIDATES)
            if shipped:
                shipped_es = len(rows)
            mark = ", shipped" if shipped else ""
            rows.append(
                (
                    f"es int8_hnsw (candidates {nc}, rescore x{over:g}{mark})",
                    built,
                    p50,
                    p95,
                    recall(found),
                )
            )
            print(rows[-1], flush=True)
        per_vector = es.store_bytes() / args.n
    finally:
        if not args.keep:
            es.drop()
    return shipped_es, per_vector


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--es", default="http://127.0.0.1:9250")
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2, help="parallel bulk connections")
    ap.add_argument(
        "--num-candidates",
        default="240,400,640",
        help="Elasticsearch num_candidates values (comma-separated)",
    )
    ap.add_argument(
        "--oversample",
        default="2,4",
        help="Elasticsearch rescore oversampling values (comma-separated; every pair with "
        "--num-candidates is measured)",
    )
    ap.add_argument(
        "--ef-sq", default="128,160,192,256", help="hnsw-sq efSearch values (comma-separated)"
    )
    ap.add_argument("--skip-sq", action="store_true", help="leave out faiss hnsw-sq")
    ap.add_argument("--keep", action="store_true", help="keep the Elasticsearch index")
    ap.add_argument(
        "--prefix",
        default="",
        help="index prefix (default: a new one); an earlier --keep run's prefix with the same "
        "--n reuses its index instead of building it again",
    )
    ap.add_argument(
        "--sq-cache",
        default="",
        help="file for the built hnsw-sq index: loaded when it holds --n vectors, else "
        "built and saved there (the 1M build takes ~20 min on 2 cores)",
    )
    ap.add_argument("--skip-es", action="store_true", help="leave out Elasticsearch")
    ap.add_argument(
        "--build-threads",
        type=int,
        default=2,
        help="faiss threads for the build (queries run on one)",
    )
    args = ap.parse_args()
    efs = sorted({int(v) for v in args.ef_sq.split(",")} | {fx.HNSW_SQ_EF_SEARCH})
    settings = sorted(
        {
            (float(o), int(c))
            for o in args.oversample.split(",")
            for c in args.num_candidates.split(",")
        }
        | {(OVERSAMPLE, NUM_CANDIDATES)}
    )
    fx._faiss().omp_set_num_threads(1)
    base = descriptors(args.n, seed=1)
    queries = descriptors(args.queries, seed=2)
    ids = np.arange(args.n, dtype=np.int64)
    rows = []

    def scan(q: np.ndarray) -> np.ndarray:
        sims = base @ q[0]
        top = np.argpartition(-sims, 10)[:10]
        return top[np.argsort(-sims[top])]

    p50, p95, _ = timings(scan, queries[:100])
    rows.append(("numpy scan", 0.0, p50, p95, 1.0))
    t = time.perf_counter()
    flat = fx.VectorIndex.build(ids, base, "flat")
    p50, p95, exact = timings(lambda q: flat.search(q, 10)[1][0], queries)
    rows.append(("faiss flat (exact)", time.perf_counter() - t, p50, p95, 1.0))

    def recall(found: list[np.ndarray]) -> float:
        return float(
            np.mean(
                [
                    len(set(a.tolist()) & set(b.tolist())) / 10
                    for a, b in zip(found, exact, strict=True)
                ]
            )
        )

    t = time.perf_counter()
    fx._faiss().omp_set_num_threads(args.build_threads)
    sq, built = None, float("nan")
    cache = Path(args.sq_cache) if args.sq_cache else None
    if not args.skip_sq and cache is not None and cache.exists():
        sq, head = fx.VectorIndex.load(cache)
        if len(sq) != args.n or head.get("bench_seed") != 1:
            sq = None
        else:
            print(f"faiss hnsw-sq loaded from {cache} (built earlier)", flush=True)
    if not args.skip_sq and sq is None:
        sq = fx.VectorIndex.build(ids, base, "hnsw-sq")
        built = time.perf_counter() - t
        print(f"faiss hnsw-sq built in {built:.0f} s ({args.build_threads} threads)", flush=True)
        if cache is not None:
            sq.save(cache, extra={"bench_seed": 1})
    fx._faiss().omp_set_num_threads(1)
    if sq is not None:
        sq.warm_up()
    shipped_sq = len(rows)
    for ef in efs if sq is not None else ():
        sq.set_search_params(ef_search=ef)
        sq.search(queries[:20], 10)  # compile / warm for this setting
        p50, p95, found = timings(lambda q: sq.search(q, 10)[1][0], queries)
        if ef == fx.HNSW_SQ_EF_SEARCH:
            shipped_sq = len(rows)
        mark = ", shipped" if ef == fx.HNSW_SQ_EF_SEARCH else ""
        rows.append((f"faiss hnsw-sq (efSearch {ef}{mark})", built, p50, p95, recall(found)))
        print(rows[-1], flush=True)

    shipped_es, per_vector = -1, float("nan")
    if not args.skip_es:
        shipped_es, per_vector = es_rows(args, ids, base, queries, rows, recall, settings)
    print(
        f"{args.n:,} vectors, {args.queries} queries, k=10, one query at a time; "
        f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'index':<52}{'build s':>9}{'p50 ms':>9}{'p95 ms':>9}{'recall@10':>11}")
    for name, b, p50, p95, r in rows:
        print(f"{name:<52}{b:>9.1f}{p50:>9.2f}{p95:>9.2f}{r:>11.4f}")
    flat_p95 = rows[1][3]
    if shipped_es >= 0:
        print(
            f"Elasticsearch stores {per_vector:.0f} B per face vector (after force-merge, "
            f"primaries, float vectors + int8 codes + graph)"
        )
        es_p95 = rows[shipped_es][3]
        print(
            f"shipped settings, ratios (p95): Elasticsearch / faiss flat ×{es_p95 / flat_p95:.2f}"
        )
    if sq is not None:
        sq_p95, sq_p50 = rows[shipped_sq][3], rows[shipped_sq][2]
        if shipped_es >= 0:
            print(f"Elasticsearch / faiss hnsw-sq ×{rows[shipped_es][3] / sq_p95:.1f} (p95)")
        print(
            f"hnsw-sq (shipped) speed-up over flat ×{rows[1][2] / sq_p50:.0f} and over numpy "
            f"×{rows[0][2] / sq_p50:.0f} (p50)"
        )


if __name__ == "__main__":
    main()
