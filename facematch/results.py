"""What a face search or verification returns: leads, never decisions.

Every result carries :data:`LEAD_NOTICE`; every candidate says whether its similarity reaches
the calibrated threshold and which false-match rate that threshold (and its own score) carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from facematch.pipeline import Face

LEAD_NOTICE = (
    "Investigative lead only: a face match is not an identification. A trained "
    "examiner must confirm or reject each candidate; nothing is done automatically."
)

REVIEW_DECISIONS = ("confirmed", "rejected")


@dataclass(frozen=True)
class Candidate:
    """One gallery face returned for one probe face.

    Attributes
    ----------
    search_id:
        The audited search this candidate belongs to (needed to review it).
    probe_face:
        Index of the probe face (in :attr:`SearchResult.faces`) this candidate answers.
    rank:
        1 = most similar.
    face_id:
        The gallery face.
    similarity:
        Cosine similarity of the unit descriptors (-1..1; the calibrated threshold is ~0.9).
    above_threshold:
        ``similarity >= threshold``.
    threshold, threshold_fmr:
        The calibrated threshold and the false-match rate measured at it (LFW).
    score_fmr:
        The false-match rate measured at this candidate's own similarity.
    record_uid, entity_id, entity_label, photo_path, box, quality:
        What the gallery face links to: the record, the graph entity, the photo.
    status:
        Always ``"lead"`` until a reviewer confirms or rejects it.
    """

    search_id: str
    probe_face: int
    rank: int
    face_id: int
    similarity: float
    above_threshold: bool
    threshold: float
    threshold_fmr: float
    score_fmr: float
    record_uid: str
    entity_id: str | None
    entity_label: str | None
    photo_path: str
    box: tuple[int, int, int, int]
    quality: float
    status: str = "lead"

    def to_dict(self) -> dict[str, Any]:
        return {
            "search_id": self.search_id,
            "probe_face": self.probe_face,
            "rank": self.rank,
            "face_id": self.face_id,
            "similarity": round(self.similarity, 4),
            "above_threshold": self.above_threshold,
            "threshold": self.threshold,
            "threshold_fmr": self.threshold_fmr,
            "score_fmr": self.score_fmr,
            "record_uid": self.record_uid,
            "entity_id": self.entity_id,
            "entity_label": self.entity_label,
            "photo_path": self.photo_path,
            "box": list(self.box),
            "quality": self.quality,
            "status": self.status,
        }


@dataclass(frozen=True)
class ProbeFaceResult:
    """The candidates for one face of the probe image."""

    face: Face
    candidates: tuple[Candidate, ...]

    @property
    def above_threshold(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.above_threshold)


@dataclass(frozen=True)
class SearchResult:
    """A 1:N search: per probe face, the top-k gallery candidates."""

    search_id: str
    case: str
    purpose: str
    probe_sha256: str
    probe_source: str
    k: int
    threshold: float
    threshold_fmr: float
    gallery_size: int
    faces: tuple[ProbeFaceResult, ...]
    notice: str = LEAD_NOTICE

    @property
    def candidates(self) -> list[Candidate]:
        """Every candidate of every searched face, in face then rank order."""
        return [c for f in self.faces for c in f.candidates]

    def to_dict(self) -> dict[str, Any]:
        return {
            "search_id": self.search_id,
            "case": self.case,
            "purpose": self.purpose,
            "probe_sha256": self.probe_sha256,
            "probe": self.probe_source,
            "k": self.k,
            "threshold": self.threshold,
            "threshold_fmr": self.threshold_fmr,
            "gallery_size": self.gallery_size,
            "notice": self.notice,
            "faces": [
                {"face": f.face.to_dict(), "candidates": [c.to_dict() for c in f.candidates]}
                for f in self.faces
            ],
        }


@dataclass(frozen=True)
class VerifyResult:
    """A 1:1 comparison of two faces."""

    search_id: str
    case: str
    purpose: str
    similarity: float
    above_threshold: bool
    threshold: float
    threshold_fmr: float
    score_fmr: float
    face_a: Face
    face_b: Face
    sha256_a: str
    sha256_b: str
    notice: str = LEAD_NOTICE
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "search_id": self.search_id,
            "case": self.case,
            "purpose": self.purpose,
            "similarity": round(self.similarity, 4),
            "above_threshold": self.above_threshold,
            "threshold": self.threshold,
            "threshold_fmr": self.threshold_fmr,
            "score_fmr": self.score_fmr,
            "face_a": self.face_a.to_dict(),
            "face_b": self.face_b.to_dict(),
            "sha256_a": self.sha256_a,
            "sha256_b": self.sha256_b,
            "notice": self.notice,
        }
