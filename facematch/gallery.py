"""A workspace's face gallery: enrol record photos, search and verify probes, review leads.

Safeguards are part of the API, not of the UI: :meth:`Gallery.search` and
:meth:`Gallery.verify` refuse to run without a case number and a purpose, audit every call with
the SHA-256 of the probe image, and return leads (:data:`~facematch.results.LEAD_NOTICE`).
:meth:`Gallery.review` records a human decision on one candidate, audited too. Nothing acts on a
match automatically.

Thread safety: every public method may be called from worker threads; one lock serialises
changes to the index and the metadata.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.security import require
from facematch.calibration import Calibration, load_calibration
from facematch.cluster import backend_of, open_es_index
from facematch.cluster import migrate as migrate_to_es
from facematch.errors import (
    FaceError,
    FaceIndexError,
    NoFaceError,
    SafeguardError,
    UnknownFaceError,
)
from facematch.index import VectorIndex, choose_kind, ids_digest
from facematch.pipeline import FacePipeline, ImageFaces, normalise
from facematch.results import (
    REVIEW_DECISIONS,
    Candidate,
    ProbeFaceResult,
    SearchResult,
    VerifyResult,
)
from facematch.store import FaceStore

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)

INDEX_NAME = "index.faiss"
STORE_NAME = "gallery.sqlite"
MAX_K = 100

Probe = ImageFaces | str | Path | bytes


def require_case(case: str | None, purpose: str | None) -> tuple[str, str]:
    """Refuse a face search without a case number and a purpose (both non-blank)."""
    case_s = (case or "").strip()
    purpose_s = (purpose or "").strip()
    if not case_s:
        raise SafeguardError(
            "a face search needs a case number (--case): refused, nothing was searched"
        )
    if not purpose_s:
        raise SafeguardError(
            f"case {case_s!r}: a face search needs a stated purpose "
            "(--purpose): refused, nothing was searched"
        )
    return case_s, purpose_s


class Gallery:
    """The enrolled faces of one workspace, their FAISS index, searches and reviews.

    Parameters
    ----------
    workspace:
        The open workspace (files under ``workspace.faces_dir``; audit in its audit log).
    calibration:
        Threshold data (default: the file shipped with the package).
    index_kind:
        ``auto`` (exact up to 200k faces, ``hnsw-sq`` above), ``flat``, ``hnsw-sq``,
        ``hnsw`` or ``ivf`` (see :mod:`facematch.index`);
        default from the workspace config ``[faces] index_kind``.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        calibration: Calibration | None = None,
        index_kind: str | None = None,
    ) -> None:
        self.workspace = workspace
        config = workspace.config.get("faces", {}) if isinstance(workspace.config, dict) else {}
        self.calibration = calibration or load_calibration()
        self.options = self.calibration.pipeline_options()
        self.pipeline = FacePipeline(self.options)
        self.index_kind = index_kind or str(config.get("index_kind", "auto"))
        choose_kind(self.index_kind, 0)  # validate early
        self.backend = backend_of(config)
        self._config = config
        self.dir = Path(workspace.faces_dir)
        self.store = FaceStore(self.dir / STORE_NAME)
        self._lock = threading.RLock()
        self._index: VectorIndex | None = None
        self._version = -1
        self._dirty = False
        key = self.store.get_meta("descriptor_key")
        if key is None:
            self.store.set_meta("descriptor_key", self.options.descriptor_key())
        elif key != self.options.descriptor_key() and self.store.count():
            raise FaceIndexError(
                f"{str(self.dir / STORE_NAME)!r}: faces were enrolled as {key!r} but the "
                f"calibration is for {self.options.descriptor_key()!r}; re-embed them in place "
                f"from their photos with `superbrain faces reembed -w {str(workspace.root)!r}`"
                " (keeps face ids, searches and reviews)"
            )

    @property
    def index_path(self) -> Path:
        return self.dir / INDEX_NAME

    @property
    def user(self) -> str:
        return str(self.workspace.user)

    def _actor(self, user: str | None) -> tuple[str, dict[str, str]]:
        """The audited user is always the session's; a different ``user`` given by calling
        code is recorded as ``on_behalf_of`` and cannot replace it."""
        if user and user != self.user:
            return self.user, {"on_behalf_of": user}
        return self.user, {}

    def _require_case_member(self, case: str, action: str) -> None:
        """Refuse (audited) a search naming a case that does not exist in this workspace or
        that the acting user is not a member of (see docs/CASES.md); nothing is searched."""
        from core.case_gate import require_case_member
        from core.errors import CaseRefusedError

        try:
            require_case_member(self.workspace, case, self.user, action)
        except CaseRefusedError as exc:
            raise SafeguardError(f"{exc}: refused, nothing was searched") from exc

    def __len__(self) -> int:
        return self.store.count()

    def close(self) -> None:
        """Save pending index changes and close the metadata database."""
        with self._lock:
            if self._dirty:
                self.save()
            self.store.close()

    # -- the index ------------------------------------------------------------------------------
    @property
    def index(self) -> VectorIndex:
        """The in-memory index, loaded on first use and kept in step with other writers
        (with ``[faces] backend = "elasticsearch"``: the cluster's index, which every writer
        shares)."""
        with self._lock:
            if self.backend == "elasticsearch":
                if self._index is None:
                    self._index = open_es_index(self.workspace, self._config)  # type: ignore[assignment]
                assert self._index is not None
                return self._index
            version = self.store.data_version()
            if self._index is None:
                self._index = self._load_index()
            elif version != self._version:
                self._catch_up(self._index)  # another process enrolled or removed faces
            self._version = version
            return self._index

    def _catch_up(self, index: VectorIndex) -> bool:
        store_ids = self.store.face_ids()
        have = index.ids()
        missing = np.setdiff1d(store_ids, have)
        extra = np.setdiff1d(have, store_ids)
        if not len(missing) and not len(extra):
            return False
        log.info("face index catching up with the gallery: +%d -%d", len(missing), len(extra))
        index.remove(extra.tolist())
        if len(missing):
            index.add(missing, normalise(self.store.vectors(missing.tolist())))
        self._dirty = True
        return True

    def _load_index(self) -> VectorIndex:
        store_ids = self.store.face_ids()
        want = ids_digest(store_ids)
        for path in (self.index_path, self.index_path.with_name(INDEX_NAME + ".prev")):
            if not path.exists():
                continue
            try:
                index, header = VectorIndex.load(path)
            except FaceIndexError as exc:
                log.warning("face index unusable, trying the previous one: %s", exc)
                continue
            if header.get("descriptor_key") != self.options.descriptor_key():
                log.warning("%s holds other descriptors; rebuilding", path)
                break
            if header.get("ids_sha256") != want:
                log.warning("%s is behind the gallery metadata: catching up", path)
                self._catch_up(index)
            return index
        ids, vectors = self.store.all_vectors()
        if len(ids):
            log.warning("no usable face index in %s: rebuilding from %d faces", self.dir, len(ids))
            self._dirty = True
        return VectorIndex.build(ids, normalise(vectors), choose_kind(self.index_kind, len(ids)))

    def save(self) -> None:
        """Write the index atomically (the previous file stays as ``index.faiss.prev``); on
        Elasticsearch, make what was enrolled searchable now (a refresh)."""
        with self._lock:
            index = self.index
            if self.backend == "elasticsearch":
                index.refresh()  # type: ignore[attr-defined]
                self._dirty = False
                return
            if index.needs_compaction() or index.kind != choose_kind(self.index_kind, len(index)):
                index = self._index = self._build_from_store()
            index.save(self.index_path, {"descriptor_key": self.options.descriptor_key()})
            self._dirty = False

    def _build_from_store(self, kind: str | None = None) -> VectorIndex:
        ids, vectors = self.store.all_vectors()
        return VectorIndex.build(
            ids, normalise(vectors), choose_kind(kind or self.index_kind, len(ids))
        )

    def rebuild(self, kind: str | None = None) -> int:
        """Rebuild the index from the metadata (e.g. after a crash or to change its kind)."""
        with self._lock:
            if kind:
                choose_kind(kind, 0)
                self.index_kind = kind
            if self.backend == "elasticsearch":  # a fresh index with every vector, so faces
                index = self.index  # removed behind its back go too
                index.drop()  # type: ignore[attr-defined]
                index.ensure()  # type: ignore[attr-defined]
                migrate_to_es(self.store, index, restart=True)  # type: ignore[arg-type]
            else:
                self._index = self._build_from_store()
                self.save()
            built = self.index
            n = len(built)
        self.workspace.audit.append(self.user, "face.rebuild", {"faces": n, "kind": built.kind})
        return n

    # -- enrolment ----------------------------------------------------------------------------
    def _store_faces(
        self,
        record_uid: str,
        attachment: str,
        image: ImageFaces,
        entity_id: str | None,
        entity_label: str | None,
    ) -> list[int]:
        rows = [
            {
                "face_index": f.index,
                "entity_id": entity_id,
                "entity_label": entity_label,
                "box": f.box,
                "size": f.size,
                "quality": f.quality,
                "vector": f.unit_vector,
            }
            for f in image.faces
        ]
        with self._lock:
            index = self.index  # loaded before the metadata changes, so it is in step
            added, removed = self.store.replace_photo(
                record_uid, attachment, image.source, image.sha256, rows, self.user
            )
            index.remove(removed)
            if added:
                index.add(
                    np.array(added, dtype=np.int64), np.stack([f.unit_vector for f in image.faces])
                )
            self._dirty = True
        return added

    def enroll_photo(
        self,
        path: str | Path,
        *,
        record_uid: str,
        attachment: str = "photo",
        entity_id: str | None = None,
        entity_label: str | None = None,
        save: bool = True,
    ) -> list[int]:
        """Enrol every face of one photo for one record; returns the new face ids.

        Re-enrolling the same record photo replaces its faces (idempotent).

        Raises
        ------
        ImageError, NoFaceError
            The photo is unusable or holds no face (nothing is changed).
        """
        return self.enroll_faces(
            self.pipeline.analyse(path),
            record_uid=record_uid,
            attachment=attachment,
            entity_id=entity_id,
            entity_label=entity_label,
            save=save,
        )

    def enroll_faces(
        self,
        image: ImageFaces,
        *,
        record_uid: str,
        attachment: str = "photo",
        entity_id: str | None = None,
        entity_label: str | None = None,
        faces: Sequence[int] | None = None,
        save: bool = True,
    ) -> list[int]:
        """Enrol faces of an already analysed photo (all, or the indices in ``faces``).

        Needs the ``ingest`` permission (enrolment changes what searches can find).
        """
        require(self.workspace, "ingest", action="face.enroll", record_uid=record_uid)
        if faces is not None:
            for i in faces:
                if not 0 <= i < len(image.faces):
                    raise UnknownFaceError(f"{image.source!r}: no face {i}")
            image = replace(image, faces=tuple(image.faces[i] for i in faces))
        if not image.faces:
            raise NoFaceError(f"{image.source!r}: no face to enrol")
        ids = self._store_faces(record_uid, attachment, image, entity_id, entity_label)
        if save:
            self.save()
        self.workspace.audit.append(
            self.user,
            "face.enroll",
            {
                "record_uid": record_uid,
                "photo": image.source,
                "sha256": image.sha256,
                "faces": len(ids),
            },
        )
        return ids

    def remove_record(self, record_uid: str, *, save: bool = True) -> int:
        """Remove every face of a record from the gallery (no rebuild); returns how many.

        Needs the ``ingest`` permission.
        """
        require(self.workspace, "ingest", action="face.remove", record_uid=record_uid)
        with self._lock:
            index = self.index
            ids = self.store.remove_record(record_uid)
            index.remove(ids)
            self._dirty = True
            if save:
                self.save()
        self.workspace.audit.append(
            self.user, "face.remove", {"record_uid": record_uid, "faces": len(ids)}
        )
        return len(ids)

    def faces_of_record(self, record_uid: str) -> list[dict[str, Any]]:
        """The record's faces (``excluded`` names why a face is not searchable, else None)."""
        return [r.to_dict() for r in self.store.faces_of_record(record_uid)]

    def excluded_faces(self) -> list[dict[str, Any]]:
        """Faces kept out of the index by a re-embedding (photo missing or changed, face not
        found again); ``superbrain faces reembed`` retries them once the photo is back."""
        return [r.to_dict() for r in self.store.face_rows(only_excluded=True)]

    def warm_up(self) -> dict[str, Any]:
        """Load what the first search needs, so it does not pay for it: the index (seconds at
        1M faces), its compiled search (numba: ~0.5 s from its cache, ~4 s the first time on a
        machine) and the face models (dlib and ONNX Runtime, ~1.5 s). Safe to call from a
        worker thread while the user prepares a probe; a search started meanwhile waits.

        Returns what was loaded: ``faces``, ``index`` kind, ``compiled_search``, ``engine``.
        """
        with self._lock:
            index = self.index
            compiled = index.warm_up()
            report: dict[str, Any] = {
                "faces": len(index),
                "index": index.kind,
                "compiled_search": compiled,
            }
        report["engine"] = self.pipeline.engine
        return report

    # -- probes ---------------------------------------------------------------------------------
    def analyse_probe(self, source: str | Path | bytes) -> ImageFaces:
        """Decode a probe, find every face and describe it (boxes, size, quality).

        Raises an :class:`~facematch.errors.ImageError` subclass for unusable files and
        :class:`~facematch.errors.NoFaceError` when no face is found.
        """
        return self.pipeline.analyse(source)

    def _as_probe(self, probe: Probe) -> ImageFaces:
        if isinstance(probe, ImageFaces):
            if any(f.descriptor is None for f in probe.faces):
                raise FaceError(
                    f"{probe.source!r}: probe faces were only detected; use "
                    "Gallery.analyse_probe to describe them"
                )
            return probe
        return self.analyse_probe(probe)

    def search(
        self,
        probe: Probe,
        *,
        case: str | None,
        purpose: str | None,
        k: int = 10,
        faces: Sequence[int] | None = None,
        user: str | None = None,
    ) -> SearchResult:
        """1:N search of one, several or all faces of a probe against the gallery.

        Parameters
        ----------
        probe:
            A photo path or bytes, or the result of :meth:`analyse_probe`.
        case, purpose:
            Required (non-blank); recorded in the audit log with the probe's SHA-256.
        k:
            Candidates per probe face (1..100).
        faces:
            Indices of the probe faces to search (``None``: every face).

        Raises
        ------
        SafeguardError
            Case number or purpose missing (checked before anything else).
        """
        require(self.workspace, "faces.search", action="face.search", case=case or "")
        case_s, purpose_s = require_case(case, purpose)
        self._require_case_member(case_s, "face.search")
        if not 1 <= k <= MAX_K:
            raise FaceError(f"k={k}: ask for between 1 and {MAX_K} candidates")
        image = self._as_probe(probe)
        if not image.faces:
            raise NoFaceError(f"{image.source!r}: no face to search with")
        chosen = list(range(len(image.faces))) if faces is None else list(faces)
        if not chosen:
            raise UnknownFaceError(f"{image.source!r}: no probe face chosen")
        for i in chosen:
            if not 0 <= i < len(image.faces):
                raise UnknownFaceError(
                    f"{image.source!r}: no face {i} (the probe has {len(image.faces)})"
                )
        cal = self.calibration
        search_id = uuid.uuid4().hex
        with self._lock:
            index = self.index
            gallery_size = len(index)
            sims, ids = index.search(np.stack([image.faces[i].unit_vector for i in chosen]), k)
            rows = self.store.faces([int(i) for i in ids.ravel() if i >= 0])
        results = []
        for qi, face_i in enumerate(chosen):
            cands = []
            for rank, (sim, fid) in enumerate(zip(sims[qi], ids[qi], strict=True), start=1):
                row = rows.get(int(fid))
                if fid < 0 or row is None:
                    continue
                s = float(sim)
                cands.append(
                    Candidate(
                        search_id=search_id,
                        probe_face=face_i,
                        rank=rank,
                        face_id=int(fid),
                        similarity=s,
                        above_threshold=s >= cal.threshold,
                        threshold=cal.threshold,
                        threshold_fmr=cal.fmr,
                        score_fmr=cal.fmr_at(s),
                        record_uid=row.record_uid,
                        entity_id=row.entity_id,
                        entity_label=row.entity_label,
                        photo_path=row.photo_path,
                        box=row.box,
                        quality=row.quality,
                    )
                )
            results.append(ProbeFaceResult(image.faces[face_i], tuple(cands)))
        result = SearchResult(
            search_id=search_id,
            case=case_s,
            purpose=purpose_s,
            probe_sha256=image.sha256,
            probe_source=image.source,
            k=k,
            threshold=cal.threshold,
            threshold_fmr=cal.fmr,
            gallery_size=gallery_size,
            faces=tuple(results),
        )
        all_c = result.candidates
        actor, behalf = self._actor(user)
        self.store.add_search(
            search_id, actor, case_s, purpose_s, "search", image.sha256, [c.face_id for c in all_c]
        )
        self.workspace.audit.append(
            actor,
            "face.search",
            {
                "search_id": search_id,
                "probe_sha256": image.sha256,
                "k": k,
                "threshold": cal.threshold,
                "threshold_fmr": cal.fmr,
                "faces_searched": chosen,
                "gallery_size": gallery_size,
                "candidates": len(all_c),
                "above_threshold": [
                    [c.face_id, c.record_uid, round(c.similarity, 4)]
                    for c in all_c
                    if c.above_threshold
                ],
                **behalf,
            },
            case=case_s,
            purpose=purpose_s,
        )
        return result

    def verify(
        self,
        a: Probe,
        b: Probe,
        *,
        case: str | None,
        purpose: str | None,
        face_a: int | None = None,
        face_b: int | None = None,
        user: str | None = None,
    ) -> VerifyResult:
        """1:1: are the faces of two photos the same person? (audited, a lead only)

        ``face_a``/``face_b`` pick a face when a photo holds several (otherwise refused).
        """
        require(self.workspace, "faces.search", action="face.verify", case=case or "")
        case_s, purpose_s = require_case(case, purpose)
        self._require_case_member(case_s, "face.verify")
        img_a, img_b = self._as_probe(a), self._as_probe(b)
        fa, fb = _pick(img_a, face_a, "face_a"), _pick(img_b, face_b, "face_b")
        s = float(np.dot(fa.unit_vector, fb.unit_vector))
        cal = self.calibration
        search_id = uuid.uuid4().hex
        actor, behalf = self._actor(user)
        self.store.add_search(
            search_id, actor, case_s, purpose_s, "verify", f"{img_a.sha256},{img_b.sha256}", []
        )
        result = VerifyResult(
            search_id=search_id,
            case=case_s,
            purpose=purpose_s,
            similarity=s,
            above_threshold=s >= cal.threshold,
            threshold=cal.threshold,
            threshold_fmr=cal.fmr,
            score_fmr=cal.fmr_at(s),
            face_a=fa,
            face_b=fb,
            sha256_a=img_a.sha256,
            sha256_b=img_b.sha256,
        )
        self.workspace.audit.append(
            actor,
            "face.verify",
            {
                "search_id": search_id,
                "probe_sha256": img_a.sha256,
                "other_sha256": img_b.sha256,
                "similarity": round(s, 4),
                "threshold": cal.threshold,
                "above_threshold": result.above_threshold,
                **behalf,
            },
            case=case_s,
            purpose=purpose_s,
        )
        return result

    # -- review ---------------------------------------------------------------------------------
    def review(
        self,
        candidate: Candidate | tuple[str, int],
        decision: str,
        note: str = "",
        *,
        user: str | None = None,
    ) -> dict[str, Any]:
        """Record a reviewer's decision on one candidate ("confirmed" or "rejected"); audited.

        The decision is a record for the case file: it changes no data and triggers nothing.
        """
        require(self.workspace, "faces.review", action="face.review")
        if decision not in REVIEW_DECISIONS:
            raise FaceError(
                f"review decision {decision!r} must be one of {', '.join(REVIEW_DECISIONS)}"
            )
        search_id, face_id = (
            (candidate.search_id, candidate.face_id)
            if isinstance(candidate, Candidate)
            else candidate
        )
        info = self.store.search_info(search_id)
        if info is None:
            raise UnknownFaceError(f"no face search {search_id!r} in this workspace")
        if int(face_id) not in info["candidates"]:
            raise UnknownFaceError(f"face {face_id} was not a candidate of search {search_id}")
        actor, behalf = self._actor(user)
        review_id = self.store.add_review(search_id, int(face_id), decision, note, actor)
        row = self.store.faces([int(face_id)]).get(int(face_id))
        params = {
            "search_id": search_id,
            "face_id": int(face_id),
            "decision": decision,
            "note": note,
            "review_id": review_id,
            "record_uid": row.record_uid if row else None,
            "entity_id": row.entity_id if row else None,
            **behalf,
        }
        self.workspace.audit.append(
            actor, "face.review", params, case=info["case"], purpose=info["purpose"]
        )
        return params


def _pick(image: ImageFaces, index: int | None, name: str):
    if index is None:
        if len(image.faces) != 1:
            raise FaceError(
                f"{image.source!r} holds {len(image.faces)} faces; choose one "
                f"with {name}=<0..{len(image.faces) - 1}>"
            )
        return image.faces[0]
    if not 0 <= index < len(image.faces):
        raise UnknownFaceError(f"{image.source!r}: no face {index} (it has {len(image.faces)})")
    return image.faces[index]
