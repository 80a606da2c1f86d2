"""The link graph on SQLite and on Elasticsearch gives the same answers.

One planted store (two gangs joined by a go-between phone, a convoy, time-ordered call chains,
look-alike persons) is migrated into a real Elasticsearch (SUPERBRAIN_ES_URL); every graph
operation the console uses then runs on both engines and must agree exactly: expansions (with
filters, caps and hub flags), paths (shortest, k-shortest, time-ordered), co-occurrence,
timeline and link counts, with merges applied.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.progress import CancelToken, Progress
from core.security import Session
from core.services import ServiceContext, call
from core.store import Store
from graph.backend import EsGraphStore, GraphStore, LinkFilter, SqlGraphStore
from graph.cooccur import Sightings, cooccurrence_pairs, cooccurring_in_store
from graph.expand import expand, find_path, grow, induced_graph
from graph.migrate import migrate, position
from graph.paths import k_shortest_paths, shortest_path
from graph.resolution import AliasMap
from graph.timeline import timeline
from search.errors import SearchError
from tests.graph_fixtures import (
    CONVOY_MATE,
    CONVOY_TARGET,
    GO_BETWEEN,
    PERSON_A,
    PERSON_B,
    T0,
    build_planted,
    phone,
)
from tests.search_backends import es_url


def _index(url: str, prefix: str) -> object:
    from search.es_links import EsLinkIndex, es_client

    client, shown = es_client(url)
    return EsLinkIndex(client, prefix=prefix, url=shown)


@pytest.fixture(scope="module", params=["es9", "es8"])
def engines(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, GraphStore]]:
    url = es_url(request.param)  # Elasticsearch 9 and 8, as search's suite (8: skipped unset)
    store = Store(tmp_path_factory.mktemp("conformance") / "store.sqlite")
    build_planted(store)
    index = _index(url, f"sbtest-cluster-{uuid.uuid4().hex[:8]}")
    report = migrate(store, index, batch=500)
    assert report.complete and report.links == report.total_links
    yield {"sqlite": SqlGraphStore(store), "elasticsearch": EsGraphStore(index, store)}
    index.drop()
    index.close()


def _both(engines: dict[str, GraphStore], fn: object) -> tuple[object, object]:
    return fn(engines["sqlite"]), fn(engines["elasticsearch"])  # type: ignore[operator]


@pytest.mark.parametrize(
    ("seeds", "kw"),
    [
        ([GO_BETWEEN], {"depth": 1}),
        ([GO_BETWEEN], {"depth": 3}),
        ([CONVOY_TARGET], {"depth": 2}),
        ([phone(0), phone(100)], {"depth": 2, "link_types": ["called"]}),
        ([phone(0)], {"depth": 3, "start": T0 + timedelta(days=1), "end": T0 + timedelta(days=4)}),
        ([CONVOY_TARGET], {"depth": 2, "max_nodes": 40}),  # truncated: the same 40 on both
        ([CONVOY_TARGET], {"depth": 3, "max_fanout": 30}),  # the devices are hubs
    ],
)
def test_expansions_agree(
    engines: dict[str, GraphStore], seeds: list[str], kw: dict[str, object]
) -> None:
    a, b = _both(engines, lambda gs: expand(gs, seeds, **kw).to_dict())
    assert a["nodes"] and len(a["nodes"]) > len(seeds)
    assert a == b
    if kw.get("max_nodes") == 40:
        assert a["truncated"] and len(a["nodes"]) == 40
    if "max_fanout" in kw:
        assert a["hubs"] and all(h.startswith("device:") for h in a["hubs"])
        assert all(n > 30 for n in a["hubs"].values())


@pytest.mark.parametrize("fetch_limit", [5000, 400, 12])
@pytest.mark.parametrize(
    "kw",
    [
        {"depth": 2, "max_fanout": 160},  # the busiest checkpoints are hubs, the rest not
        {"depth": 2, "max_fanout": 160, "max_nodes": 60},  # cut off inside a level
        {"depth": 3, "max_fanout": 160, "max_nodes": 300},
        {"depth": 3, "max_fanout": 30, "max_nodes": 40},
        {"depth": 2, "max_fanout": 10_000, "max_nodes": 40},  # no hubs, cut off
    ],
)
def test_capped_expansions_agree_read_in_one_go_or_by_chunks(
    engines: dict[str, GraphStore],
    monkeypatch: pytest.MonkeyPatch,
    fetch_limit: int,
    kw: dict[str, object],
) -> None:
    # On the cluster a capped hop's links come with its hub counts when they are few (one
    # round trip), else by chunks after the counts; a small limit forces the second way.
    import graph.expand

    monkeypatch.setattr(graph.expand, "FETCH_LIMIT", fetch_limit)
    if fetch_limit == 12:  # levels of many chunks: the cluster reads the next one meanwhile
        monkeypatch.setattr(graph.expand, "HOP_CHUNK", 4)
        # and the links among the outer ring come as two searches at once, however few
        from search.es_links import EsLinkIndex

        monkeypatch.setattr(EsLinkIndex, "split_min", 2)
    for seeds in ([CONVOY_TARGET], [GO_BETWEEN], [phone(0), phone(100)]):
        a, b = _both(engines, lambda gs, seeds=seeds: expand(gs, seeds, **kw).to_dict())
        assert a["nodes"] and len(a["nodes"]) > len(seeds)
        assert a == b, (seeds, kw)
        if seeds == [CONVOY_TARGET] and kw["max_fanout"] == 160:
            assert a["hubs"] and len(a["hubs"]) < 12  # hubs and expanded checkpoints both
            assert a["truncated"] == (kw.get("max_nodes") == 60)


def test_grow_and_induced_graph_agree(engines: dict[str, GraphStore]) -> None:
    def run(gs: GraphStore) -> dict[str, object]:
        g = expand(gs, [phone(3)], depth=1)
        return grow(gs, g, [GO_BETWEEN], depth=1).to_dict()

    a, b = _both(engines, run)
    assert a == b and GO_BETWEEN in {n["id"] for n in a["nodes"]}
    ids = [phone(i) for i in range(12)] + [GO_BETWEEN]
    a, b = _both(engines, lambda gs: induced_graph(gs, ids).to_dict())
    assert a == b and len(a["edges"]) > 20


def test_link_counts_agree(engines: dict[str, GraphStore]) -> None:
    ids = [GO_BETWEEN, CONVOY_TARGET, phone(5), "device:KK003", "phone:19999999999"]
    for flt in (
        LinkFilter(),
        LinkFilter(("passed",)),
        LinkFilter(start=T0.timestamp(), end=(T0 + timedelta(hours=23)).timestamp()),
    ):
        a, b = _both(engines, lambda gs, f=flt: gs.link_counts(ids, f))
        assert a == b
    assert a[CONVOY_TARGET] == 4  # its four reads on day one


def test_shortest_paths_agree_through_the_go_between(engines: dict[str, GraphStore]) -> None:
    a, b = _both(engines, lambda gs: find_path(gs, phone(7), phone(107)).to_dict())
    assert a == b
    assert GO_BETWEEN in a["seeds"] and a["seeds"][0] == phone(7)


def test_k_shortest_and_time_ordered_paths_agree(engines: dict[str, GraphStore]) -> None:
    x, z = "phone:13700000001", "phone:13700000003"

    def run(gs: GraphStore) -> tuple[object, object, object]:
        sub = expand(gs, [x, z], depth=2)
        plain = shortest_path(sub, x, z).to_dict()
        timed = shortest_path(sub, x, z, time_respecting=True).to_dict()
        k = [p.to_dict() for p in k_shortest_paths(sub, x, z, 2)]
        return plain, timed, k

    a, b = _both(engines, run)
    assert a == b
    plain, timed, k = a
    assert plain["length"] == 2 and timed["length"] == 3 and len(k) == 2


def test_cooccurrence_agrees(engines: dict[str, GraphStore]) -> None:
    a, b = _both(
        engines,
        lambda gs: [
            c.to_dict() for c in cooccurring_in_store(gs, CONVOY_TARGET, window=60, min_count=2)
        ],
    )
    assert a == b and a[0]["b"] == CONVOY_MATE
    a, b = _both(
        engines,
        lambda gs: [
            c.to_dict()
            for c in cooccurrence_pairs(Sightings.from_store(gs), window=60, min_count=3)
        ],
    )
    assert a == b
    assert {a[0]["a"], a[0]["b"]} == {CONVOY_TARGET, CONVOY_MATE}


def test_timeline_and_merges_agree(engines: dict[str, GraphStore]) -> None:
    a, b = _both(engines, lambda gs: [e.to_dict() for e in timeline(gs, GO_BETWEEN)])
    assert a == b and len(a) == 4
    merged = AliasMap([(PERSON_B, PERSON_A)])
    a, b = _both(engines, lambda gs: expand(gs, [PERSON_A], depth=2, aliases=merged).to_dict())
    assert a == b
    assert {"phone:13600000003", "phone:13600000004"} <= {n["id"] for n in a["nodes"]}


class _CancelAfter(CancelToken):
    """Says "cancelled" from its ``n``-th check on (after n - 1 batches went through)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    @property
    def cancelled(self) -> bool:
        self.left -= 1
        return self.left < 0


