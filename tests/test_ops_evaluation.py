"""The evaluation dashboard (issue #15): configurable indicators by district and month with
year-on-year change, on a small hand-built dataset whose answers are worked out below."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.security import PermissionDeniedError
from core.services import call, local_context
from core.users import add_user
from core.workspace import Workspace
from ops.errors import OpsConfigError
from ops.evaluation import months_of, shift_month
from ops.evaluation_spec import load_evaluation
from ops.service import OpsService

SHANGHAI = ZoneInfo("Asia/Shanghai")
NANHU, HAIYAN = "南湖区", "海盐县"  # 615,000 and 456,000 residents of 5,177,000 (districts.toml)

INDICATORS = """
repeat_days = 7
repeat_place_m = 100

[[indicator]]
id = "per_10k"
label = "Incidents per 10k"
label_zh = "每万人警情数"
kind = "count"
per_10k = true
unit = "per 10k"
direction = "lower"

[[indicator]]
id = "p1_share"
label = "P1 share"
label_zh = "一级警情占比"
kind = "rate"
numerator = { priority = 1 }
unit = "%"
direction = "lower"

[[indicator]]
id = "dispatch_p90"
label = "Dispatch p90"
label_zh = "派警P90"
kind = "percentile"
from = "received"
to = "dispatched"
unit = "min"
direction = "lower"

[[indicator]]
id = "response_p50"
label = "Response p50"
label_zh = "到场P50"
kind = "percentile"
percentile = 50
from = "dispatched"
to = "on_scene"
unit = "min"
direction = "lower"

[[indicator]]
id = "clearance_24h"
label = "Cleared in 24 h"
label_zh = "24小时办结率"
kind = "rate"
where = { has = ["resolved"] }
numerator = { received_to_resolved_min = { max = 1440 } }
unit = "%"
direction = "higher"

[[indicator]]
id = "repeat"
label = "Repeat calls"
label_zh = "重复报警率"
kind = "rate"
numerator = { repeat = true }
unit = "%"
direction = "lower"

[[indicator]]
id = "mediation"
label = "Mediation success"
label_zh = "调解成功率"
kind = "rate"
where = { mediation = ["success", "failed"] }
numerator = { mediation = "success" }
unit = "%"
direction = "higher"

[[indicator]]
id = "rating"
label = "Satisfaction"
label_zh = "满意度"
kind = "mean"
field = "rating"
unit = "/ 5"
direction = "higher"

[[indicator]]
id = "feedback"
label = "Feedback completeness"
label_zh = "反馈完整率"
kind = "rate"
where = { closed = true, has = ["dispatched"] }
numerator = { unit_feedback = true }
unit = "%"
direction = "higher"

[[indicator]]
id = "disputes_per_p1"
label = "Disputes per P1 incident"
label_zh = "每起一级警情对应纠纷数"
kind = "ratio"
where = { dispute = true }
denominator = { priority = 1 }
unit = "×"
direction = "lower"

[[indicator]]
id = "ack_p90"
label = "Alert acknowledgement p90"
label_zh = "预警签收P90"
source = "alerts"
kind = "percentile"
from = "raised"
to = "acked"
unit = "min"
direction = "lower"
"""


def at(text: str) -> float:
    """Epoch of a wall-clock time in Shanghai, e.g. ``at("2026-03-05 10:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp()


def incident(
    con: Any,
    received: str,
    district: str,
    *,
    priority: int = 3,
    status: str = "resolved",
    minutes: dict[str, float] | None = None,
    phone: str = "",
    where: tuple[float, float] | None = None,
    mediation: str | None = None,
    rating: int | None = None,
    unit_feedback: bool = False,
) -> int:
    """One incident; ``minutes`` gives its stamps as minutes after it was received."""
    t = at(received)
    stamps = {"received": t, **{k: t + 60 * v for k, v in (minutes or {}).items()}}
    lat, lon = where or (None, None)
    cur = con.execute(
        "INSERT INTO ops_incidents (category, priority, status, received_at, lat, lon, "
        "district, reporter_phone, stamps, dispute, mediation, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            "纠纷" if mediation else "盗窃",
            priority,
            status,
            t,
            lat,
            lon,
            district,
            phone,
            json.dumps(stamps),
            int(mediation is not None),
            mediation,
            t,
        ),
    )
    iid = int(cur.lastrowid)
    if rating is not None:
        con.execute(
            "INSERT INTO ops_reports (code, incident_id, ts, peer, phone, rating) "
            "VALUES (?,?,?,?,?,?)",
            (f"R{iid}", iid, t, "test", phone, rating),
        )
    if unit_feedback:
        con.execute(
            "INSERT INTO ops_field_log (ts, unit_id, incident_id, kind, account) "
            "VALUES (?,?,?,?,?)",
            (t, "NH-01", iid, "feedback", "unit-nh-01"),
        )
    return iid


