"""State machines and routing rules of operations, as declared in resources/ops."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ops.config import RESOURCE_DIR, OpsConfig, load_config
from ops.errors import InvalidTransitionError, OpsConfigError
from tests.ops_fixtures import CENTRE, make_ops


@pytest.fixture(scope="module")
def config() -> OpsConfig:
    return load_config()


def test_unit_lifecycle_follows_declared_transitions(config: OpsConfig) -> None:
    sm = config.unit_states
    path = [
        "available",
        "dispatched",
        "en_route",
        "on_scene",
        "cleared",
        "available",
        "off_duty",
        "available",
    ]
    for a, b in itertools.pairwise(path):
        sm.check("unit X", a, b)  # does not raise
    assert sm.initial == "available"


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        ("available", "on_scene"),
        ("off_duty", "dispatched"),
        ("on_scene", "available"),
        ("cleared", "en_route"),
        ("available", "teleported"),
    ],
)
def test_invalid_unit_transition_names_unit_current_and_requested(
    config: OpsConfig, current: str, requested: str
) -> None:
    with pytest.raises(InvalidTransitionError) as err:
        config.unit_states.check("unit NH-03", current, requested)
    msg = str(err.value)
    assert "unit NH-03" in msg and repr(current) in msg and repr(requested) in msg
    assert err.value.current == current and err.value.requested == requested


def test_set_status_refuses_invalid_move_and_keeps_unit(workspace: Any) -> None:
    ops = make_ops(workspace)
    ops.units.add("NH-01", unit_type="patrol_car", lat=CENTRE[0], lon=CENTRE[1])
    with pytest.raises(
        InvalidTransitionError,
        match=r"unit NH-01: cannot go from 'available' "
        r"to 'on_scene'",
    ):
        ops.units.set_status("NH-01", "on_scene")
    unit = ops.units.get("NH-01")
    assert unit.status == "available" and unit.version == 1
    ops.units.set_status("NH-01", "off_duty")
    assert ops.units.get("NH-01").status == "off_duty"


def test_incident_lifecycle_stamps_every_state(workspace: Any) -> None:
    from tests.ops_fixtures import FakeClock

    clock = FakeClock()
    ops = make_ops(workspace, clock)
    inc = ops.incidents.create("纠纷", 3, lat=CENTRE[0], lon=CENTRE[1], text="邻居吵架")
    for status in ("accepted", "routed", "on_scene", "resolved"):
        clock.advance(60)
        ops.incidents.advance(inc.id, status)
    clock.advance(60)
    ops.incidents.record_feedback(inc.id, "满意 satisfied")
    clock.advance(60)
    done = ops.incidents.assess(inc.id, "处置规范 handled well")
    assert list(done.stamps) == [
        "received",
        "accepted",
        "routed",
        "on_scene",
        "resolved",
        "feedback",
        "assessed",
    ]
    gaps = [b.timestamp() - a.timestamp() for a, b in itertools.pairwise(done.stamps.values())]
    assert gaps == [60.0] * 6
    assert done.feedback == "满意 satisfied" and done.assessment == "处置规范 handled well"
    with pytest.raises(InvalidTransitionError, match=f"incident {inc.id}"):
        ops.incidents.advance(inc.id, "received")


@pytest.mark.parametrize(
    ("category", "text", "priority", "rule", "departments"),
    [
        ("火警", "厨房起火", 1, "fire", {"fire", "police_precinct"}),
        ("燃气泄漏", "闻到燃气味", 1, "gas-leak", {"fire", "gas_company", "police_precinct"}),
        ("其他", "小区里有燃气味道", 3, "gas-leak", {"fire", "gas_company", "police_precinct"}),
        ("交通事故", "两车追尾，无人员受伤", 3, "traffic-accident", {"traffic"}),
        ("交通事故", "两车追尾，无人员受伤，双方对责任有争议", 1, "traffic-accident", {"traffic"}),
        ("交通事故", "Rear-end collision, no injuries", 2, "traffic-accident", {"traffic"}),
        (
            "交通事故",
            "电动车与轿车相撞，一人受伤",
            2,
            "traffic-injury",
            {"traffic", "medical", "police_precinct"},
        ),
        ("纠纷", "两名住户因停车位发生纠纷", 3, "dispute", {"community_grid", "police_precinct"}),
        ("其他", "路口井盖缺失", 3, "municipal", {"municipal_works"}),
        ("电动车被盗", "楼下电动车被盗", 3, "theft", {"police_precinct"}),
        ("FIRE", "Small fire in the bin store", 2, "fire", {"fire", "police_precinct"}),
        ("something new", "", 3, "default", {"police_precinct"}),
    ],
)
def test_routing_rules(
    config: OpsConfig, category: str, text: str, priority: int, rule: str, departments: set[str]
) -> None:
    decision = config.router.route(category, text, priority, "南湖区")
    assert decision.rule_id == rule
    assert set(decision.departments) == departments


def test_routing_priority_condition(config: OpsConfig) -> None:
    # Injured at low priority does not fire the max_priority=2 rule: the category rule does.
    assert config.router.route("交通事故", "一人受伤", 4).rule_id == "traffic-accident"
    assert config.router.route("交通事故", "一人受伤", 2).rule_id == "traffic-injury"


def test_fired_rule_is_stored_and_shown_on_incident(workspace: Any) -> None:
    ops = make_ops(workspace)
    inc = ops.incidents.create("燃气泄漏", 1, lat=CENTRE[0], lon=CENTRE[1])
    again = ops.incidents.get(inc.id)
    assert again.routing["rule_id"] == "gas-leak"
    assert "gas_company" in again.routing["departments"]
    assert again.routing["description"].startswith("燃气泄漏")
    assert not again.dispute
    rerouted = ops.incidents.reroute(inc.id, category="纠纷", text="吵架")
    assert rerouted.routing["rule_id"] == "dispute"
    assert rerouted.dispute  # the dispute rule makes it a mediation case


def _override(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "ops"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_workspace_override_of_routing_rules(tmp_path: Path) -> None:
    folder = _override(
        tmp_path,
        "routing.toml",
        """
[departments]
police_precinct = "派出所"
[[rules]]
id = "only"
departments = ["police_precinct"]
capabilities = []
""",
    )
    cfg = load_config(folder)
    assert cfg.router.route("火警").rule_id == "only"
    assert cfg.files["routing.toml"] == folder / "routing.toml"
    assert cfg.files["states.toml"] == RESOURCE_DIR / "states.toml"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "routing.toml",
            '[departments]\na = "A"\n[[rules]]\nid = "r"\ndepartments = ["b"]\n',
            "unknown department 'b'",
        ),
        (
            "routing.toml",
            '[departments]\na = "A"\n[[rules]]\nid = "r"\ndepartments = ["a"]\nkeyword = ["x"]\n',
            "unknown key(s) keyword",
        ),
        (
            "states.toml",
            '[unit]\ninitial = "a"\n[unit.transitions]\na = ["b"]\n'
            '[incident]\ninitial = "x"\n[incident.transitions]\nx = []\n',
            "target 'b' is not a declared state",
        ),
        (
            "sla.toml",
            "[priority.1]\nrespond_min = -5\nresolve_min = 10\n",
            "'respond_min' must be positive",
        ),
        ("routing.toml", "[departments\n", "routing.toml"),
    ],
)
def test_bad_data_files_name_file_and_key(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    folder = _override(tmp_path, name, text)
    with pytest.raises(OpsConfigError) as err:
        load_config(folder)
    assert name in str(err.value)
    assert message in str(err.value)