def test_migration_resumes_after_a_cancel_and_reports_progress(tmp_path: Path) -> None:
    url = es_url("es9")
    store = Store(tmp_path / "store.sqlite")
    build_planted(store)
    index = _index(url, f"sbtest-cluster-{uuid.uuid4().hex[:8]}")
    try:
        first = migrate(store, index, batch=100, cancel=_CancelAfter(1))
        assert first.cancelled and not first.complete and first.entities == 100
        saved = position(store, index)
        assert saved["entity"] and not saved["done"]
        seen: list[Progress] = []
        second = migrate(store, index, batch=100, progress=seen.append)
        assert second.complete
        assert second.entities == first.total_entities - 100
        assert second.links == first.total_links
        assert seen[0].done == 100 and seen[0].message == "resuming"
        assert seen[-1].done == seen[-1].total == first.total_entities + first.total_links
        assert index.counts() == {
            index.entities: first.total_entities,
            index.links: first.total_links,
        }
        again = migrate(store, index)  # finished: every entity again, no link again
        assert (again.entities, again.links) == (first.total_entities, 0)
    finally:
        index.drop()
        index.close()


def test_the_migrate_command_copies_resumes_and_catches_up_after_the_cluster_was_away(
    workspace: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from core.cli import main
    from graph.cluster_stage import STALE_KEY

    url = es_url("es9")
    ws = workspace
    build_planted(ws.store)  # type: ignore[attr-defined]
    prefix = f"sbtest-cluster-{uuid.uuid4().hex[:8]}"
    toml = ws.root / "superbrain.toml"  # type: ignore[attr-defined]
    toml.write_text(
        toml.read_text("utf-8") + f'\n[graph]\nurl = "{url}"\nindex_prefix = "{prefix}"\n',
        "utf-8",
    )
    index = _index(url, prefix)

    def run(*extra: str) -> tuple[int, dict[str, object], str]:
        rc = main(["graph", "migrate", "-w", str(ws.root), "--json", *extra])  # type: ignore[attr-defined]
        out, err = capsys.readouterr()
        return rc, json.loads(out), err

    try:
        rc, first, err = run()
        assert rc == 0 and first["complete"] and not first["restarted"]
        assert first["entities"] == first["total_entities"] > 0
        assert first["links"] == first["total_links"] > 0
        assert prefix in str(first["target"]) and "[graph migrate]" in err  # progress, stderr
        index.refresh()
        assert index.counts() == {
            index.entities: first["total_entities"],
            index.links: first["total_links"],
        }
        rc, again, _ = run()  # up to date: entities again (they change), no link again
        assert rc == 0 and again["links"] == 0 and again["entities"] == first["total_entities"]
        # an ingest that could not reach the cluster marks the store; the next run copies all
        with ws.store.transaction() as con:  # type: ignore[attr-defined]
            con.execute(
                "INSERT INTO meta VALUES (?, ?)",
                (STALE_KEY, json.dumps({"reason": "connection refused", "at": 0})),
            )
        rc, caught_up, _ = run()
        assert rc == 0 and caught_up["restarted"] and caught_up["stale"] == "connection refused"
        assert caught_up["links"] == first["total_links"]
        assert (
            ws.store.connection.execute(  # type: ignore[attr-defined]
                "SELECT count(*) FROM meta WHERE key=?", (STALE_KEY,)
            ).fetchone()[0]
            == 0
        )
        index.refresh()
        assert index.counts()[index.links] == first["total_links"]  # the same ids: no doubles
        actions = [e["action"] for e in ws.audit.entries()]  # type: ignore[attr-defined]
        assert actions.count("graph.migrate") == 3
    finally:
        index.drop()
        index.close()


def test_the_service_reads_the_backend_the_workspace_names(workspace: object) -> None:
    url = es_url("es9")
    ws = workspace
    build_planted(ws.store)  # type: ignore[attr-defined]
    prefix = f"sbtest-cluster-{uuid.uuid4().hex[:8]}"
    index = _index(url, prefix)
    migrate(ws.store, index)  # type: ignore[attr-defined]
    ctx = ServiceContext(ws, Session("boss", "administrator", "password"))  # type: ignore[arg-type]
    try:
        local = call("graph.expand", ctx, entities=[GO_BETWEEN], depth=2).to_dict()
        ws.config["graph"] = {
            "backend": "elasticsearch",
            "url": url,  # type: ignore[attr-defined]
            "index_prefix": prefix,
        }
        from graph.backend import for_workspace

        assert for_workspace(ws).name == "elasticsearch"
        cluster = call("graph.expand", ctx, entities=[GO_BETWEEN], depth=2).to_dict()
        assert cluster == local
        index.drop()  # the cluster answers, not the local store: without the index it fails
        with pytest.raises(SearchError, match="index_not_found"):
            call("graph.expand", ctx, entities=[GO_BETWEEN], depth=2)
    finally:
        index.drop()
        index.close()


def test_ingest_keeps_the_cluster_graph_in_step(workspace: object) -> None:
    from core.stages import default_stages
    from tests.graph_fixtures import Builder

    url = es_url("es9")
    ws = workspace
    prefix = f"sbtest-cluster-{uuid.uuid4().hex[:8]}"
    ws.config["graph"] = {
        "backend": "elasticsearch",
        "url": url,  # type: ignore[attr-defined]
        "index_prefix": prefix,
    }
    from graph.backend import for_workspace

    cluster = for_workspace(ws)
    try:
        b = Builder()
        build = __import__("tests.graph_fixtures", fromlist=["add_two_gangs"])
        build.add_two_gangs(b, __import__("random").Random(3))
        build.add_lookalikes(b)
        stages = [s for s in default_stages(ws) if s.name == "graph-cluster"]  # type: ignore[arg-type]
        assert len(stages) == 1
        stage = stages[0]
        half = len(b.records) // 2
        for batch in (b.records[:half], b.records[half:]):  # the ingest's order of calls
            stage.process(batch)
            ws.store.upsert_batch(batch)  # type: ignore[attr-defined]
        stage.finish()
        local = SqlGraphStore(ws.store)  # type: ignore[attr-defined]
        assert (
            expand(cluster, [GO_BETWEEN], depth=3).to_dict()
            == expand(local, [GO_BETWEEN], depth=3).to_dict()
        )
        assert (
            cluster.entity_rows([PERSON_B])[PERSON_B][4]
            == local.entity_rows([PERSON_B])[PERSON_B][4]
        )  # merged props, not a fragment
    finally:
        cluster.index.drop()  # type: ignore[attr-defined]


def test_fan_out_cap_flags_hubs_and_does_not_expand_through_them(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite")
    build_planted(store)
    free = expand(store, [CONVOY_TARGET], depth=2)
    capped = expand(store, [CONVOY_TARGET], depth=2, max_fanout=30)
    assert not free.hubs
    devices = {n for n in free.nodes if n.startswith("device:")}
    assert set(capped.hubs) == devices  # every checkpoint the target passed is a hub
    assert all(capped.hubs[d] > 30 for d in devices)
    assert devices <= set(capped.nodes)  # kept, flagged, not expanded through:
    assert {n for n in capped.nodes if n.startswith("vehicle:")} == {CONVOY_TARGET}
    assert len(free.nodes) > 100 and len(capped.nodes) == 1 + len(devices)
    assert capped.to_dict()["hubs"] == capped.hubs


def test_an_unknown_graph_backend_is_refused_by_name(workspace: object) -> None:
    from graph.backend import for_workspace
    from graph.errors import GraphError

    workspace.config["graph"] = {"backend": "neo4j"}  # type: ignore[attr-defined]
    with pytest.raises(GraphError, match="'neo4j'"):
        for_workspace(workspace)


def test_a_cluster_workspace_caps_fan_out_by_default(workspace: object) -> None:
    from graph.backend import default_fanout
    from graph.errors import GraphError

    ws = workspace
    assert default_fanout(ws) is None  # one machine: no cap unless asked
    ws.config["graph"] = {"backend": "elasticsearch"}  # type: ignore[attr-defined]
    assert default_fanout(ws) == 1000
    ws.config["graph"] = {"backend": "elasticsearch", "max_fanout": 0}  # type: ignore[attr-defined]
    assert default_fanout(ws) is None
    ws.config["graph"] = {"max_fanout": "many"}  # type: ignore[attr-defined]
    with pytest.raises(GraphError, match="'many'"):
        default_fanout(ws)
