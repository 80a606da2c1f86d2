"""Explore faiss index structures on the benchmark's data (LFW descriptors + fitted Gaussian).

Each spec is a faiss ``index_factory`` string built with the L2 metric (on unit vectors L2 and
inner product rank identically; L2 lets a PCA pre-transform centre the data), searched one
query at a time on one thread. For each search setting: p50 latency, recall@10 against the exact
result, and the ratio to the single-threaded numpy scan measured in the same run.

    flock /work/bench.lock python -m bench.faces.index_explore --n 200000 \
        --spec "HNSW32" "PCA80,HNSW32_SQ8,RFlat" --params "efSearch=64,k_factor=4" ...

Built indexes are cached under ``.cache/faces/indexes/`` keyed by spec, size and seed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.faces.bench_faces import lfw_descriptors, p50_ms, synthetic_base  # noqa: E402
from facematch import index as fx  # noqa: E402


def set_ef_construction(faiss, ix, ef: int) -> None:
    """efConstruction on every HNSW inside ``ix`` (wrappers, IVF coarse quantizers)."""
    ix = faiss.downcast_index(ix)
    if hasattr(ix, "hnsw"):
        ix.hnsw.efConstruction = ef
    for attr in ("index", "base_index", "quantizer"):
        inner = getattr(ix, attr, None)
        if inner is not None:
            set_ef_construction(faiss, inner, ef)


def set_nsg_build(faiss, ix) -> None:
    """NSG inside ``ix`` builds its kNN graph by NN-descent (brute force is O(n^2))."""
    ix = faiss.downcast_index(ix)
    if hasattr(ix, "nsg"):
        ix.build_type = 1
    for attr in ("index", "base_index"):
        inner = getattr(ix, attr, None)
        if inner is not None:
            set_nsg_build(faiss, inner)


def graphs(faiss, ix) -> list:
    """Every HNSW / NSG index inside ``ix``."""
    ix = faiss.downcast_index(ix)
    found = [ix] if hasattr(ix, "hnsw") or hasattr(ix, "nsg") else []
    for attr in ("index", "base_index"):
        inner = getattr(ix, attr, None)
        if inner is not None:
            found += graphs(faiss, inner)
    return found


def apply_params(faiss, ix, params: str) -> None:
    """``ParameterSpace`` settings plus three it lacks: ``search_L`` (NSG),
    ``bounded_queue`` (HNSW ``search_bounded_queue``, 0 or 1) and ``search_method`` (HNSW:
    0 default, 1 Panorama, 2 staged RaBitQ)."""
    rest = []
    for item in params.split(","):
        name, _, value = item.partition("=")
        if name in ("search_L", "bounded_queue", "search_method"):
            found = [
                g for g in graphs(faiss, ix) if hasattr(g, "nsg" if name == "search_L" else "hnsw")
            ]
            if name == "search_method" and not all(  # 2 needs RaBitQ codes, 1 Panorama
                type(g).__name__ == ("IndexHNSWRaBitQ", "IndexHNSWFlatPanorama")[int(value) == 1]
                for g in found
                if int(value)
            ):
                found = []
            if not found:
                raise RuntimeError(f"{name}: no such index inside")
            for g in found:
                if name == "search_L":
                    g.nsg.search_L = int(value)
                elif name == "search_method":
                    g.hnsw.search_method = int(value)
                else:
                    g.hnsw.search_bounded_queue = bool(int(value))
        else:
            rest.append(item)
    if rest:
        faiss.ParameterSpace().set_index_parameters(ix, ",".join(rest))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "faces")
    ap.add_argument("--spec", nargs="+", required=True, help="faiss index_factory strings")
    ap.add_argument(
        "--params",
        nargs="+",
        required=True,
        help="faiss ParameterSpace strings, tried on every spec that has them",
    )
    ap.add_argument("--build-threads", type=int, default=2)
    ap.add_argument("--ef-construction", type=int, default=80)
    ap.add_argument(
        "--huge",
        action="store_true",
        help="back the index with transparent huge pages (facematch.index_layout)",
    )
    args = ap.parse_args()
    faiss = fx._faiss()
    print(f"load {os.getloadavg()[0]:.2f}, n {args.n:,}, queries {args.queries}", flush=True)
    real = lfw_descriptors(args.cache)
    order = np.random.default_rng(1).permutation(len(real))
    queries = real[order[: args.queries]]
    base = synthetic_base(real[order[args.queries :]], args.n)

    def numpy_scan(q: np.ndarray) -> np.ndarray:
        sims = base @ q[0]
        top = np.argpartition(-sims, 10)[:10]
        return top[np.argsort(-sims[top])]

    np_ms, exact = p50_ms(numpy_scan, queries)
    print(f"numpy scan p50 {np_ms:.3f} ms", flush=True)
    digest = hashlib.sha256(base.tobytes()).hexdigest()[:12]  # a cache is for this base only
    store = args.cache / "indexes"
    store.mkdir(parents=True, exist_ok=True)
    for spec in args.spec:
        tag = spec.replace(",", "+").replace("/", "_")
        path = store / f"{tag}-{digest}-efc{args.ef_construction}.faiss"
        if path.exists():
            ix = faiss.read_index(str(path))
            build_s = float("nan")
        else:
            ix = faiss.index_factory(128, spec, faiss.METRIC_L2)
            set_ef_construction(faiss, ix, args.ef_construction)
            set_nsg_build(faiss, ix)
            faiss.omp_set_num_threads(args.build_threads)
            t = time.perf_counter()
            if not ix.is_trained:
                ix.train(base[np.random.default_rng(0).permutation(len(base))[:200_000]])
            ix.add(base)
            build_s = time.perf_counter() - t
            faiss.omp_set_num_threads(1)
            faiss.write_index(ix, str(path))
        size_mb = path.stat().st_size / 2**20
        if args.huge:
            from facematch.index_layout import use_huge_pages

            use_huge_pages(faiss, ix)
        print(f"{spec}: build {build_s:.1f} s, file {size_mb:.0f} MB", flush=True)
        for params in args.params:
            try:
                apply_params(faiss, ix, params)
            except RuntimeError:
                continue
            ms, res = p50_ms(lambda q, ix=ix: ix.search(q, 10)[1][0], queries)
            recall = float(
                np.mean([len(set(a) & set(b)) / 10 for a, b in zip(res, exact, strict=True)])
            )
            print(
                f"  {params:<32} p50 {ms:7.3f} ms  recall@10 {recall:.4f}  "
                f"x numpy {np_ms / ms:6.1f}",
                flush=True,
            )
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
