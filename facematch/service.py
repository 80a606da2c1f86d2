"""Face services: detect, search, verify, review, enrol, rebuild, re-embed (see
:mod:`core.services`).

A face search is a lead for a human, never an identification: the gallery refuses a search
without a case number and a purpose and audits each search with the probe's SHA-256, the
threshold, its false-match rate and the candidates above it. These services add the permission
check in front of every path to it (CLI, console, centre server) and audit the calls that fail —
an unreadable probe, a photo without a face — with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.progress import CancelToken, ProgressCallback
from core.services import ServiceContext, audit_detail, drop_shared, service, shared


def gallery_for(workspace: Any, *, index_kind: str | None = None) -> Any:
    """The workspace's gallery, opened once (loading the index takes seconds at 1M faces) and
    shared by the service calls and the console until :func:`close_gallery`."""
    from facematch.gallery import Gallery

    return shared(workspace, "faces.gallery", lambda: Gallery(workspace, index_kind=index_kind))


def close_gallery(workspace: Any) -> None:
    """Save pending index changes, close and forget the workspace's gallery."""
    gallery = drop_shared(workspace, "faces.gallery")
    if gallery is not None:
        gallery.close()


@service("faces.detect", permission="faces.search")
def detect(ctx: ServiceContext, *, photo: Any) -> Any:
    """Find and describe every face of a photo (a path or its bytes): an ImageFaces with
    boxes, sizes and qualities, ready to be searched with :func:`search`."""
    image = gallery_for(ctx.workspace).analyse_probe(photo)
    audit_detail(sha256=image.sha256, faces=len(image.faces))
    return image


@service("faces.search", permission="faces.search", audit=False)
def search(
    ctx: ServiceContext,
    *,
    probe: Any,
    case: str | None,
    purpose: str | None,
    k: int = 10,
    faces: Sequence[int] | None = None,
) -> Any:
    """1:N search of a probe (path, bytes, or :func:`detect`'s result) against the gallery;
    needs a case number and a purpose. Returns a SearchResult of leads with similarities
    against the calibrated threshold; the gallery audits it with its candidates."""
    return gallery_for(ctx.workspace).search(probe, case=case, purpose=purpose, k=k, faces=faces)


@service("faces.verify", permission="faces.search", audit=False)
def verify(
    ctx: ServiceContext,
    *,
    photo_a: Any,
    photo_b: Any,
    case: str | None,
    purpose: str | None,
    face_a: int | None = None,
    face_b: int | None = None,
) -> Any:
    """1:1 comparison of two photos (a lead only; audited by the gallery)."""
    return gallery_for(ctx.workspace).verify(
        photo_a, photo_b, case=case, purpose=purpose, face_a=face_a, face_b=face_b
    )


@service("faces.review", permission="faces.review", audit=False)
def review(
    ctx: ServiceContext, *, search_id: str, face_id: int, decision: str, note: str = ""
) -> dict[str, Any]:
    """Confirm or reject one candidate of a search (a record for the case file)."""
    return gallery_for(ctx.workspace).review((search_id, int(face_id)), decision, note)


MAX_CROP_PX = 512


@service("faces.candidates", permission="faces.search")
def candidates(
    ctx: ServiceContext, *, search_id: str, face_ids: Sequence[int], size: int = 160
) -> list[dict[str, Any]]:
    """The pictures of the candidates of one's own face search: per face, a JPEG crop of the
    gallery face (at most ``size`` pixels a side) and its latest review decision — what a
    client console shows beside each lead, whose gallery photos stay on the server. Only
    faces that search returned, only to the user who ran it."""
    from facematch.errors import FaceError, UnknownFaceError
    from facematch.gallery import MAX_K

    gallery = gallery_for(ctx.workspace)
    info = gallery.store.search_info(str(search_id))
    if info is None or info["user"] != ctx.session.user:
        raise UnknownFaceError(f"no face search {str(search_id)[:64]!r} of yours")
    ids = [int(i) for i in face_ids]
    if len(ids) > MAX_K:
        raise FaceError(f"{len(ids)} faces asked for; at most {MAX_K} a call")
    if not 32 <= int(size) <= MAX_CROP_PX:
        raise FaceError(f"size {size}: between 32 and {MAX_CROP_PX} pixels")
    strangers = sorted(set(ids) - {int(c) for c in info["candidates"]})
    if strangers:
        raise UnknownFaceError(f"faces {strangers[:10]} were not candidates of search {search_id}")
    rows = gallery.store.faces(ids)
    decisions = gallery.store.face_decisions(ids)
    out = []
    for face_id in ids:
        row = rows.get(face_id)
        jpeg = _crop(row.photo_path, row.box, int(size)) if row is not None else None
        out.append({"face_id": face_id, "jpeg": jpeg, "decision": decisions.get(face_id)})
    audit_detail(
        search_case=info["case"],
        faces=len(out),
        pictures=sum(1 for o in out if o["jpeg"] is not None),
    )
    return out