def alert(con: Any, raised: str, district: str, ack_minutes: float | None) -> None:
    t = at(raised)
    con.execute(
        "INSERT INTO ops_alerts (ts, kind, rule, severity, title, payload, acked_at) "
        "VALUES (?,?,?,?,?,?,?)",
        (
            t,
            "watchlist",
            "w",
            "high",
            "hit",
            json.dumps({"district": district}),
            None if ack_minutes is None else t + 60 * ack_minutes,
        ),
    )


@pytest.fixture
def evaluated(workspace: Workspace) -> Workspace:
    """March 2026 and March 2025 in 南湖区 and 海盐县 (see each row's comment)."""
    (workspace.root / "ops").mkdir()
    (workspace.root / "ops" / "evaluation.toml").write_text(INDICATORS, encoding="utf-8")
    ops = OpsService(workspace)
    with workspace.store.transaction() as con:
        # 南湖区, March 2026: three incidents count (a cancelled one and one of 1 April,
        # local time, do not).
        incident(
            con,
            "2026-03-05 10:00",
            NANHU,
            priority=1,
            phone="13800000001",
            minutes={"dispatched": 4, "on_scene": 14, "resolved": 60},
            rating=5,
            unit_feedback=True,
        )
        incident(
            con,
            "2026-03-10 10:00",
            NANHU,
            phone="13800000002",
            mediation="success",
            minutes={"dispatched": 2, "on_scene": 8, "resolved": 30 * 60},
            rating=3,
        )
        incident(
            con,
            "2026-03-12 09:00",
            NANHU,
            phone="13800000002",
            mediation="failed",
            minutes={"dispatched": 3, "on_scene": 11, "resolved": 60},
        )  # repeat: phone
        incident(con, "2026-03-20 08:00", NANHU, status="cancelled", minutes={"dispatched": 90})
        incident(con, "2026-04-01 00:30", NANHU, priority=1, minutes={"dispatched": 60})
        # 南湖区, March 2025: two incidents, slower; and one of 28 Feb 2025 nearby whose
        # place makes the first March one a repeat call (same place within 7 days).
        incident(con, "2025-02-28 12:00", NANHU, where=(30.7500, 120.7600))
        incident(
            con,
            "2025-03-02 12:00",
            NANHU,
            where=(30.7500, 120.7600),
            minutes={"dispatched": 5, "on_scene": 17, "resolved": 100},
        )
        incident(
            con,
            "2025-03-20 12:00",
            NANHU,
            priority=1,
            mediation="success",
            minutes={"dispatched": 7, "on_scene": 19, "resolved": 2000},
            rating=4,
        )
        # 海盐县, March 2026: one P1 incident, not dispatched yet.
        incident(con, "2026-03-15 16:00", HAIYAN, priority=1, status="accepted")
        # Alerts, March 2026: two in 南湖区 (acknowledged after 2 and 6 minutes), one
        # unacknowledged in 海盐县, one without a district (only in the all column).
        alert(con, "2026-03-03 08:00", NANHU, 2)
        alert(con, "2026-03-04 08:00", NANHU, 6)
        alert(con, "2026-03-05 08:00", HAIYAN, None)
        alert(con, "2026-03-06 08:00", "", 10)
    del ops
    return workspace


def _evaluate(ws: Workspace, **params: Any) -> dict[str, Any]:
    data = call("ops.evaluate", local_context(ws), **params)
    return {ind["id"]: ind for ind in data["indicators"]} | {"_": data}


