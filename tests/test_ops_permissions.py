"""Operations enforce the roles of resources/security/roles.toml in the service itself: an analyst
sees the board but cannot dispatch; a commander can; refusals are audited."""

from __future__ import annotations

from typing import Any

import pytest

from core.security import PermissionDeniedError
from core.users import add_user
from core.workspace import Workspace
from ops.service import OpsService
from tests.ops_fixtures import CENTRE

PASSWORDS = {"root": "admin-Kestrel-41", "ana": "analyst-Heron-27", "cmd": "commander-Crane-85"}


def _as(ws: Workspace, user: str) -> OpsService:
    other = Workspace.open(ws.root)
    other.login(user, PASSWORDS[user])
    return OpsService(other)


@pytest.fixture
def staffed(workspace: Any) -> Workspace:
    add_user(workspace, "root", "administrator", PASSWORDS["root"])
    workspace.login("root", PASSWORDS["root"])
    add_user(workspace, "ana", "analyst", PASSWORDS["ana"])
    add_user(workspace, "cmd", "commander", PASSWORDS["cmd"])
    ops = OpsService(workspace)
    ops.units.add("NH-01", unit_type="patrol_car", lat=CENTRE[0], lon=CENTRE[1])
    return workspace  # type: ignore[no-any-return]


def test_analyst_reads_and_acknowledges_but_cannot_dispatch(staffed: Workspace) -> None:
    analyst = _as(staffed, "ana")
    commander = _as(staffed, "cmd")
    inc = commander.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    assert analyst.board()["incidents"]["received"] == 1
    assert analyst.dispatch.recommend(inc.id)[0].unit_id == "NH-01"
    with pytest.raises(PermissionDeniedError, match=r"ops\.dispatch"):
        analyst.dispatch.assign(inc.id, "NH-01")
    with pytest.raises(PermissionDeniedError, match=r"ops\.intake"):
        analyst.incidents.create("纠纷", 3)
    with pytest.raises(PermissionDeniedError):
        analyst.units.set_status("NH-01", "off_duty")
    with pytest.raises(PermissionDeniedError):
        analyst.alerts.watch("plate", "浙F12345")
    assert analyst.units.get("NH-01").status == "available"
    denied = [e for e in staffed.audit.entries() if e["action"] == "access.denied"]
    assert [(e["user"], e["params"]["permission"]) for e in denied] == [
        ("ana", "ops.dispatch"),
        ("ana", "ops.intake"),
        ("ana", "ops.dispatch"),
        ("ana", "ops.dispatch"),
    ]
    alert = commander.alerts.raise_alert("face_match", title="face", score=0.95)
    assert alert is not None
    assert analyst.alerts.ack(alert.id).acked_by == "ana"


def test_commander_dispatches(staffed: Workspace) -> None:
    commander = _as(staffed, "cmd")
    inc = commander.incidents.create("火警", 1, lat=CENTRE[0], lon=CENTRE[1])
    made = commander.dispatch.assign(inc.id, "NH-01")
    assert made[0].assigned_by == "cmd"
    assert commander.units.set_status("NH-01", "en_route").status == "en_route"
