"""Re-embed a gallery in place when the descriptor setting changes (e.g. ``plain`` -> ``flip``).

A gallery's descriptors are only comparable with probes described the same way, so a gallery
enrolled with another setting than the calibration's refuses to open. Re-enrolling would give
every face a new id and orphan past searches' candidates, reviews and audit references;
:func:`reembed_gallery` instead re-computes each face's descriptor from its original photo and
keeps the face row (id, record and entity links) as it is.

How it works, and why it is safe to kill at any point:

1. Each photo is looked up where enrolment read it (``photo_path``, optionally remapped with
   ``path_map``) and its SHA-256 compared with the enrolled one. A missing, unreadable or changed
   photo is reported for every face it holds.
2. The photos are analysed with the calibration's pipeline options (across processes, see
   :func:`facematch.batch.embed_files`) and each enrolled face is matched to a re-detected face
   by box overlap (IoU), one to one within an enrolled photo, so every face of a multi-face photo
   keeps its id. A face without a match is reported.
3. New descriptors are staged in a side table, one transaction per photo. Nothing the gallery
   reads changes; a rerun after a kill or a cancel reuses what was staged (``resumed``).
4. One transaction swaps the staged descriptors in, marks the faces that failed ``excluded``
   (kept, with their links, but out of the index) and records the new descriptor key. Then the
   FAISS index is rebuilt and saved atomically (:meth:`facematch.gallery.Gallery.rebuild`); a
   crash before that save is repaired on open (the old index file names the old key).

A later run, once missing photos are back, retries just the excluded faces.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.progress import CancelToken, ProgressCallback, ProgressMeter
from core.security import require
from facematch.batch import BatchItem, embed_files
from facematch.calibration import Calibration, load_calibration
from facematch.enrol import file_sha256
from facematch.errors import FaceError
from facematch.gallery import STORE_NAME, Gallery
from facematch.pipeline import ImageFaces
from facematch.store import FaceRow, FaceStore

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)

#: A re-detected face must overlap the enrolled box at least this much (intersection over union).
MIN_IOU = 0.5
#: Fewer photos than this are analysed in-process (starting workers costs ~1-2 s).
POOL_THRESHOLD = 8
#: Staged descriptors are committed in batches of this many faces, or this often.
STAGE_BATCH = 256
STAGE_SECONDS = 2.0
#: Failed face ids listed in the audit entry (the count is always complete).
AUDIT_FAILED_IDS = 200

#: Why a face was kept out of the index (``FaceRow.excluded``).
REASONS = {
    "missing": "photo missing",
    "unreadable": "photo unreadable",
    "changed": "photo changed since enrolment",
    "unmatched": "face not found again in the photo",
    "not-reembedded": "no new descriptor",
}

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class ReembedFailure:
    """A face that could not be re-embedded (kept in the gallery, out of the index)."""

    face_id: int
    record_uid: str
    photo_path: str
    reason: str  # a key of REASONS
    detail: str

    def describe(self) -> str:
        return (
            f"face {self.face_id} (record {self.record_uid}) {self.photo_path!r}: "
            f"{REASONS.get(self.reason, self.reason)}: {self.detail}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "face_id": self.face_id,
            "record_uid": self.record_uid,
            "photo_path": self.photo_path,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass
class ReembedReport:
    """What one run did. ``switched`` is False when cancelled (or nothing was due)."""

    from_key: str | None
    to_key: str
    faces: int = 0  # faces this run had to re-embed
    photos: int = 0
    migrated: int = 0  # faces with a new descriptor (staged by this run or an earlier one)
    resumed: int = 0  # of which staged by an earlier, interrupted run
    failures: list[ReembedFailure] = field(default_factory=list)
    cancelled: bool = False
    switched: bool = False
    checked_only: bool = False
    excluded: int = 0  # faces marked excluded in the gallery after the switch
    index_faces: int = 0
    index_saved: bool = False

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        if self.checked_only:
            return (
                f"checked {self.photos} photos of {self.faces} faces: {self.failed} faces "
                "cannot be re-embedded (nothing changed)"
            )
        if not self.faces and not self.switched:
            return f"nothing to re-embed: the gallery's descriptors are {self.to_key!r}"
        text = (
            f"{self.migrated} of {self.faces} faces re-embedded ({self.resumed} resumed), "
            f"{self.failed} failed"
        )
        if self.cancelled:
            return text + " (cancelled: the gallery is unchanged; run again to resume)"
        return text + (
            f"; {self.excluded} faces kept out of the index; the index holds "
            f"{self.index_faces} faces"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_key": self.from_key,
            "to_key": self.to_key,
            "faces": self.faces,
            "photos": self.photos,
            "migrated": self.migrated,
            "resumed": self.resumed,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "switched": self.switched,
            "checked_only": self.checked_only,
            "excluded": self.excluded,
            "index_faces": self.index_faces,
            "index_saved": self.index_saved,
            "failures": [f.to_dict() for f in self.failures],
        }


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(left, top, right, bottom)`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_faces(
    enrolled: Sequence[FaceRow], image: ImageFaces, min_iou: float = MIN_IOU
) -> tuple[dict[int, tuple[int, float]], dict[int, float]]:
    """Pair enrolled faces with re-detected ones, one to one, best overlaps first.

    Returns ``({face_id: (detected index, iou)}, {unmatched face_id: best iou})``.
    """
    pairs = sorted(
        (
            (iou(row.box, det.box), row.face_id, i)
            for row in enrolled
            for i, det in enumerate(image.faces)
        ),
        reverse=True,
    )
    matched: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()
    best: dict[int, float] = {row.face_id: 0.0 for row in enrolled}
    for overlap, face_id, i in pairs:
        best[face_id] = max(best[face_id], overlap)
        if overlap < min_iou or face_id in matched or i in taken:
            continue
        matched[face_id] = (i, overlap)
        taken.add(i)
    return matched, {fid: b for fid, b in best.items() if fid not in matched}


def map_path(path: str, path_map: Sequence[tuple[str, str]]) -> str:
    """``path`` with the first matching ``(old prefix, new prefix)`` replaced."""
    for old, new in path_map:
        old_p, p = Path(old), Path(path)
        if p == old_p or old_p in p.parents:
            return str(Path(new) / p.relative_to(old_p))
    return path


@dataclass
class _Photo:
    stored_path: str
    path: str  # where it is read now (after path_map)
    sha256: str
    faces: list[FaceRow]


def reembed_gallery(
    workspace: Workspace,
    *,
    calibration: Calibration | None = None,
    path_map: Sequence[tuple[str, str]] = (),
    min_iou: float = MIN_IOU,
    workers: int | None = None,
    check_only: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ReembedReport:
    """Re-compute every face's descriptor with the calibration's setting, keeping face ids.

    Parameters
    ----------
    workspace:
        The workspace whose gallery (``faces/gallery.sqlite``) is migrated. Needs the
        ``ingest`` permission (it rewrites enrolled data, as enrolment does); audited as
        ``face.reembed`` under the session's user, also when cancelled.
    calibration:
        The target setting (default: the shipped calibration).
    path_map:
        ``(old prefix, new prefix)`` pairs for photos moved since enrolment; a photo found
        there with the enrolled SHA-256 is used and its new path recorded (one not found
        there is still looked for at its enrolled path).
    min_iou:
        Least box overlap between an enrolled face and a re-detected one.
    workers:
        Embedding processes (default: one per core; a few photos run in-process).
    check_only:
        Only look for missing and changed photos (reported as failures); change nothing.
    progress, cancel:
        Progress snapshots (photos checked, then photos analysed); a cancel stops after the
        photos in flight, keeps what was staged for a rerun, and switches nothing.

    Returns
    -------
    ReembedReport

    Raises
    ------
    FaceError
        The workspace has no face gallery, or it changed under the run (nothing switched).
    PermissionDeniedError
        The session lacks ``ingest`` (audited as ``access.denied``).
    """
    session = require(workspace, "ingest", action="face.reembed")
    cal = calibration or load_calibration()
    options = cal.pipeline_options()
    target = options.descriptor_key()
    db = Path(workspace.faces_dir) / STORE_NAME
    if not db.is_file():
        raise FaceError(f"{str(db)!r}: this workspace has no face gallery to re-embed")
    store = FaceStore(db)
    try:
        current = store.get_meta("descriptor_key")
        full = current != target
        rows = store.face_rows(only_excluded=not full)
        report = ReembedReport(current, target, faces=len(rows), checked_only=check_only)
        if not rows and not full:
            return report
        if check_only:
            _find_photos(rows, path_map, report, cancel, progress, staged=set())
            return report
        store.discard_staged(keep_key=target)
        staged = store.staged_ids(target) & {r.face_id for r in rows}
        report.resumed = len(staged)
        photos = _find_photos(rows, path_map, report, cancel, progress, staged)
        _embed_and_stage(store, photos, options, target, min_iou, workers, report, progress, cancel)
        report.migrated += report.resumed
        report.cancelled = bool(cancel is not None and cancel.cancelled)
        if not report.cancelled:
            failures = {f.face_id: (f.reason, f.detail) for f in report.failures}
            report.migrated, report.excluded = store.switch_descriptors(
                from_key=current, target_key=target, failures=failures, exclude_unstaged=full
            )
            report.switched = True
    finally:
        store.close()
    try:
        if report.switched:  # the new descriptors are in: an index crash is repaired on open
            gallery = Gallery(workspace, calibration=cal)
            try:
                report.index_faces = gallery.rebuild()
                report.index_saved = True
            finally:
                gallery.close()
    finally:
        _audit(workspace, session.user, report)
    return report


def _find_photos(
    rows: Sequence[FaceRow],
    path_map: Sequence[tuple[str, str]],
    report: ReembedReport,
    cancel: CancelToken | None,
    progress: ProgressCallback | None,
    staged: set[int],
) -> list[_Photo]:
    """Group the faces still to do by photo; report those whose photo is missing or changed."""
    groups: dict[tuple[str, str], list[FaceRow]] = {}
    for row in rows:
        if row.face_id not in staged:
            groups.setdefault((row.photo_path, row.photo_sha256), []).append(row)
    report.photos = len(groups)
    meter = ProgressMeter(progress, total=len(groups))
    photos = []
    for (stored, sha), faces in groups.items():
        if cancel is not None and cancel.cancelled:
            break
        path = map_path(stored, path_map)
        where = repr(stored) if path == stored else f"{stored!r} (looked for at {path!r})"
        if path != stored and not Path(path).is_file() and Path(stored).is_file():
            path = stored  # not moved after all
        if not Path(path).is_file():
            _fail(report, faces, stored, "missing", f"{where}: no such file")
        else:
            found = file_sha256(path)
            if found is None:
                _fail(report, faces, stored, "unreadable", f"{where}: cannot read the file")
            elif found != sha:
                _fail(
                    report,
                    faces,
                    stored,
                    "changed",
                    f"{where}: SHA-256 {found[:12]}... differs from the enrolled {sha[:12]}...",
                )
            else:
                photos.append(_Photo(stored, path, sha, faces))
        meter.advance(1, f"checked {Path(path).name}")
    return photos


def _fail(
    report: ReembedReport, faces: Sequence[FaceRow], path: str, reason: str, detail: str
) -> None:
    report.failures.extend(
        ReembedFailure(f.face_id, f.record_uid, path, reason, detail) for f in faces
    )


def _embed_and_stage(
    store: FaceStore,
    photos: Sequence[_Photo],
    options: Any,
    target: str,
    min_iou: float,
    workers: int | None,
    report: ReembedReport,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> None:
    if not photos or (cancel is not None and cancel.cancelled):
        return
    by_path: dict[str, list[_Photo]] = {}
    for photo in photos:  # two enrolled paths may lead to one file (path_map)
        by_path.setdefault(photo.path, []).append(photo)
    n_workers = 1 if len(by_path) < POOL_THRESHOLD else workers
    pending: list[dict[str, Any]] = []
    last_flush = time.monotonic()
    try:
        for item in embed_files(
            list(by_path),
            options,
            workers=n_workers,
            require_face=False,
            progress=progress,
            cancel=cancel,
        ):
            for photo in by_path[item.path]:
                pending += _staged_rows(photo, item, min_iou, report)
            # one commit (an fsync) per batch, not per photo; a kill loses only this batch
            if len(pending) >= STAGE_BATCH or time.monotonic() - last_flush > STAGE_SECONDS:
                _flush(store, target, pending, report)
                last_flush = time.monotonic()
    finally:
        _flush(store, target, pending, report)


def _flush(
    store: FaceStore, target: str, pending: list[dict[str, Any]], report: ReembedReport
) -> None:
    store.stage_descriptors(target, pending)
    report.migrated += len(pending)
    pending.clear()


def _staged_rows(
    photo: _Photo, item: BatchItem, min_iou: float, report: ReembedReport
) -> list[dict[str, Any]]:
    image = item.result
    if image is None:
        _fail(report, photo.faces, photo.path, "unreadable", str(item.error))
        return []
    if image.sha256 != photo.sha256:  # replaced between the check and the analysis
        _fail(
            report,
            photo.faces,
            photo.path,
            "changed",
            f"{photo.path!r}: SHA-256 changed while re-embedding",
        )
        return []
    out: list[dict[str, Any]] = []
    # one to one within each enrolment (record photo); two records may share one photo
    enrolments: dict[tuple[str, str], list[FaceRow]] = {}
    for row in photo.faces:
        enrolments.setdefault((row.record_uid, row.attachment), []).append(row)
    for rows in enrolments.values():
        matched, unmatched = match_faces(rows, image, min_iou)
        for row in rows:
            if row.face_id in unmatched:
                found = (
                    f"{len(image.faces)} face(s) found, best box overlap "
                    f"{unmatched[row.face_id]:.2f} < {min_iou}"
                    if image.faces
                    else "no face found"
                )
                _fail(
                    report,
                    [row],
                    photo.path,
                    "unmatched",
                    f"{photo.path!r}: enrolled box {list(row.box)}: {found}",
                )
                continue
            face = image.faces[matched[row.face_id][0]]
            out.append(
                {
                    "face_id": row.face_id,
                    "photo_sha256": photo.sha256,
                    "photo_path": photo.path,
                    "vector": face.unit_vector,
                    "box": face.box,
                    "size": face.size,
                    "quality": face.quality,
                }
            )
    return out


def _audit(workspace: Workspace, user: str, report: ReembedReport) -> None:
    if report.checked_only or (not report.faces and not report.switched):
        return
    workspace.audit.append(
        user,
        "face.reembed",
        {
            "from_key": report.from_key,
            "to_key": report.to_key,
            "faces": report.faces,
            "migrated": report.migrated,
            "resumed": report.resumed,
            "failed": report.failed,
            "failed_faces": [f.face_id for f in report.failures][:AUDIT_FAILED_IDS],
            "excluded": report.excluded,
            "index_faces": report.index_faces,
            "index_saved": report.index_saved,
            "cancelled": report.cancelled,
            "switched": report.switched,
        },
    )
