"""The face gallery's vectors on the cluster: open the Elasticsearch index, migrate into it.

A workspace sets::

    [faces]
    backend = "elasticsearch"   # default "embedded": the FAISS file in the faces folder
    index_prefix = "superbrain" # the index is <prefix>-faces; URL and credentials: [search]

The gallery's metadata (which record and entity a face belongs to, searches, reviews) stays in
its database; only the vectors move. Safeguards, threshold and audit are the gallery's and do
not change with the index (:class:`facematch.gallery.Gallery`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.progress import CancelToken, ProgressCallback, ProgressMeter
from facematch.errors import FaceIndexError

if TYPE_CHECKING:
    from facematch.store import FaceStore
    from search.es_vectors import EsVectorIndex

log = logging.getLogger(__name__)

BACKENDS = ("embedded", "elasticsearch")


def backend_of(config: dict[str, Any]) -> str:
    """The ``[faces] backend`` of a workspace config (validated)."""
    backend = str(config.get("backend", "embedded"))
    if backend not in BACKENDS:
        raise FaceIndexError(
            f"[faces] backend = {backend!r}: expected one of {', '.join(BACKENDS)}"
        )
    return backend


def open_es_index(workspace: Any, config: dict[str, Any]) -> EsVectorIndex:
    """The workspace's face index on Elasticsearch (created if missing)."""
    from search.es_links import config_client
    from search.es_vectors import EsVectorIndex

    sc = workspace.search_config
    client, shown = config_client(sc, str(config.get("url") or ""))
    index = EsVectorIndex(
        client,
        prefix=str(config.get("index_prefix") or sc.index_prefix),
        url=shown,
        shards=sc.shards,
        replicas=sc.replicas,
        quantised=str(config.get("quantisation", "int8_hnsw")),
    )
    index.ensure()
    return index


@dataclass
class FaceMigration:
    """What one run sent, the gallery's size, and whether it finished."""

    sent: int = 0
    total: int = 0
    complete: bool = False
    cancelled: bool = False
    target: str = ""  # the index and cluster, as shown

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def migrate(
    store: FaceStore,
    index: EsVectorIndex,
    *,
    batch: int = 5000,
    threads: int = 2,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    restart: bool = False,
) -> FaceMigration:
    """Send every indexed face of ``store`` to ``index`` in face-id order, resumably.

    After each acknowledged batch the last face id sent is saved in the gallery's metadata
    (``es_migration:<index>``); a rerun continues after it. A cancel stops after the batch in
    flight.
    """
    key = f"es_migration:{index.name}"
    saved = None if restart else store.get_meta(key)
    last = int(json.loads(saved)["face"]) if saved else -1
    ids = np.sort(store.face_ids())
    report = FaceMigration(total=len(ids))
    todo = ids[ids > last]
    meter = ProgressMeter(progress, len(ids))
    meter.advance(len(ids) - len(todo), "resuming" if last >= 0 else "starting", force=True)
    with index.bulk_load():
        for start in range(0, len(todo), batch):
            if cancel is not None and cancel.cancelled:
                report.cancelled = True
                return report
            chunk = todo[start : start + batch]
            index.add(chunk, store.vectors(chunk.tolist()), threads=threads)
            store.set_meta(key, json.dumps({"face": int(chunk[-1])}))
            report.sent += len(chunk)
            meter.advance(len(chunk), "faces")
    report.complete = True
    meter.advance(0, "done", force=True)
    return report
