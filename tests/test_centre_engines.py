"""The engines give the same answers on a centre (PostgreSQL) as on a workspace folder
(SQLite): the same generated data is ingested into both and the graph and operations services
are compared. Order among equal answers may differ; the answers may not.

Real parts: a PostgreSQL database of the test's own (see tests/centre_support.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from centre_support import fresh_database, pg_server_url, write_centre

from core.security import Session
from core.services import ServiceContext, call
from server.wire import jsonable  # the server's JSON form of results

pytestmark = pytest.mark.timeout(600)

SOURCES = ("population", "checkpoint", "cdr", "incidents")
ROWS = 300


def _canon(value: Any) -> Any:
    """JSON form with lists sorted and floats rounded: equal answers compare equal."""
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items() if k not in ("took_ms",)}
    if isinstance(value, list):
        return sorted(
            (_canon(v) for v in value),
            key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False),
        )
    if isinstance(value, float):
        return round(value, 9)
    return value


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceContext, ...]]:
    from centre.workspace import open_centre
    from core.workspace import Workspace
    from plugins.builtin.sources import FACTORIES

    gen = fresh_database(pg_server_url())
    database = next(gen)
    folder = tmp_path_factory.mktemp("engines")
    local = Workspace.init(folder / "local")
    centre = open_centre(write_centre(folder / "centre", database))
    admin = Session("admin", "administrator")
    contexts = (ServiceContext(local, admin), ServiceContext(centre, admin))
    for name in SOURCES:
        files = FACTORIES[name]().generate(folder / "data" / name, ROWS, seed=11)
        for ctx in contexts:
            for path in files:
                report = call("ingest.file", ctx, source=name, path=str(path))
                assert report.status == "done", report
    yield contexts
    local.close()
    centre.close()
    gen.close()


def _both(pair: tuple[ServiceContext, ...], service: str, **params: Any) -> tuple[Any, Any]:
    return tuple(_canon(jsonable(call(service, ctx, **params))) for ctx in pair)  # type: ignore


def _busiest(pair: tuple[ServiceContext, ...], link_type: str | None = None) -> list[str]:
    con = pair[0].workspace.store.connection
    where = "WHERE type = ?" if link_type else ""
    rows = con.execute(
        f"SELECT source FROM links {where} GROUP BY source ORDER BY count(*) DESC, source LIMIT 3",
        (link_type,) if link_type else (),
    ).fetchall()
    return [r[0] for r in rows]


def test_the_stores_hold_the_same_graph(pair: tuple[ServiceContext, ...]) -> None:
    local, centre = (ctx.workspace.store for ctx in pair)
    for table in ("records", "entities", "links", "record_entities"):
        assert local.count(table) == centre.count(table) > 0, table


@pytest.mark.parametrize("depth", [1, 2])
def test_expansion_is_the_same(pair: tuple[ServiceContext, ...], depth: int) -> None:
    for entity in _busiest(pair):
        a, b = _both(pair, "graph.expand", entities=[entity], depth=depth)
        assert a == b, entity


def test_timelines_cooccurrence_and_paths_are_the_same(pair: tuple[ServiceContext, ...]) -> None:
    plates = _busiest(pair, "passed")
    assert plates
    a, b = _both(pair, "graph.timeline", entity=plates[0])
    assert a == b
    a, b = _both(pair, "graph.cooccur", target=plates[0], window=600)
    assert a == b
    ends = _busiest(pair)
    paths = [call("graph.path", ctx, source=ends[0], target=ends[1], k=3) for ctx in pair]
    assert [len(p.hops) for p in paths[0]] == [len(p.hops) for p in paths[1]]


def test_operations_figures_are_the_same(pair: tuple[ServiceContext, ...]) -> None:
    a, b = _both(
        pair, "ops.hotspots", start="2026-01-01T00:00:00+00:00", end="2027-01-01T00:00:00+00:00"
    )
    assert a == b
    a, b = _both(pair, "ops.metrics")
    assert a == b
