"""The fast paths of the face index: BFS renumbering, huge pages, the compiled hnsw-sq search.

None of them may change what a user gets: the same ids, exact similarities, removals honoured,
files loadable before and after. Random descriptor-like vectors, no model needed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from facematch import index as index_module
from facematch import index_layout
from facematch.index import MAGIC, VectorIndex
from tests.faces_fixtures import descriptor_like


def recall(found: np.ndarray, vecs: np.ndarray, ids: np.ndarray, queries: np.ndarray) -> float:
    exact = ids[np.argsort(-(queries @ vecs.T), axis=1)[:, : found.shape[1]]]
    return float(
        np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(found, exact, strict=True)])
    )


def faiss_search(ix: VectorIndex, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The same index searched by faiss instead of the compiled kernel."""
    ix._searcher, ix._searcher_tried = None, True
    try:
        return ix.search(queries, k)
    finally:
        ix._searcher_tried = False


@pytest.fixture
def small_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Renumber graphs from 1,000 vectors on, so small test indexes get the BFS order."""
    monkeypatch.setattr(index_module, "GRAPH_ORDER_MIN", 1000)


def test_bfs_order_is_a_permutation_that_keeps_ids_and_results() -> None:
    faiss = index_module._faiss()
    vecs = descriptor_like(3000, seed=1)
    ids = np.arange(3000) * 7 + 5
    ix = VectorIndex.build(ids, vecs, "hnsw-sq")  # under GRAPH_ORDER_MIN: faiss order
    assert ix.layout == "faiss"
    queries = descriptor_like(40, seed=2)
    before = faiss_search(ix, queries, 10)
    graph = next(g for g in index_layout._inner(faiss, ix._index) if hasattr(g, "hnsw"))
    perm = index_layout.graph_order(faiss, graph.hnsw)
    assert sorted(perm.tolist()) == list(range(3000)) and perm[0] == graph.hnsw.entry_point
    index_layout.permute(faiss, ix._index, perm)
    after = faiss_search(ix, queries, 10)
    assert np.array_equal(before[1], after[1])
    assert np.allclose(before[0], after[0], atol=1e-6)
    assert sorted(ix.ids().tolist()) == sorted(ids.tolist())
    with pytest.raises(ValueError, match="not a permutation"):
        index_layout.permute(faiss, ix._index, np.zeros(3000, dtype=np.int64))


@pytest.mark.usefixtures("small_graphs")
def test_reordered_index_saves_loads_removes_and_finds_the_same(tmp_path: Path) -> None:
    vecs = descriptor_like(3000, seed=3)
    ids = np.arange(10_000, 13_000)
    ix = VectorIndex.build(ids, vecs, "hnsw-sq")
    assert ix.layout == "bfs"
    sims, found = ix.search(vecs[:20], 1)
    assert found[:, 0].tolist() == ids[:20].tolist()  # each vector finds its own id
    assert np.allclose(sims[:, 0], 1.0, atol=1e-5)
    assert ix.remove([10_000, 10_001]) == 2
    queries = descriptor_like(30, seed=4)
    before = ix.search(queries, 10)
    ix.save(tmp_path / "ix.faiss")
    back, header = VectorIndex.load(tmp_path / "ix.faiss")
    assert header["layout"] == "bfs" and back.layout == "bfs" and len(back) == 2998
    after = back.search(queries, 10)
    assert np.array_equal(before[1], after[1]) and np.allclose(before[0], after[0])
    _, found = back.search(vecs[:2], 5)
    assert not {10_000, 10_001} & set(found.ravel().tolist())
    sims, found = back.search(vecs[2:4], 1)
    assert found[:, 0].tolist() == [10_002, 10_003] and np.allclose(sims[:, 0], 1.0, atol=1e-5)


def test_compiled_search_matches_faiss_recall_with_exact_similarities() -> None:
    pytest.importorskip(
        "numba",
        reason="the compiled search needs numba; faiss searches "
        "without it (covered by the other tests)",
    )
    vecs = descriptor_like(5000, seed=5)
    ids = np.arange(5000)
    ix = VectorIndex.build(ids, vecs, "hnsw-sq")
    queries = descriptor_like(50, seed=6)
    sims, found = ix.search(queries, 10)
    assert ix._searcher is not None  # the compiled kernel answered
    _, ref_found = faiss_search(ix, queries, 10)
    assert recall(found, vecs, ids, queries) >= recall(ref_found, vecs, ids, queries) - 0.01
    assert np.allclose(sims, np.take_along_axis(queries @ vecs.T, found, axis=1), atol=1e-5)
    assert np.all(np.diff(sims, axis=1) <= 1e-6)  # best first
    one_by_one = np.stack([ix.search(q, 10)[1][0] for q in queries[:5]])
    assert np.array_equal(one_by_one, found[:5])


def test_additions_after_a_compiled_search_are_found() -> None:
    """The compiled search holds views of faiss's arrays; adding may move them."""
    vecs = descriptor_like(2000, seed=7)
    ix = VectorIndex.build(np.arange(2000), vecs, "hnsw-sq")
    ix.search(vecs[:1], 1)
    extra = descriptor_like(3000, seed=8)  # several times the size: the arrays reallocate
    ix.add(np.arange(5000, 8000), extra)
    sims, found = ix.search(extra[[0, 1500, 2999]], 1)
    assert found[:, 0].tolist() == [5000, 6500, 7999]
    assert np.allclose(sims[:, 0], 1.0, atol=1e-5)


