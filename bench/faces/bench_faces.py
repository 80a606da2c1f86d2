"""Face-matching benchmark, side by side in one run.

(a) Index: N (default 1M) 128-d unit vectors -- drawn from a Gaussian fitted to real LFW
    descriptors, plus the real LFW descriptors themselves -- queried with real LFW descriptors.
    For flat (exact), HNSW and IVF: build time, memory, p50 single-query latency, recall@10
    against the exact result, and the speed ratio to a numpy brute-force scan.
(b) Embedding: images/s of our pipeline against the ``face_recognition`` package on the same
    photos with the same dlib models (HOG, 5-point landmarks, ResNet), one process each; plus
    our batch across processes.

Needs the LFW embedding cache written by ``superbrain faces evaluate`` (for the descriptors)
and the shared photos. Run from the repository root:

    python -m bench.faces.bench_faces [--n 1000000] [--queries 300] [--images 150]
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.util
import json
import os
import sys
import time
import types
from pathlib import Path

# single-threaded BLAS for a like-for-like numpy scan (and no spinning threads on a shared box)
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import psutil  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from facematch import index as fx  # noqa: E402
from facematch.lfw import load_cache  # noqa: E402


def lfw_descriptors(cache_dir: Path) -> np.ndarray:
    """Unit LFW descriptors as the shipped calibration computes them (flip: plain + mirror)."""
    from dataclasses import replace

    from facematch.calibration import load_calibration
    from facematch.lfw import cache_file

    options = load_calibration().pipeline_options()
    views = ("plain", "mirror") if options.views == "flip" else (options.views,)
    parts = [load_cache(cache_file(cache_dir, replace(options, views=v))) for v in views]
    names = sorted(set.intersection(*(set(p) for p in parts)))
    if not names:
        sys.exit(
            f"no LFW embedding cache for {options.key()} in {cache_dir}: run "
            "`superbrain faces evaluate --lfw DIR` (with --flip for flip) first"
        )
    vecs = np.mean([np.stack([p[n].descriptor for n in names]) for p in parts], axis=0)
    vecs = vecs.astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def synthetic_base(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors: the real ones, then draws from a Gaussian fitted to them."""
    rng = np.random.default_rng(seed)
    mean, cov = real.mean(axis=0), np.cov(real, rowvar=False)
    extra = max(0, n - len(real))
    chol = np.linalg.cholesky(cov + 1e-6 * np.eye(cov.shape[0]))
    out = np.empty((len(real) + extra, 128), dtype=np.float32)
    out[: len(real)] = real
    step = 100_000
    for i in range(0, extra, step):
        m = min(step, extra - i)
        draw = mean + rng.standard_normal((m, 128)) @ chol.T
        out[len(real) + i : len(real) + i + m] = draw / np.linalg.norm(draw, axis=1, keepdims=True)
    return out[:n]


