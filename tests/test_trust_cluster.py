"""Fault tolerance on a real 3-node Elasticsearch cluster on 127.0.0.1.

The module starts its own cluster with ``tools/dev-elasticsearch --nodes 3`` (name ``trust3``,
HTTP ports 9410-9412, transport 9510-9512: distinct from the CI single nodes) and stops it at the
end. With ``SUPERBRAIN_ES_REQUIRED=1`` (CI) a cluster that cannot start FAILS the tests;
otherwise they skip and say why. ``SUPERBRAIN_TRUST_CLUSTER=0`` skips them explicitly.

1. One node is SIGKILLed in the middle of a bulk ingest: searches report degraded health
   meanwhile, and after the node is back every acknowledged record is in the index.
2. The whole cluster goes down: searches fail with a clear error after the client's retries,
   ingest goes on into the embedded store (untouched), and the index is marked stale.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.model import FieldRole, FieldSpec, Record, RecordSchema
from tests.cluster_fixtures import NODES, Cluster, cluster  # noqa: F401 - fixture

pytestmark = [pytest.mark.elasticsearch, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
CLUSTER_NAME, CLUSTER_PORT = "trust3", 9410  # the cluster fixture's: HTTP 9410-9412
NOTE = RecordSchema(
    "note",
    "Note",
    (FieldSpec("body", FieldRole.TEXT), FieldSpec("district", FieldRole.KEYWORD, facet=True)),
)


def _records(n: int, offset: int = 0) -> list[Record]:
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    return [
        Record(
            source="trust",
            id=f"N{i:06d}",
            type="note",
            time=t0 + timedelta(minutes=i),
            text={"body": f"巡逻记录 {i} 西湖区 patrol note"},
            fields={"district": ("西湖区", "上城区", "拱墅区")[i % 3]},
        )
        for i in range(offset, offset + n)
    ]


def _backend(cluster: Cluster) -> object:
    from core.workspace import SearchConfig
    from search.document import FieldRegistry
    from search.elastic import ElasticsearchBackend

    cfg = SearchConfig(
        "elasticsearch", ",".join(cluster.urls), "", "", "", "", f"trust-{uuid.uuid4().hex[:8]}"
    )
    # One replica per shard: what a 3-node deployment needs to survive losing a node.
    return ElasticsearchBackend.from_config(
        cfg, FieldRegistry.from_schemas([NOTE]), shards=3, replicas=1
    )


def _health_cli(cluster: Cluster, root: Path) -> dict[str, object]:
    """What `superbrain search-health --json` reports for a workspace on the cluster."""
    import json

    from core.workspace import Workspace

    if not root.exists():
        Workspace.init(root, backend="elasticsearch", url=",".join(cluster.urls))
    run = subprocess.run(
        [sys.executable, "main.py", "search-health", "--json", "-w", str(root)],
        cwd=REPO,
        env={**os.environ, "SUPERBRAIN_USER": "tester"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return dict(json.loads(run.stdout))


def test_node_killed_mid_bulk_ingest_keeps_every_acknowledged_record(
    cluster: Cluster, tmp_path: Path
) -> None:
    from search.errors import SearchError

    backend = _backend(cluster)
    records = _records(24000)
    batches = [records[i : i + 500] for i in range(0, len(records), 500)]
    acked: set[str] = set()
    pending: list[Record] = []
    errors: list[str] = []
    lock = threading.Lock()

    def writer() -> None:
        for batch in batches:
            todo = batch
            for _attempt in range(12):  # what an ingest retry loop does: resend the rest
                try:
                    report = backend.index(todo)  # type: ignore[attr-defined]
                except SearchError as exc:
                    errors.append(str(exc))
                    time.sleep(2)
                    continue
                with lock:
                    acked.update(r.uid for r in todo if r.uid not in report.failures)
                todo = [r for r in todo if r.uid in report.failures]
                if not todo:
                    break
                errors.append(next(iter(report.failures.values())))
                time.sleep(1)
            pending.extend(todo)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300
    while len(acked) < 4000 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.2)
    assert thread.is_alive(), "bulk ingest ended before a node could be killed; raise the count"
    cluster.kill(3)  # SIGKILL: no clean shutdown, mid-bulk
    degraded = None
    until = time.monotonic() + 90
    while time.monotonic() < until:
        health = backend.health()  # type: ignore[attr-defined]
        if health.status != "green":
            degraded = health
            break
        time.sleep(1)
    assert degraded is not None, "health stayed green with a node down"
    assert degraded.status in ("yellow", "red") and degraded.message
    assert degraded.detail["nodes"] == NODES - 1
    reported = _health_cli(cluster, tmp_path / "ws")  # what an operator sees meanwhile
    assert reported["status"] in ("yellow", "red") and reported["message"]
    thread.join(timeout=900)
    assert not thread.is_alive()
    cluster.start()  # node 3 rejoins with its data folder
    client = backend.client  # type: ignore[attr-defined]
    client.options(request_timeout=200).cluster.health(wait_for_status="green", timeout="180s")
    backend.flush()  # type: ignore[attr-defined]
    assert backend.health().status == "green"  # type: ignore[attr-defined]
    alias = backend.type_alias("note")  # type: ignore[attr-defined]
    missing: list[str] = []
    ids = sorted(acked)
    for i in range(0, len(ids), 2000):
        got = client.mget(index=alias, ids=ids[i : i + 2000], source=False)
        missing += [d["_id"] for d in got["docs"] if not d.get("found")]
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:5]}"
    assert len(acked) == len(records) and not pending, (
        f"{len(pending)} records never acknowledged after retries; last errors: {errors[-3:]}"
    )
    assert backend.count() == len(records)  # type: ignore[attr-defined]
    client.indices.delete(index=f"{backend.prefix}-*", expand_wildcards="all")  # type: ignore
    backend.close()  # type: ignore[attr-defined]


def test_whole_cluster_down_clear_error_and_embedded_data_untouched(
    cluster: Cluster, tmp_path: Path
) -> None:
    from core.ingest import Ingestor
    from core.workspace import CONFIG_NAME, Workspace
    from plugins.mapping import MappingSource, parse_mapping
    from search.stage import stale_reason

    ws = Workspace.init(tmp_path / "ws", backend="elasticsearch", url=",".join(cluster.urls))
    config = ws.root / CONFIG_NAME
    config.write_text(
        config.read_text("utf-8").replace(
            'index_prefix = "superbrain"', f'index_prefix = "trust-{uuid.uuid4().hex[:8]}"'
        ),
        "utf-8",
    )
    ws = Workspace.open(ws.root)
    source = MappingSource(
        parse_mapping(
            {"source": {"name": "notes", "id": ["id"]}, "fields": {"body": "text"}}, "test"
        )
    )
    first = tmp_path / "a.csv"
    first.write_text("id,body\n" + "".join(f"{i},西湖区巡逻 {i}\n" for i in range(300)), "utf-8")
    assert Ingestor(ws).ingest_file(source, first).status == "done"
    env = {**os.environ, "SUPERBRAIN_USER": "tester"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "main.py", *args, "-w", str(ws.root)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    up = cli("search", "巡逻")
    assert up.returncode == 0, up.stderr
    before = {r.uid: (r.text, r.origin) for r in ws.store.iter_records(with_graph=False)}

    for node in range(1, NODES + 1):
        cluster.kill(node)
    started = time.monotonic()
    down = cli("search", "巡逻")
    assert down.returncode != 0
    last = down.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "unreachable" in last and "127.0.0.1:94" in last
    assert time.monotonic() - started < 240  # retries are bounded
    health = cli("search-health")
    assert health.returncode == 1 and "red" in (health.stdout + health.stderr)

    # the embedded store is untouched by the outage and keeps taking data
    reopened = Workspace.open(ws.root)
    assert {
        r.uid: (r.text, r.origin) for r in reopened.store.iter_records(with_graph=False)
    } == before
    second = tmp_path / "b.csv"
    second.write_text("id,body\n" + "".join(f"b{i},上城区 {i}\n" for i in range(50)), "utf-8")
    report = Ingestor(reopened).ingest_file(source, second)
    assert report.status == "done" and reopened.store.count() == 350
    assert stale_reason(reopened.search_dir), "index not marked stale after a failed indexing"
    assert reopened.audit.verify() == []
