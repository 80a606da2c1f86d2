"""The ingest stage: records that carry photos have their faces enrolled as they are ingested.

Cheap when nothing has photos: the gallery (and dlib, faiss) are only loaded for the first
batch with a photo attachment. Idempotent: a photo already enrolled for the same record with
the same content is skipped, so a batch handed over again after a crash costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Record
from facematch.errors import FaceError

if TYPE_CHECKING:
    from core.workspace import Workspace
    from facematch.gallery import Gallery

log = logging.getLogger(__name__)


class FaceStage:
    """Enrols record photos during ingest; saves the index once at the end."""

    name = "faces"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._gallery: Gallery | None = None
        self.failures: list[tuple[str, str, str]] = []
        self.enrolled = 0

    @property
    def gallery(self) -> Gallery:
        if self._gallery is None:
            from facematch.gallery import Gallery

            self._gallery = Gallery(self.workspace)
        return self._gallery

    def process(self, records: Sequence[Record]) -> None:
        with_photos = [r for r in records if r.attachments]
        if not with_photos:
            return
        from facematch.enrol import enroll_records

        report = enroll_records(self.gallery, with_photos, save=False)
        self.enrolled += report.faces
        for uid, _path, error in report.failures:
            log.warning("face enrolment of %s failed: %s", uid, error)
        self.failures.extend(report.failures)

    def finish(self) -> None:
        if self._gallery is None:
            return
        try:
            self._gallery.save()
        except FaceError:
            log.exception("saving the face index failed; `superbrain faces rebuild` restores it")
            raise


def make_stage(workspace: Workspace) -> FaceStage:
    """The face-enrolment stage for ``workspace`` (loads nothing until a photo arrives)."""
    return FaceStage(workspace)