def test_indicators_on_a_hand_built_month(evaluated: Workspace) -> None:
    ind = _evaluate(evaluated, month="2026-03", months=13)
    nanhu = {k: v["cells"][NANHU] for k, v in ind.items() if k != "_"}
    assert nanhu["per_10k"]["n"] == 3
    assert nanhu["per_10k"]["value"] == pytest.approx(3 * 10_000 / 615_000, abs=1e-4)
    assert nanhu["p1_share"]["value"] == pytest.approx(100 / 3, abs=1e-2)
    assert nanhu["dispatch_p90"]["value"] == pytest.approx(3.8)  # p90 of 2, 3, 4 minutes
    assert nanhu["response_p50"]["value"] == pytest.approx(8.0)  # median of 10, 6, 8
    assert nanhu["clearance_24h"]["value"] == pytest.approx(200 / 3, abs=1e-2)  # 30 h misses
    assert nanhu["repeat"]["value"] == pytest.approx(100 / 3, abs=1e-2)  # same phone, 2 days
    assert nanhu["mediation"]["value"] == 50.0 and nanhu["mediation"]["n"] == 2
    assert nanhu["rating"]["value"] == 4.0 and nanhu["rating"]["n"] == 2
    assert nanhu["feedback"]["value"] == pytest.approx(100 / 3, abs=1e-2)
    assert nanhu["disputes_per_p1"]["value"] == 2.0  # two disputes, one P1
    assert nanhu["ack_p90"]["value"] == pytest.approx(5.6)  # p90 of 2 and 6 minutes
    haiyan = {k: v["cells"][HAIYAN] for k, v in ind.items() if k != "_"}
    assert haiyan["per_10k"]["value"] == pytest.approx(10_000 / 456_000, abs=1e-4)
    assert haiyan["p1_share"]["value"] == 100.0
    assert haiyan["dispatch_p90"]["value"] is None and haiyan["dispatch_p90"]["n"] == 0
    assert haiyan["ack_p90"]["value"] is None  # its one alert is not acknowledged
    everywhere = {k: v["cells"]["all"] for k, v in ind.items() if k != "_"}
    assert everywhere["per_10k"]["n"] == 4
    assert everywhere["per_10k"]["value"] == pytest.approx(4 * 10_000 / 5_177_000, abs=1e-4)
    assert everywhere["ack_p90"]["value"] == pytest.approx(9.2)  # 2, 6 and the district-less 10
    # a district without incidents has no rate, not a zero
    assert ind["p1_share"]["cells"]["秀洲区"]["value"] is None
    assert ind["per_10k"]["cells"]["秀洲区"]["value"] == 0.0


def test_year_on_year_change_and_its_direction(evaluated: Workspace) -> None:
    ind = _evaluate(evaluated, month="2026-03", months=13)
    count = ind["per_10k"]["cells"][NANHU]
    assert count["previous"] == pytest.approx(2 * 10_000 / 615_000, abs=1e-4)
    assert count["yoy_pct"] == pytest.approx(50.0)  # 3 incidents against 2
    assert count["better"] is False  # more incidents: lower is better
    dispatch = ind["dispatch_p90"]["cells"][NANHU]
    assert dispatch["previous"] == pytest.approx(6.8)  # p90 of 5 and 7 minutes
    assert dispatch["yoy_delta"] == pytest.approx(3.8 - 6.8)
    assert dispatch["better"] is True  # faster: lower is better
    clearance = ind["clearance_24h"]["cells"][NANHU]
    assert clearance["previous"] == 50.0  # 2000 minutes is more than a day
    assert clearance["better"] is True  # 66.7 % against 50 %: higher is better
    repeat = ind["repeat"]["cells"][NANHU]
    assert repeat["previous"] == 50.0  # the first March 2025 call was a repeat by place
    assert ind["mediation"]["cells"][NANHU]["better"] is False  # 50 % against 100 %
    p1 = ind["p1_share"]["cells"][HAIYAN]
    assert p1["previous"] is None and p1["yoy_delta"] is None and p1["better"] is None
    data = ind["_"]
    assert data["months"][0] == "2025-03" and data["months"][-1] == "2026-03"
    assert len(data["months"]) == 13 and data["zone"] == "Asia/Shanghai"
    assert data["config_source"] == "workspace"  # its ops/evaluation.toml, not the shipped one
    series = ind["per_10k"]["series"][NANHU]
    assert series[0] == count["previous"] and series[-1] == count["value"]
    assert series[1:-1] == [0.0] * 11


