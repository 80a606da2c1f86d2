"""Entity resolution of persons against the planted truth: precision, recall, each variation
kind, the family-phone trap, clusters, the review decisions, incremental matching."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.ingest import Ingestor
from core.workspace import Workspace
from graph.er_features import id17, name_forms, parse_address, parse_birth
from graph.er_person import evaluate
from graph.errors import ResolutionError
from graph.resolution import AliasMap, Resolver
from plugins.registry import discover
from tests.builtin_fixtures import COUNT, SEED, Built, build_all

GOAL_PRECISION, GOAL_RECALL = 0.98, 0.95


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_all(tmp_path_factory.mktemp("er"))


@pytest.fixture(scope="module")
def truth(built: Built) -> dict[str, Any]:
    path = built.files["population"].parent / "identity_truth.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scored(built: Built) -> list[Any]:
    return Resolver(built.ws.store).propose(min_score=0.0001)


def _pairs(scored: list[Any]) -> list[tuple[str, str, float]]:
    return [(p.a, p.b, p.score) for p in scored]


def test_precision_and_recall_meet_the_goals_at_the_review_threshold(
    built: Built, truth: dict[str, Any], scored: list[Any]
) -> None:
    clusters = [i["entities"] for i in truth["identities"]]
    m = evaluate(_pairs(scored), clusters, Resolver(built.ws.store).review_threshold)
    assert m.true_pairs >= 18
    assert m.precision >= GOAL_PRECISION, m.false_pairs
    assert m.recall >= GOAL_RECALL, m.missed_pairs
    assert m.cluster_f1 >= 0.95


def test_the_shared_family_phone_does_not_merge_brothers(
    built: Built, truth: dict[str, Any], scored: list[Any]
) -> None:
    assert len(truth["distinct"]) == 2
    store = built.ws.store
    for trap in truth["distinct"]:
        a, b = store.get_entity(trap["a"]), store.get_entity(trap["b"])
        assert a is not None and b is not None
        assert a.props["address"] == b.props["address"]  # the trap is really set
        score = next((p.score for p in scored if {p.a, p.b} == {trap["a"], trap["b"]}), 0.0)
        assert score < 0.05, trap  # an order of magnitude below the review threshold


KINDS = (
    "id_check_digit",
    "id_transposed",
    "id_legacy15",
    "homophone",
    "pinyin",
    "latin_order",
    "traditional",
    "date_format",
    "partial_address",
    "typo_char",
)


@pytest.mark.parametrize("kind", KINDS)
def test_each_variation_kind_is_found(kind: str, truth: dict[str, Any], scored: list[Any]) -> None:
    found = {(p.a, p.b) for p in scored if p.score >= 0.5}
    carrying = [i for i in truth["identities"] if kind in i["variations"]]
    assert carrying, f"no planted identity has {kind}"
    for ident in carrying:
        clean, *variants = ident["entities"]
        for v in variants:
            assert tuple(sorted((clean, v))) in found, (kind, ident["names"])


def test_every_proposal_explains_each_fields_weight(scored: list[Any]) -> None:
    p = max(scored, key=lambda p: p.score)
    fields = p.evidence["fields"]
    assert set(fields) == {"id_number", "name", "birth_date", "gender", "household"}
    total = p.evidence["prior_weight"] + sum(f["weight"] for f in fields.values())
    assert total == pytest.approx(p.evidence["match_weight"], abs=0.1)
    assert all(f["level"] for f in fields.values())


def test_three_records_form_one_cluster_with_its_weakest_link(
    built: Built, truth: dict[str, Any], scored: list[Any]
) -> None:
    r = Resolver(built.ws.store)
    triples = [set(i["entities"]) for i in truth["identities"] if len(i["entities"]) == 3]
    assert len(triples) == 2
    clusters = r.clusters()
    for t in triples:
        (c,) = [c for c in clusters if set(c.members) & t]
        assert set(c.members) == t
        scores = sorted(s for *_, s in c.links)
        # the weakest link that holds it together: of three links, the middle one
        assert c.weakest is not None and c.weakest in c.links
        assert c.weakest[2] == (scores[-2] if len(scores) == 3 else scores[0])
    assert (
        AliasMap.load(built.ws.store).canonical(sorted(triples[0])[0]) == sorted(triples[0])[0]
    )  # shown together, merged by no one


def test_features_read_every_written_form() -> None:
    assert {
        name_forms(n)[1]
        for n in ("王建国", "王建國", "王建囯", "Wang Jianguo", "JIANGUO WANG", "WANG JIAN GUO")
    } == {"jianguo|wang"}
    assert {
        parse_birth(v) for v in ("1986-04-05", "19860405", "1986年4月5日", "86年4月5日", "1986/4/5")
    } == {parse_birth("1986-04-05")}
    assert id17("330402860405001") == ("33040219860405001", True)
    assert id17("330402198604050011")[1] is False
    assert parse_address("南湖区解放路160号3幢")[1:3] == ("解放路", "160")
    assert parse_address("嘉兴市南湖区解放路160号梅湾小区3幢")[:3] == ("南湖区", "解放路", "160")


def test_decisions_are_audited_and_auto_merge_is_off_for_persons(tmp_path: Path) -> None:
    ws = _population_only(tmp_path)
    r = Resolver.for_workspace(ws)
    assert r.auto_threshold("person") is None
    queue_before = r.propose()
    assert queue_before and not r.merges()  # proposals, never merges, by default
    top = queue_before[0]
    r.mark_unsure(top.a, top.b, note="check the hotel register")
    assert r.queue()[0]["unsure"] == r.user
    merge = r.accept_proposal(top)
    assert all({q["a"], q["b"]} != {top.a, top.b} for q in r.queue())
    r.undo(merge.id)
    actions = [e["action"] for e in ws.audit.entries()][-3:]
    assert actions == ["graph.unsure", "graph.merge", "graph.split"]
    auto = Resolver(
        ws.store, audit=ws.audit, user="tester", config={"auto_merge": {"person": 0.999}}
    )
    merged = auto.apply_auto(auto.propose())
    assert merged and all(m.score >= 0.999 and m.rule.startswith("auto:") for m in merged)
    with pytest.raises(ResolutionError, match=r"between 0\.5 and 1"):
        Resolver(ws.store, config={"auto_merge": {"person": 0.1}}).auto_threshold("person")


def test_new_records_are_matched_on_ingest_without_rescoring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph import er_person

    ws = _population_only(tmp_path)
    r = Resolver.for_workspace(ws)
    r.propose()
    before = {(q["a"], q["b"]) for q in r.queue()}
    plugin = discover().get("hotel")
    (path,) = plugin.generate(tmp_path / "hotel", COUNT, seed=SEED)
    from graph.stage import make_stage

    loads: list[int | None] = []
    real = er_person.load_features

    def counting(store: Any, ids: Any = None) -> Any:
        ids = None if ids is None else list(ids)
        loads.append(None if ids is None else len(ids))
        return real(store, ids)

    monkeypatch.setattr(er_person, "load_features", counting)
    stage = make_stage(ws)
    assert stage is not None
    Ingestor(ws, stages=[stage]).ingest_file(plugin, path)
    persons = ws.store.connection.execute(
        "SELECT count(*) FROM entities WHERE type='person'"
    ).fetchone()[0]
    # the new guests and their candidates only — never the whole workspace
    assert loads and None not in loads
    assert loads[-1] < persons / 4, (loads, persons)
    after = {(q["a"], q["b"]) for q in r.queue()}
    truth = json.loads((tmp_path / "population" / "identity_truth.json").read_text())
    hotel_pairs = {
        tuple(sorted((i["entities"][0], e)))
        for i in truth["identities"]
        for e, s in zip(i["entities"], i["sources"], strict=True)
        if s == "hotel"
    }
    assert hotel_pairs and hotel_pairs <= after - before
    assert stage.matched >= len(hotel_pairs)


def _population_only(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    plugin = discover().get("population")
    (path,) = plugin.generate(tmp_path / "population", COUNT, seed=SEED)
    Ingestor(ws, stages=[]).ingest_file(plugin, path)
    return ws


def test_the_spark_settings_name_sparks_functions() -> None:
    """The scale-out path (docs/SCALING.md) uses the same levels with Spark's SQL names."""
    from graph.er_model import settings

    duck = json.dumps(settings(1000).create_settings_dict("duckdb"))
    spark = json.dumps(settings(1000, dialect="spark").create_settings_dict("spark"))
    assert "list_has_any" in duck and "jaro_winkler_similarity" in duck
    assert "list_has_any" not in spark and "arrays_overlap" in spark
    assert "jaro_winkler(" in spark and "jaro_winkler_similarity" not in spark


