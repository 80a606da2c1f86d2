"""LFW View 2 evaluation and threshold calibration, with an embedding cache.

Protocol (Huang et al.): ``pairs.txt`` holds 10 folds of 300 same-person and 300
different-person pairs. For each fold the threshold that maximises accuracy on the other nine
folds is applied to it; we report the mean accuracy and its standard deviation over the folds.
Identification: one photo (the first) of each person with at least two photos forms the gallery,
every other photo of those people is a probe; rank-1 is the share of probes whose nearest
gallery face is the right person.

LFW photos are centred on one person; when several faces are found the one nearest the centre
is used. The pipeline's own fallback (the CNN detector when HOG finds nothing) counts as a
detection; when no detector finds a face, the face is described at the centre box LFW's
alignment puts it in (reported as a detection failure).

Embedding ~12k photos takes a while on 2 cores, so descriptors are cached in a JSON Lines file
keyed by the model and pipeline options; an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.progress import CancelToken, ProgressCallback
from facematch.errors import EvaluationError, FaceError
from facematch.pipeline import FacePipeline, PipelineOptions

log = logging.getLogger(__name__)

Pair = tuple[str, str, bool]  # image a, image b (relative paths), same person


# -- the protocol files ---------------------------------------------------------------------------
def image_path(name: str, number: int) -> str:
    return f"{name}/{name}_{number:04d}.jpg"


def read_pairs(path: Path) -> list[list[Pair]]:
    """Parse LFW View 2 ``pairs.txt`` into 10 folds of pairs."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise EvaluationError(f"{str(path)!r}: cannot read the LFW pairs file ({exc})") from None
    try:
        n_folds, n_per = (int(v) for v in lines[0].split())
    except ValueError:
        raise EvaluationError(
            f"{str(path)!r}: line 1: expected '<folds> <pairs per set>'"
        ) from None
    rows = [ln.split("\t") for ln in lines[1:] if ln.strip()]
    if len(rows) != n_folds * 2 * n_per:
        raise EvaluationError(
            f"{str(path)!r}: expected {n_folds * 2 * n_per} pairs, found {len(rows)}"
        )
    folds: list[list[Pair]] = []
    for f in range(n_folds):
        fold: list[Pair] = []
        for i, row in enumerate(rows[f * 2 * n_per : (f + 1) * 2 * n_per]):
            line = 2 + f * 2 * n_per + i
            try:
                if len(row) == 3:
                    fold.append(
                        (image_path(row[0], int(row[1])), image_path(row[0], int(row[2])), True)
                    )
                elif len(row) == 4:
                    fold.append(
                        (image_path(row[0], int(row[1])), image_path(row[2], int(row[3])), False)
                    )
                else:
                    raise ValueError(f"{len(row)} fields")
            except ValueError as exc:
                raise EvaluationError(f"{str(path)!r}: line {line}: bad pair ({exc})") from None
        folds.append(fold)
    return folds