def p50_ms(fn, queries: np.ndarray) -> tuple[float, list]:
    times, results = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(fn(q[None, :]))
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times)), results


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def bench_index(
    n: int,
    n_queries: int,
    cache_dir: Path,
    kinds: set[str],
    ef_search: list[int],
    nprobes: list[int],
    build_threads: int = 1,
    query_threads: int = 1,
    ef_sq: list[int] | None = None,
    k_factor: int | None = None,
    reuse: bool = False,
) -> list[dict]:
    real = lfw_descriptors(cache_dir)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(real))
    queries = real[order[:n_queries]]
    # queries are held out of the base: their neighbours are other photos of the person
    base = synthetic_base(real[order[n_queries:]], n)
    ids = np.arange(len(base), dtype=np.int64)
    # a cached index is only reused for exactly this base (descriptors, n, seed)
    base_digest = hashlib.sha256(base.tobytes()).hexdigest()[:12]
    print(
        f"base {len(base):,} vectors ({len(real) - n_queries:,} real LFW), {n_queries} LFW queries",
        file=sys.stderr,
    )

    def numpy_scan(q: np.ndarray) -> np.ndarray:
        sims = base @ q[0]
        top = np.argpartition(-sims, 10)[:10]
        return top[np.argsort(-sims[top])]

    np_ms, _ = p50_ms(numpy_scan, queries[: min(100, n_queries)])
    rows = [
        {
            "index": "numpy scan",
            "build_s": 0.0,
            "memory_mb": base.nbytes / 2**20,
            "p50_ms": np_ms,
            "recall@10": 1.0,
            "speedup_vs_numpy": 1.0,
        }
    ]
    exact: list | None = None
    configs = [
        ("flat", None),
        *[("hnsw-sq", ef) for ef in (ef_sq or [])],
        *[("hnsw-sq-faiss", ef) for ef in (ef_sq or [])],
        *[("hnsw", ef) for ef in ef_search],
        *[("ivf", nprobe) for nprobe in nprobes],
    ]
    built: dict[str, tuple] = {}
    for kind, param in configs:
        if kind not in kinds and kind != "flat":
            continue
        label = kind + (
            "" if param is None else f" ({'nprobe' if kind == 'ivf' else 'efSearch'}={param})"
        )
        # hnsw-sq-faiss: the same hnsw-sq index searched by faiss instead of the compiled kernel
        compiled = kind != "hnsw-sq-faiss"
        kind = "hnsw-sq" if kind == "hnsw-sq-faiss" else kind
        if kind not in built:
            before = rss_mb()
            saved = (
                cache_dir / "indexes" / f"bench-{kind}-{base_digest}-{index_settings(kind)}.faiss"
            )
            if reuse and saved.exists():
                ix, header = fx.VectorIndex.load(saved)
                build_s = float(header["build_s"])
            else:
                fx._faiss().omp_set_num_threads(build_threads)
                t = time.perf_counter()
                ix = fx.VectorIndex.build(ids, base, kind)
                build_s = time.perf_counter() - t
                fx._faiss().omp_set_num_threads(query_threads)
                if kind != "flat":
                    ix.save(saved, {"build_s": build_s, "build_threads": build_threads})
            built[kind] = (ix, build_s, max(0.0, rss_mb() - before))
            print(f"built {kind} in {build_s:.1f} s", file=sys.stderr)
        ix, build_s, mem = built[kind]
        ix.set_search_params(
            ef_search=param if kind in ("hnsw", "hnsw-sq") else None,
            nprobe=param if kind == "ivf" else None,
            k_factor=k_factor,
        )
        if not compiled:
            ix._searcher, ix._searcher_tried = None, True
        elif ix._searcher_tried and ix._searcher is None:
            ix._searcher_tried = False  # back to the compiled search after a faiss row
        ms, res = p50_ms(lambda q, ix=ix: ix.search(q, 10)[1][0], queries)
        if kind == "flat":
            exact = res
        assert exact is not None
        recall = float(
            np.mean([len(set(a) & set(b)) / 10 for a, b in zip(res, exact, strict=True)])
        )
        rows.append(
            {
                "index": label,
                "build_s": build_s,
                "memory_mb": mem,
                "p50_ms": ms,
                "recall@10": recall,
                "speedup_vs_numpy": np_ms / ms,
            }
        )
    return rows


def index_settings(kind: str) -> str:
    """The build settings of ``kind`` (names a cached index; a change means a rebuild)."""
    order = "-bfs" if fx.GRAPH_ORDER_MIN else ""  # builds renumber the graph (index_layout)
    if kind == "hnsw":
        return f"M{fx.HNSW_M}-efc{fx.HNSW_EF_CONSTRUCTION}{order}"
    if kind == "hnsw-sq":
        return f"pca{fx.PCA_DIM}-M{fx.HNSW_SQ_M}-efc{fx.HNSW_SQ_EF_CONSTRUCTION}{order}"
    return "default"


def shim_pkg_resources() -> None:
    """face_recognition_models imports pkg_resources, which setuptools >= 81 removed."""
    if importlib.util.find_spec("pkg_resources") is not None:
        return
    shim = types.ModuleType("pkg_resources")

    def resource_filename(package: str, resource: str) -> str:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations
        return os.path.join(next(iter(spec.submodule_search_locations)), resource)

    shim.resource_filename = resource_filename  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim


def bench_embedding(n_images: int, faces_root: Path, rounds: int = 2) -> list[dict]:
    """images/s of our pipeline and face_recognition, interleaved image by image.

    Both run in this process on one core, alternating per image (and swapping who goes first
    every other image), ``rounds`` times over the same photos, so a change in machine load
    hits both alike. The flip-averaged descriptor (two network passes, the shipped setting) is
    timed the same way, with the network on ONNX Runtime (the default) and on dlib (the engine
    face_recognition uses), so the table shows what each part buys.
    """
    from facematch.batch import embed_files
    from facematch.pipeline import FacePipeline, PipelineOptions

    paths = sorted(glob.glob(str(faces_root / "lfw" / "*" / "*.jpg")))
    paths = [paths[i] for i in np.random.default_rng(2).permutation(len(paths))[:n_images]]
    ours = FacePipeline(engine="onnx")
    flip = FacePipeline(PipelineOptions(views="flip"), engine="onnx")
    flip_dlib = FacePipeline(PipelineOptions(views="flip"), engine="dlib")
    print(
        f"facematch descriptor engine: {flip.engine} (1 thread); reference: dlib {_dlib_version()}"
    )

    def run_ours(p: str) -> int:
        return len(ours.analyse(p, require_face=False).faces)

    def run_flip(p: str) -> int:
        return len(flip.analyse(p, require_face=False).faces)

    def run_flip_dlib(p: str) -> int:
        return len(flip_dlib.analyse(p, require_face=False).faces)

    contenders: dict[str, object] = {"facematch 1 pass, 1 process": run_ours}
    shim_pkg_resources()
    try:
        import face_recognition as fr
    except ImportError as exc:
        fr = None
        missing = f"face_recognition: not installed ({exc})"
    else:

        def run_fr(p: str) -> int:
            img = fr.load_image_file(p)
            boxes = fr.face_locations(img, number_of_times_to_upsample=1, model="hog")
            return len(fr.face_encodings(img, boxes, num_jitters=1, model="small"))

        contenders["face_recognition 1.3, 1 process"] = run_fr
    contenders["facematch flip (shipped), 1 process"] = run_flip
    contenders["facematch flip on dlib's engine, 1 process"] = run_flip_dlib
    for fn in contenders.values():
        fn(paths[0])  # load the models outside the timing
    seconds = dict.fromkeys(contenders, 0.0)
    faces = dict.fromkeys(contenders, 0)
    names = list(contenders)
    for r in range(rounds):
        for i, p in enumerate(paths):
            shift = (i + r) % len(names)
            for name in names[shift:] + names[:shift]:
                t = time.perf_counter()
                n = contenders[name](p)  # type: ignore[operator]
                seconds[name] += time.perf_counter() - t
                if r == 0:
                    faces[name] += n
    rows = [
        {"pipeline": name, "images_per_s": rounds * n_images / seconds[name], "faces": faces[name]}
        for name in names
    ]
    if fr is None:
        rows.append({"pipeline": missing, "images_per_s": float("nan"), "faces": 0})
    t = time.perf_counter()
    batch = sum(
        len(item.result.faces)
        for item in embed_files(paths, PipelineOptions(views="flip"), workers=2, require_face=False)
        if item.result is not None
    )
    b_s = time.perf_counter() - t
    rows.append(
        {
            "pipeline": "facematch flip batch, 2 processes (incl. start-up)",
            "images_per_s": n_images / b_s,
            "faces": batch,
        }
    )
    return rows


