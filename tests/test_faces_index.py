"""The FAISS index: kinds, add/remove without rebuild, atomic saves that survive crashes.

Uses random unit vectors (and hand-made faces for the gallery), so no model is needed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.cli import main as cli_main
from facematch import index as index_module
from facematch.errors import FaceIndexError
from facematch.gallery import Gallery
from facematch.index import AUTO_FLAT_LIMIT, MIN_TRAIN, VectorIndex, choose_kind
from facematch.pipeline import Face, ImageFaces
from tests.faces_fixtures import descriptor_like, open_cases

REPO = Path(__file__).resolve().parent.parent


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_auto_kind_is_exact_up_to_the_limit_then_hnsw_sq() -> None:
    assert choose_kind("auto", 10) == "flat"
    assert choose_kind("auto", AUTO_FLAT_LIMIT) == "flat"
    assert choose_kind("auto", AUTO_FLAT_LIMIT + 1) == "hnsw-sq"
    assert choose_kind("hnsw", AUTO_FLAT_LIMIT + 1) == "hnsw"  # overridable
    assert choose_kind("ivf", 1000) == "ivf"
    # kinds that train on their vectors are exact until there are enough to train on
    assert choose_kind("ivf", 10) == "flat"
    assert choose_kind("hnsw-sq", 0) == "flat"
    assert choose_kind("hnsw-sq", MIN_TRAIN) == "hnsw-sq"
    with pytest.raises(FaceIndexError, match="unknown index kind 'lsh'"):
        choose_kind("lsh", 10)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "hnsw-sq"])
def test_add_and_remove_without_rebuild(kind: str) -> None:
    vecs = unit_vectors(500)
    ids = np.arange(1000, 1500)
    ix = VectorIndex.build(ids, vecs, kind)
    sims, found = ix.search(vecs[:5], 1)
    assert found[:, 0].tolist() == ids[:5].tolist()
    assert np.allclose(sims[:, 0], 1.0, atol=1e-5)
    assert ix.remove([1000, 1001, 42]) == 2
    assert len(ix) == 498
    _, found = ix.search(vecs[:2], 3)
    assert 1000 not in found and 1001 not in found
    ix.add(np.array([7]), vecs[0])
    _, found = ix.search(vecs[:1], 1)
    assert found[0, 0] == 7
    with pytest.raises(FaceIndexError, match="already in the index"):
        ix.add(np.array([7]), vecs[1])
    with pytest.raises(FaceIndexError, match="128 values"):
        ix.add(np.array([8]), np.ones(64, dtype=np.float32))


def test_search_pads_when_fewer_than_k() -> None:
    ix = VectorIndex.build(np.array([1, 2]), unit_vectors(2), "flat")
    _, ids = ix.search(unit_vectors(1, seed=3), 5)
    assert ids[0, :2].tolist() != [-1, -1] and ids[0, 2:].tolist() == [-1, -1, -1]
    empty = VectorIndex.build(np.zeros(0, dtype=np.int64), np.zeros((0, 128)), "flat")
    assert empty.search(unit_vectors(1), 3)[1].tolist() == [[-1, -1, -1]]


@pytest.mark.parametrize("kind", ["hnsw", "hnsw-sq"])
def test_hnsw_tombstones_survive_save_and_load(tmp_path: Path, kind: str) -> None:
    vecs = unit_vectors(300)
    ix = VectorIndex.build(np.arange(300), vecs, kind)
    ix.remove(range(10))
    ix.save(tmp_path / "ix.faiss")
    back, header = VectorIndex.load(tmp_path / "ix.faiss")
    assert header["kind"] == kind and len(back) == 290
    assert not set(back.search(vecs[:10], 5)[1].ravel()) & set(range(10))
    sims, found = back.search(vecs[10:12], 1)
    assert found[:, 0].tolist() == [10, 11] and np.allclose(sims[:, 0], 1.0, atol=1e-5)


def test_warm_up_prepares_the_compiled_search_of_hnsw_sq_only() -> None:
    vecs = unit_vectors(600)
    flat = VectorIndex.build(np.arange(600), vecs, "flat")
    assert flat.warm_up() is False
    approx = VectorIndex.build(np.arange(600), vecs, "hnsw-sq")
    try:
        import numba  # noqa: F401
    except ImportError:
        assert approx.warm_up() is False  # faiss will search
    else:
        assert approx.warm_up() is True
    _, found = approx.search(vecs[:3], 1)
    assert found[:, 0].tolist() == [0, 1, 2]


def test_hnsw_sq_similarities_are_exact_cosines() -> None:
    vecs = descriptor_like(2000, seed=5)
    queries = descriptor_like(20, seed=6)
    sims, found = VectorIndex.build(np.arange(2000), vecs, "hnsw-sq").search(queries, 5)
    exact = np.sort(queries @ vecs.T, axis=1)[:, ::-1][:, :5]
    assert np.allclose(sims, np.take_along_axis(queries @ vecs.T, found, axis=1), atol=1e-5)
    assert np.mean(np.isclose(sims, exact, atol=1e-5)) >= 0.9  # approximate, but not far off
    with pytest.raises(FaceIndexError, match="at least 256 vectors"):
        VectorIndex.build(np.arange(10), vecs[:10], "hnsw-sq")


def test_a_crash_during_save_leaves_the_previous_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "index.faiss"
    ix = VectorIndex.build(np.arange(100), unit_vectors(100), "flat")
    ix.save(path)
    ix.add(np.arange(100, 150), unit_vectors(50, seed=1))

    def crash(tmp: Path, target: Path) -> None:
        assert tmp.stat().st_size > 0  # the new file was fully written ...
        raise OSError("power cut")  # ... and the machine died before the swap

    monkeypatch.setattr(index_module, "_commit_file", crash)
    with pytest.raises(OSError, match="power cut"):
        ix.save(path)
    monkeypatch.undo()
    back, _ = VectorIndex.load(path)
    assert len(back) == 100
    assert not any(p.name.startswith("index.faiss.tmp") for p in tmp_path.iterdir())


def test_a_torn_file_falls_back_to_prev_in_the_gallery(workspace: object) -> None:
    open_cases(workspace, numbers=("2026-FT-0000",))
    g = Gallery(workspace)  # type: ignore[arg-type]
    for n in range(3):
        g.enroll_faces(fake_photo(n), record_uid=f"r:{n}")
    g.close()
    path = g.index_path
    assert path.with_name("index.faiss.prev").exists()
    path.write_bytes(path.read_bytes()[:-100])  # torn write that lied about fsync
    with pytest.raises(FaceIndexError, match="checksum"):
        VectorIndex.load(path)
    again = Gallery(workspace)  # type: ignore[arg-type]
    assert len(again.index) == 3  # .prev + catch-up from the metadata
    top = again.search(fake_photo(2), case="2026-FT-0000", purpose="p").candidates[0]
    assert top.record_uid == "r:2"
    again.close()


def fake_photo(n: int) -> ImageFaces:
    vec = unit_vectors(1, seed=100 + n)[0]
    face = Face(index=0, box=(10, 10, 110, 110), size=100, score=2.0, quality=0.9, descriptor=vec)
    return ImageFaces(
        source=f"/photos/{n}.jpg", sha256=f"{n:064d}", width=200, height=200, faces=(face,)
    )


def test_gallery_survives_a_crash_between_metadata_and_index(
    workspace: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Gallery(workspace)  # type: ignore[arg-type]
    for n in range(4):
        g.enroll_faces(fake_photo(n), record_uid=f"r:{n}", save=False)
    g.save()
    monkeypatch.setattr(
        index_module, "_commit_file", lambda tmp, target: (_ for _ in ()).throw(OSError("killed"))
    )
    with pytest.raises(OSError):
        g.enroll_faces(fake_photo(4), record_uid="r:4")  # metadata committed, index not
    monkeypatch.undo()
    VectorIndex.load(g.index_path)  # the previous index is still loadable
    again = Gallery(workspace)  # type: ignore[arg-type]
    assert len(again.index) == 5  # caught up from the metadata, no rebuild
    open_cases(workspace, numbers=("2026-FT-0000",))
    found = again.search(fake_photo(4), case="2026-FT-0000", purpose="p")
    assert found.candidates[0].record_uid == "r:4"
    again.close()


KILLER = """
import sys, numpy as np
sys.path.insert(0, {repo!r})
from facematch.index import VectorIndex
v = np.random.default_rng(0).normal(size=(60000, 128)).astype(np.float32)
v /= np.linalg.norm(v, axis=1, keepdims=True)
n = 1000
while True:
    VectorIndex.build(np.arange(n), v[:n], "flat").save({path!r})
    print(n, flush=True)
    n = 60000 if n == 1000 else 1000
