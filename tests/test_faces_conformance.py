"""The face gallery on FAISS and on Elasticsearch gives the same candidates.

Against a real Elasticsearch (SUPERBRAIN_ES_URL): the int8 HNSW index finds ≥ 98 % of the
exact top 10 with exact similarities; a gallery whose ``[faces] backend`` is elasticsearch
enrols, searches, thresholds, audits, refuses and removes exactly as the embedded one does; a
migration of the vectors resumes where it stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from core.progress import CancelToken
from facematch.cluster import migrate
from facematch.errors import SafeguardError
from facematch.gallery import Gallery
from facematch.index import VectorIndex
from facematch.store import FaceStore
from tests.conftest import faces_dir
from tests.faces_fixtures import descriptor_like
from tests.search_backends import es_url


def _es_index(prefix: str, kind: str = "es9") -> object:
    from search.es_links import es_client
    from search.es_vectors import EsVectorIndex

    client, shown = es_client(es_url(kind))
    index = EsVectorIndex(client, prefix=prefix, url=shown)
    index.ensure()
    return index


@pytest.fixture(params=["es9", "es8"])
def es_index(request: pytest.FixtureRequest) -> Iterator[object]:
    index = _es_index(f"sbtest-cluster-{uuid.uuid4().hex[:8]}", request.param)
    yield index
    index.drop()  # type: ignore[attr-defined]
    index.close()  # type: ignore[attr-defined]


def test_recall_at_10_against_exact_search_and_exact_similarities(es_index: object) -> None:
    n = 8000
    vectors = descriptor_like(n, seed=1)
    ids = np.arange(10, 10 + n, dtype=np.int64)
    exact = VectorIndex.build(ids, vectors, "flat")
    assert es_index.add(ids, vectors, threads=2) == n  # type: ignore[attr-defined]
    es_index.refresh()  # type: ignore[attr-defined]
    assert len(es_index) == n  # type: ignore[arg-type]
    probes = np.vstack([descriptor_like(60, seed=2), vectors[:40] + 0.01])
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    want_sims, want_ids = exact.search(probes, 10)
    sims, got = es_index.search(probes, 10)  # type: ignore[attr-defined]
    recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want_ids, strict=True)])
    assert recall >= 0.98, f"recall@10 {recall:.3f}"
    assert np.all(np.diff(sims, axis=1) <= 1e-6)  # best first
    for row in range(len(probes)):  # the similarity reported is the exact cosine
        exact_sim = dict(zip(want_ids[row], want_sims[row], strict=True))
        for fid, s in zip(got[row], sims[row], strict=True):
            if fid in exact_sim:
                assert abs(s - exact_sim[fid]) < 2e-3
    assert es_index.remove([10, 11, 999_999]) == 2  # type: ignore[attr-defined]
    es_index.refresh()  # type: ignore[attr-defined]
    _, after = es_index.search(vectors[:2], 10)  # type: ignore[attr-defined]
    assert 10 not in after and 11 not in after


FACES = faces_dir()


CASE = "2026-FT-0001"  # face searches name an opened case (docs/CASES.md)


@pytest.mark.skipif(FACES is None, reason="shared face photos absent (SUPERBRAIN_FACES_DIR)")
def test_a_cluster_gallery_behaves_like_the_embedded_one(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.workspace import Workspace
    from tests.test_faces_pipeline import analysed_lfw_small

    monkeypatch.setenv("SUPERBRAIN_USER", "tester")
    url = es_url("es9")
    prefix = f"sbtest-cluster-{uuid.uuid4().hex[:8]}"
    local_ws = Workspace.init(tmp_path / "local")  # type: ignore[operator]
    cluster_ws = Workspace.init(tmp_path / "cluster")  # type: ignore[operator]
    cluster_ws.config["faces"] = {"backend": "elasticsearch", "url": url, "index_prefix": prefix}
    from tests.faces_fixtures import open_cases

    for ws in (local_ws, cluster_ws):  # a face search names a case the user belongs to
        open_cases(ws, numbers=(CASE,))
    galleries = [Gallery(local_ws), Gallery(cluster_ws)]
    try:
        assert galleries[1].index.kind == "elasticsearch"
        photos = analysed_lfw_small()
        strangers = ("Serena_Williams", "Tony_Blair")
        for g in galleries:
            for name, images in photos.items():
                if name in strangers:
                    continue
                for n, image in enumerate(images[:3]):
                    g.enroll_faces(
                        image,
                        record_uid=f"watchlist:{name}-{n}",
                        entity_id=f"person:{name}",
                        save=False,
                    )
            g.save()
        probes = [
            img
            for name, imgs in photos.items()
            for img in (imgs if name in strangers else imgs[3:])
        ]
        for image in probes:
            a, b = (g.search(image, case=CASE, purpose="conformance", k=5) for g in galleries)
            assert [c.face_id for c in a.candidates] == [c.face_id for c in b.candidates]
            assert [c.above_threshold for c in a.candidates] == [
                c.above_threshold for c in b.candidates
            ]
            assert np.allclose(
                [c.similarity for c in a.candidates],
                [c.similarity for c in b.candidates],
                atol=2e-3,
            )
            assert a.gallery_size == b.gallery_size == 24
        audit = cluster_ws.audit.search(action="face.search")
        assert len(audit) == len(probes) and audit[-1]["case"] == CASE
        with pytest.raises(SafeguardError):
            galleries[1].search(probes[0], case="", purpose="x")
        assert galleries[1].remove_record("watchlist:George_W_Bush-0") == 1
        top = galleries[1].search(photos["George_W_Bush"][0], case=CASE, purpose="p", k=24)
        assert len(top.candidates) == 23
        assert all(c.record_uid != "watchlist:George_W_Bush-0" for c in top.candidates)
        assert galleries[1].rebuild() == 23  # from the metadata, into a fresh index
        again = galleries[1].search(photos["George_W_Bush"][4], case=CASE, purpose="p", k=3)
        assert again.candidates[0].entity_id == "person:George_W_Bush"
        assert cluster_ws.audit.search(action="face.rebuild")[-1]["params"]["faces"] == 23
    finally:
        for g in galleries:
            g.close()
        if galleries[1]._index is not None:
            galleries[1]._index.drop()
        local_ws.close()
        cluster_ws.close()


class _CancelAfter(CancelToken):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    @property
    def cancelled(self) -> bool:
        self.left -= 1
        return self.left < 0


def _enrol(store: FaceStore, vectors: np.ndarray, faces: range) -> None:
    """One face per photo ``r:i`` with ``vectors[i]``, as an enrolment stores it."""
    for i in faces:
        store.replace_photo(
            f"r:{i}",
            "photo",
            f"/p/{i}.jpg",
            f"{i:064x}",
            [
                {
                    "face_index": 0,
                    "entity_id": None,
                    "entity_label": None,
                    "box": (0, 0, 1, 1),
                    "size": 1,
                    "quality": 1.0,
                    "vector": vectors[i],
                }
            ],
            "tester",
        )


def test_face_migration_resumes_where_it_stopped(tmp_path: object, es_index: object) -> None:
    store = FaceStore(tmp_path / "gallery.sqlite")  # type: ignore[operator]
    vectors = descriptor_like(250, seed=5)
    _enrol(store, vectors, range(250))
    first = migrate(store, es_index, batch=100, cancel=_CancelAfter(1))  # type: ignore[arg-type]
    assert first.cancelled and first.sent == 100
    # the load pauses the index's periodic refresh; a cancel turns it back on and refreshes
    assert len(es_index) == 100  # type: ignore[arg-type]
    settings = es_index.client.indices.get_settings(index=es_index.name)  # type: ignore[attr-defined]
    assert "refresh_interval" not in settings[es_index.name]["settings"]["index"]  # type: ignore[attr-defined]
    second = migrate(store, es_index, batch=100)  # type: ignore[arg-type]
    assert second.complete and second.sent == 150 and second.total == 250
    assert len(es_index) == 250  # type: ignore[arg-type]
    sims, ids = es_index.search(vectors[200:201], 1)  # type: ignore[attr-defined]
    assert sims[0, 0] > 0.999 and ids[0, 0] in set(store.face_ids().tolist())
    store.close()


def test_the_migrate_command_sends_the_gallery_and_resumes(
    workspace: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from core.cli import main
    from facematch.gallery import STORE_NAME

    url = es_url("es9")
    ws = workspace
    prefix = f"sbtest-faces-{uuid.uuid4().hex[:8]}"
    toml = ws.root / "superbrain.toml"  # type: ignore[attr-defined]
    toml.write_text(
        toml.read_text("utf-8") + f'\n[faces]\nurl = "{url}"\nindex_prefix = "{prefix}"\n',
        "utf-8",
    )
    ws.faces_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
    store = FaceStore(ws.faces_dir / STORE_NAME)  # type: ignore[attr-defined]
    vectors = descriptor_like(30, seed=9)

    def run(*extra: str) -> dict[str, object]:
        rc = main(["faces", "migrate", "-w", str(ws.root), "--json", *extra])  # type: ignore[attr-defined]
        out = capsys.readouterr().out
        assert rc == 0, out
        return json.loads(out)

    index = _es_index(prefix)
    try:
        _enrol(store, vectors, range(20))
        first = run()
        assert first["complete"] and first["sent"] == first["total"] == 20
        assert prefix in str(first["target"])
        _enrol(
            store, vectors, range(20, 30)
        )  # enrolled after the copy: the next run sends only these
        second = run()
        assert second["sent"] == 10 and second["total"] == 30
        assert run("--restart")["sent"] == 30
        assert len(index) == 30  # type: ignore[arg-type]  # the faces' own ids: no doubles
        sims, _ids = index.search(vectors[25:26], 1)  # type: ignore[attr-defined]
        assert sims[0, 0] > 0.999
        actions = [e["action"] for e in ws.audit.entries()]  # type: ignore[attr-defined]
        assert actions.count("faces.migrate") == 3
    finally:
        store.close()
        index.drop()  # type: ignore[attr-defined]
        index.close()  # type: ignore[attr-defined]
