"""Alert rules: watchlist (plate, ID number, phone), saved searches, geofences, face matches;
polling, subscription and audited acknowledgement."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from core.model import EntityRef
from ops.config import load_config
from ops.errors import UnknownAlertError
from ops.service import OpsService
from tests.ops_fixtures import T0, FakeClock, record

ALERTS_TOML = """
[watchlist]
sources = ["watchlist"]
entity_types = ["person", "vehicle", "phone"]
ignore_sources = ["population"]
[watchlist.fields]
plate = "plate"
caller_phone = "phone"
id_number = "id_number"

[face_match]
threshold = 0.7

[severity]
face_match = "high"

[[geofences]]
id = "corridor"
name = "test corridor"
alert_on = "exit"
plates = ["浙F8H001"]
polygon = [[30.70, 120.70], [30.70, 120.80], [30.80, 120.80], [30.80, 120.70]]

[[geofences]]
id = "zone"
name = "truck ban"
alert_on = "entry"
match = { field = "vehicle_kind", equals = "货车" }
polygon = [[30.74, 120.74], [30.74, 120.76], [30.76, 120.76], [30.76, 120.74]]
"""

INSIDE_BOTH = (30.75, 120.75)
INSIDE_CORRIDOR = (30.72, 120.72)
OUTSIDE = (30.60, 120.90)


@pytest.fixture
def ops(workspace: Any, tmp_path: Path) -> OpsService:
    folder = tmp_path / "ops-config"
    folder.mkdir()
    (folder / "alerts.toml").write_text(ALERTS_TOML, encoding="utf-8")
    return OpsService(workspace, config=load_config(folder), clock=FakeClock())


def _car(plate: str) -> EntityRef:
    from core.normalize import plate as norm

    return EntityRef("vehicle", norm(plate), plate)


def test_watchlist_plate_hit_from_entities_and_fields_any_written_form(ops: OpsService) -> None:
    key = ops.alerts.watch("plate", "浙F·12345", reason="涉嫌盗窃")
    assert key == "浙F12345"
    by_entity = record("checkpoint", "r1", entities=(_car("浙f 12345"),), geo=OUTSIDE)
    by_field = record("hotel", "r2", fields={"plate": "浙F-12345"})
    other = record("checkpoint", "r3", entities=(_car("浙F54321"),))
    raised = ops.alerts.evaluate([by_entity, by_field, other])
    assert sorted(a.record_uid for a in raised) == ["checkpoint:r1", "hotel:r2"]
    assert all(a.kind == "watchlist" and a.subject == "浙F12345" for a in raised)
    assert raised[0].payload["reason"] == "涉嫌盗窃"
    # The same batch handed over again (crash and resume) raises nothing new.
    assert ops.alerts.evaluate([by_entity, by_field, other]) == []
    assert len(ops.alerts.list()) == 2


def test_watchlist_phone_and_id_number(ops: OpsService) -> None:
    ops.alerts.watch("phone", "+86 138-0013-8000")
    ops.alerts.watch("id_number", "33040219800101123x")
    call = record("cdr", "c1", fields={"caller_phone": "0086 13800138000"})
    person = record("hotel", "h1", entities=(EntityRef("person", "33040219800101123X"),))
    registry = record("population", "p1", entities=(EntityRef("person", "33040219800101123X"),))
    raised = ops.alerts.evaluate([call, person, registry])
    assert sorted((a.payload["entity_type"], a.record_uid) for a in raised) == [
        ("person", "hotel:h1"),
        ("phone", "cdr:c1"),
    ]


def test_watchlist_source_records_feed_the_watchlist(ops: OpsService) -> None:
    entry = record(
        "watchlist",
        "W1",
        text={"reason": "网上追逃 fugitive"},
        entities=(
            EntityRef("person", "330402199001011234", "张三"),
            EntityRef("phone", "13912345678"),
        ),
    )
    sighting = record("hotel", "h9", entities=(EntityRef("person", "330402199001011234"),))
    raised = ops.alerts.evaluate([entry, sighting])  # one batch: entry first, then sighting
    assert [a.record_uid for a in raised] == ["hotel:h9"]
    assert raised[0].payload["reason"] == "网上追逃 fugitive"
    assert "张三" in raised[0].title
    kinds = {(w["kind"], w["key"]) for w in ops.alerts.watchlist()}
    assert kinds == {("person", "330402199001011234"), ("phone", "13912345678")}


def test_saved_search_matches_new_records(ops: OpsService) -> None:
    ops.alerts.save_search(
        "南湖电动车被盗", text="电动车 被盗", fields={"district": "南湖区"}, sources=["incidents"]
    )
    hit = record(
        "incidents",
        "i1",
        text={"description": "楼下电动车被盗，白色雅迪"},
        fields={"district": "南湖区"},
    )
    wrong_district = record(
        "incidents", "i2", text={"description": "电动车被盗"}, fields={"district": "秀洲区"}
    )
    missing_word = record(
        "incidents", "i3", text={"description": "电动车充电起火"}, fields={"district": "南湖区"}
    )
    wrong_source = record("hotel", "h1", text={"note": "电动车被盗"}, fields={"district": "南湖区"})
    raised = ops.alerts.evaluate([hit, wrong_district, missing_word, wrong_source])
    assert [(a.kind, a.record_uid, a.subject) for a in raised] == [
        ("saved_search", "incidents:i1", "南湖电动车被盗")
    ]
    assert ops.alerts.delete_search("南湖电动车被盗")
    assert (
        ops.alerts.evaluate(
            [record("incidents", "i4", text={"d": "电动车被盗"}, fields={"district": "南湖区"})]
        )
        == []
    )


def test_geofence_exit_of_a_route_corridor(ops: OpsService) -> None:
    truck = _car("浙F8H001")

    def read(n: int, point: tuple[float, float], minutes: int) -> Any:
        return record("checkpoint", f"g{n}", time=T0 + minutes * 60, geo=point, entities=(truck,))

    other_car = record("checkpoint", "x", time=T0, geo=OUTSIDE, entities=(_car("浙F00001"),))
    assert ops.alerts.evaluate([read(1, INSIDE_CORRIDOR, 0), other_car]) == []
    left = ops.alerts.evaluate([read(2, OUTSIDE, 10)])
    assert [(a.kind, a.subject, a.payload["fence"]) for a in left] == [
        ("geofence", "浙F8H001", "corridor")
    ]
    assert ops.alerts.evaluate([read(3, OUTSIDE, 20)]) == []  # still outside: no repeat
    assert ops.alerts.evaluate([read(0, INSIDE_CORRIDOR, 5)]) == []  # late, older read ignored
    assert ops.alerts.evaluate([read(4, INSIDE_CORRIDOR, 30)]) == []  # back on route
    again = ops.alerts.evaluate([read(5, OUTSIDE, 40), read(6, OUTSIDE, 41)])
    assert [a.record_uid for a in again] == ["checkpoint:g5"]


def test_geofence_first_seen_outside_the_corridor_alerts(ops: OpsService) -> None:
    raised = ops.alerts.evaluate(
        [record("checkpoint", "f", time=T0, geo=OUTSIDE, fields={"plate": "浙F·8H001"})]
    )
    assert [a.subject for a in raised] == ["浙F8H001"]


def test_geofence_entry_for_matching_vehicles_only(ops: OpsService) -> None:
    truck = record(
        "checkpoint",
        "t1",
        time=T0,
        geo=INSIDE_BOTH,
        entities=(_car("浙F11111"),),
        fields={"vehicle_kind": "货车"},
    )
    car = record(
        "checkpoint",
        "c1",
        time=T0,
        geo=INSIDE_BOTH,
        entities=(_car("浙F22222"),),
        fields={"vehicle_kind": "小型轿车"},
    )
    raised = ops.alerts.evaluate([truck, car])
    assert [(a.subject, a.payload["fence"], a.payload["event"]) for a in raised] == [
        ("浙F11111", "zone", "entry")
    ]
    inside_again = record(
        "checkpoint",
        "t2",
        time=T0 + 60,
        geo=INSIDE_BOTH,
        entities=(_car("浙F11111"),),
        fields={"vehicle_kind": "货车"},
    )
    assert ops.alerts.evaluate([inside_again]) == []


def test_face_match_threshold_and_audit(ops: OpsService, workspace: Any) -> None:
    assert ops.alerts.raise_alert("face_match", title="weak", score=0.65) is None
    alert = ops.alerts.raise_alert(
        "face_match",
        title="人脸比中 face match: 张三",
        score=0.83,
        subject="person:330402199001011234",
        user="facematch",
        dedup_key="face:cam7:frame91",
    )
    assert alert is not None and alert.payload["score"] == 0.83 and alert.severity == "high"
    assert (
        ops.alerts.raise_alert("face_match", title="dup", score=0.9, dedup_key="face:cam7:frame91")
        is None
    )
    entry = workspace.audit.search(action="ops.alert.raise")[-1]
    # The audit names the session's user; the engine that raised it is kept beside it.
    assert entry["user"] == workspace.user and entry["params"]["alert"] == alert.id
    assert entry["params"]["on_behalf_of"] == "facematch"


def test_module_level_raise_alert_for_other_engines(workspace: Any) -> None:
    from ops.service import raise_alert

    alert = raise_alert(
        workspace, "face_match", title="人脸比中", score=0.99, record_uid="watchlist:W7"
    )
    assert alert is not None and alert.record_uid == "watchlist:W7"
    assert raise_alert(workspace, "face_match", title="weak", score=0.01) is None


def test_subscribe_poll_and_acknowledge(ops: OpsService, workspace: Any) -> None:
    from core.workspace import Workspace

    pushed: list[int] = []
    unsubscribe = ops.alerts.subscribe(lambda a: pushed.append(a.id))
    ops.alerts.watch("plate", "浙F12345")
    raised = ops.alerts.evaluate(
        [record("hotel", str(n), fields={"plate": "浙F12345"}) for n in range(3)]
    )
    unsubscribe()
    assert pushed == [a.id for a in raised] and pushed == sorted(pushed)
    other = OpsService(Workspace.open(workspace.root))  # a second console process's view
    assert [a.id for a in other.alerts.since(0)] == pushed
    assert [a.id for a in other.alerts.since(pushed[0])] == pushed[1:]
    acked = other.alerts.ack(pushed[1], user="duty-officer", note="已派员核查")
    assert acked.acked_by == "duty-officer" and acked.ack_note == "已派员核查"
    again = ops.alerts.ack(pushed[1], user="someone-else")
    assert again.acked_by == "duty-officer"  # the first acknowledgement stands
    acks = workspace.audit.search(action="ops.alert.ack")
    assert [(e["user"], e["params"]["on_behalf_of"], e["params"]["alert"]) for e in acks] == [
        (workspace.user, "duty-officer", pushed[1])
    ]
    assert [a.id for a in ops.alerts.list(unacked_only=True)] == [pushed[2], pushed[0]]
    with pytest.raises(UnknownAlertError, match="999"):
        ops.alerts.ack(999)


def test_rescan_raises_for_records_already_stored(ops: OpsService, workspace: Any) -> None:
    workspace.store.upsert_batch(
        [
            record("hotel", "old1", entities=(EntityRef("phone", "13700000000"),)),
            record("hotel", "old2", entities=(EntityRef("phone", "13700000001"),)),
        ]
    )
    ops.alerts.watch("phone", "137 0000 0000")
    assert ops.alerts.rescan() == 1
    assert ops.alerts.rescan() == 0
    assert ops.alerts.list()[0].record_uid == "hotel:old1"


def test_rescan_reads_the_watchlist_before_the_sightings(ops: OpsService, workspace: Any) -> None:
    # "hotel:…" sorts before "watchlist:…" and each sits in its own batch of one.
    workspace.store.upsert_batch(
        [
            record("hotel", "seen", entities=(EntityRef("vehicle", "浙F77777"),)),
            record("watchlist", "w", entities=(EntityRef("vehicle", "浙F77777"),)),
        ]
    )
    assert ops.alerts.rescan(batch_size=1) == 1


def test_search_engine_saved_searches_raise_alerts(ops: OpsService, workspace: Any) -> None:
    from search import FieldRegistry, SavedSearches

    saved = SavedSearches(workspace.search_dir, FieldRegistry.from_workspace(workspace))
    search = saved.add("厨房火情", "起火 AND 厨房", owner="analyst")
    fire = record(
        "incidents", "f1", rtype="incident_report", text={"description": "居民楼厨房起火，有浓烟"}
    )
    other = record("incidents", "f2", rtype="incident_report", text={"description": "垃圾房起火"})
    raised = ops.alerts.evaluate([fire, other])
    assert [(a.kind, a.rule, a.record_uid) for a in raised] == [
        ("saved_search", f"search:{search.id}", "incidents:f1")
    ]
    assert ops.alerts.evaluate([fire]) == []


def test_geofences_for_the_map(ops: OpsService) -> None:
    geo = ops.alerts.geofences_geojson()
    corridor = geo["features"][0]
    assert corridor["properties"] == {"id": "corridor", "name": "test corridor", "alert_on": "exit"}
    ring = corridor["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] == [120.70, 30.70]  # closed, (lon, lat)


def test_saved_search_matching_keeps_the_trust_anchor_current(
    ops: OpsService, workspace: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Loading the search engine's saved searches discovers plugins, and each load is audited;
    inside the alert transaction every audit entry waited 30 s for the store's lock and then
    left the trust anchor behind (logged). Now they are loaded before the transaction."""
    from search import FieldRegistry, SavedSearches

    saved = SavedSearches(workspace.search_dir, FieldRegistry.from_workspace(workspace))
    saved.add("厨房火情", "起火 AND 厨房", owner="analyst")
    fire = record(
        "incidents", "f1", rtype="incident_report", text={"description": "居民楼厨房起火，有浓烟"}
    )
    with caplog.at_level(logging.WARNING, logger="core.anchor"):
        assert len(ops.alerts.evaluate([fire])) == 1
    assert not [r for r in caplog.records if "not updated" in r.getMessage()]