def identification_sets(
    lfw_dir: Path,
    within: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """(gallery, probes): first photo of each person with >= 2 photos; the rest as probes.

    ``within``: only these images count (e.g. the View 2 pair images); default every photo.
    """
    by_person: dict[str, list[str]] = {}
    if within is None:
        for person in sorted(p for p in lfw_dir.iterdir() if p.is_dir()):
            by_person[person.name] = [
                f"{person.name}/{f.name}" for f in person.iterdir() if f.suffix.lower() == ".jpg"
            ]
    else:
        for img in dict.fromkeys(within):
            by_person.setdefault(person_of(img), []).append(img)
    gallery: list[str] = []
    probes: list[str] = []
    for name in sorted(by_person):
        photos = sorted(by_person[name])
        if len(photos) < 2:
            continue
        gallery.append(photos[0])
        probes.extend(photos[1:])
    return gallery, probes


def person_of(image: str) -> str:
    return image.split("/", 1)[0]


# -- the embedding cache ----------------------------------------------------------------------
@dataclass
class CachedFace:
    """The descriptor of the chosen face of one LFW image."""

    descriptor: np.ndarray
    faces_found: int
    fallback: bool  # no face detected: described at the centre box
    detector: str = "hog"  # which detector found the face ("cnn": HOG found none)
    engine: str = "dlib"  # what ran the network (rows cached before engines were recorded: dlib)


def cache_file(cache_dir: Path, options: PipelineOptions) -> Path:
    key = hashlib.sha256(f"lfw-centre-face|{options.key()}".encode()).hexdigest()[:16]
    return cache_dir / f"lfw-{key}.jsonl"


def load_cache(path: Path) -> dict[str, CachedFace]:
    out: dict[str, CachedFace] = {}
    if not path.exists():
        return out
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                row = json.loads(line)
                vec = np.frombuffer(base64.b64decode(row["desc"]), dtype=np.float32)
            except (json.JSONDecodeError, KeyError, ValueError):
                continue  # a line cut short by an interrupted run
            if vec.shape == (128,):
                out[row["img"]] = CachedFace(
                    vec.copy(),
                    int(row["faces"]),
                    bool(row["fallback"]),
                    str(row.get("detector", "hog")),
                    str(row.get("engine", "dlib")),
                )
    return out


def _row(img: str, face: CachedFace) -> str:
    return (
        json.dumps(
            {
                "img": img,
                "faces": face.faces_found,
                "fallback": face.fallback,
                "detector": face.detector,
                "engine": face.engine,
                "desc": base64.b64encode(face.descriptor.astype(np.float32).tobytes()).decode(),
            }
        )
        + "\n"
    )


def _seed_from_hog_only(path: Path, options: PipelineOptions) -> None:
    """Start a cache with the CNN fallback from the HOG-only cache of the same options.

    Where HOG found a face the CNN never runs, so those descriptors are the same; only the
    images HOG missed are computed again.
    """
    old = cache_file(path.parent, replace(options, cnn_fallback_side=0))
    rows = {img: c for img, c in load_cache(old).items() if not c.fallback}
    if not rows:
        return
    log.info("LFW cache %s: %d descriptors carried over from %s", path, len(rows), old)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for img, face in rows.items():
            fh.write(_row(img, face))
    tmp.replace(path)


def centre_box(width: int, height: int) -> tuple[int, int, int, int]:
    """Where LFW's alignment puts the face: the central ~43% of the frame."""
    side = 0.43 * min(width, height)
    cx, cy = width / 2, height / 2
    return (round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2))


def embed_lfw(
    lfw_dir: Path,
    images: list[str],
    options: PipelineOptions,
    cache_dir: Path,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, CachedFace]:
    """Descriptors of the centre face of each image, from the cache or computed (and cached).

    ``flip`` descriptors are the mean of a ``plain`` and a ``mirror`` run, each cached on its
    own, so trying ``flip`` after a plain evaluation costs only the mirror passes. (The
    pipeline computes ``flip`` the same way, so the figures are those of the pipeline.)
    """
    from facematch.batch import embed_files

    if options.views == "flip":
        parts = [
            embed_lfw(
                lfw_dir,
                images,
                replace(options, views=v),
                cache_dir,
                workers=workers,
                progress=progress,
                cancel=cancel,
            )
            for v in ("plain", "mirror")
        ]
        plain, mirror = parts
        return {
            img: CachedFace(
                (c.descriptor + mirror[img].descriptor) / 2,
                c.faces_found,
                c.fallback,
                c.detector,
                c.engine
                if c.engine == mirror[img].engine
                else f"{c.engine} + {mirror[img].engine}",
            )
            for img, c in plain.items()
            if img in mirror
        }

    path = cache_file(cache_dir, options)
    if not path.exists() and options.cnn_fallback_side:
        _seed_from_hog_only(path, options)
    cache = load_cache(path)
    todo = [img for img in dict.fromkeys(images) if img not in cache]
    log.info("LFW cache %s: %d cached, %d to embed", path, len(cache), len(todo))
    if not todo:
        return cache
    path.parent.mkdir(parents=True, exist_ok=True)
    pipeline = FacePipeline(options)
    engine = pipeline.engine  # the workers run the same (same environment and packages)
    root = str(lfw_dir.resolve()) + "/"
    with path.open("a", encoding="utf-8") as fh:
        for n, item in enumerate(
            embed_files(
                [root + t for t in todo],
                options,
                workers=workers,
                require_face=False,
                progress=progress,
                cancel=cancel,
            )
        ):
            rel = item.path[len(root) :]
            if item.result is None:
                log.warning("LFW image skipped: %s", item.error)
                continue
            faces = item.result.faces
            if faces:
                face = item.result.nearest_centre()
                fallback = False
            else:
                image = pipeline.load(item.path)
                face = pipeline.describe_box(image, centre_box(image.width, image.height))
                fallback = True
            assert face.descriptor is not None
            cache[rel] = CachedFace(
                face.descriptor, len(faces), fallback, "none" if fallback else face.detector, engine
            )
            fh.write(_row(rel, cache[rel]))
            if n % 50 == 0:
                fh.flush()
    return cache