def _dlib_version() -> str:
    import dlib

    return str(dlib.__version__)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="index size")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--images", type=int, default=150, help="photos for the embedding part")
    ap.add_argument("--rounds", type=int, default=2, help="passes over those photos")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "faces")
    ap.add_argument(
        "--faces",
        type=Path,
        default=Path(
            os.environ.get("SUPERBRAIN_FACES_DIR", REPO.parent / "shared" / "data" / "faces")
        ),
    )
    ap.add_argument(
        "--kinds",
        default="flat,hnsw-sq,hnsw,ivf",
        help="index kinds to measure (hnsw-sq-faiss: hnsw-sq searched by faiss)",
    )
    ap.add_argument("--ef", default="64,128,256,512", help="HNSW efSearch values")
    ap.add_argument(
        "--ef-sq",
        default=",".join(str(v) for v in sorted({64, 96, fx.HNSW_SQ_EF_SEARCH, 192, 256})),
        help="hnsw-sq efSearch values",
    )
    ap.add_argument(
        "--k-factor",
        type=int,
        default=fx.REFINE_K_FACTOR,
        help="hnsw-sq: candidates re-ranked exactly, as a multiple of k",
    )
    ap.add_argument("--hnsw-sq-m", type=int, default=fx.HNSW_SQ_M)
    ap.add_argument("--hnsw-sq-ef-construction", type=int, default=fx.HNSW_SQ_EF_CONSTRUCTION)
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="load indexes built by an earlier run (.cache/faces/indexes)",
    )
    ap.add_argument("--nprobe", default="16,64,256", help="IVF nprobe values")
    ap.add_argument("--ef-construction", type=int, default=fx.HNSW_EF_CONSTRUCTION)
    ap.add_argument("--build-threads", type=int, default=1)
    ap.add_argument("--skip-index", action="store_true")
    ap.add_argument("--skip-embedding", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="faiss OpenMP threads (default 1: single queries, shared machine)",
    )
    args = ap.parse_args()
    fx._faiss().omp_set_num_threads(args.threads)
    fx.HNSW_EF_CONSTRUCTION = args.ef_construction
    fx.HNSW_SQ_M = args.hnsw_sq_m
    fx.HNSW_SQ_EF_CONSTRUCTION = args.hnsw_sq_ef_construction
    out: dict[str, list] = {}
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, faiss threads "
        f"{args.threads} (build {args.build_threads}), hnsw M {fx.HNSW_M} efConstruction "
        f"{args.ef_construction}; hnsw-sq PCA {fx.PCA_DIM} M {fx.HNSW_SQ_M} efConstruction "
        f"{fx.HNSW_SQ_EF_CONSTRUCTION} k_factor {args.k_factor}"
    )
    if not args.skip_index:
        rows = bench_index(
            args.n,
            args.queries,
            args.cache,
            set(args.kinds.split(",")),
            [int(v) for v in args.ef.split(",")],
            [int(v) for v in args.nprobe.split(",")],
            args.build_threads,
            args.threads,
            [int(v) for v in args.ef_sq.split(",")],
            args.k_factor,
            args.reuse,
        )
        out["index"] = rows
        print(f"\n(a) index, {args.n:,} vectors, {args.queries} queries, k=10")
        print(
            f"{'index':<30}{'build s':>9}{'mem MB':>9}{'p50 ms':>9}{'recall@10':>11}{'x numpy':>9}"
        )
        for r in rows:
            print(
                f"{r['index']:<30}{r['build_s']:>9.1f}{r['memory_mb']:>9.0f}"
                f"{r['p50_ms']:>9.3f}{r['recall@10']:>11.4f}{r['speedup_vs_numpy']:>9.1f}"
            )
    if not args.skip_embedding:
        rows = bench_embedding(args.images, args.faces, args.rounds)
        out["embedding"] = rows
        print(
            f"\n(b) embedding, {args.images} LFW photos (250x250), {args.rounds} rounds, "
            "interleaved per image"
        )
        base = next(
            (r["images_per_s"] for r in rows if r["pipeline"].startswith("face_rec")), float("nan")
        )
        for r in rows:
            print(
                f"{r['pipeline']:<48}{r['images_per_s']:>8.2f} img/s  faces {r['faces']:>4}"
                f"  ratio {r['images_per_s'] / base:>5.2f}"
            )
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
