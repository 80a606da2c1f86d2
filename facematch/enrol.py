"""Enrol the photos that records carry (watchlist, registry) into a gallery, in batches.

Each record photo is enrolled once: the key is (record uid, attachment name) and the photo's
SHA-256, so re-ingesting a file, or resuming after a crash, embeds nothing twice; a changed photo
replaces the faces it had. Faces are linked to the record's person entity when it has one
(else its first entity). Bad photos are reported one by one and the batch goes on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.model import EntityRef, Record
from core.progress import CancelToken, ProgressCallback
from core.security import require
from facematch.batch import BatchItem, embed_files
from facematch.gallery import Gallery

log = logging.getLogger(__name__)

#: Fewer photos than this are embedded in-process (starting workers costs ~1-2 s).
POOL_THRESHOLD = 8


@dataclass
class EnrolReport:
    """What one enrolment run did."""

    photos: int = 0
    faces: int = 0
    unchanged: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # uid, path, error
    cancelled: bool = False

    def summary(self) -> str:
        text = (
            f"{self.photos} photos enrolled ({self.faces} faces), {self.unchanged} "
            f"unchanged, {len(self.failures)} failed"
        )
        return text + (" (cancelled)" if self.cancelled else "")


def subject_entity(record: Record) -> EntityRef | None:
    """The entity a record's photo shows: its person entity, else its first entity."""
    for entity in record.entities:
        if entity.type == "person":
            return entity
    return record.entities[0] if record.entities else None


def photo_jobs(records: Sequence[Record]) -> list[tuple[Record, str, str]]:
    """(record, attachment name, path) for every photo attachment."""
    return [(r, name, path) for r in records for name, path in r.attachments.items() if path]


def file_sha256(path: str) -> str | None:
    """The SHA-256 of a photo file (hex), None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def enroll_records(
    gallery: Gallery,
    records: Sequence[Record],
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    save: bool = True,
) -> EnrolReport:
    """Enrol every photo attachment of ``records``; unchanged photos are skipped.

    Parameters
    ----------
    gallery:
        The workspace gallery.
    records:
        Records whose ``attachments`` hold absolute photo paths.
    workers:
        Embedding processes (default: one per core; small batches run in-process).
    progress, cancel:
        Progress snapshots; cancel stops after the photos in flight (what is done is kept).
    save:
        Save the index at the end (the ingest stage saves once in ``finish``).

    Raises
    ------
    PermissionDeniedError
        The session lacks ``ingest`` (audited as ``access.denied``; nothing is enrolled).
    """
    report = EnrolReport()
    jobs = photo_jobs(records)
    if jobs:  # ingest checked it already; `superbrain faces enroll` and API callers did not
        require(gallery.workspace, "ingest", action="face.enroll", photos=len(jobs))
    todo: dict[str, list[tuple[Record, str, str]]] = {}
    for record, name, path in jobs:
        sha = file_sha256(path)
        if sha is None:
            report.failures.append((record.uid, path, f"{path!r}: cannot read the photo"))
            continue
        previous = gallery.store.enrolment(record.uid, name)
        if previous is not None and previous[0] == sha:
            report.unchanged += 1
            continue
        todo.setdefault(str(Path(path)), []).append((record, name, sha))
    if todo:
        n_workers = 1 if len(todo) < POOL_THRESHOLD else workers
        items = embed_files(
            list(todo),
            gallery.options,
            workers=n_workers,
            progress=progress,
            cancel=cancel,
            require_face=True,
        )
        for item in items:
            _enrol_item(gallery, item, todo[item.path], report)
        report.cancelled = bool(cancel is not None and cancel.cancelled)
    if save and (report.photos or report.failures):
        gallery.save()
    if report.photos or report.failures:
        gallery.workspace.audit.append(
            gallery.user,
            "face.enroll",
            {
                "photos": report.photos,
                "faces": report.faces,
                "unchanged": report.unchanged,
                "failed": len(report.failures),
            },
        )
    return report


def _enrol_item(
    gallery: Gallery, item: BatchItem, owners: list[tuple[Record, str, str]], report: EnrolReport
) -> None:
    for record, name, sha in owners:
        if item.result is None:
            report.failures.append((record.uid, item.path, str(item.error)))
            # remember the failure so an unchanged bad photo is not embedded again
            gallery.store.replace_photo(
                record.uid, name, item.path, sha, [], gallery.user, error=item.error
            )
            continue
        entity = subject_entity(record)
        ids = gallery._store_faces(
            record.uid,
            name,
            item.result,
            entity.id if entity else None,
            (entity.label or entity.key) if entity else None,
        )
        report.photos += 1
        report.faces += len(ids)
