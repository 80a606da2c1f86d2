"""Memory layout of a built FAISS index: huge pages and a cache-friendly vector order.

An approximate index over a million faces is about a gigabyte of memory visited at random (the
graph's neighbour lists, the 8-bit codes, the full vectors of the re-ranking). Two things make
those visits cheaper without changing any result:

:func:`use_huge_pages`
    Asks Linux to back the index's big arrays with 2 MiB transparent huge pages
    (``madvise(MADV_HUGEPAGE)``, then ``MADV_COLLAPSE`` to convert what is already there), so a
    query's random reads miss the TLB far less. Best effort: on other systems, or if the kernel
    refuses, nothing happens.
:func:`graph_order`
    A renumbering of an HNSW graph's vectors in breadth-first order from its entry point, so
    vectors that are neighbours in the graph also sit close together in memory; apply it with
    :func:`permute`.

faiss is imported by the caller (facematch/index.py) and passed in.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

HUGE_PAGE = 2 << 20
MADV_HUGEPAGE = 14
MADV_COLLAPSE = 25  # Linux >= 6.1
MIN_HUGE_BYTES = 4 * HUGE_PAGE  # smaller arrays are not worth a system call


def _inner(faiss: Any, index: Any) -> list[Any]:
    """``index`` and every index nested in it (id maps, refinement, pre-transforms)."""
    index = faiss.downcast_index(index)
    found = [index]
    for attr in ("index", "base_index", "refine_index", "storage"):
        sub = getattr(index, attr, None)
        if sub is not None:
            found += _inner(faiss, sub)
    return found


def _arrays(faiss: Any, index: Any) -> list[tuple[str, int, int]]:
    """(name, address, bytes) of the large arrays inside ``index``."""
    out = []
    for ix in _inner(faiss, index):
        vecs = []
        if hasattr(ix, "codes") and hasattr(ix, "code_size"):
            vecs.append(("codes", ix.codes, 1))
        if hasattr(ix, "hnsw"):
            vecs += [
                ("neighbors", ix.hnsw.neighbors, 4),
                ("offsets", ix.hnsw.offsets, 8),
                ("levels", ix.hnsw.levels, 4),
            ]
        if hasattr(ix, "id_map"):
            vecs.append(("id_map", ix.id_map, 8))
        for name, vec, width in vecs:
            size = int(vec.size()) * width
            if size >= MIN_HUGE_BYTES:
                out.append((f"{type(ix).__name__}.{name}", int(vec.data()), size))
    return out


def use_huge_pages(faiss: Any, index: Any) -> int:
    """Back the big arrays of ``index`` with transparent huge pages where the OS allows.

    Returns the number of bytes advised (0 when unsupported). Results are unchanged; only the
    memory mapping is. Call again after anything that reallocates the arrays (adding vectors).
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return 0
    madvise = libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    advised = 0
    for name, addr, size in _arrays(faiss, index):
        start = -(-addr // HUGE_PAGE) * HUGE_PAGE  # only whole huge pages inside the array
        end = (addr + size) // HUGE_PAGE * HUGE_PAGE
        if end - start < HUGE_PAGE:
            continue
        if madvise(start, end - start, MADV_HUGEPAGE) != 0:
            log.debug("madvise(MADV_HUGEPAGE) refused for %s (errno %d)", name, ctypes.get_errno())
            continue
        if madvise(start, end - start, MADV_COLLAPSE) != 0:  # older kernel: khugepaged will
            log.debug("MADV_COLLAPSE refused for %s (errno %d)", name, ctypes.get_errno())
        advised += end - start
    return advised


def _level0(faiss: Any, hnsw: Any) -> np.ndarray:
    """The level-0 neighbour table of an HNSW graph, one row per vector (-1 = empty)."""
    offsets = faiss.vector_to_array(hnsw.offsets).astype(np.int64)
    neighbors = faiss.vector_to_array(hnsw.neighbors)
    width = int(hnsw.nb_neighbors(0))
    start = offsets[:-1] + int(hnsw.cum_nb_neighbors(0))
    return neighbors[start[:, None] + np.arange(width)]


def graph_order(faiss: Any, hnsw: Any) -> np.ndarray:
    """A permutation (new position -> old number) listing an HNSW graph breadth-first.

    Starting at the entry point, each expanded vector's not yet listed neighbours follow one
    another, so a search that expands a vector finds many of its neighbours' codes side by side.
    Vectors the level-0 graph does not reach go last, in their old order.
    """
    table = _level0(faiss, hnsw)
    n = len(table)
    seen = np.zeros(n, dtype=bool)
    order = []
    frontier = np.array([int(hnsw.entry_point)] if n else [], dtype=np.int64)
    if len(frontier):
        seen[frontier] = True
    while len(frontier):
        order.append(frontier)
        cand = table[frontier].ravel()
        cand = cand[cand >= 0]
        cand = cand[~seen[cand]]
        _, first = np.unique(cand, return_index=True)  # first discovery wins, in that order
        frontier = cand[np.sort(first)].astype(np.int64)
        seen[frontier] = True
    order.append(np.flatnonzero(~seen))
    return np.concatenate(order).astype(np.int64)


def permute(faiss: Any, index: Any, perm: np.ndarray) -> None:
    """Renumber the vectors of ``index`` (an ``IndexIDMap2`` around HNSW kinds): position
    ``i`` gets the vector, graph node, codes and external id formerly at ``perm[i]``."""
    perm = np.ascontiguousarray(perm, dtype=np.int64)
    outer = faiss.downcast_index(index)
    if len(perm) != outer.ntotal or not np.array_equal(np.sort(perm), np.arange(outer.ntotal)):
        raise ValueError(f"not a permutation of {outer.ntotal} positions")
    for ix in _inner(faiss, outer):
        if hasattr(ix, "hnsw"):
            ix.permute_entries(perm)  # the graph and its codes storage
        elif (
            hasattr(ix, "codes") and hasattr(ix, "code_size") and not _is_storage(faiss, outer, ix)
        ):
            ix.permute_entries(perm)  # e.g. the full vectors of a refinement
    if hasattr(outer, "id_map"):
        ids = faiss.vector_to_array(outer.id_map)[perm]
        faiss.copy_array_to_vector(ids, outer.id_map)
        if hasattr(outer, "construct_rev_map"):
            outer.construct_rev_map()


def _is_storage(faiss: Any, outer: Any, ix: Any) -> bool:
    """Whether ``ix`` is the storage of an HNSW index inside ``outer`` (permuted with it)."""
    for g in _inner(faiss, outer):
        if hasattr(g, "hnsw") and g.storage is not None and g.storage.this == ix.this:
            return True
    return False
