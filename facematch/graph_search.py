"""A compiled single-query search over a faiss ``hnsw-sq`` index's own arrays (numba).

faiss searches the graph one neighbour batch of four at a time, interleaving each batch's code
loads with heap updates, so on a gigabyte-sized index most of a query is spent waiting for
memory one load at a time. This kernel walks the same graph, the same 8-bit codes and the same
full vectors (zero-copy views of faiss's arrays), but gathers every unvisited neighbour of an
expanded vector first, prefetches their codes together and only then computes the distances
and updates the heaps, so the loads overlap. The result is the usual HNSW search (candidate
queue, ``ef`` best results, greedy descent through the upper levels) followed by the same exact
re-ranking of ``k x k_factor`` candidates on the full vectors.

Optional: without numba (or on an index it does not understand) :func:`compile_searcher`
returns None and faiss searches as before.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

try:  # numba is an optional accelerator
    import numba
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic
except ImportError:  # pragma: no cover - exercised where numba is missing
    numba = None  # type: ignore[assignment]


if numba is not None:

    def _prefetch_typing(typingctx: Any, arr: Any, idx: Any) -> Any:  # pragma: no cover
        """``__builtin_prefetch(&arr[idx])`` (read, all cache levels); a 2-d ``arr`` takes a row."""
        sig = types.void(arr, idx)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> None:
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            idx = context.cast(builder, args[1], signature.args[1], types.intp)
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx])
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
            builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])

        return sig, codegen

    # called as ``_prefetch(arr, idx)`` in compiled code (numba supplies the typing context)
    _prefetch: Any = intrinsic(_prefetch_typing)

    _jit = numba.njit(cache=True, fastmath=True, nogil=True, boundscheck=False)

    @_jit
    def _sq_dist(codes, row, a, b):  # pragma: no cover - compiled
        s = np.float32(0.0)
        for j in range(a.shape[0]):
            t = np.float32(codes[row, j]) * a[j] + b[j]
            s += t * t
        return s

    @_jit
    def _heap_push(keys, ids, size, key, ident, is_max):  # pragma: no cover - compiled
        """Push onto a binary heap (max-heap if ``is_max`` else min-heap); returns size."""
        i = size
        keys[i] = key
        ids[i] = ident
        while i > 0:
            p = (i - 1) >> 1
            if (keys[p] < keys[i]) if is_max else (keys[p] > keys[i]):
                keys[p], keys[i] = keys[i], keys[p]
                ids[p], ids[i] = ids[i], ids[p]
                i = p
            else:
                break
        return size + 1

    @_jit
    def _heap_pop(keys, ids, size, is_max):  # pragma: no cover - compiled
        """Remove the top of a heap; returns the new size."""
        size -= 1
        keys[0] = keys[size]
        ids[0] = ids[size]
        i = 0
        while True:
            left = 2 * i + 1
            if left >= size:
                break
            c = left
            right = left + 1
            if right < size and (
                (keys[right] > keys[left]) if is_max else (keys[right] < keys[left])
            ):
                c = right
            if (keys[c] > keys[i]) if is_max else (keys[c] < keys[i]):
                keys[c], keys[i] = keys[i], keys[c]
                ids[c], ids[i] = ids[i], ids[c]
                i = c
            else:
                break
        return size

    @_jit
    def _search(
        q,
        k,
        ef,
        k_factor,
        pca_a,
        pca_b,
        sq_a,
        sq_b0,
        codes,
        neighbors,
        offsets,
        cum,
        entry,
        max_level,
        visited,
        epoch,
        full,
        id_map,
        l0,
        l0_off,
        dead,
        any_dead,
    ):  # pragma: no cover
        d = pca_a.shape[0]
        y = np.empty(d, dtype=np.float32)
        for i in range(d):
            s = pca_b[i]
            for j in range(q.shape[0]):
                s += pca_a[i, j] * q[j]
            y[i] = s
        b = sq_b0 - y  # distance term: (code * a + b)^2 summed
        # greedy descent through the upper levels
        cur = entry
        dcur = _sq_dist(codes, cur, sq_a, b)
        for level in range(max_level, 0, -1):
            changed = True
            while changed:
                changed = False
                o = offsets[cur]
                for j in range(o + cum[level], o + cum[level + 1]):
                    v = neighbors[j]
                    if v < 0:
                        break
                    _prefetch(codes, v)
                for j in range(o + cum[level], o + cum[level + 1]):
                    v = neighbors[j]
                    if v < 0:
                        break
                    dv = _sq_dist(codes, v, sq_a, b)
                    if dv < dcur:
                        dcur = dv
                        cur = v
                        changed = True
        # level 0: candidate min-heap, results max-heap of the ef best
        width = cum[1] - cum[0]
        cap = min(ef * width, codes.shape[0]) + 1
        cand_k = np.empty(cap, dtype=np.float32)
        cand_i = np.empty(cap, dtype=np.int32)
        res_k = np.empty(ef + 1, dtype=np.float32)
        res_i = np.empty(ef + 1, dtype=np.int32)
        buf = np.empty(width, dtype=np.int32)
        dist = np.empty(width, dtype=np.float32)
        nc = _heap_push(cand_k, cand_i, 0, dcur, cur, False)
        nr = 0 if any_dead and dead[cur] else _heap_push(res_k, res_i, 0, dcur, cur, True)
        visited[cur] = epoch
        while nc > 0:
            dc = cand_k[0]
            c = cand_i[0]
            if nr >= ef and dc > res_k[0]:
                break
            nc = _heap_pop(cand_k, cand_i, nc, False)
            if nc > 0:  # the likely next expansion's neighbour list, early
                nxt = l0_off[cand_i[0]]
                for j in range(0, width + 16, 16):  # 6-7 lines if the list is unaligned
                    _prefetch(l0, nxt + j)
            o = l0_off[c]
            for j in range(o, o + width):
                v = l0[j]
                if v < 0:
                    break
                _prefetch(visited, v)
            m = 0
            for j in range(o, o + width):
                v = l0[j]
                if v < 0:
                    break
                if visited[v] != epoch:
                    visited[v] = epoch
                    _prefetch(codes, v)
                    buf[m] = v
                    m += 1
            for t in range(m):
                dist[t] = _sq_dist(codes, buf[t], sq_a, b)
            for t in range(m):
                dv = dist[t]
                if nr < ef or dv < res_k[0]:
                    if nc < cap:
                        nc = _heap_push(cand_k, cand_i, nc, dv, buf[t], False)
                    if not (any_dead and dead[buf[t]]):  # removed: on the walk, not results
                        nr = _heap_push(res_k, res_i, nr, dv, buf[t], True)
                        if nr > ef:
                            nr = _heap_pop(res_k, res_i, nr, True)
        # exact re-ranking of the k * k_factor best on the full vectors
        kk = min(k * k_factor, nr)
        order = np.argsort(res_k[:nr])[:kk]
        exact = np.empty(kk, dtype=np.float32)
        for t in range(kk):
            _prefetch(full, res_i[order[t]])
        for t in range(kk):
            row = res_i[order[t]]
            s = np.float32(0.0)
            for j in range(q.shape[0]):
                diff = full[row, j] - q[j]
                s += diff * diff
            exact[t] = s
        best = np.argsort(exact)[:k]
        out_d = np.full(k, np.inf, dtype=np.float32)
        out_i = np.full(k, -1, dtype=np.int64)
        for t in range(best.shape[0]):
            out_d[t] = exact[best[t]]
            out_i[t] = id_map[res_i[order[best[t]]]]
        return out_d, out_i


def _view(faiss: Any, vec: Any, dtype: Any, n: int) -> np.ndarray:
    """A zero-copy numpy view of a faiss vector (valid while the vector is not resized)."""
    if n == 0:
        return np.zeros(0, dtype=dtype)
    return faiss.rev_swig_ptr(vec.data(), n).view(dtype)


def _aligned_copy(a: np.ndarray, align: int = 64) -> np.ndarray:
    """``a`` copied into memory starting on an ``align``-byte boundary."""
    raw = np.empty(a.nbytes + align, dtype=np.uint8)
    start = -raw.ctypes.data % align
    out = raw[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


class GraphSearcher:
    """Searches one ``hnsw-sq`` faiss index (``IndexIDMap2(IndexRefineFlat(
    IndexPreTransform(PCA, IndexHNSWSQ 8-bit), IndexFlat))``) with the compiled kernel.

    Holds views into the index's arrays: rebuild it (:func:`compile_searcher`) after anything
    that changes the index (additions).
    """

    def __init__(self, faiss: Any, index: Any, visited_dtype: Any = np.uint16) -> None:
        outer = faiss.downcast_index(index)
        refine = faiss.downcast_index(outer.index) if hasattr(outer, "id_map") else outer
        pre = faiss.downcast_index(refine.base_index)
        graph = faiss.downcast_index(pre.index)
        storage = faiss.downcast_index(graph.storage)
        flat = faiss.downcast_index(refine.refine_index)
        pca = faiss.downcast_VectorTransform(pre.chain.at(0))
        n, d, dim = int(outer.ntotal), int(graph.d), int(flat.d)
        sq = storage.sq
        if int(sq.qtype) != int(faiss.ScalarQuantizer.QT_8bit) or sq.code_size != d:
            raise ValueError("not an 8-bit scalar quantiser")
        trained = faiss.vector_to_array(sq.trained).astype(np.float32)
        vmin, vdiff = trained[:d], trained[d : 2 * d]
        self.sq_a = (vdiff / 255.0).astype(np.float32)
        self.sq_b0 = (vmin + 0.5 * self.sq_a).astype(np.float32)
        a = faiss.vector_to_array(pca.A).astype(np.float32).reshape(pca.d_out, pca.d_in)
        self.pca_a = np.ascontiguousarray(a)
        self.pca_b = faiss.vector_to_array(pca.b).astype(np.float32)
        hnsw = graph.hnsw
        # a copy aligned to cache lines: faiss's array starts 16 bytes into a line, so each
        # 64-byte code would straddle two lines (two memory reads per distance instead of one)
        self.codes = _aligned_copy(_view(faiss, storage.codes, np.uint8, n * d).reshape(n, d))
        self.full = _view(faiss, flat.codes, np.uint8, n * dim * 4).view(np.float32).reshape(n, dim)
        self.neighbors = _view(faiss, hnsw.neighbors, np.int32, int(hnsw.neighbors.size()))
        self.offsets = _view(faiss, hnsw.offsets, np.uint64, n + 1).astype(np.int64)
        self.cum = faiss.vector_to_array(hnsw.cum_nneighbor_per_level).astype(np.int64)
        # level-0 lists where faiss keeps them (an aligned copy of them measured no faster)
        self.l0 = self.neighbors
        self.l0_off = self.offsets[:-1] + self.cum[0]
        self.entry = int(hnsw.entry_point)
        self.max_level = int(hnsw.max_level)
        self.id_map = (
            _view(faiss, outer.id_map, np.int64, n)
            if hasattr(outer, "id_map")
            else np.arange(n, dtype=np.int64)
        )  # a bare index: positions
        self.visited = np.zeros(n, dtype=visited_dtype)  # == epoch: seen in this query
        self._epoch_type = np.dtype(visited_dtype).type
        self._epoch_max = int(np.iinfo(visited_dtype).max)
        self.epoch = 0
        self.dead = np.zeros(n, dtype=np.uint8)  # 1: a removed (tombstoned) face
        self.any_dead = False  # (the check costs a memory read per result otherwise)
        self._owner = index  # keeps the faiss arrays alive
        self._lock = threading.Lock()

    def set_removed(self, ids: Any) -> None:
        """Ids to leave out of results (HNSW tombstones); the walk still passes through them."""
        wanted = np.fromiter((int(i) for i in ids), dtype=np.int64)
        with self._lock:
            self.dead = np.isin(self.id_map, wanted).astype(np.uint8)
            self.any_dead = bool(self.dead.any())

    def search(
        self, query: np.ndarray, k: int, ef: int, k_factor: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(squared L2 distances, ids) of the ``k`` best, like the faiss index would."""
        with self._lock:
            self.epoch += 1
            if self.epoch >= self._epoch_max:
                self.visited[:] = 0
                self.epoch = 1
            return _search(
                np.ascontiguousarray(query, dtype=np.float32),
                k,
                max(ef, k * k_factor),
                k_factor,
                self.pca_a,
                self.pca_b,
                self.sq_a,
                self.sq_b0,
                self.codes,
                self.neighbors,
                self.offsets,
                self.cum,
                self.entry,
                self.max_level,
                self.visited,
                self._epoch_type(self.epoch),
                self.full,
                self.id_map,
                self.l0,
                self.l0_off,
                self.dead,
                self.any_dead,
            )


def compile_searcher(faiss: Any, index: Any) -> GraphSearcher | None:
    """A :class:`GraphSearcher` for ``index``, or None (no numba, empty or unusual index)."""
    if numba is None or index is None or int(index.ntotal) == 0:
        return None
    try:
        searcher = GraphSearcher(faiss, index)
    except (AttributeError, ValueError, RuntimeError) as exc:
        log.info("compiled face search unavailable (%s); using faiss", exc)
        return None
    try:  # compile now (or load numba's cache): a failure falls back to faiss, not to the user
        searcher.search(np.zeros(searcher.pca_a.shape[1], dtype=np.float32), 1, 16, 1)
    except Exception as exc:  # numba raises many kinds; any of them means "use faiss"
        log.warning("compiled face search failed to compile (%s); using faiss", exc)
        return None
    return searcher