# -- the figures --------------------------------------------------------------------------------
def best_threshold(scores: np.ndarray, same: np.ndarray, *, higher_is_same: bool) -> float:
    """The threshold maximising accuracy (midpoint between neighbouring scores)."""
    s = scores if higher_is_same else -scores
    order = np.argsort(s)
    s_sorted, same_sorted = s[order], same[order]
    # accept everything >= t: correct = same above + different below
    same_above = np.cumsum(same_sorted[::-1])[::-1]
    diff_below = np.concatenate([[0], np.cumsum(~same_sorted)[:-1]])
    correct = same_above + diff_below
    i = int(np.argmax(correct))
    t = (s_sorted[i] + s_sorted[i - 1]) / 2 if i > 0 else s_sorted[0] - 1e-6
    return float(t if higher_is_same else -t)


def accuracy(scores: np.ndarray, same: np.ndarray, t: float, *, higher_is_same: bool) -> float:
    predicted = scores >= t if higher_is_same else scores <= t
    return float(np.mean(predicted == same))


@dataclass
class Verification:
    metric: str
    fold_accuracy: list[float]
    fold_threshold: list[float]
    tar_at_far: dict[str, float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_accuracy))

    @property
    def std(self) -> float:
        return float(np.std(self.fold_accuracy))

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "accuracy_mean": round(self.mean, 5),
            "accuracy_std": round(self.std, 5),
            "threshold_mean": round(float(np.mean(self.fold_threshold)), 4),
            "fold_accuracy": [round(a, 4) for a in self.fold_accuracy],
            "fold_threshold": [round(t, 4) for t in self.fold_threshold],
            "tar_at_far": self.tar_at_far,
        }


def ten_fold(
    fold_scores: list[np.ndarray], fold_same: list[np.ndarray], metric: str, *, higher_is_same: bool
) -> Verification:
    accs, thresholds = [], []
    for k in range(len(fold_scores)):
        train_s = np.concatenate([s for i, s in enumerate(fold_scores) if i != k])
        train_y = np.concatenate([y for i, y in enumerate(fold_same) if i != k])
        t = best_threshold(train_s, train_y, higher_is_same=higher_is_same)
        thresholds.append(t)
        accs.append(accuracy(fold_scores[k], fold_same[k], t, higher_is_same=higher_is_same))
    scores, same = np.concatenate(fold_scores), np.concatenate(fold_same)
    tar = {}
    for far in (1e-3, 1e-2):
        t = threshold_at_fmr(scores[~same], far, higher_is_same=higher_is_same)
        predicted = scores[same] >= t if higher_is_same else scores[same] <= t
        tar[f"{far:g}"] = round(float(np.mean(predicted)), 4)
    return Verification(metric, accs, thresholds, tar)


def threshold_at_fmr(impostor: np.ndarray, fmr: float, *, higher_is_same: bool) -> float:
    """The most permissive threshold whose false-match rate on ``impostor`` is <= ``fmr``."""
    s = np.sort(impostor if higher_is_same else -impostor)[::-1]
    allowed = int(np.floor(fmr * len(s)))
    # accept scores strictly above the (allowed)-th highest impostor score
    t = s[allowed] + 1e-7 if allowed < len(s) else s[-1]
    return float(t if higher_is_same else -t)


