"""Incident intake: typed in by a commander, or from ingested records (the ops stage)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from core.model import Record
from ops.config import load_config
from ops.errors import InvalidIncidentError
from ops.intake import map_record
from ops.service import OpsService
from tests.ops_fixtures import CENTRE, T0, make_ops, record

HEADER = (
    "case_no",
    "report_time",
    "category",
    "priority",
    "status",
    "district",
    "address",
    "lat",
    "lon",
    "reporter_name",
    "reporter_name_en",
    "reporter_id",
    "reporter_phone",
    "suspect_name",
    "suspect_id",
    "plate",
    "description",
)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, HEADER)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in HEADER})
    return path


ROWS = [
    {
        "case_no": "J3304022026110100001",
        "report_time": "2026-11-01 08:00:00",
        "category": "火警",
        "priority": "1",
        "status": "待处置",
        "district": "南湖区",
        "address": "嘉兴市南湖区中山路1号",
        "lat": "30.7601",
        "lon": "120.7902",
        "reporter_name": "王芳",
        "reporter_phone": "13800138000",
        "description": "居民楼厨房起火，有浓烟",
    },
    {
        "case_no": "J3304022026110100002",
        "report_time": "2026-11-01 09:30:00",
        "category": "纠纷",
        "priority": "3",
        "status": "已处置",
        "district": "秀洲区",
        "address": "洪兴路8号",
        "lat": "30.7850",
        "lon": "120.6800",
        "description": "两名住户因停车位发生纠纷",
    },
    {
        "case_no": "J3304022026110100003",
        "report_time": "2026-11-01 10:00:00",
        "category": "噪音扰民",
        "priority": "4",
        "status": "已到场",
        "district": "",
        "address": "",
        "lat": "30.5300",
        "lon": "120.9400",
        "description": "深夜大声播放音乐",
    },
]


def _ingest(workspace: Any, path: Path, force: bool = False) -> Any:
    from core.ingest import Ingestor

    plugin = workspace.discover_sources().get("incidents")
    return Ingestor(workspace).ingest_file(plugin, path, force=force)


def test_commander_typed_incident(workspace: Any) -> None:
    ops = make_ops(workspace)
    inc = ops.incidents.create(
        "纠纷",
        3,
        lat=CENTRE[0],
        lon=CENTRE[1],
        address="中山路1号",
        reporter="李四",
        reporter_phone="13900000000",
        text="邻居吵架",
        user="commander-zhao",
    )
    assert (inc.category, inc.priority, inc.status, inc.district) == (
        "纠纷",
        3,
        "received",
        "南湖区",
    )
    assert inc.created_by == "commander-zhao" and inc.source_uid is None
    assert inc.received_at.timestamp() == T0
    entry = workspace.audit.search(action="ops.incident.create")[-1]
    assert entry["params"]["rule"] == "dispute" and entry["user"] == workspace.user
    assert entry["params"]["on_behalf_of"] == "commander-zhao"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"category": "", "priority": 3}, "category is empty"),
        ({"category": "火警", "priority": 0}, "priority 0 is not one of 1, 2, 3, 4"),
        ({"category": "火警", "priority": 2, "lat": 30.7}, "give both lat and lon"),
        ({"category": "火警", "priority": 2, "lat": 95.0, "lon": 120.0}, "not a WGS-84"),
    ],
)
def test_bad_typed_incident_is_refused_and_nothing_stored(
    workspace: Any, kwargs: dict[str, Any], message: str
) -> None:
    ops = make_ops(workspace)
    category = kwargs.pop("category")
    priority = kwargs.pop("priority")
    with pytest.raises(InvalidIncidentError, match=message):
        ops.incidents.create(category, priority, **kwargs)
    assert ops.incidents.list() == []


def test_ingested_incident_records_become_incidents_idempotently(
    workspace: Any, tmp_path: Path
) -> None:
    path = _write(tmp_path / "calls.csv", ROWS)
    report = _ingest(workspace, path)
    assert report.status == "done" and report.records == 3
    ops = OpsService(workspace)
    incs = {i.source_uid: i for i in ops.incidents.list()}
    fire = incs["incidents:J3304022026110100001"]
    assert (fire.category, fire.priority, fire.status, fire.district) == (
        "火警",
        1,
        "received",
        "南湖区",
    )
    assert fire.routing["rule_id"] == "fire" and fire.reporter == "王芳"
    assert fire.text == "居民楼厨房起火，有浓烟" and fire.lat == pytest.approx(30.7601)
    assert fire.received_at.isoformat() == "2026-11-01T00:00:00+00:00"  # 08:00 CST
    assert incs["incidents:J3304022026110100002"].status == "resolved"
    noise = incs["incidents:J3304022026110100003"]
    assert noise.status == "on_scene" and noise.district == "海盐县"  # from the outline
    assert "on_scene" not in noise.stamps  # no time is invented for a written status
    # A commander dispatches the fire; re-reading the file must not move it back.
    ops.units.add("NH-01", unit_type="patrol_car", lat=30.76, lon=120.79)
    ops.dispatch.assign(fire.id, "NH-01")
    again = _ingest(workspace, path, force=True)
    assert again.status == "done"
    assert len(ops.incidents.list()) == 3
    assert ops.incidents.get(fire.id).status == "dispatched"
    assert ops.incidents.get(fire.id).units == ("NH-01",)
    intake = workspace.audit.search(action="ops.intake")
    assert intake[0]["params"]["created"] == 3 and intake[-1]["params"]["created"] == 0


def test_other_sources_do_not_become_incidents(workspace: Any) -> None:
    ops = make_ops(workspace)
    created, updated, problems = ops.intake.ingest_records(
        [
            record("cdr", "1", rtype="call", fields={"category": "x"}),
            record("hotel", "2", rtype="hotel_checkin"),
        ]
    )
    assert (created, updated, problems) == (0, 0, [])


def test_mapping_follows_intake_field_lists() -> None:
    config = load_config()
    rec = Record(
        source="grid_reports",
        id="G7",
        type="incident",
        fields={
            "警情类别": "纠纷",
            "级别": "一级",
            "辖区": "桐乡市",
            "arrive_time": "2026-11-01T08:12:00+08:00",
            "mediation_result": "调解成功",
            "lat": "30.64",
            "lon": "120.53",
        },
        text={"简要案情": "劳资纠纷，工人讨薪"},
    )
    m = map_record(config, rec, now=T0)
    assert (m.category, m.priority, m.district) == ("纠纷", 1, "桐乡市")
    assert m.text == "劳资纠纷，工人讨薪"
    assert (m.lat, m.lon) == (30.64, 120.53)
    # 08:12 China time is 00:12 UTC; T0 is 08:00 UTC the same day.
    assert m.status == "on_scene" and m.stamps["on_scene"] == T0 - 8 * 3600 + 12 * 60
    assert m.dispute and m.mediation == "success"


def test_unmappable_record_is_skipped_with_reason_others_kept(workspace: Any) -> None:
    ops = make_ops(workspace)
    good = record(
        "incidents", "ok", rtype="incident_report", fields={"category": "火警", "priority": 2}
    )
    bad = record(
        "incidents",
        "bad",
        rtype="incident_report",
        fields={"category": "火警", "priority": "asap!"},
    )
    created, _, problems = ops.intake.ingest_records([good, bad])
    assert created == 1
    assert problems == [
        "record incidents:bad: priority 'asap!' is neither 1–4 nor listed in [intake.priority_map]"
    ]
