"""One conformance suite: the same queries on the same records give the same hits on every
backend (embedded tantivy, Elasticsearch 9, Elasticsearch 8, and the Python matcher that saved
searches use). Expected hits are written out by hand from tests/search_fixtures.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from search_backends import MatcherBackend, drop_es_indices, hit_uids, open_kind

from search.errors import QuerySyntaxError
from search.model import Filters, GeoBox, GeoRadius, SearchRequest

KINDS = ["embedded", "es9", "es8", "python-matcher"]


@pytest.fixture(scope="module", params=KINDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    if request.param.startswith("es"):
        request.applymarker(pytest.mark.elasticsearch)
    b = open_kind(request.param, tmp_path_factory.mktemp(request.param))
    yield b
    if request.param.startswith("es"):
        drop_es_indices(b)  # type: ignore[arg-type]
    elif not isinstance(b, MatcherBackend):
        b.close()  # type: ignore[union-attr]


def I(*n: int) -> set[str]:  # noqa: N802, E743 - reads like the fixture ids
    return {f"incidents:I{i:03d}" for i in n}


def P(*n: int) -> set[str]:  # noqa: N802
    return {f"population:P{i:03d}" for i in n}


CASES = [
    # Chinese: the phrase, not its characters apart (I002 has 入户…室…盗, I013 盗窃…入室)
    ("入室盗窃", Filters(), I(1, 3)),
    ('"入室盗窃"', Filters(), I(1, 3)),
    # a person's name: not 王建军 / 王国建 / "建国 王"
    ("王建国", Filters(), I(3) | P(1)),
    # two characters are adjacent across punctuation (…现金，室内…), never across two values
    # (category 盗窃 then district 西湖区); the embedded engine answers these from bigrams
    ("金室", Filters(), I(2)),
    ("窃西", Filters(), set()),
    ("name:王建国", Filters(), P(1)),
    # mixed Chinese / English
    ("李娜", Filters(), P(3)),
    ("Li Na", Filters(), P(3)),
    ("John 约翰", Filters(), P(4)),
    # identifiers in any written form
    ("浙D·12345", Filters(), I(5, 8, 12)),
    ('"浙D 12345"', Filters(), I(5, 8, 12)),
    ("浙D 12345", Filters(), I(5, 8, 12)),
    ("浙d12345", Filters(), I(5, 8, 12)),
    ("plate:浙d-12345", Filters(), I(5, 12)),
    ("+86 138-0013-8000", Filters(), I(3) | P(1)),
    ("13800138000", Filters(), I(3) | P(1)),
    ("phone:13900139000", Filters(), P(2)),
    ('phone:"0571-8765 4321"', Filters(), I(8)),
    ("33010219900101123x", Filters(), P(1)),
    ('"330102 19900101 123X"', Filters(), P(1)),
    ("ids:浙A88888", Filters(), I(1)),
    # English terms, wildcards, fuzzy
    ("burglary", Filters(), I(6, 14)),
    ("burgl*", Filters(), I(6, 10, 14)),
    ("bulgary~1", Filters(), I(15)),
    ("burglery~1", Filters(), I(6, 14)),
    ("plate:浙D*", Filters(), I(5, 12)),
    # boolean logic
    ("Wang AND Jianguo", Filters(), I(11)),
    ("suspect OR fraud", Filters(), I(5, 6, 9)),
    ("(burglary OR 诈骗) AND district:上城区", Filters(), I(9, 14)),
    ("category:盗窃 -district:西湖区", Filters(), I(2, 6, 10, 13, 14, 15)),
    ("NOT source:incidents", Filters(), P(1, 2, 3, 4, 5, 6)),
    # ranges on numbers and dates
    ("loss:[5000 TO *]", Filters(), I(1, 3, 6, 7)),
    ("loss:{3000 TO 12000]", Filters(), I(1, 3)),
    ("source:population AND age:>40", Filters(), P(4, 6)),
    ("time:[2024-01-10 TO 2024-01-12]", Filters(), I(6, 7, 8)),
    ("reported:>=2024-01-15", Filters(), I(11, 12, 13, 14, 15)),
    # structured filters
    ("", Filters(sources=("population",), districts=("西湖区",)), P(1, 6)),
    ("盗窃", Filters(categories=("盗窃",), districts=("上城区",)), I(2, 14, 15)),
    (
        "",
        Filters(types=("incident",), since=datetime(2024, 1, 14), until=datetime(2024, 1, 16)),
        I(10, 11),
    ),
    ("", Filters(box=GeoBox(30.27, 120.14, 30.285, 120.16)), I(1, 3, 5)),
    ("", Filters(radius=GeoRadius(30.2741, 120.1551, 1000)), I(1, 3, 5)),
    ("入室盗窃", Filters(radius=GeoRadius(30.2741, 120.1551, 100)), I(1)),
]


@pytest.mark.parametrize(
    ("query", "filters", "expected"),
    CASES,
    ids=[f"{i}:{c[0] or 'filters'}" for i, c in enumerate(CASES)],
)
def test_same_hits(backend: object, query: str, filters: Filters, expected: set[str]) -> None:
    assert hit_uids(backend, SearchRequest(query, filters, size=100)) == expected  # type: ignore[arg-type]


def _engine(backend: object) -> object:
    if isinstance(backend, MatcherBackend):
        pytest.skip("the Python matcher only decides matches (no ranking, paging or facets)")
    return backend


def test_malformed_query_names_the_position(backend: object) -> None:
    engine = _engine(backend)
    query = '王建国 AND (source:hotel OR "浙D'
    with pytest.raises(QuerySyntaxError) as info:
        engine.search(SearchRequest(query))  # type: ignore[attr-defined]
    assert info.value.position == query.index('"')
    assert "unterminated phrase" in str(info.value)


def test_chinese_phrase_is_highlighted_as_one_run(backend: object) -> None:
    engine = _engine(backend)
    result = engine.search(SearchRequest("入室盗窃"))  # type: ignore[attr-defined]
    assert {h.uid for h in result.hits} == I(1, 3)
    for hit in result.hits:
        assert any("<mark>入室盗窃</mark>" in s for s in hit.snippets), hit.snippets


def test_relevance_ranks_repeated_term_first(backend: object) -> None:
    engine = _engine(backend)
    result = engine.search(SearchRequest("burglary"))  # type: ignore[attr-defined]
    assert result.hits[0].uid == "incidents:I014"  # "burglary burglary burglary …"


def test_time_sort_and_deep_paging_visit_every_record_once(backend: object) -> None:
    engine = _engine(backend)
    seen, times, cursor = [], [], None
    for _ in range(10):
        page = engine.search(
            SearchRequest(  # type: ignore[attr-defined]
                "", sort="time_asc", size=4, cursor=cursor
            )
        )
        assert page.total == 21
        seen += [h.uid for h in page.hits]
        times += [h.time for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 21 and len(set(seen)) == 21
    assert times == sorted(times)
    assert seen[0] == "population:P001" and seen[-1] == "incidents:I015"


def test_facets_count_by_source_category_district_and_day(backend: object) -> None:
    engine = _engine(backend)
    result = engine.search(
        SearchRequest(  # type: ignore[attr-defined]
            "盗窃", facets=("source", "type", "category", "district", "day")
        )
    )
    facets = {name: {b.value: b.count for b in buckets} for name, buckets in result.facets.items()}
    assert facets["source"] == {"incidents": 9}
    assert facets["category"] == {"盗窃": 9}
    assert facets["district"] == {"上城区": 3, "西湖区": 3, "余杭区": 1, "拱墅区": 1, "滨江区": 1}
    assert facets["day"]["2024-01-05"] == 1 and sum(facets["day"].values()) == 9
    district_order = [b.value for b in result.facets["district"]]
    assert district_order[:2] == ["上城区", "西湖区"]  # by count, then by value


def test_reindexing_a_record_replaces_it(backend: object) -> None:
    from dataclasses import replace

    from search_fixtures import corpus

    engine = _engine(backend)
    original = corpus()[5]  # I006 "Burglary reported at warehouse…"
    changed = replace(original, text={"summary": "Arson reported at warehouse"})
    try:
        engine.index([changed])  # type: ignore[attr-defined]
        engine.flush()  # type: ignore[attr-defined]
        assert {h.uid for h in engine.search(SearchRequest("arson")).hits} == I(6)  # type: ignore[attr-defined]
        assert engine.count("warehouse") == 1  # type: ignore[attr-defined]
    finally:
        engine.index([original])  # type: ignore[attr-defined]
        engine.flush()  # type: ignore[attr-defined]
    assert {h.uid for h in engine.search(SearchRequest("arson")).hits} == set()  # type: ignore[attr-defined]