@dataclass
class Evaluation:
    """Everything ``superbrain faces evaluate`` reports."""

    options: dict[str, Any]
    images: int
    detection_failures: int
    cnn_detections: int
    multi_face_images: int
    engines: dict[str, int]  # what ran the network -> images (from the cache's records)
    euclidean: Verification
    cosine: Verification
    fixed_06_accuracy: float
    rank1: float | None
    rank1_probes: int
    seconds: float
    calibration: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "options": self.options,
            "images": self.images,
            "detection_failures": self.detection_failures,
            "cnn_detections": self.cnn_detections,
            "multi_face_images": self.multi_face_images,
            "engines": self.engines,
            "verification_euclidean": self.euclidean.to_dict(),
            "verification_cosine": self.cosine.to_dict(),
            "accuracy_at_euclidean_0.6": round(self.fixed_06_accuracy, 5),
            "rank1": None if self.rank1 is None else round(self.rank1, 5),
            "rank1_probes": self.rank1_probes,
            "seconds": round(self.seconds, 1),
        }


def evaluate(
    lfw_dir: Path,
    options: PipelineOptions,
    cache_dir: Path,
    *,
    identification: str = "all",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    log_line: Callable[[str], None] | None = None,
) -> Evaluation:
    """Run LFW View 2 verification (10 folds) and rank-1 identification.

    ``identification``: ``"all"`` (every LFW person with >= 2 photos, ~9.2k photos),
    ``"pairs"`` (only among the View 2 pair images) or ``"none"``.
    """
    start = time.monotonic()
    lfw_dir = Path(lfw_dir)
    pairs_file = lfw_dir / "pairs.txt"
    if not pairs_file.exists():
        raise EvaluationError(f"{str(lfw_dir)!r}: no pairs.txt (the LFW View 2 protocol file)")
    folds = read_pairs(pairs_file)
    images = [img for fold in folds for a, b, _ in fold for img in (a, b)]
    if identification not in ("all", "pairs", "none"):
        raise EvaluationError(f"identification set {identification!r}: all, pairs or none")
    gallery, probes = (
        ([], [])
        if identification == "none"
        else identification_sets(lfw_dir, images if identification == "pairs" else None)
    )
    cache = embed_lfw(
        lfw_dir,
        images + gallery + probes,
        options,
        cache_dir,
        workers=workers,
        progress=progress,
        cancel=cancel,
    )
    if cancel is not None and cancel.cancelled:
        raise FaceError("LFW evaluation cancelled (embeddings so far are cached; rerun resumes)")
    missing = sorted({img for img in images if img not in cache})
    if missing:
        raise EvaluationError(
            f"{len(missing)} LFW pair images could not be read, e.g. {missing[0]!r}"
        )
    euclid_folds, cos_folds, same_folds = [], [], []
    for fold in folds:
        a = np.stack([cache[p[0]].descriptor for p in fold])
        b = np.stack([cache[p[1]].descriptor for p in fold])
        euclid_folds.append(np.linalg.norm(a - b, axis=1))
        an = a / np.linalg.norm(a, axis=1, keepdims=True)
        bn = b / np.linalg.norm(b, axis=1, keepdims=True)
        cos_folds.append(np.sum(an * bn, axis=1))
        same_folds.append(np.array([p[2] for p in fold]))
    euclid = ten_fold(euclid_folds, same_folds, "euclidean", higher_is_same=False)
    cosine = ten_fold(cos_folds, same_folds, "cosine", higher_is_same=True)
    fixed = accuracy(
        np.concatenate(euclid_folds), np.concatenate(same_folds), 0.6, higher_is_same=False
    )
    pair_images = set(images)
    rank1 = None
    if gallery:
        g = [x for x in gallery if x in cache]
        p = [x for x in probes if x in cache]
        gv = np.stack([cache[x].descriptor for x in g])
        pv = np.stack([cache[x].descriptor for x in p])
        gv /= np.linalg.norm(gv, axis=1, keepdims=True)
        pv /= np.linalg.norm(pv, axis=1, keepdims=True)
        nearest = np.argmax(pv @ gv.T, axis=1)
        rank1 = float(
            np.mean([person_of(g[j]) == person_of(x) for j, x in zip(nearest, p, strict=True)])
        )
    result = Evaluation(
        options={
            "key": options.key(),
            "num_jitters": options.num_jitters,
            "views": options.views,
            "cnn_fallback_side": options.cnn_fallback_side,
            "identification": identification,
        },
        images=len(pair_images),
        detection_failures=sum(cache[i].fallback for i in pair_images),
        cnn_detections=sum(cache[i].detector == "cnn" for i in pair_images),
        multi_face_images=sum(cache[i].faces_found > 1 for i in pair_images),
        engines=dict(Counter(cache[i].engine for i in pair_images).most_common()),
        euclidean=euclid,
        cosine=cosine,
        fixed_06_accuracy=fixed,
        rank1=rank1,
        rank1_probes=len(probes),
        seconds=time.monotonic() - start,
    )
    result.calibration = calibrate(cache, options, cosine)
    return result


