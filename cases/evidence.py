"""What a pin keeps of its evidence when pinned, and what is looked up again later.

- a **record**: its source, type, time, place and origin (file and line);
- a **saved search**: the query and its hit count when pinned (``hits_at_pin``); the count now
  is added on request (``hits_now``);
- a **face lead** (``search_id:face_id``): similarity, threshold, false-match rate (and the
  calibration sample when known) as the search reported them, the record and entity of the
  gallery face, and the review decision with its reviewer, read again from the face store;
- a **co-occurrence result**: the pairs found, as given (bounded).
"""

from __future__ import annotations

import json
from typing import Any

from cases.errors import CaseInvalidError

MAX_DATA = 256 * 1024


def snapshot(
    workspace: Any, kind: str, ref: str, title: str, data: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """``(title, data)`` to store with a new pin of ``kind``; bad evidence is refused."""
    if len(json.dumps(data, ensure_ascii=False, default=str)) > MAX_DATA:
        raise CaseInvalidError(f"pin {ref!r}: data larger than {MAX_DATA // 1024} KiB")
    if kind == "record":
        return _record(workspace, ref, title)
    if kind == "search":
        hits = search_hits(workspace, ref)
        return title or f"search: {ref}", {**data, "query": ref, "hits_at_pin": hits}
    if kind == "face_lead":
        return _face_lead(workspace, ref, title, data)
    pairs = data.get("pairs")
    if not isinstance(pairs, list) or not pairs:
        raise CaseInvalidError(f"co-occurrence pin {ref!r}: data needs the 'pairs' found")
    return title or f"co-occurrence: {ref}", data


def _record(workspace: Any, uid: str, title: str) -> tuple[str, dict[str, Any]]:
    record = workspace.store.get_record(uid)
    if record is None:
        raise CaseInvalidError(f"no record {uid!r} in this workspace")
    return title or record.title(), {
        "source": record.source,
        "type": record.type,
        "time": record.time.timestamp() if record.time else None,
        "geo": list(record.geo) if record.geo else None,
        "origin": record.origin,
    }


def search_hits(workspace: Any, query: str) -> int:
    """How many records ``query`` finds now."""
    from search.backend import open_backend

    try:
        backend = open_backend(workspace)
        try:
            return int(backend.count(query))
        finally:
            close = getattr(backend, "close", None)
            if callable(close):
                close()
    except CaseInvalidError:
        raise
    except Exception as exc:  # the search engine's own errors: the query is at fault
        raise CaseInvalidError(f"saved search {query!r}: {exc}") from exc


def _face_store(workspace: Any) -> Any:
    from facematch.gallery import STORE_NAME
    from facematch.store import FaceStore

    path = workspace.faces_dir / STORE_NAME
    if not path.exists():
        raise CaseInvalidError("this workspace has no face gallery, so no face lead to pin")
    return FaceStore(path)


def _split_lead(ref: str) -> tuple[str, int]:
    search_id, _, face = ref.rpartition(":")
    if not search_id or not face.isdigit():
        raise CaseInvalidError(f"face lead {ref!r} must be SEARCH_ID:FACE_ID")
    return search_id, int(face)


def _face_lead(
    workspace: Any, ref: str, title: str, data: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    search_id, face_id = _split_lead(ref)
    for key in ("similarity", "threshold", "threshold_fmr"):
        if not isinstance(data.get(key), int | float):
            raise CaseInvalidError(
                f"face lead {ref!r}: data needs {key!r} as the search reported it"
            )
    store = _face_store(workspace)
    try:
        info = store.search_info(search_id)
        if info is None:
            raise CaseInvalidError(f"no face search {search_id!r} in this workspace")
        if face_id not in info["candidates"]:
            raise CaseInvalidError(f"face {face_id} was not a candidate of search {search_id}")
        row = store.faces([face_id]).get(face_id)
        review = _review(store, search_id, face_id)
    finally:
        store.close()
    snap = {
        "similarity": float(data["similarity"]),
        "threshold": float(data["threshold"]),
        "threshold_fmr": float(data["threshold_fmr"]),
        "score_fmr": data.get("score_fmr"),
        "calibration": data.get("calibration"),
        "search_case": info["case"],
        "purpose": info["purpose"],
        "searched_by": info["user"],
        "searched_at": info["at"],
        "record_uid": row.record_uid if row else None,
        "entity_id": row.entity_id if row else None,
        "entity_label": row.entity_label if row else None,
        **review,
    }
    label = (row.entity_label if row else "") or f"face {face_id}"
    return title or f"face lead: {label} ({snap['similarity']:.3f})", snap


def _review(store: Any, search_id: str, face_id: int) -> dict[str, Any]:
    last = [r for r in store.reviews(search_id) if r["face_id"] == face_id]
    if not last:
        return {"review": "not reviewed", "reviewer": None, "reviewed_at": None}
    r = last[-1]
    return {
        "review": r["decision"],
        "reviewer": r["user"],
        "reviewed_at": r["at"],
        "review_note": r["note"],
    }


def refresh(workspace: Any, pins: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``pins`` with what has changed since: saved searches' ``hits_now``, face leads'
    current review decision and reviewer."""
    out = []
    store = None
    for p in pins:
        data = dict(p["data"])
        if p["kind"] == "search":
            try:
                data["hits_now"] = search_hits(workspace, data.get("query", p["ref"]))
            except CaseInvalidError as exc:
                data["hits_now_error"] = str(exc)
        elif p["kind"] == "face_lead":
            try:
                store = store or _face_store(workspace)
                data.update(_review(store, *_split_lead(p["ref"])))
            except CaseInvalidError:
                pass  # the gallery is gone: keep the review state as pinned
        out.append({**p, "data": data})
    if store is not None:
        store.close()
    return out