"""


def test_killing_a_process_mid_save_leaves_a_loadable_index(tmp_path: Path) -> None:
    path = tmp_path / "index.faiss"
    code = KILLER.format(repo=str(REPO), path=str(path))
    for delay in (0.4, 0.9, 1.5):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        proc.stdout.readline()  # one save completed
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        index, header = VectorIndex.load(path)
        assert len(index) in (1000, 60000) and header["count"] == len(index)


def test_rebuild_command_changes_kind(
    workspace: object, capsys: pytest.CaptureFixture[str]
) -> None:
    g = Gallery(workspace)  # type: ignore[arg-type]
    for n in range(5):
        g.enroll_faces(fake_photo(n), record_uid=f"r:{n}", save=False)
    g.close()
    g.index_path.unlink()
    root = str(workspace.root)  # type: ignore[attr-defined]
    assert cli_main(["faces", "rebuild", "-w", root, "--kind", "hnsw"]) == 0
    assert "5 faces, hnsw" in capsys.readouterr().out
    _, header = VectorIndex.load(g.index_path)
    assert header["kind"] == "hnsw" and header["count"] == 5
    audit = workspace.audit.search(action="face.rebuild")  # type: ignore[attr-defined]
    assert audit and audit[-1]["params"]["faces"] == 5


def test_two_galleries_on_one_workspace_stay_in_step(workspace: object) -> None:
    open_cases(workspace, numbers=("2026-FT-0000",))
    console = Gallery(workspace)  # type: ignore[arg-type]
    console.enroll_faces(fake_photo(0), record_uid="r:0")
    assert len(console.index) == 1
    cli = Gallery(workspace)  # type: ignore[arg-type]  # e.g. `superbrain faces enroll`
    cli.enroll_faces(fake_photo(1), record_uid="r:1")
    cli.remove_record("r:0")
    cli.close()
    top = console.search(fake_photo(1), case="2026-FT-0000", purpose="p").candidates
    assert [c.record_uid for c in top] == ["r:1"]
    console.close()


def test_a_probe_without_faces_is_refused(workspace: object) -> None:
    open_cases(workspace, numbers=("2026-FT-0000",))
    from facematch.errors import NoFaceError

    g = Gallery(workspace)  # type: ignore[arg-type]
    g.enroll_faces(fake_photo(0), record_uid="r:0")
    empty = ImageFaces(source="/probes/wall.jpg", sha256="0" * 64, width=10, height=10, faces=())
    with pytest.raises(NoFaceError, match="wall"):
        g.search(empty, case="2026-FT-0000", purpose="p")
    with pytest.raises(NoFaceError):
        g.enroll_faces(empty, record_uid="r:1")
    g.close()
