"""Memory layout of the approximate face index: huge pages and vector order, side by side.

Loads (or builds) one faiss index of the benchmark's base (LFW descriptors + fitted Gaussian,
as bench_faces / index_explore), makes copies with a different memory layout, and times them
against each other in blocks of all queries per layout, rotating the order between rounds, so
machine load hits all alike while each layout's caches stay warm as in use. Results of every
layout are the same vectors; recall@10 is against the exact scan.

Layouts: ``plain`` (as faiss allocates), ``huge`` (transparent huge pages, see
facematch/index_layout.py), ``bfs`` (vectors renumbered breadth-first over the graph), ``bfs+huge``,
``kmeans`` / ``kmeans+huge`` (renumbered by a coarse k-means cell of the vector).

    flock /work/bench.lock python -m bench.faces.index_layout --n 1000000 \
        --index .cache/faces/indexes/PCA64+HNSW48_SQ8+RFlat-<digest>-efc160.faiss \
        --layouts plain,huge,bfs+huge --ef 96,128,160,192
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.faces.bench_faces import lfw_descriptors, synthetic_base  # noqa: E402
from facematch import index as fx  # noqa: E402
from facematch import index_layout as lay  # noqa: E402


def kmeans_order(faiss, base: np.ndarray, cells: int) -> np.ndarray:
    km = faiss.Kmeans(base.shape[1], cells, niter=10, seed=1, max_points_per_centroid=64)
    km.train(base[np.random.default_rng(0).permutation(len(base))[: cells * 64]])
    _, cell = km.index.search(base, 1)
    # cells themselves in a 1-d order (first principal direction of the centroids)
    c = km.centroids - km.centroids.mean(axis=0)
    axis = np.linalg.svd(c, full_matrices=False)[2][0]
    rank = np.argsort(np.argsort(c @ axis))
    return np.argsort(rank[cell[:, 0]], kind="stable")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "faces")
    ap.add_argument("--index", type=Path, help="a faiss file of this base (index_explore's)")
    ap.add_argument("--spec", default="PCA64,HNSW48_SQ8,RFlat", help="built when no --index")
    ap.add_argument("--ef-construction", type=int, default=fx.HNSW_SQ_EF_CONSTRUCTION)
    ap.add_argument("--layouts", default="plain,huge,bfs,bfs+huge")
    ap.add_argument("--ef", default="96,128,160,192")
    ap.add_argument("--k-factor", type=int, default=fx.REFINE_K_FACTOR)
    ap.add_argument("--rounds", type=int, default=1, help="passes over the queries")
    args = ap.parse_args()
    faiss = fx._faiss()
    load0 = os.getloadavg()[0]
    real = lfw_descriptors(args.cache)
    order = np.random.default_rng(1).permutation(len(real))
    queries = real[order[: args.queries]]
    base = synthetic_base(real[order[args.queries :]], args.n)

    np_times, exact = [], []
    for q in queries:
        t = time.perf_counter()
        sims = base @ q
        top = np.argpartition(-sims, 10)[:10]
        exact.append(top[np.argsort(-sims[top])])
        np_times.append(time.perf_counter() - t)
    np_ms = 1000 * float(np.median(np_times))
    print(f"load {load0:.2f}; n {args.n:,}; numpy scan p50 {np_ms:.3f} ms", flush=True)

    def fresh():
        if args.index:
            return faiss.read_index(str(args.index))
        ix = faiss.index_factory(128, args.spec, faiss.METRIC_L2)
        for g in lay._inner(faiss, ix):
            if hasattr(g, "hnsw"):
                g.hnsw.efConstruction = args.ef_construction
        faiss.omp_set_num_threads(2)
        ix.train(base[np.random.default_rng(0).permutation(len(base))[:100_000]])
        ix.add(base)
        faiss.omp_set_num_threads(1)
        return ix

    first = fresh()
    indexes, perms = {}, {}
    for name in args.layouts.split(","):
        t = time.perf_counter()
        ix = faiss.clone_index(first) if indexes else first
        perm = np.arange(args.n)
        if name.startswith("bfs"):
            g = next(g for g in lay._inner(faiss, ix) if hasattr(g, "hnsw"))
            perm = lay.graph_order(faiss, g.hnsw)
        elif name.startswith("kmeans"):
            perm = kmeans_order(faiss, base, max(16, args.n // 256))
        lay.permute(faiss, ix, perm)  # (no id map here: results are mapped back by ``perm``)
        perms[name] = perm
        prep = time.perf_counter() - t
        huge = lay.use_huge_pages(faiss, ix) if name.endswith("huge") else 0
        print(
            f"{name}: prepared in {prep:.1f} s (+{time.perf_counter() - t - prep:.1f} s "
            f"madvise, {huge / 2**20:.0f} MiB advised)",
            flush=True,
        )
        indexes[name] = ix
    with open("/proc/meminfo") as fh:
        print("".join(line for line in fh if "AnonHuge" in line).strip(), flush=True)
    names = list(indexes)
    for ef in [int(v) for v in args.ef.split(",")]:
        for ix in indexes.values():
            faiss.ParameterSpace().set_index_parameters(
                ix, f"efSearch={ef},k_factor_rf={args.k_factor}"
            )
        times: dict[str, list] = {n: [] for n in names}
        found: dict[str, list] = {n: [] for n in names}
        for r in range(args.rounds):  # blocks of all queries per layout (caches stay warm
            shift = r % len(names)  # as in use), rotating the order between rounds
            for name in names[shift:] + names[:shift]:
                for q in queries:
                    t = time.perf_counter()
                    _, ids = indexes[name].search(q[None, :], 10)
                    times[name].append(time.perf_counter() - t)
                    if r == 0:
                        found[name].append(perms[name][ids[0]])
        for name in names:
            ms = 1000 * float(np.median(times[name]))
            recall = float(
                np.mean(
                    [len(set(a) & set(b)) / 10 for a, b in zip(found[name], exact, strict=True)]
                )
            )
            print(
                f"  efSearch={ef:<4} {name:<12} p50 {ms:7.3f} ms  recall@10 {recall:.4f}  "
                f"x numpy {np_ms / ms:6.1f}",
                flush=True,
            )
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