def test_files_written_before_the_layout_field_still_load(tmp_path: Path) -> None:
    faiss = index_module._faiss()
    vecs = descriptor_like(1000, seed=9)
    ix = VectorIndex.build(np.arange(1000), vecs, "hnsw-sq")
    payload = faiss.serialize_index(ix._index).tobytes()
    header = {k: v for k, v in ix.header().items() if k != "layout"}
    header["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    head = json.dumps(header, sort_keys=True).encode()
    path = tmp_path / "old.faiss"
    path.write_bytes(MAGIC + len(head).to_bytes(8, "little") + head + payload)
    back, _ = VectorIndex.load(path)
    assert back.layout == "faiss" and len(back) == 1000
    sims, found = back.search(vecs[:3], 1)
    assert found[:, 0].tolist() == [0, 1, 2] and np.allclose(sims[:, 0], 1.0, atol=1e-5)


def test_huge_pages_are_advised_and_change_no_result() -> None:
    mode = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not mode.exists() or "[never]" in mode.read_text():
        pytest.skip("no transparent huge pages on this system (use_huge_pages is a no-op)")
    faiss = index_module._faiss()
    vecs = descriptor_like(40_000, seed=10)  # 20 MB of float vectors: whole huge pages
    ix = VectorIndex.build(np.arange(40_000), vecs, "flat")
    before = ix.search(vecs[:5], 3)
    assert index_layout.use_huge_pages(faiss, ix._index) >= 8 * index_layout.HUGE_PAGE
    after = ix.search(vecs[:5], 3)
    assert np.array_equal(before[1], after[1]) and np.allclose(before[0], after[0])


def test_removed_faces_are_left_out_but_k_live_results_come_back() -> None:
    """The compiled search drops tombstones itself (it asks for k, not k + removed)."""
    pytest.importorskip("numba", reason="the compiled search needs numba")
    vecs = descriptor_like(4000, seed=11)
    ids = np.arange(4000)
    ix = VectorIndex.build(ids, vecs, "hnsw-sq")
    queries = descriptor_like(30, seed=12)
    _, first = ix.search(queries, 10)
    removed = sorted(set(first[:, :5].ravel().tolist()))  # the best matches of every query
    ix.remove(removed)
    sims, found = ix.search(queries, 10)
    assert ix._searcher is not None
    assert (found >= 0).all() and not set(found.ravel().tolist()) & set(removed)
    live = np.setdiff1d(ids, removed)
    assert recall(found, vecs[live], live, queries) >= 0.9
    assert np.allclose(sims, np.take_along_axis(queries @ vecs.T, found, axis=1), atol=1e-5)


def test_without_numba_or_with_a_failed_compile_faiss_searches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from facematch import graph_search

    vecs = descriptor_like(1000, seed=13)
    ix = VectorIndex.build(np.arange(1000), vecs, "hnsw-sq")
    monkeypatch.setattr(graph_search, "numba", None)
    sims, found = ix.search(vecs[:3], 1)
    assert ix._searcher is None and found[:, 0].tolist() == [0, 1, 2]
    monkeypatch.undo()
    if graph_search.numba is None:
        pytest.skip("numba is not installed: the compile-failure path cannot be reached")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("LLVM says no")

    monkeypatch.setattr(graph_search.GraphSearcher, "search", broken)
    again = VectorIndex.build(np.arange(1000), vecs, "hnsw-sq")
    sims, found = again.search(vecs[3:5], 1)
    assert again._searcher is None and found[:, 0].tolist() == [3, 4]
    assert np.allclose(sims[:, 0], 1.0, atol=1e-5)