def calibrate(
    cache: dict[str, CachedFace], options: PipelineOptions, cosine: Verification
) -> dict[str, Any]:
    """The calibration data: FMR/TAR against cosine similarity over all cached LFW faces.

    Impostor scores are every pair of different people (tens of millions of pairs), genuine
    scores every pair of photos of one person, so FMRs down to 1e-5 are measured, not guessed.
    The default threshold is the mean 10-fold accuracy-optimal threshold.
    """
    names = sorted(cache)
    vecs = np.stack([cache[n].descriptor for n in names]).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    people = np.array([person_of(n) for n in names])
    _, person_ids = np.unique(people, return_inverse=True)
    edges = np.linspace(-1.0, 1.0, 4001)
    imp_hist = np.zeros(len(edges) - 1, dtype=np.int64)
    gen_hist = np.zeros(len(edges) - 1, dtype=np.int64)
    step = 1024
    for i in range(0, len(names), step):
        sims = vecs[i : i + step] @ vecs.T
        rows = np.arange(i, min(i + step, len(names)))
        upper = np.arange(len(names))[None, :] > rows[:, None]
        same = person_ids[rows][:, None] == person_ids[None, :]
        imp_hist += np.histogram(sims[upper & ~same], edges)[0]
        gen_hist += np.histogram(sims[upper & same], edges)[0]
    # rates of scores >= each edge
    imp_ge = np.concatenate([np.cumsum(imp_hist[::-1])[::-1], [0]]) / max(1, imp_hist.sum())
    gen_ge = np.concatenate([np.cumsum(gen_hist[::-1])[::-1], [0]]) / max(1, gen_hist.sum())
    table = []
    for s in np.arange(0.80, 0.98 + 1e-9, 0.005):
        j = int(np.searchsorted(edges, s))
        table.append(
            {
                "similarity": round(float(s), 3),
                "fmr": float(f"{imp_ge[j]:.3g}"),
                "tar": round(float(gen_ge[j]), 4),
            }
        )
    threshold = float(np.mean(cosine.fold_threshold))
    j = int(np.searchsorted(edges, threshold))
    strict = {}
    for fmr in (1e-3, 1e-4):
        k = int(np.argmax(imp_ge <= fmr))
        strict[f"{fmr:g}"] = {
            "similarity": round(float(edges[k]), 4),
            "tar": round(float(gen_ge[k]), 4),
        }
    return {
        "descriptor_key": options.descriptor_key(),
        "pipeline": options.key(),
        "num_jitters": options.num_jitters,
        "views": options.views,
        "metric": "cosine",
        "threshold": round(threshold, 4),
        "fmr": float(f"{imp_ge[j]:.3g}"),
        "tar": round(float(gen_ge[j]), 4),
        "lfw_accuracy": round(cosine.mean, 5),
        "lfw_accuracy_std": round(cosine.std, 5),
        "impostor_pairs": int(imp_hist.sum()),
        "genuine_pairs": int(gen_hist.sum()),
        "thresholds_at_fmr": strict,
        "table": table,
    }