def test_the_month_is_the_workspace_zone_s(evaluated: Workspace) -> None:
    """An incident received at 00:30 on 1 April in Shanghai (16:30 UTC on 31 March) is
    April's; in a workspace kept in UTC it is March's."""
    april = _evaluate(evaluated, month="2026-04", months=1)
    assert april["per_10k"]["cells"][NANHU]["n"] == 1
    assert (
        months_of(__import__("numpy").array([at("2026-04-01 00:30")]), ZoneInfo("UTC"))[0]
        == "2026-03"
    )
    text = (evaluated.root / "superbrain.toml").read_text(encoding="utf-8")
    (evaluated.root / "superbrain.toml").write_text(
        text.replace('timezone = "Asia/Shanghai"', 'timezone = "UTC"'), encoding="utf-8"
    )
    utc = Workspace.open(evaluated.root)
    march = _evaluate(utc, month="2026-03", months=1)
    assert march["per_10k"]["cells"][NANHU]["n"] == 4 and march["_"]["zone"] == "UTC"


def test_the_default_month_is_the_last_complete_one(evaluated: Workspace) -> None:
    data = OpsService(evaluated, clock=lambda: at("2026-04-01 00:10")).evaluate()
    assert data["month"] == "2026-03" and len(data["months"]) == 13
    assert shift_month("2026-01", -1) == "2025-12"


def test_shipped_indicators_are_twelve_and_valid() -> None:
    spec = load_evaluation()
    assert len(spec.indicators) == 12
    assert len({i.id for i in spec.indicators}) == 12
    assert all(i.label_zh and i.direction in ("higher", "lower") for i in spec.indicators)


@pytest.mark.parametrize(
    ("edit", "names"),
    [
        (
            (
                'direction = "lower"\n\n[[indicator]]\nid = "p1_share"',
                'direction = "down"\n\n[[indicator]]\nid = "p1_share"',
            ),
            ["[[indicator]] #1 ('per_10k')", "'direction'", "'down'"],
        ),
        (
            ("numerator = { priority = 1 }", "numerater = { priority = 1 }"),
            ["#2 ('p1_share')", "'numerater'", "did you mean 'numerator'"],
        ),
        (
            ("numerator = { repeat = true }", "numerator = { repeats = true }"),
            ["#6 ('repeat')", "numerator.repeats", "did you mean 'repeat'"],
        ),
        (('to = "dispatched"', 'to = "assigned"'), ["#3 ('dispatch_p90')", "'to'", "'assigned'"]),
        (('id = "rating"', 'id = "per_10k"'), ["#8", "duplicate id 'per_10k'"]),
        (('field = "rating"', 'field = "category"'), ["#8 ('rating')", "'field'"]),
    ],
)
def test_a_broken_indicators_file_names_file_and_key(
    workspace: Workspace, edit: tuple[str, str], names: list[str]
) -> None:
    assert edit[0] in INDICATORS
    folder = workspace.root / "ops"
    folder.mkdir()
    (folder / "evaluation.toml").write_text(INDICATORS.replace(*edit), encoding="utf-8")
    with pytest.raises(OpsConfigError) as err:
        call("ops.evaluate", local_context(workspace), month="2026-03")
    message = str(err.value)
    assert str(folder / "evaluation.toml") in message
    for name in names:
        assert name in message
    failed = [e for e in workspace.audit.entries() if e["action"] == "ops.evaluate"]
    assert failed and failed[-1]["params"].get("outcome") == "failed"


def test_bad_month_and_range_are_refused(workspace: Workspace) -> None:
    from ops.errors import OpsError

    for month, months in (
        ("2026-3", 13),
        ("2026-13", 13),
        ("march", 13),
        ("2026-03", 0),
        ("2026-03", 61),
    ):
        with pytest.raises(OpsError, match="month"):
            call("ops.evaluate", local_context(workspace), month=month, months=months)


