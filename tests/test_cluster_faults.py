"""The cluster graph and face index lose nothing acknowledged when a node dies.

The module starts its own 3-node Elasticsearch with ``tools/dev-elasticsearch`` (name
``csf3``, HTTP 9430-9432, transport 9530-9532) and stops it at the end; indices get 3 shards
and one replica each, what a deployment needs to survive losing a node. With
``SUPERBRAIN_ES_REQUIRED=1`` (CI) a cluster that cannot start FAILS the tests; otherwise they
skip and say why. ``SUPERBRAIN_TRUST_CLUSTER=0`` skips them explicitly.

1. A node is SIGKILLed during a link migration (the resumable bulk path of the link graph):
   the migration is rerun until complete, and every link it acknowledged is there.
2. A node is SIGKILLed during face enrolment: every face whose enrolment was acknowledged is
   there and searchable.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.model import EntityRef, LinkRef, Record
from core.store import Store
from tests.cluster_fixtures import Cluster, cluster  # noqa: F401 - fixture
from tests.faces_fixtures import descriptor_like

pytestmark = [pytest.mark.elasticsearch, pytest.mark.slow]

CLUSTER_NAME, CLUSTER_PORT = "csf3", 9430  # the cluster fixture's: HTTP 9430-9432


def _client(cluster: Cluster) -> tuple[object, str]:
    from search.es_links import es_client

    return es_client(",".join(cluster.urls), timeout=20)


def _kill_when(cluster: Cluster, ready: Callable[[], bool], worker: threading.Thread) -> None:
    deadline = time.monotonic() + 300
    while not ready() and time.monotonic() < deadline and worker.is_alive():
        time.sleep(0.2)
    assert worker.is_alive(), "the writes ended before a node could be killed; raise the count"
    cluster.kill(3)  # SIGKILL: no clean shutdown, mid-bulk


def _back_to_green(cluster: Cluster, client: object) -> None:
    cluster.start()  # node 3 rejoins with its data folder
    client.options(request_timeout=200).cluster.health(  # type: ignore[attr-defined]
        wait_for_status="green", timeout="180s"
    )


def _links_store(path: Path, n: int) -> Store:
    store = Store(path)
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    records = []
    for i in range(n):
        a, b = f"phone:138{i % 5000:08d}", f"phone:139{(i * 7) % 5000:08d}"
        when = t0 + timedelta(seconds=37 * i)
        records.append(
            Record(
                source="cdr",
                id=f"c{i}",
                type="called",
                time=when,
                text={"summary": "call"},
                entities=(EntityRef("phone", a[6:], a[6:]), EntityRef("phone", b[6:], b[6:])),
                links=(LinkRef("called", a, b, when),),
            )
        )
        if len(records) == 5000:
            store.upsert_batch(records)
            records = []
    if records:
        store.upsert_batch(records)
    return store


def test_node_killed_during_link_ingest_loses_no_acknowledged_link(
    cluster: Cluster, tmp_path: Path
) -> None:
    from graph.migrate import migrate, position
    from search.errors import SearchError
    from search.es_links import EsLinkIndex

    client, shown = _client(cluster)
    index = EsLinkIndex(
        client, prefix=f"csf-{uuid.uuid4().hex[:8]}", url=shown, shards=3, replicas=1
    )
    store = _links_store(tmp_path / "store.sqlite", 40_000)
    acked: list[int] = []  # the last link rowid acknowledged, after each batch
    errors: list[str] = []
    done = threading.Event()

    def ingest() -> None:
        for _attempt in range(40):  # what an operator's rerun does: resume from the position
            try:
                report = migrate(
                    store,
                    index,
                    batch=500,
                    threads=1,
                    progress=lambda _p: acked.append(int(position(store, index)["link"])),
                )
            except SearchError as exc:
                errors.append(str(exc))
                time.sleep(2)
                continue
            if report.complete:
                done.set()
                return

    worker = threading.Thread(target=ingest, daemon=True)
    worker.start()
    _kill_when(cluster, lambda: bool(acked) and acked[-1] >= 8000, worker)
    killed_at = acked[-1]
    worker.join(timeout=900)
    assert done.is_set(), f"the migration never completed; last errors: {errors[-3:]}"
    _back_to_green(cluster, client)
    index.refresh()
    ids = [r[0] for r in store.connection.execute("SELECT id FROM links ORDER BY rowid")]
    missing: list[str] = []
    for i in range(0, len(ids), 5000):
        got = client.mget(index=index.links, ids=ids[i : i + 5000], source=False)
        missing += [d["_id"] for d in got["docs"] if not d.get("found")]
    assert not missing, f"{len(missing)} acknowledged links lost, e.g. {missing[:3]}"
    assert index.counts()[index.links] == len(ids) == 40_000
    assert killed_at < 40_000  # the node died mid-ingest, not after it
    index.drop()
    store.close()


def test_node_killed_during_face_enrolment_loses_no_acknowledged_face(cluster: Cluster) -> None:
    from search.errors import SearchError
    from search.es_vectors import EsVectorIndex

    client, shown = _client(cluster)
    index = EsVectorIndex(
        client, prefix=f"csf-{uuid.uuid4().hex[:8]}", url=shown, shards=3, replicas=1
    )
    index.ensure()
    vectors = descriptor_like(12_000, seed=11)
    acked: list[int] = []
    errors: list[str] = []

    def enrol() -> None:
        for start in range(0, len(vectors), 200):
            ids = np.arange(start, start + 200, dtype=np.int64)
            for _attempt in range(30):  # an enrolment that failed is retried, not assumed
                try:
                    index.add(ids, vectors[start : start + 200])
                except SearchError as exc:
                    errors.append(str(exc))
                    time.sleep(2)
                    continue
                acked.extend(ids.tolist())
                break

    worker = threading.Thread(target=enrol, daemon=True)
    worker.start()
    _kill_when(cluster, lambda: len(acked) >= 2000, worker)
    worker.join(timeout=900)
    _back_to_green(cluster, client)
    index.refresh()
    missing: list[str] = []
    want = [str(i) for i in acked]
    for i in range(0, len(want), 5000):
        got = client.mget(index=index.name, ids=want[i : i + 5000], source=False)
        missing += [d["_id"] for d in got["docs"] if not d.get("found")]
    assert not missing, f"{len(missing)} acknowledged faces lost, e.g. {missing[:3]}"
    assert len(acked) == len(vectors), f"never acknowledged; last errors: {errors[-3:]}"
    sims, found = index.search(vectors[[5, 9000]], 1)
    assert found[:, 0].tolist() == [5, 9000] and np.all(sims[:, 0] > 0.999)
    index.drop()