def test_a_failing_match_on_ingest_loses_nothing_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph.stage import make_stage

    ws = Workspace.init(tmp_path / "ws")

    def broken(self: Any, ids: Any) -> Any:
        raise RuntimeError("duckdb went away")

    monkeypatch.setattr(Resolver, "match_new", broken)
    plugin = discover().get("population")
    (path,) = plugin.generate(tmp_path / "population", COUNT, seed=SEED)
    report = Ingestor(ws, stages=[make_stage(ws)]).ingest_file(plugin, path)
    assert report.status == "done" and ws.store.count() == report.records
    (entry,) = ws.audit.search(action="graph.resolve_incremental")
    assert entry["params"]["outcome"] == "failed"
    assert "duckdb went away" in entry["params"]["error"]


def test_incremental_matching_joins_rule_by_rule_with_the_same_pairs(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The incremental path scores the same pairs as one join on the blocking rules OR-ed
    together, but through one equi-join per rule: DuckDB runs an OR-ed join as a nested loop
    over new × existing, which took hours for one 167,000-person file at 1M records
    (bench/server/bench_centre.py, profiled)."""
    import splink.internals.realtime as realtime

    from graph import er_model, er_person

    people = er_person.load_features(built.ws.store)
    assert len(people) > 50
    new, existing = people[: len(people) // 3], people[len(people) // 3 :]
    n = len(people)
    joins: list[str] = []
    real = realtime.compare_records

    def recording(*args: Any, join_condition: str = "", **kw: Any) -> Any:
        joins.append(join_condition)
        return real(*args, join_condition=join_condition, **kw)

    monkeypatch.setattr(realtime, "compare_records", recording)
    found = {
        (p.a, p.b): round(p.probability, 9) for p in er_model.compare(new, existing, n_records=n)
    }
    assert joins and not [j for j in joins if " OR " in j], joins  # hash joins only
    monkeypatch.setattr(realtime, "compare_records", real)
    # the same pairs and scores as the single OR-ed join
    pool = {r["unique_id"]: r for r in existing} | {r["unique_id"]: r for r in new}
    either = " OR ".join(
        "(" + " AND ".join(f'l."{c}" = r."{c}"' for c in cols) + ")"
        for cols in er_model.BLOCKING_RULES
    )
    result = real(
        er_model._rows(new),
        er_model._rows(pool.values()),
        er_model.settings(n),
        er_model._db_api(),
        join_condition=f"l.unique_id <> r.unique_id AND ({either})",
    )
    expected = {}
    for row in er_model._iter_records(result):
        p = er_model._scored(row, n)
        expected[(p.a, p.b)] = round(p.probability, 9)
    assert found == expected and found


def test_reading_persons_features_uses_the_links_source_index(built: Built) -> None:
    """load_features reads a batch of persons' phones and homes by the links' source: planned
    on links(type, time) instead, SQLite scanned every owns/lives_at link per chunk of 500
    persons, and a 167,000-person file stalled a 1M-record embedded ingest."""
    from graph import er_person

    con = built.ws.store.connection
    statements: list[str] = []
    con.set_trace_callback(statements.append)
    try:
        people = er_person.load_features(
            built.ws.store,
            [r[0] for r in con.execute("SELECT id FROM entities WHERE type='person' LIMIT 20")],
        )
    finally:
        con.set_trace_callback(None)
    assert people and any(p.get("phones") or p.get("address") for p in people)
    reads = [s for s in statements if "FROM links l" in s]
    assert reads
    for sql in reads:
        plan = " ".join(str(r[-1]) for r in con.execute("EXPLAIN QUERY PLAN " + sql))
        assert "links_source" in plan and "links_type_time" not in plan, plan