def _crop(photo: str, box: Sequence[int], size: int) -> bytes | None:
    """The face with a quarter of its width around it, as JPEG; None when the photo cannot be
    read any more (moved, removed): the lead still shows, without its picture."""
    import io

    from PIL import Image

    from facematch.errors import FaceError
    from facematch.images import read_image

    try:
        image = Image.fromarray(read_image(photo).pixels)
    except (FaceError, OSError):
        return None
    left, top, right, bottom = (int(v) for v in box)
    pad = int((right - left) * 0.25)
    crop = image.crop(
        (
            max(0, left - pad),
            max(0, top - pad),
            min(image.width, right + pad),
            min(image.height, bottom + pad),
        )
    )
    crop.thumbnail((size, size))
    buffer = io.BytesIO()
    crop.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@service("faces.enrol", permission="ingest", audit=False)
def enrol(
    ctx: ServiceContext,
    *,
    photo: str,
    record_uid: str,
    entity_id: str | None = None,
    label: str | None = None,
) -> list[int]:
    """Enrol every face of one photo for a record; returns the new face ids."""
    return gallery_for(ctx.workspace).enroll_photo(
        photo, record_uid=record_uid, entity_id=entity_id, entity_label=label
    )


@service("faces.enrol_records", permission="ingest")
def enrol_records(
    ctx: ServiceContext,
    *,
    source: str | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Enrol the photo attachments of stored records (of one source, or all); unchanged
    photos are skipped. Returns the EnrolReport (audited as a summary; the photos enrolled are
    also audited one by one by the gallery as ``face.enroll``)."""
    from facematch.enrol import enroll_records

    records = [r for r in ctx.workspace.store.iter_records(source) if r.attachments]
    report = enroll_records(
        gallery_for(ctx.workspace), records, workers=workers, progress=progress, cancel=cancel
    )
    audit_detail(
        records=len(records),
        photos=report.photos,
        faces=report.faces,
        unchanged=report.unchanged,
        failed=len(report.failures),
        cancelled=report.cancelled,
    )
    return report


@service("faces.rebuild", permission="ingest", audit=False)
def rebuild(ctx: ServiceContext, *, kind: str | None = None) -> dict[str, Any]:
    """Rebuild the face index from the gallery metadata (after a crash, or to change its
    kind): ``{"faces", "kind"}``; audited by the gallery as ``face.rebuild``."""
    gallery = gallery_for(ctx.workspace)
    n = gallery.rebuild(kind)
    return {"faces": n, "kind": gallery.index.kind}


@service("faces.migrate", permission="ingest")
def migrate(
    ctx: ServiceContext,
    *,
    restart: bool = False,
    threads: int = 2,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Copy the gallery's face vectors into its cluster index (``[faces] index_prefix`` on the
    ``[search]`` cluster, or ``[faces] url``) in face-id order, resumably: a run continues
    after the last acknowledged batch of the one before (faces enrolled since come along),
    ``restart`` sends everything again (the ids are the faces' own: nothing doubles). Run it
    before setting ``[faces] backend = "elasticsearch"``. Returns the FaceMigration."""
    from facematch.cluster import migrate as copy
    from facematch.cluster import open_es_index
    from facematch.gallery import STORE_NAME
    from facematch.store import FaceStore

    index = open_es_index(ctx.workspace, ctx.workspace.config.get("faces", {}) or {})
    # a connection of its own: the copy takes long, and the shared gallery serves searches
    store = FaceStore(Path(ctx.workspace.faces_dir) / STORE_NAME)
    try:
        report = copy(
            store, index, threads=threads, progress=progress, cancel=cancel, restart=restart
        )
    finally:
        store.close()
        index.close()
    report.target = f"{index.name} on {index.url}"
    audit_detail(
        target=report.target,
        sent=report.sent,
        total=report.total,
        complete=report.complete,
        cancelled=report.cancelled,
        restarted=restart,
    )
    return report


@service("faces.reembed", permission="ingest")
def reembed(
    ctx: ServiceContext,
    *,
    path_map: Sequence[Sequence[str]] = (),
    min_iou: float = 0.5,
    workers: int | None = None,
    check_only: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Re-compute every face's descriptor with the current calibration, keeping face ids
    (``path_map``: ``[old_folder, new_folder]`` pairs for moved photos). Audited as a
    summary, also a ``check_only`` run; a migration is also audited by the engine
    (``face.reembed``, with the failed faces)."""
    from facematch.reembed import reembed_gallery

    close_gallery(ctx.workspace)  # the re-embedding rewrites the gallery under it
    report = reembed_gallery(
        ctx.workspace,
        path_map=[(str(a), str(b)) for a, b in path_map],
        min_iou=min_iou,
        workers=workers,
        check_only=check_only,
        progress=progress,
        cancel=cancel,
    )
    audit_detail(
        faces=report.faces,
        migrated=report.migrated,
        failed=report.failed,
        switched=report.switched,
        cancelled=report.cancelled,
    )
    return report
