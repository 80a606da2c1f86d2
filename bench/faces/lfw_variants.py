"""Cheap descriptor experiments on LFW View 2: cache the aligned face chips once, then score
descriptor variants (plain, mirrored, flip-averaged, jittered) with network passes only.

The chips are those the pipeline computes with HOG only (``cnn_fallback_side=0``: detection,
the face nearest the centre, LFW's centre box when HOG finds none), so a variant's accuracy here
is what ``superbrain faces evaluate`` measures with it and without the CNN fallback; the plain
descriptors are read from that command's cache (checked against the chips).

    flock /work/bench.lock python -m bench.faces.lfw_variants --workers 2 [--jitters 4 16]

Chips (150x150x3 uint8, ~520 MB for the 7,701 pair images) and per-variant descriptors are
cached under ``.cache/faces/variants/`` (git-ignored); reruns compute only what is missing.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from facematch import lfw  # noqa: E402
from facematch.pipeline import (  # noqa: E402
    CHIP_PADDING,
    CHIP_SIZE,
    FacePipeline,
    PipelineOptions,
    _Models,
)


def _chip_job(job: tuple[str, str]) -> tuple[str, np.ndarray, int, bool]:
    root, rel = job
    pipeline = FacePipeline()
    models = _Models.get()
    image = pipeline.load(root + rel)
    pixels = image.pixels
    h, w = pixels.shape[:2]
    rects = [
        r for r, *_ in FacePipeline(PipelineOptions(cnn_fallback_side=0))._detect(models, pixels)
    ]
    if rects:
        # FacePipeline's choice: ImageFaces.nearest_centre over the clipped boxes
        def off(r) -> float:
            box = (max(0, r.left()), max(0, r.top()), min(w, r.right() + 1), min(h, r.bottom() + 1))
            return ((box[0] + box[2]) / 2 - w / 2) ** 2 + ((box[1] + box[3]) / 2 - h / 2) ** 2

        chosen = min(rects, key=off)
        fallback = False
    else:
        chosen = models.dlib.rectangle(*lfw.centre_box(image.width, image.height))
        fallback = True
    shape = models.predictor(image.pixels, chosen)
    chip = models.dlib.get_face_chip(image.pixels, shape, CHIP_SIZE, CHIP_PADDING)
    return rel, np.asarray(chip, dtype=np.uint8), len(rects), fallback


def _describe_job(job: tuple[np.ndarray, str, int]) -> np.ndarray:
    """Descriptors of chips; on ONNX Runtime (the pipeline's engine) when it loads.

    Jittered descriptors follow dlib's ``compute_face_descriptor``: the mean over
    ``jitters`` copies from ``dlib.jitter_image`` (random crop, scale, rotation and mirror;
    dlib does not jitter at all for ``jitters`` 1), run as one batch. dlib's generator is not
    seeded per call, so reruns differ slightly.
    """
    chips, variant, jitters = job
    models = _Models.get()
    net = models.onnx_resnet()
    out = np.empty((len(chips), 128), dtype=np.float32)
    for i, chip in enumerate(chips):
        if variant == "mirror":
            chip = np.ascontiguousarray(chip[:, ::-1])
        if net is None:
            out[i] = np.asarray(
                models.encoder.compute_face_descriptor(chip, jitters), dtype=np.float32
            )
        elif jitters > 1:
            out[i] = net.describe(np.stack(models.dlib.jitter_image(chip, jitters))).mean(0)
        else:
            out[i] = net.describe(chip)
    return out


def load_chips(lfw_dir: Path, images: list[str], cache: Path, workers: int):
    path = cache / "chips.npz"
    if path.exists():
        data = np.load(path, allow_pickle=False)
        if list(data["names"]) == images:
            return data["chips"], data["faces"], data["fallback"]
    root = str(lfw_dir.resolve()) + "/"
    t = time.perf_counter()
    with mp.get_context("spawn").Pool(workers) as pool:
        rows = {
            r[0]: r
            for r in pool.imap_unordered(_chip_job, [(root, i) for i in images], chunksize=32)
        }
    chips = np.stack([rows[i][1] for i in images])
    faces = np.array([rows[i][2] for i in images])
    fallback = np.array([rows[i][3] for i in images])
    print(f"chips: {len(images)} images in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    np.savez(path, names=np.array(images), chips=chips, faces=faces, fallback=fallback)
    return chips, faces, fallback


def descriptors(
    chips: np.ndarray, variant: str, jitters: int, cache: Path, workers: int
) -> np.ndarray:
    path = cache / f"desc-{variant}-j{jitters}.npy"
    if path.exists():
        return np.load(path)
    t = time.perf_counter()
    parts = np.array_split(np.arange(len(chips)), workers * 16)
    with mp.get_context("spawn").Pool(workers) as pool:
        out = np.concatenate(
            pool.map(_describe_job, [(chips[p], variant, jitters) for p in parts], chunksize=1)
        )
    dt = time.perf_counter() - t
    print(
        f"{variant} j{jitters}: {len(chips)} descriptors in {dt:.0f} s "
        f"({len(chips) / dt:.1f}/s with {workers} processes)",
        file=sys.stderr,
    )
    np.save(path, out)
    return out


def plain_from_cache(images: list[str], cache_dir: Path) -> np.ndarray:
    """The plain descriptors from ``superbrain faces evaluate``'s cache (same chips)."""
    cached = lfw.load_cache(lfw.cache_file(cache_dir, PipelineOptions(cnn_fallback_side=0)))
    return np.stack([cached[i].descriptor for i in images])


def export_mirror(
    lfw_dir: Path,
    images: list[str],
    mirror: np.ndarray,
    faces: np.ndarray,
    fallback: np.ndarray,
    cache_dir: Path,
) -> None:
    """Append the mirror descriptors to ``superbrain faces evaluate``'s cache (views=mirror).

    They are the same computation (same chips, same network call); checked here against the
    pipeline on a few images before anything is written.
    """
    import base64
    import json

    # the chips were cut with HOG only (centre box when it finds nothing), so they belong in
    # the HOG-only cache; `evaluate` carries HOG's detections over to the CNN-fallback cache
    options = PipelineOptions(views="mirror", cnn_fallback_side=0)
    pipeline = FacePipeline(options)
    for i in np.flatnonzero(~fallback)[:3]:
        result = pipeline.analyse(str(lfw_dir / images[i]), require_face=False)
        assert np.array_equal(result.nearest_centre().descriptor, mirror[i]), images[i]
    path = lfw.cache_file(cache_dir, options)
    have = lfw.load_cache(path)
    with path.open("a", encoding="utf-8") as fh:
        for i, img in enumerate(images):
            if img not in have:
                fh.write(
                    json.dumps(
                        {
                            "img": img,
                            "faces": int(faces[i]),
                            "fallback": bool(fallback[i]),
                            "desc": base64.b64encode(mirror[i].tobytes()).decode(),
                        }
                    )
                    + "\n"
                )
    print(f"exported {len(images) - len(have)} mirror descriptors to {path}", file=sys.stderr)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def score(name: str, desc: np.ndarray, index: dict[str, int], folds) -> None:
    e_folds, c_folds, same = [], [], []
    for fold in folds:
        a = desc[[index[p[0]] for p in fold]]
        b = desc[[index[p[1]] for p in fold]]
        e_folds.append(np.linalg.norm(a - b, axis=1))
        c_folds.append(np.sum(unit(a) * unit(b), axis=1))
        same.append(np.array([p[2] for p in fold]))
    e = lfw.ten_fold(e_folds, same, "euclidean", higher_is_same=False)
    c = lfw.ten_fold(c_folds, same, "cosine", higher_is_same=True)
    print(
        f"{name:<34} cosine {100 * c.mean:6.2f}% ± {100 * c.std:4.2f}  "
        f"euclidean {100 * e.mean:6.2f}% ± {100 * e.std:4.2f}  "
        f"TAR@1e-3 {c.tar_at_far['0.001']:.4f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lfw", type=Path, default=REPO.parent / "shared" / "data" / "faces" / "lfw")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "faces" / "variants")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--jitters",
        type=int,
        nargs="*",
        default=[],
        help="also score descriptors averaged over this many jittered copies",
    )
    ap.add_argument(
        "--export-mirror",
        action="store_true",
        help="add the mirror descriptors to the `faces evaluate` cache",
    )
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    folds = lfw.read_pairs(args.lfw / "pairs.txt")
    images = list(dict.fromkeys(img for fold in folds for a, b, _ in fold for img in (a, b)))
    index = {img: i for i, img in enumerate(images)}
    chips, faces, fallback = load_chips(args.lfw, images, args.cache, args.workers)
    print(
        f"{len(images)} images, {int(fallback.sum())} detection failures, "
        f"{int((faces > 1).sum())} with several faces"
    )
    plain = plain_from_cache(images, args.cache.parent)
    check = _describe_job((chips[:20], "plain", 0))
    assert np.allclose(check, plain[:20], atol=1e-5), "chips differ from the evaluate cache"
    mirror = descriptors(chips, "mirror", 0, args.cache, args.workers)
    score("plain", plain, index, folds)
    score("mirror only", mirror, index, folds)
    score("flip: mean of raw", (plain + mirror) / 2, index, folds)
    score("flip: mean of unit", unit(plain) + unit(mirror), index, folds)
    if args.export_mirror:
        export_mirror(args.lfw, images, mirror, faces, fallback, args.cache.parent)
    for n in args.jitters:
        jit = descriptors(chips, "plain", n, args.cache, args.workers)
        score(f"jitters {n}", jit, index, folds)
        score(
            f"jitters {n}, mean with plain+mirror",
            (n * jit + plain + mirror) / (n + 2),
            index,
            folds,
        )
    print(f"load {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
