"""The FAISS vector index behind a gallery: exact or approximate, saved atomically.

Vectors are unit-length 128-d descriptors compared by inner product (= cosine similarity, the
metric the calibration uses). Three kinds:

``flat``
    Exact search (``IndexFlatIP``). Chosen automatically up to :data:`AUTO_FLAT_LIMIT` vectors.
``hnsw-sq``
    Approximate, chosen above that size: a PCA to :data:`PCA_DIM` dimensions (face
    descriptors span fewer than 128), an HNSW graph over 8-bit scalar-quantised codes of the
    reduced vectors, and an exact re-ranking of the best ``k x`` :data:`REFINE_K_FACTOR`
    candidates on the full vectors, so reported similarities are exact. Cheap distances in the
    graph make it several times faster than ``hnsw`` at the same recall (bench/faces).
``hnsw``
    Approximate graph search on the full vectors (``IndexHNSWFlat``). HNSW cannot delete, so
    for both HNSW kinds removed ids are remembered as tombstones and filtered out of results
    until the next rebuild (done automatically when tombstones reach 10% of the index).
``ivf``
    Approximate inverted lists (``IndexIVFFlat``); needs training, so only for rebuilds of large
    galleries (and the benchmark).

Every kind sits in an ``IndexIDMap2`` so ids are the gallery's face ids: adding and removing
needs no rebuild. faiss is imported lazily, only here (and in the two helpers below).

Speed on large galleries (facematch/index_layout.py, facematch/graph_search.py): a built graph
is renumbered breadth-first so graph neighbours sit together in memory, the index's big arrays
are backed by transparent huge pages after a build, load or addition, and ``hnsw-sq`` queries
run in a compiled kernel over faiss's own arrays (numba; faiss searches when it is missing).
None of these changes a file's format or a query's result set.

The file format is one file: a magic line, a JSON header (kind, count, checksums), the
serialised index. :meth:`VectorIndex.save` writes a temporary file, fsyncs it, keeps the current
file as ``<name>.prev`` and atomically replaces; a crash at any point leaves a loadable index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from facematch.errors import FaceIndexError

log = logging.getLogger(__name__)

DIM = 128
AUTO_FLAT_LIMIT = 200_000
KINDS = ("auto", "flat", "hnsw-sq", "hnsw", "ivf")
BUILT_KINDS = KINDS[1:]
AUTO_APPROXIMATE = "hnsw-sq"
TOMBSTONE_KINDS = ("hnsw", "hnsw-sq")  # faiss HNSW cannot remove vectors
MAGIC = b"SBFACEIX1\n"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 160  # 1M: recall@10 0.980 at efSearch 256 (0.954 with 80)
HNSW_EF_SEARCH = 256  # recall@10 0.997 at 200k, 0.954 at 1M (docs/PERFORMANCE.md)
IVF_NPROBE = 32
PCA_DIM = 64  # 97% of the LFW descriptors' variance; the exact re-ranking restores the rest
HNSW_SQ_M = 48
HNSW_SQ_EF_CONSTRUCTION = 160
HNSW_SQ_EF_SEARCH = 176  # 1M: recall@10 0.9825-0.9827 (160: 0.979-0.980; docs/PERFORMANCE.md)
REFINE_K_FACTOR = 2
GRAPH_ORDER_MIN = 10_000  # renumber graphs from this size on (BFS order; ~7 s at 1M)
HUGE_PAGES = True  # back large indexes with transparent huge pages (Linux; best effort)
COMPILED_SEARCH = True  # hnsw-sq queries through facematch.graph_search when numba is there
MIN_TRAIN = 2 * DIM  # PCA and the scalar quantiser are trained on the vectors themselves


_configured = False


def _faiss() -> Any:
    global _configured
    import faiss

    if not _configured:
        # One query at a time is the common case; faiss's OpenMP threads cost more than they
        # give for it (flat search at 200k: 5.6 ms with 1 thread, 42 ms with 2 on 2 cores).
        faiss.omp_set_num_threads(1)
        _configured = True
    return faiss


TRAINED_KINDS = ("hnsw-sq", "ivf")  # learn from the vectors themselves: need MIN_TRAIN of them


def choose_kind(kind: str, n: int) -> str:
    """The index kind for ``n`` vectors: ``auto`` is ``flat`` (exact) up to
    :data:`AUTO_FLAT_LIMIT` vectors, else :data:`AUTO_APPROXIMATE`. A kind that trains on
    its vectors (``hnsw-sq``, ``ivf``) is ``flat`` until there are :data:`MIN_TRAIN` of them
    (exact and instant at that size), so a gallery configured for it can enrol its first
    faces; the gallery switches when it next saves."""
    if kind not in KINDS:
        raise FaceIndexError(f"unknown index kind {kind!r} (one of {', '.join(KINDS)})")
    if kind in TRAINED_KINDS and n < MIN_TRAIN:
        return "flat"
    if kind != "auto":
        return kind
    return "flat" if n <= AUTO_FLAT_LIMIT else AUTO_APPROXIMATE


def ids_digest(ids: Iterable[int]) -> str:
    arr = np.sort(np.fromiter(ids, dtype=np.int64))
    return hashlib.sha256(arr.tobytes()).hexdigest()


class VectorIndex:
    """Unit vectors with int64 ids; top-k by inner product.

    Parameters
    ----------
    kind:
        ``flat``, ``hnsw-sq``, ``hnsw`` or ``ivf`` (resolve ``auto`` with :func:`choose_kind`
        first).
    """

    def __init__(
        self, kind: str = "flat", *, _index: Any = None, tombstones: Iterable[int] = ()
    ) -> None:
        if kind not in BUILT_KINDS:
            raise FaceIndexError(f"unknown index kind {kind!r} ({', '.join(BUILT_KINDS)})")
        self.kind = kind
        self._index = _index
        self.tombstones: set[int] = set(int(i) for i in tombstones)
        self.layout = "faiss"  # or "bfs": vectors renumbered breadth-first at the build
        self._ef_search = HNSW_SQ_EF_SEARCH
        self._k_factor = REFINE_K_FACTOR
        self._searcher: Any = None  # compiled hnsw-sq search, made on first use
        self._searcher_tried = False

    # -- building -----------------------------------------------------------------------------
    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, kind: str = "auto") -> VectorIndex:
        """A new index holding ``vectors`` under ``ids`` (``kind`` may be ``auto``)."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = _as_matrix(vectors)
        if len(ids) != len(vectors):
            raise FaceIndexError(f"{len(ids)} ids for {len(vectors)} vectors")
        if kind not in KINDS:
            raise FaceIndexError(f"unknown index kind {kind!r} (one of {', '.join(KINDS)})")
        if kind == "auto":  # an explicit kind is built as asked (or refused, with the reason)
            kind = choose_kind(kind, len(ids))
        faiss = _faiss()
        if kind == "flat":
            inner = faiss.IndexFlatIP(DIM)
        elif kind == "hnsw-sq":
            inner = _build_hnsw_sq(faiss, vectors)
        elif kind == "hnsw":
            inner = faiss.IndexHNSWFlat(DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            nlist = max(1, min(4096, int(4 * np.sqrt(max(1, len(ids))))))
            quantizer = faiss.IndexFlatIP(DIM)
            inner = faiss.IndexIVFFlat(quantizer, DIM, nlist, faiss.METRIC_INNER_PRODUCT)
            if len(vectors) < nlist:
                raise FaceIndexError(
                    f"an ivf index needs at least {nlist} vectors to train, got {len(vectors)}"
                )
            sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: nlist * 64]]
            inner.train(sample)
            inner.nprobe = IVF_NPROBE
            quantizer.this.disown()  # owned by ``inner`` from here on
            inner.own_fields = True
        index = faiss.IndexIDMap2(inner)
        inner.this.disown()
        index.own_fields = True
        out = cls(kind, _index=index)
        out.set_search_params()
        if len(ids):
            index.add_with_ids(vectors, ids)
            if kind in TOMBSTONE_KINDS and len(ids) >= GRAPH_ORDER_MIN:
                out._reorder()
            out._memory_layout()
        return out

    def _reorder(self) -> None:
        """Renumber the graph's vectors breadth-first (ids and results are unchanged)."""
        from facematch import index_layout

        faiss = _faiss()
        graph = next(g for g in index_layout._inner(faiss, self._index) if hasattr(g, "hnsw"))
        index_layout.permute(faiss, self._index, index_layout.graph_order(faiss, graph.hnsw))
        self.layout = "bfs"

    def _memory_layout(self) -> None:
        """Huge pages for the arrays; drop the compiled searcher (its views may be stale)."""
        self._searcher, self._searcher_tried = None, False
        if HUGE_PAGES and self._index is not None:
            from facematch import index_layout

            index_layout.use_huge_pages(_faiss(), self._index)

    def set_search_params(
        self,
        *,
        ef_search: int | None = None,
        nprobe: int | None = None,
        k_factor: int | None = None,
    ) -> None:
        """Speed/recall knobs of the approximate kinds (defaults: the module constants).

        ``ef_search``: HNSW candidate list; ``nprobe``: IVF lists visited; ``k_factor``:
        ``hnsw-sq`` re-ranks ``k * k_factor`` candidates exactly. Ignored where meaningless.
        """
        if self._index is None:
            return
        faiss = _faiss()
        self._ef_search = ef_search or HNSW_SQ_EF_SEARCH
        self._k_factor = k_factor or REFINE_K_FACTOR
        inner = faiss.downcast_index(self._index.index)
        if self.kind == "hnsw":
            inner.hnsw.efSearch = ef_search or HNSW_EF_SEARCH
        elif self.kind == "ivf":
            inner.nprobe = nprobe or IVF_NPROBE
        elif self.kind == "hnsw-sq":
            faiss.ParameterSpace().set_index_parameters(
                inner,
                f"efSearch={ef_search or HNSW_SQ_EF_SEARCH},"
                f"k_factor_rf={k_factor or REFINE_K_FACTOR}",
            )

    # -- queries ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal) - len(self.tombstones)

    def ids(self) -> np.ndarray:
        """The live ids (tombstoned ones excluded)."""
        if self._index is None or self._index.ntotal == 0:
            return np.zeros(0, dtype=np.int64)
        all_ids = _faiss().vector_to_array(self._index.id_map).astype(np.int64)
        if self.tombstones:
            all_ids = all_ids[~np.isin(all_ids, np.fromiter(self.tombstones, dtype=np.int64))]
        return all_ids

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (similarities, ids) per query, best first; missing slots have id -1."""
        queries = _as_matrix(queries)
        if self._index is None or len(self) == 0 or k <= 0:
            return (
                np.full((len(queries), max(k, 0)), -np.inf, dtype=np.float32),
                np.full((len(queries), max(k, 0)), -1, dtype=np.int64),
            )
        searcher = self._compiled() if self.kind == "hnsw-sq" else None
        if searcher is not None:  # leaves removed faces out itself and pads to k
            sims = np.empty((len(queries), k), dtype=np.float32)
            ids = np.empty((len(queries), k), dtype=np.int64)
            for row, q in enumerate(queries):
                dist, ids[row] = searcher.search(q, k, self._ef_search, self._k_factor)
                sims[row] = 1.0 - dist / 2.0  # exact squared L2 -> cosine (missing: -inf)
            return sims, ids
        fetch = min(int(self._index.ntotal), k + len(self.tombstones))
        sims, ids = self._index.search(queries, fetch)
        if self.kind == "hnsw-sq":  # squared L2 between unit vectors (exact, re-ranked)
            sims = np.where(ids >= 0, 1.0 - sims / 2.0, -np.inf).astype(np.float32)
        if self.tombstones:
            dead = np.isin(ids, np.fromiter(self.tombstones, dtype=np.int64))
            sims = np.where(dead, -np.inf, sims)
            ids = np.where(dead, -1, ids)
            order = np.argsort(-sims, axis=1, kind="stable")
            sims = np.take_along_axis(sims, order, axis=1)
            ids = np.take_along_axis(ids, order, axis=1)
        sims, ids = sims[:, :k], ids[:, :k]
        if sims.shape[1] < k:
            pad = k - sims.shape[1]
            sims = np.pad(sims, ((0, 0), (0, pad)), constant_values=-np.inf)
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
        return sims.astype(np.float32), ids.astype(np.int64)

    def warm_up(self) -> bool:
        """Prepare the first search (compile or load the compiled kernel); True when the
        compiled search will answer queries."""
        return self.kind == "hnsw-sq" and self._compiled() is not None

    def _compiled(self) -> Any:
        """The compiled searcher of an ``hnsw-sq`` index, or None (faiss searches)."""
        if not self._searcher_tried:
            self._searcher_tried = True
            if COMPILED_SEARCH:
                from facematch.graph_search import compile_searcher

                self._searcher = compile_searcher(_faiss(), self._index)
                if self._searcher is not None and self.tombstones:
                    self._searcher.set_removed(self.tombstones)
        return self._searcher

    # -- changes ------------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new ids (an id already present is refused)."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = _as_matrix(vectors)
        if self._index is None:
            fresh = VectorIndex.build(ids, vectors, self.kind)
            self._index, self.layout = fresh._index, fresh.layout
            self._searcher, self._searcher_tried = None, False
            return
        revived = [int(i) for i in ids if int(i) in self.tombstones]
        if revived:
            raise FaceIndexError(
                f"face ids {revived[:5]} were removed from this index; "
                "ids are never reused until a rebuild"
            )
        if len(ids) and np.isin(ids, self.ids()).any():
            dup = ids[np.isin(ids, self.ids())][:5].tolist()
            raise FaceIndexError(f"face ids {dup} are already in the index")
        self._index.add_with_ids(vectors, ids)
        self._memory_layout()  # the arrays may have moved

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ids; returns how many were present. HNSW remembers them as tombstones."""
        wanted = np.fromiter((int(i) for i in ids), dtype=np.int64)
        if self._index is None or not len(wanted):
            return 0
        present = wanted[np.isin(wanted, self.ids())]
        if not len(present):
            return 0
        if self.kind in TOMBSTONE_KINDS:
            self.tombstones.update(int(i) for i in present)
            if self._searcher is not None:
                self._searcher.set_removed(self.tombstones)
        else:
            self._index.remove_ids(_faiss().IDSelectorBatch(present))
        return len(present)

    def needs_compaction(self) -> bool:
        return bool(self.tombstones) and len(self.tombstones) >= 0.1 * max(1, len(self))

    # -- files --------------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": len(self),
            "ids_sha256": ids_digest(self.ids()),
            "tombstones": sorted(self.tombstones),
            "layout": self.layout,
        }

    def save(self, path: Path, extra: dict[str, Any] | None = None) -> None:
        """Write atomically: temp file, fsync, keep the old file as ``.prev``, replace."""
        path = Path(path)
        faiss = _faiss()
        payload = faiss.serialize_index(self._index).tobytes() if self._index is not None else b""
        header = dict(
            self.header(), payload_sha256=hashlib.sha256(payload).hexdigest(), **(extra or {})
        )
        head = json.dumps(header, sort_keys=True).encode()
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with tmp.open("wb") as fh:
                fh.write(MAGIC + len(head).to_bytes(8, "little") + head + payload)
                fh.flush()
                os.fsync(fh.fileno())
            _commit_file(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> tuple[VectorIndex, dict[str, Any]]:
        """Read a file written by :meth:`save`; returns (index, header)."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FaceIndexError(f"{str(path)!r}: cannot read the face index ({exc})") from None
        if not data.startswith(MAGIC):
            raise FaceIndexError(f"{str(path)!r}: not a superbrain face index")
        n = len(MAGIC)
        size = int.from_bytes(data[n : n + 8], "little")
        try:
            header = json.loads(data[n + 8 : n + 8 + size])
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise FaceIndexError(f"{str(path)!r}: corrupt header") from None
        payload = data[n + 8 + size :]
        if hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
            raise FaceIndexError(f"{str(path)!r}: truncated or corrupt (checksum mismatch)")
        index = None
        if payload:
            try:
                index = _faiss().deserialize_index(np.frombuffer(payload, dtype=np.uint8))
            except RuntimeError as exc:
                raise FaceIndexError(f"{str(path)!r}: faiss cannot read it ({exc})") from None
        out = cls(str(header.get("kind")), _index=index, tombstones=header.get("tombstones", ()))
        out.layout = str(header.get("layout", "faiss"))  # files before the field: faiss order
        out.set_search_params()
        out._memory_layout()
        return out, header


def _build_hnsw_sq(faiss: Any, vectors: np.ndarray) -> Any:
    """PCA -> HNSW over 8-bit codes -> exact re-ranking, trained on (a sample of) ``vectors``.

    L2 on unit vectors ranks exactly like inner product, and unlike inner product it is
    unchanged by the centring PCA does; :meth:`VectorIndex.search` turns it back into cosine.
    """
    if len(vectors) < MIN_TRAIN:
        raise FaceIndexError(
            f"an hnsw-sq index needs at least {MIN_TRAIN} vectors to train, got {len(vectors)}"
        )
    index = faiss.index_factory(DIM, f"PCA{PCA_DIM},HNSW{HNSW_SQ_M}_SQ8,RFlat", faiss.METRIC_L2)
    graph = faiss.downcast_index(faiss.downcast_index(faiss.downcast_index(index).base_index).index)
    graph.hnsw.efConstruction = HNSW_SQ_EF_CONSTRUCTION
    sample = vectors[np.random.default_rng(0).permutation(len(vectors))[:100_000]]
    index.train(sample)
    return index


def _commit_file(tmp: Path, path: Path) -> None:
    """Move a fully written temp file into place, keeping the previous one as ``.prev``."""
    prev = path.with_name(path.name + ".prev")
    if path.exists():
        link = path.with_name(path.name + ".prev-tmp")
        link.unlink(missing_ok=True)
        os.link(path, link)
        os.replace(link, prev)
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    v = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if v.ndim == 1:
        v = v[None, :]
    if v.ndim != 2 or (v.shape[0] and v.shape[1] != DIM):
        raise FaceIndexError(f"expected vectors of {DIM} values, got shape {v.shape}")
    return v.reshape(-1, DIM)
