"""On-demand expansion from the store: depth, filters, time window, cap, evidence, paths."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core.store import Store
from graph.backend import SqlGraphStore
from graph.entities import resolve_entity
from graph.errors import EntityNotFoundError, NoPathError
from graph.expand import expand, find_path, grow
from tests.graph_fixtures import GO_BETWEEN, T0, Builder, build_planted


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = Store(tmp_path_factory.mktemp("graph") / "store.sqlite")
    build_planted(s)
    return s


def _chain(tmp_path: Path) -> Store:
    s = Store(tmp_path / "chain.sqlite")
    b = Builder()
    for i in range(6):  # a - b - c - d - e - f - g, one call per day
        b.link("called", f"phone:1500000000{i}", f"phone:1500000000{i + 1}", T0 + timedelta(days=i))
    b.link("called", "phone:15000000000", "phone:15000000001", T0 + timedelta(days=9))
    b.link("owns", "person:110101199001011234", "phone:15000000000", T0)
    b.write(s)
    return s


def test_depth_counts_hops_and_edges_carry_all_their_evidence(tmp_path: Path) -> None:
    s = _chain(tmp_path)
    g1 = expand(s, ["phone:15000000000"], depth=1)
    assert set(g1.nodes) == {"phone:15000000000", "phone:15000000001", "person:110101199001011234"}
    g3 = expand(s, ["phone:15000000000"], depth=3)
    assert "phone:15000000003" in g3.nodes and "phone:15000000004" not in g3.nodes
    assert g3.nodes["phone:15000000003"].depth == 3
    (ab,) = [e for e in g3.edges if e.key == ("phone:15000000000", "phone:15000000001", "called")]
    assert ab.count == 2 and len(ab.record_uids) == 2
    assert ab.first == T0.timestamp() and ab.last == (T0 + timedelta(days=9)).timestamp()
    assert ab.times == sorted(ab.times)
    assert not g3.truncated


def test_link_type_and_time_filters(tmp_path: Path) -> None:
    s = _chain(tmp_path)
    only_calls = expand(s, ["phone:15000000000"], depth=1, link_types=["called"])
    assert "person:110101199001011234" not in only_calls.nodes
    early = expand(
        s,
        ["phone:15000000000"],
        depth=6,
        start=T0 + timedelta(hours=1),
        end=T0 + timedelta(days=3, hours=1),
    )
    assert set(early.nodes) == {"phone:15000000000"}  # its links are on day 0 and day 9
    late = expand(
        s,
        ["phone:15000000000"],
        depth=6,
        start=T0 + timedelta(hours=1),
        end=T0 + timedelta(days=10),
    )
    (ab,) = [e for e in late.edges if e.source == "phone:15000000000"]
    assert ab.count == 1 and ab.first == (T0 + timedelta(days=9)).timestamp()
    assert "person:110101199001011234" not in late.nodes  # owned at T0, before the window
    assert "phone:15000000006" in late.nodes


def test_node_cap_truncates_and_says_so(store: Store) -> None:
    g = expand(store, ["device:KK000"], depth=2, max_nodes=40)
    assert len(g.nodes) == 40 and g.truncated
    for e in g.edges:
        assert e.source in g.nodes and e.target in g.nodes


def test_edges_between_outermost_nodes_are_included(store: Store) -> None:
    g = expand(store, [GO_BETWEEN], depth=1)
    # the go-between calls two members of each gang, who also call each other
    assert ("phone:13800000000", "phone:13800000001", "called") in {e.key for e in g.edges}


def test_raw_identifiers_are_normalised(store: Store) -> None:
    assert resolve_entity(store, "浙a·00001") == "vehicle:浙A00001"
    assert resolve_entity(store, "+86 139-0000-0000") == GO_BETWEEN
    assert resolve_entity(store, "vehicle:浙a 00002") == "vehicle:浙A00002"
    with pytest.raises(EntityNotFoundError, match="no entity"):
        resolve_entity(store, "浙Z99999")
    with pytest.raises(EntityNotFoundError, match="vehicle:浙Z99999"):
        expand(store, ["vehicle:浙Z99999"])


def test_find_path_bidirectional_in_sql(tmp_path: Path) -> None:
    s = _chain(tmp_path)
    p = find_path(s, "person:110101199001011234", "phone:15000000006", max_hops=8)
    assert list(p.seeds) == ["person:110101199001011234"] + [
        f"phone:1500000000{i}" for i in range(7)
    ]
    assert len(p.edges) == 7
    with pytest.raises(NoPathError, match="within 3 hops"):
        find_path(s, "phone:15000000000", "phone:15000000006", max_hops=3)


def test_grow_adds_a_nodes_neighbourhood_with_links_to_what_is_shown(tmp_path: Path) -> None:
    s = _chain(tmp_path)
    g = expand(s, ["phone:15000000000"], depth=1)
    grown = grow(s, g, ["phone:15000000001"])
    direct = expand(s, ["phone:15000000000"], depth=2)
    assert set(grown.nodes) == set(direct.nodes)
    assert [e.to_dict() for e in grown.edges] == [e.to_dict() for e in direct.edges]
    assert "phone:15000000002" not in g.nodes  # the original is left alone
    b = Builder()
    for x, y in (("X", "A"), ("X", "B"), ("A", "N"), ("N", "B")):
        b.link("called", f"phone:1{x}", f"phone:1{y}", T0)
    b.write(s)
    g = expand(s, ["phone:1X"], depth=1)
    grown = grow(s, g, ["phone:1A"])
    # N is new and also linked to B, which is shown but was not the node expanded
    assert ("phone:1N", "phone:1B", "called") in {e.key for e in grown.edges}


class _FetchingStore(SqlGraphStore):
    """A store that answers a capped hop's links with its counts, as the cluster does."""

    def links_and_counts(self, ids, flt, limit):  # type: ignore[no-untyped-def]
        rows = list({r[0]: r for r in self.links_of(ids, flt)}.values())
        return self.link_counts(ids, flt), rows if len(rows) <= limit else None


