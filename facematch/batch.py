"""Embed many photos across processes, with progress, cancel, and one report per bad file.

dlib's network uses one core per call, so throughput scales with processes. Workers are
started with the ``spawn`` method: forking a process that runs Qt or other threads is unsafe.
Each worker loads the models once. A bad file never stops the batch: it comes back as a
:class:`BatchItem` with ``error`` set (the message names the file).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.progress import CancelToken, ProgressCallback, ProgressMeter
from facematch.errors import FaceError
from facematch.pipeline import FacePipeline, ImageFaces, PipelineOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchItem:
    """The outcome for one file: its faces, or the error that made it unusable.

    ``error_kind`` is the :class:`~facematch.errors.FaceError` subclass name
    (``NotAnImageError``, ``TruncatedImageError``, ``ImageTooLargeError``, ``NoFaceError``...).
    """

    path: str
    result: ImageFaces | None
    error: str | None = None
    error_kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


_worker_pipeline: FacePipeline | None = None


def _worker_init(options: PipelineOptions) -> None:
    global _worker_pipeline
    _worker_pipeline = FacePipeline(options)


def _worker_embed(job: tuple[str, bool]) -> BatchItem:
    path, require_face = job
    pipeline = _worker_pipeline or FacePipeline()
    return _embed_one(pipeline, path, require_face)


def _embed_one(pipeline: FacePipeline, path: str, require_face: bool) -> BatchItem:
    try:
        return BatchItem(path, pipeline.analyse(path, require_face=require_face))
    except FaceError as exc:
        return BatchItem(path, None, str(exc), type(exc).__name__)
    except Exception as exc:
        log.exception("unexpected failure on %s", path)
        return BatchItem(path, None, f"{path!r}: unexpected error: {exc!r}", "InternalError")


def default_workers() -> int:
    """One worker per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def embed_files(
    paths: Iterable[str | Path],
    options: PipelineOptions | None = None,
    *,
    workers: int | None = None,
    require_face: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[BatchItem]:
    """Analyse photos in parallel; yield one :class:`BatchItem` per file as each completes.

    Parameters
    ----------
    paths:
        Photo files (any name; decoded by content).
    options:
        Pipeline options, shared by every worker.
    workers:
        Processes to use (default: one per core). ``1`` runs in this process.
    require_face:
        Report images without a face as errors (``NoFaceError``) instead of empty results.
    progress:
        Called with :class:`core.progress.Progress` snapshots (throttled).
    cancel:
        When set, no new file is started and the generator ends after the running ones;
        the caller sees ``cancel.cancelled`` and fewer items than paths.

    Yields
    ------
    BatchItem
        In completion order (not input order).
    """
    options = options or PipelineOptions()
    jobs = [(str(p), require_face) for p in paths]
    meter = ProgressMeter(progress, total=len(jobs))
    n_workers = min(workers or default_workers(), max(1, len(jobs)))
    if not jobs:
        return
    if n_workers == 1:
        pipeline = FacePipeline(options)
        for path, req in jobs:
            if cancel is not None and cancel.cancelled:
                break
            item = _embed_one(pipeline, path, req)
            meter.advance(1, Path(path).name)
            yield item
        meter.advance(0, "done", force=True)
        return
    ctx = mp.get_context("spawn")
    pool = ctx.Pool(n_workers, initializer=_worker_init, initargs=(options,))
    try:
        chunk = max(1, min(16, len(jobs) // (n_workers * 8)))
        for item in pool.imap_unordered(_worker_embed, jobs, chunksize=chunk):
            meter.advance(1, Path(item.path).name)
            yield item
            if cancel is not None and cancel.cancelled:
                log.info("embedding cancelled after %d of %d files", meter.done, len(jobs))
                break
        meter.advance(
            0, "cancelled" if cancel is not None and cancel.cancelled else "done", force=True
        )
    finally:
        pool.terminate()
        pool.join()