def test_permission_refused_and_audited(evaluated: Workspace) -> None:
    passwords = {"root": "admin-Kestrel-41", "ana": "analyst-Heron-27", "med": "mediator-Egret-63"}
    add_user(evaluated, "root", "administrator", passwords["root"])
    evaluated.login("root", passwords["root"])
    add_user(evaluated, "ana", "analyst", passwords["ana"])
    add_user(evaluated, "med", "mediator", passwords["med"])
    mediator = Workspace.open(evaluated.root)
    mediator.login("med", passwords["med"])
    with pytest.raises(PermissionDeniedError, match=r"ops\.read"):
        call("ops.evaluate", local_context(mediator), month="2026-03")
    analyst = Workspace.open(evaluated.root)
    analyst.login("ana", passwords["ana"])
    data = call("ops.evaluate", local_context(analyst), month="2026-03")
    assert data["month"] == "2026-03"
    entries = list(evaluated.audit.entries())
    denied = [e for e in entries if e["action"] == "access.denied"]
    assert [(e["user"], e["params"]["permission"]) for e in denied] == [("med", "ops.read")]
    done = [e for e in entries if e["action"] == "ops.evaluate"]
    assert [(e["user"], e["params"]["month"]) for e in done] == [("ana", "2026-03")]


def test_cli_prints_the_table_and_json(
    evaluated: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from main import main

    root = str(evaluated.root)
    assert (
        main(
            [
                "ops",
                "evaluate",
                "-w",
                root,
                "--month",
                "2026-03",
                "--district",
                NANHU,
                "--indicator",
                "dispatch_p90",
                "--trend",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "evaluation of 2026-03 against 2025-03 (months in Asia/Shanghai)" in out
    assert "3.80 min" in out and "6.80 min" in out and "▼ -3.00" in out and "better" in out
    assert "trend 南湖区 2025-03 … 2026-03: 6.8, -," in out
    assert main(["ops", "evaluate", "-w", root, "--month", "2026-03", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["districts"][-1] == "all" and len(data["indicators"]) == 11
    assert main(["ops", "evaluate", "-w", root, "--indicator", "nope"]) == 2
    assert "no indicator 'nope'" in capsys.readouterr().err


def test_demo_history_covers_thirteen_months_with_year_on_year(workspace: Workspace) -> None:
    """The seeded history gives every district a value and a year-before value for the
    shipped indicators, the same history for the same seed, and is written once."""
    from ops.history import seed_history
    from ops.seed import seed_demo_units

    now = at("2026-12-06 10:00")
    ops = OpsService(workspace, clock=lambda: now)
    seed_demo_units(ops)
    counts = seed_history(ops, now=now)
    assert counts["incidents"] > 25 * 100 and counts["alerts"] > 0
    assert seed_history(ops, now=now) == {"incidents": 0}
    data = ops.evaluate("2026-11", 13)
    assert data["months"][0] == "2025-11" and data["config_source"] == "shipped"
    for ind in data["indicators"]:
        cell = ind["cells"]["all"]
        assert cell["value"] is not None and cell["previous"] is not None, ind["id"]
        assert all(v is not None for v in ind["series"]["all"]), ind["id"]
    newest = ops.ctx.con.execute("SELECT max(received_at) FROM ops_incidents").fetchone()[0]
    assert newest < at("2026-12-01 00:00")  # closed months only; the live shift is today's
    assert not ops.incidents.open_queue()
    audit = [e for e in workspace.audit.entries() if e["action"] == "ops.seed_history"]
    assert len(audit) == 1 and audit[0]["params"]["incidents"] == counts["incidents"]
    other = Workspace.init(Path(str(workspace.root) + "-again"))
    again = OpsService(other, clock=lambda: now)
    seed_demo_units(again)
    assert seed_history(again, now=now) == counts
    rows = "SELECT category, priority, received_at, district, stamps FROM ops_incidents ORDER BY id"
    assert ops.ctx.con.execute(rows).fetchall() == again.ctx.con.execute(rows).fetchall()