def test_a_hop_read_with_its_counts_gives_the_graph_read_by_chunks(tmp_path: Path) -> None:
    # seed -> phone A, phone B (one level); A calls x0..x5, B calls x0 and x5. A cap of 5
    # entities cuts the second level inside A's links: the B-x0 link (read after the cut) is
    # still an edge of the graph, whichever way the level was read.
    s = Store(tmp_path / "cut.sqlite")
    b = Builder()
    seed, pa, pb = "phone:15100000000", "phone:15100000001", "phone:15100000002"
    b.link("called", seed, pa, T0)
    b.link("called", seed, pb, T0)
    for i in range(6):
        b.link("called", pa, f"phone:1520000000{i}", T0 + timedelta(hours=i))
    b.link("called", pb, "phone:15200000000", T0 + timedelta(days=1))
    b.link("called", pb, "phone:15200000005", T0 + timedelta(days=1))
    b.link("called", "phone:15200000009", pb, T0)  # B is a hub at a cap of 3
    b.write(s)
    for kw in ({"max_nodes": 5, "max_fanout": 10}, {"max_nodes": 50, "max_fanout": 3}):
        by_chunks = expand(SqlGraphStore(s), [seed], depth=2, **kw).to_dict()
        in_one_go = expand(_FetchingStore(s), [seed], depth=2, **kw).to_dict()
        assert in_one_go == by_chunks
    cut = expand(_FetchingStore(s), [seed], depth=2, max_nodes=5, max_fanout=10)
    assert cut.truncated and len(cut.nodes) == 5
    assert (pb, "phone:15200000000", "called") in {e.key for e in cut.edges}
    hub = expand(_FetchingStore(s), [seed], depth=2, max_fanout=3)
    assert hub.hubs == {pa: 7, pb: 4} and "phone:15200000009" not in hub.nodes
