"""Face vectors on Elasticsearch: a ``dense_vector`` index with HNSW, quantised to 8 bits.

The storage half of the cluster face gallery (the Elasticsearch client stays in ``search/``;
:class:`facematch.gallery.Gallery` keeps the safeguards, the calibrated threshold and the
audit, whatever index it searches). One index per prefix, ``<prefix>-faces``, one document per
face with ``_id`` = the gallery's face id.

It answers the interface of :class:`facematch.index.VectorIndex` the gallery uses — ``add``,
``remove``, ``search(queries, k) -> (similarities, ids)``, ``len`` — so a gallery can hold its
vectors on one machine or on the cluster. Similarities are cosine: vectors are unit length and
indexed for ``dot_product``; the 8-bit graph (``int8_hnsw``) finds candidates and, where the
cluster supports it (8.18+ / 9.x), ``rescore_vector`` re-ranks them on the raw float vectors,
so the similarity compared with the threshold is exact, as on FAISS.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from search.errors import SearchError
from search.es_links import bulk_index, call, guarded

log = logging.getLogger(__name__)

DIM = 128
HNSW_M = 32
EF_CONSTRUCTION = 128
# per shard. At 1M (docs/PERFORMANCE.md): 400 with 4x oversampling gives recall@10 0.9895 at
# p95 22 ms; 240 with 2x (shipped before, 0.9905 at 200k) fell to 0.9625 at 1M.
NUM_CANDIDATES = 400
OVERSAMPLE = 4.0  # the 8-bit graph's best k x this are re-ranked on the raw float vectors


def _es() -> Any:
    import elasticsearch.helpers

    return elasticsearch


class EsVectorIndex:
    """Unit vectors with int64 ids on Elasticsearch; top-k by cosine similarity.

    Parameters
    ----------
    client:
        An ``elasticsearch.Elasticsearch`` client (:func:`search.es_links.es_client`).
    prefix:
        Index name prefix; the index is ``<prefix>-faces``.
    quantised:
        ``int8_hnsw`` (default: a quarter of the memory) or ``hnsw`` (float vectors).
    """

    kind = "elasticsearch"

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "superbrain",
        url: str = "",
        shards: int = 1,
        replicas: int = 0,
        quantised: str = "int8_hnsw",
        num_candidates: int = NUM_CANDIDATES,
        oversample: float = OVERSAMPLE,
    ) -> None:
        self.client = client
        self.name = f"{prefix.lower().strip('-')}-faces"
        self.url = url
        self.shards = shards
        self.replicas = replicas
        self.quantised = quantised
        self.num_candidates = num_candidates
        self.oversample = oversample
        self.tombstones: set[int] = set()  # never: deletes are real here
        self._rescore: bool | None = None

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return call(self.url, what, fn, *args, **kwargs)

    def ensure(self) -> None:
        """Create the index if missing."""
        if self._call("checking the face index", self.client.indices.exists, index=self.name):
            return
        mapping = {
            "dynamic": "strict",
            "properties": {
                "v": {
                    "type": "dense_vector",
                    "dims": DIM,
                    "index": True,
                    "similarity": "dot_product",
                    "index_options": {
                        "type": self.quantised,
                        "m": HNSW_M,
                        "ef_construction": EF_CONSTRUCTION,
                    },
                }
            },
        }
        try:
            self._call(
                f"creating index {self.name}",
                self.client.indices.create,
                index=self.name,
                mappings=mapping,
                settings={"number_of_shards": self.shards, "number_of_replicas": self.replicas},
            )
        except SearchError as exc:
            if "already_exists" not in str(exc):
                raise

    def drop(self) -> None:
        self._call(
            "deleting the face index",
            self.client.indices.delete,
            index=self.name,
            ignore_unavailable=True,
        )

    def refresh(self) -> None:
        self._call("refreshing the face index", self.client.indices.refresh, index=self.name)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Periodic refresh off while a migration loads many faces, then on and refreshed.

        Each refresh seals a small segment with its own HNSW graph, which merges then rebuild;
        without them the node builds a few large graphs (docs/PERFORMANCE.md, faces at 1M).
        A search during the load sees the faces of the last refresh.
        """
        self._call(
            "pausing the face index's refresh",
            self.client.indices.put_settings,
            index=self.name,
            settings={"index": {"refresh_interval": "-1"}},
        )
        try:
            yield
        finally:
            self._call(
                "resuming the face index's refresh",
                self.client.indices.put_settings,
                index=self.name,
                settings={"index": {"refresh_interval": None}},
            )
            self.refresh()

    def __len__(self) -> int:
        return int(self._call("counting faces", self.client.count, index=self.name)["count"])

    def store_bytes(self) -> int:
        stats = self._call(
            "reading face index stats", self.client.indices.stats, index=self.name, metric="store"
        )
        return int(stats["indices"][self.name]["primaries"]["store"]["size_in_bytes"])

    def add(
        self, ids: np.ndarray, vectors: np.ndarray, *, threads: int = 1, chunk: int = 1000
    ) -> int:
        """Index ``vectors`` under ``ids``; returns how many were acknowledged.

        Raises :class:`SearchError` naming the first face the cluster rejected (those
        acknowledged before it stay; re-adding the same ids is harmless).
        """
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)
        if len(ids) != len(vectors):
            raise SearchError(f"{len(ids)} face ids for {len(vectors)} vectors")
        actions = (
            {"_index": self.name, "_id": str(int(i)), "_source": {"v": v.tolist()}}
            for i, v in zip(ids, vectors, strict=True)
        )
        return bulk_index(
            self.client,
            self.url,
            actions,
            threads=threads,
            chunk=chunk,
            what="enrolling face vectors",
        )

    def remove(self, ids: Iterable[int]) -> int:
        """Delete faces; returns how many were present."""
        wanted = [str(int(i)) for i in ids]
        if not wanted:
            return 0
        actions = ({"_op_type": "delete", "_index": self.name, "_id": i} for i in wanted)
        gone = 0
        stream = _es().helpers.streaming_bulk(
            self.client, actions, raise_on_error=False, raise_on_exception=False
        )
        for success, item in guarded(self.url, "removing face vectors", stream):
            info = next(iter(item.values()))
            if success:
                gone += 1
            elif info.get("status") != 404:
                raise SearchError(
                    f"Elasticsearch at {self.url} could not remove face "
                    f"{info.get('_id')}: {info.get('error')}"
                )
        return gone

    def _supports_rescore(self) -> bool:
        if self._rescore is None:
            # the oldest node decides (GET / is not served by every distribution)
            nodes = self._call(
                "reading the cluster version", self.client.nodes.info, filter_path="nodes.*.version"
            )["nodes"]
            versions = [tuple(int(x) for x in n["version"].split(".")[:2]) for n in nodes.values()]
            self._rescore = min(versions) >= (8, 18)
        return self._rescore

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (cosine similarities, ids) per query, best first; missing slots: id -1."""
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, DIM)
        sims = np.full((len(queries), max(k, 0)), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), max(k, 0)), -1, dtype=np.int64)
        if k <= 0 or not len(queries):
            return sims, ids
        searches: list[dict[str, Any]] = []
        for q in queries:
            knn: dict[str, Any] = {
                "field": "v",
                "query_vector": q.tolist(),
                "k": k,
                "num_candidates": max(self.num_candidates, k),
            }
            if self._supports_rescore() and self.quantised.startswith(("int8", "int4", "bbq")):
                knn["rescore_vector"] = {"oversample": self.oversample}
            searches += [{"index": self.name}, {"knn": knn, "size": k, "_source": False}]
        resp = self._call("searching faces", self.client.msearch, searches=searches)
        for row, r in enumerate(resp["responses"]):
            if "error" in r:
                raise SearchError(
                    f"Elasticsearch at {self.url} refused a face search: {r['error']}"
                )
            hits = r["hits"]["hits"][:k]
            for col, h in enumerate(hits):
                ids[row, col] = int(h["_id"])
                sims[row, col] = 2.0 * float(h["_score"]) - 1.0  # dot_product score → cosine
        return sims, ids

    def warm_up(self) -> bool:
        """Nothing to compile: the cluster keeps its graph in memory."""
        return False

    def needs_compaction(self) -> bool:
        return False

    def close(self) -> None:
        self.client.close()
