"""The one service layer (core.services): every registered service refuses a role without its
permission (refusal audited, nothing run) and, called by a role holding it, succeeds and is
audited under the session's user — never the name the workspace was opened with.

The table CALLS gives each service a real call on a small real workspace (a mapping source
ingested, operations units and incidents, faces enrolled from real photos);
``test_every_service_has_a_call`` fails when a service is added without one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import core.security
from core.security import PermissionDeniedError, Session, load_roles
from core.services import ServiceContext, ServiceError, call, services, to_json
from core.workspace import Workspace

FACES = Path(os.environ.get("SUPERBRAIN_FACES_DIR", "/work/shared/data/faces"))
SHARON = FACES / "lfw-small" / "Ariel_Sharon"
POWELL = FACES / "lfw-small" / "Colin_Powell"

MAPPING = """
[source]
name = "calls"
record_type = "call"
id = ["id"]
time = { column = "at" }

[fields]
a = { role = "identifier", normalizer = "phone" }
b = { role = "identifier", normalizer = "phone" }
note = "text"

[entities.pa]
type = "phone"
key = "a"

[entities.pb]
type = "phone"
key = "b"

[[links]]
type = "called"
from = "pa"
to = "pb"
"""
ROWS = (
    "id,a,b,at,note\n"
    "1,13800138000,13900139000,2026-03-01T08:00:00,first call\n"
    "2,13900139000,13700137000,2026-03-01T09:00:00,second call\n"
    "3,13700137000,13600136000,2026-03-01T10:00:00,third call\n"
)
MORE_ROWS = "id,a,b,at,note\n4,13600136000,13500135000,2026-03-02T08:00:00,fourth call\n"


class Env:
    """The shared workspace and what the calls refer to (ids made during set-up)."""

    def __init__(self, root: Path, ws: Workspace, admin: ServiceContext) -> None:
        self.root, self.ws, self.admin = root, ws, admin
        self.values: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _photo(folder: Path, n: int) -> str:
    return str(sorted(folder.glob("*.jpg"))[n])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """A workspace opened by someone claiming to be 'mallory' (never authenticated); every
    call below acts as the authenticated administrator 'boss'."""
    from core.users import USERS_FILE, UserStore

    mp = pytest.MonkeyPatch()
    mp.setenv("SUPERBRAIN_USER", "mallory")
    root = tmp_path_factory.mktemp("services")
    ws = Workspace.init(root / "ws")
    UserStore(ws.root / USERS_FILE).add("boss", "administrator", "Vx9-overseer-key-2026")
    admin = ServiceContext(ws, Session("boss", "administrator", "password"))
    (ws.root / "plugins" / "calls.toml").write_text(MAPPING, "utf-8")
    (root / "calls.csv").write_text(ROWS, "utf-8")
    (root / "more.csv").write_text(MORE_ROWS, "utf-8")
    e = Env(root, ws, admin)
    assert call("ingest.file", admin, source="calls", path=str(root / "calls.csv")).records == 3
    e.values["merge"] = call(
        "graph.merge_accept", admin, alias="13600136000", canonical="13700137000"
    ).id
    ops = {"unit": "NH-01"}
    units = call("ops.seed_units", admin, count=8)
    ops["unit"], ops["unit2"], ops["unit3"] = units[0].id, units[1].id, units[2].id
    for key in ("incident", "incident_b", "incident_c"):
        inc = call(
            "ops.incident_create",
            admin,
            category="纠纷",
            priority=3,
            lat=units[0].lat,
            lon=units[0].lon,
            reporter="王某",
            reporter_phone="13800138000",
            text="邻居吵架",
        )
        ops[key] = inc.id
    from core.services import acting
    from ops.service import ops_for

    with acting(admin):
        ops["alert"] = ops_for(ws).alerts.raise_alert("face_match", title="face", score=0.95).id
    e.values.update(ops)
    e.values.update(_field_setup(admin, units))
    e.values.update(_case_setup(root, admin))
    if SHARON.is_dir():
        from tests.faces_fixtures import open_cases

        with acting(admin):
            open_cases(ws, numbers=("2026-FT-0021", "2026-FT-0022"))
        call("faces.enrol", admin, photo=_photo(SHARON, 0), record_uid="calls:1")
        call("faces.enrol", admin, photo=_photo(POWELL, 0), record_uid="calls:2")
        found = call(
            "faces.search", admin, probe=_photo(SHARON, 1), case="2026-FT-0021", purpose="set-up"
        )
        e.values["search_id"] = found.search_id
        e.values["face_id"] = found.candidates[0].face_id
    mp.undo()
    yield e
    ws.close()


CASE = "2026-SV-0001"


def _field_setup(admin: ServiceContext, units: list[Any]) -> dict[str, Any]:
    """The field loop: 'boss' bound to a dispatched unit, a closed public report, a mediation
    case of boss's with an invitation."""
    out: dict[str, Any] = {"unit4": units[3].id}
    inc = call(
        "ops.incident_create",
        admin,
        category="纠纷",
        priority=3,
        lat=units[3].lat,
        lon=units[3].lon,
        text="field",
    )
    out["incident_f"] = inc.id
    call("ops.assign", admin, incident_id=inc.id, unit_ids=[units[3].id])
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    receipt = call(
        "public.report_submit",
        admin,
        category="noise",
        text="楼上吵",
        phone="13900000001",
        address="南湖路",
        photos=[png.getvalue()],
    )
    for status in ("routed", "resolved"):
        call("ops.incident_status", admin, incident_id=receipt["incident_id"], status=status)
    out["receipt"] = receipt["code"]
    out["photo"] = 1  # the workspace's first photo: the report's
    other = call("ops.incident_create", admin, category="纠纷", priority=3, text="mediate")
    out["incident_m"] = other.id
    case = call("mediation.assign", admin, incident_id=other.id, mediator="boss")
    out["case_m"] = case["id"]
    out["invite"] = call(
        "mediation.schedule",
        admin,
        mediation_id=case["id"],
        at="2026-12-08T10:00:00+08:00",
        parties=["甲"],
    )["invites"][0]["code"]
    return out


def _case_setup(root: Path, admin: ServiceContext) -> dict[str, Any]:
    """A case with two charts, two notes and a pin; a hand-over file of another case."""
    from cases.chart import chart_document

    doc = chart_document(None, positions={})
    call("cases.create", admin, case=CASE, title="service test")
    out = {
        "chart": call("cases.chart_save", admin, case=CASE, name="main", data=doc)["id"],
        "scratch": call("cases.chart_save", admin, case=CASE, name="s", data=doc)["id"],
    }
    for key in ("note", "note2"):
        out[key] = call(
            "cases.note_add", admin, case=CASE, target_kind="case", target="", text=key
        )["id"]
    out["pin"] = call("cases.pin", admin, case=CASE, kind="record", ref="calls:1")["id"]
    other = Workspace.init(root / "other-ws")
    there = ServiceContext(other, admin.session)
    call("cases.create", there, case="2026-SV-0009", title="handed over")
    out["sbcase"] = call(
        "cases.handover_export", there, case="2026-SV-0009", path=str(root / "handed.sbcase")
    )["file"]
    other.close()
    return out


def _to_cluster(e: Env) -> dict[str, Any]:
    """``graph.migrate`` and ``faces.migrate`` copy into a real cluster ([graph] / [faces] url;
    the workspace itself stays embedded): Elasticsearch 9 from SUPERBRAIN_ES_URL (skipped with
    the reason when unset)."""
    import uuid

    from tests.search_backends import es_url

    for table in ("graph", "faces"):  # the same for ``faces.migrate`` ([faces] url)
        cfg = e.ws.config.setdefault(table, {})
        cfg.setdefault("url", es_url("es9"))
        cfg.setdefault("index_prefix", f"sbtest-trust-{uuid.uuid4().hex[:8]}")
    return {}


#: One real call per service, in an order where each finds what it needs.
CALLS: dict[str, Callable[[Env], dict[str, Any]]] = {
    "ingest.file": lambda e: {"source": "calls", "path": str(e.root / "more.csv")},
    "search.query": lambda e: {"query": "13800138000", "filters": {"sources": ["calls"]}},
    "search.record": lambda e: {"uid": "calls:1"},
    "search.health": lambda e: {},
    "search.reindex": lambda e: {},
    "graph.expand": lambda e: {"entities": ["13800138000"], "depth": 2, "case": "G-1"},
    "graph.path": lambda e: {"source": "13800138000", "target": "13700137000"},
    "graph.centrality": lambda e: {"entities": ["13800138000"], "measures": ["degree"]},
    "graph.communities": lambda e: {"entities": ["13800138000"]},
    "graph.cooccur": lambda e: {},
    "graph.timeline": lambda e: {"entity": "13800138000"},
    "graph.export": lambda e: {"entities": ["13800138000"], "output": str(e.root / "out.graphml")},
    "graph.index": lambda e: {"status_only": True},
    "graph.migrate": lambda e: _to_cluster(e),
    "graph.merge_proposals": lambda e: {},
    "graph.merges": lambda e: {},
    "graph.merge_reject": lambda e: {"a": "13800138000", "b": "13500135000"},
    "graph.merge_undo": lambda e: {"merge_id": e["merge"]},
    "graph.merge_accept": lambda e: {"alias": "13500135000", "canonical": "13600136000"},
    "graph.merge_split": lambda e: {"alias": "13500135000"},
    "graph.merge_queue": lambda e: {},
    "graph.merge_clusters": lambda e: {},
    "graph.merge_unsure": lambda e: {"a": "13800138000", "b": "13500135000"},
    "graph.merge_review": lambda e: {"a": "13900139000", "b": "13700137000", "decision": "unsure"},
    "faces.detect": lambda e: {"photo": _photo(POWELL, 1)},
    "faces.search": lambda e: {
        "probe": _photo(POWELL, 1),
        "case": "2026-FT-0022",
        "purpose": "lead",
    },
    "faces.verify": lambda e: {
        "photo_a": _photo(SHARON, 1),
        "photo_b": _photo(SHARON, 2),
        "case": "2026-FT-0022",
        "purpose": "lead",
    },
    "faces.review": lambda e: {
        "search_id": e["search_id"],
        "face_id": e["face_id"],
        "decision": "confirmed",
        "note": "same ears",
    },
    "faces.candidates": lambda e: {"search_id": e["search_id"], "face_ids": [e["face_id"]]},
    "faces.enrol": lambda e: {"photo": _photo(POWELL, 2), "record_uid": "calls:3"},
    "faces.enrol_records": lambda e: {},
    "faces.rebuild": lambda e: {},
    "faces.migrate": lambda e: _to_cluster(e),
    "faces.reembed": lambda e: {"check_only": True},
    "ops.incidents": lambda e: {},
    "ops.queue": lambda e: {},
    "ops.incident": lambda e: {"incident_id": e["incident"]},
    "ops.incident_create": lambda e: {
        "category": "纠纷",
        "priority": 3,
        "lat": 30.75,
        "lon": 120.76,
    },
    "ops.incident_route": lambda e: {"incident_id": e["incident"], "priority": 2},
    "ops.incident_status": lambda e: {"incident_id": e["incident_c"], "status": "accepted"},
    "ops.mediation": lambda e: {"incident_id": e["incident"], "outcome": "pending"},
    "ops.units": lambda e: {},
    "ops.seed_units": lambda e: {"count": 8},
    "ops.position": lambda e: {"unit_id": e["unit3"], "lat": 30.751, "lon": 120.761},
    "ops.recommend": lambda e: {"incident_id": e["incident"]},
    "ops.assign": lambda e: {"incident_id": e["incident"], "unit_ids": [e["unit"]]},
    "ops.reassign": lambda e: {"unit_id": e["unit"], "incident_id": e["incident_b"]},
    "ops.release": lambda e: {"unit_id": e["unit"]},
    "ops.unit_status": lambda e: {"unit_id": e["unit2"], "status": "off_duty"},
    "ops.alerts": lambda e: {"unacked_only": True},
    "ops.alert_ack": lambda e: {"alert_id": e["alert"], "note": "seen"},
    "ops.rescan": lambda e: {},
    "ops.watch": lambda e: {"kind": "plate", "value": "浙F12345", "reason": "stolen"},
    "ops.saved_search": lambda e: {"name": "quarrels", "text": "吵架"},
    "ops.board": lambda e: {},
    "ops.hotspots": lambda e: {"days": 30},
    "ops.metrics": lambda e: {},
    "ops.evaluate": lambda e: {"month": "2026-11", "months": 2},
    "ops.events": lambda e: {"since": 0, "limit": 10},
    "field.devices": lambda e: {},
    "field.bind_device": lambda e: {"account": "boss", "unit_id": e["unit4"]},
    "field.me": lambda e: {},
    "field.position": lambda e: {"lat": 30.75, "lon": 120.76},
    "field.accept": lambda e: {},
    "field.status": lambda e: {"status": "en_route"},
    "field.feedback": lambda e: {"outcome": "resolved", "notes": "ok"},
    "field.panic": lambda e: {},
    "field.reports": lambda e: {"incident_id": e["incident_f"]},
    "ops.photo": lambda e: {"photo_id": e["photo"]},
    "ops.incident_followup": lambda e: {"incident_id": e["incident_f"]},
    "ops.track": lambda e: {"unit_id": e["unit3"]},
    "ops.prune_positions": lambda e: {},  # 90 days: the fixes just sent are kept
    "field.revoke_device": lambda e: {"account": "boss"},
    "public.categories": lambda e: {},
    "public.report_submit": lambda e: {
        "category": "theft",
        "text": "车被偷",
        "phone": "13900000002",
        "address": "东路",
    },
    "public.report_status": lambda e: {"code": e["receipt"]},
    "public.report_rate": lambda e: {"code": e["receipt"], "rating": 4},
    "public.invite": lambda e: {"code": e["invite"]},
    "ops.reports": lambda e: {},
    "mediation.assign": lambda e: {"incident_id": e["incident"], "mediator": "boss"},
    "mediation.mine": lambda e: {},
    "mediation.schedule": lambda e: {
        "mediation_id": e["case_m"],
        "parties": ["乙"],
        "at": "2026-12-09T10:00:00+08:00",
    },
    "mediation.outcome": lambda e: {"mediation_id": e["case_m"], "outcome": "failed"},
    "audit.list": lambda e: {"action": "ops.*", "limit": 5},
    "audit.export": lambda e: {"output": str(e.root / "audit.jsonl"), "action": "graph.*"},
    "users.add": lambda e: {"name": "newbie", "role": "analyst", "password": "Kd3-novice-word-1"},
    "users.list": lambda e: {},
    "users.passwd": lambda e: {"name": "newbie", "password": "Kd3-novice-word-2"},
    "users.role": lambda e: {"name": "newbie", "role": "commander"},
    "users.es_credentials": lambda e: {"name": "newbie", "api_key": "key-for-newbie-1"},
    "users.enable": lambda e: {"name": "newbie", "enabled": False},
    "users.whoami": lambda e: {},
    "cases.create": lambda e: {"case": "2026-SV-0002", "title": "another"},
    "cases.list": lambda e: {},
    "cases.get": lambda e: {"case": CASE},
    "cases.update": lambda e: {"case": CASE, "version": 1, "status": "suspended"},
    "cases.member_set": lambda e: {"case": CASE, "member": "newbie", "role": "reader"},
    "cases.member_remove": lambda e: {"case": CASE, "member": "newbie"},
    "cases.charts": lambda e: {"case": CASE},
    "cases.chart_save": lambda e: {"case": CASE, "name": "new", "data": _empty_chart()},
    "cases.chart_open": lambda e: {"case": CASE, "chart_id": e["chart"]},
    "cases.chart_duplicate": lambda e: {"case": CASE, "chart_id": e["chart"], "name": "copy"},
    "cases.chart_delete": lambda e: {"case": CASE, "chart_id": e["scratch"], "version": 1},
    "cases.note_add": lambda e: {
        "case": CASE,
        "target_kind": "record",
        "target": "calls:1",
        "text": "a note",
    },
    "cases.note_edit": lambda e: {"case": CASE, "note_id": e["note"], "text": "x", "version": 1},
    "cases.note_delete": lambda e: {"case": CASE, "note_id": e["note2"], "version": 1},
    "cases.notes": lambda e: {"case": CASE},
    "cases.note_places": lambda e: {"case": CASE},
    "cases.pin": lambda e: {"case": CASE, "kind": "record", "ref": "calls:2"},
    "cases.pins": lambda e: {"case": CASE},
    "cases.unpin": lambda e: {"case": CASE, "pin_id": e["pin"]},
    "cases.events": lambda e: {"after": 0},
    "cases.dossier": lambda e: {"case": CASE, "path": str(e.root / "dossier.html")},
    "cases.chart_image": lambda e: {
        "case": CASE,
        "chart_id": e["chart"],
        "path": str(e.root / "chart.svg"),
    },
    "cases.handover_export": lambda e: {"case": CASE, "path": str(e.root / "case.sbcase")},
    "cases.handover_import": lambda e: {"path": e["sbcase"]},
}
FACE_SERVICES = {n for n in CALLS if n.startswith("faces.")}


def _empty_chart() -> dict[str, Any]:
    from cases.chart import chart_document

    return chart_document(None, positions={})


def test_every_service_has_a_call() -> None:
    assert sorted(CALLS) == sorted(services()), "give each new service a call in CALLS"


def _all_but(permission: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Install a roles file with a role holding every permission except ``permission``."""
    shipped = load_roles()
    lines = ["[permissions]"] + [f'"{p}" = "{d}"' for p, d in shipped.permissions.items()]
    granted = sorted(set(shipped.permissions) - {permission})
    lines += ["[roles.lacking]", "permissions = [" + ", ".join(f'"{p}"' for p in granted) + "]"]
    lines += ["[roles.administrator]", 'permissions = ["*"]']
    path = tmp_path / "roles.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    monkeypatch.setattr(core.security, "default_roles", lambda: load_roles(path))
    return "lacking"


@pytest.mark.parametrize("name", list(CALLS))
def test_service_refuses_a_role_without_its_permission(
    name: str, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name in FACE_SERVICES and "search_id" not in env.values:
        pytest.skip(f"no face photos at {FACES} (set SUPERBRAIN_FACES_DIR)")
    spec = services()[name]
    role = _all_but(spec.permission, tmp_path, monkeypatch)
    ctx = ServiceContext(env.ws, Session("eve", role, "password"))
    before = sum(1 for _ in env.ws.audit.entries())
    with pytest.raises(PermissionDeniedError, match=f"'eve'.*'{spec.permission}'"):
        call(name, ctx, **CALLS[name](env))
    new = list(env.ws.audit.entries())[before:]
    assert [
        (e["user"], e["action"], e["params"]["permission"], e["params"]["service"]) for e in new
    ] == [("eve", "access.denied", spec.permission, name)]


@pytest.mark.parametrize("name", list(CALLS))
def test_service_runs_for_a_permitted_role_and_audits_the_session_user(name: str, env: Env) -> None:
    if name in FACE_SERVICES and "search_id" not in env.values:
        pytest.skip(f"no face photos at {FACES} (set SUPERBRAIN_FACES_DIR)")
    spec = services()[name]
    before = sum(1 for _ in env.ws.audit.entries())
    result = call(name, env.admin, **CALLS[name](env))
    new = list(env.ws.audit.entries())[before:]
    json.dumps(to_json(result))  # a centre server can send every result
    assert new, f"{name} succeeded without an audit entry"
    assert {e["user"] for e in new} == {"boss"}, new  # never 'mallory', the claimed name
    assert not [e for e in new if e["action"] == "access.denied"]
    if spec.audit:
        assert [e["action"] for e in new].count(name) == 1
    assert env.ws.audit.verify() == []


def test_a_failed_call_is_audited_with_its_reason(env: Env) -> None:
    """A call that passes the check but fails (here: a malformed query) leaves an entry."""
    from search.errors import SearchError

    with pytest.raises(SearchError):
        call("search.query", env.admin, query="王建国 AND (x")
    entry = env.ws.audit.search(action="search.query")[-1]
    assert entry["user"] == "boss" and entry["params"]["outcome"] == "failed"
    assert "missing ')'" in entry["params"]["error"]


def test_unknown_services_and_parameters_are_refused_by_name(env: Env) -> None:
    with pytest.raises(ServiceError, match=r"no service named 'graph\.nope'"):
        call("graph.nope", env.admin)
    with pytest.raises(ServiceError, match=r"'search.query'.*unknown parameters \['user'\]"):
        call("search.query", env.admin, query="x", user="someone-else")
    with pytest.raises(ServiceError, match=r"'graph.path'.*missing parameters \['target'\]"):
        call("graph.path", env.admin, source="13800138000")
    with pytest.raises(ServiceError, match="ServiceContext"):
        call("search.query", env.ws, query="x")  # type: ignore[arg-type]


def test_no_service_takes_the_acting_user_as_a_parameter() -> None:
    """The audited user comes from the session; only audit filters may name a user."""
    takes_user = sorted(n for n, s in services().items() if {"user", "actor", "by"} & set(s.params))
    assert takes_user == ["audit.export", "audit.list"]


def test_sessions_sharing_one_workspace_are_audited_apart(env: Env) -> None:
    """A centre server serves many sessions from one workspace object, in threads: the session
    a service binds is the one engine code audits, in every thread."""
    import threading

    sessions = {
        "cmd-a": ServiceContext(env.ws, Session("cmd-a", "commander", "password")),
        "cmd-b": ServiceContext(env.ws, Session("cmd-b", "commander", "password")),
    }
    made: dict[str, list[int]] = {name: [] for name in sessions}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            for _ in range(8):
                inc = call(
                    "ops.incident_create",
                    sessions[name],
                    category="纠纷",
                    priority=4,
                    lat=30.75,
                    lon=120.76,
                    text=f"by {name}",
                )
                made[name].append(inc.id)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    created = {
        e["params"]["incident"]: e["user"]
        for e in env.ws.audit.search(action="ops.incident.create")
    }
    for name, ids in made.items():
        assert len(ids) == 8 and {created[i] for i in ids} == {name}
    assert env.ws.user == "mallory"  # outside a call: nobody authenticated on this object


def test_polled_reads_are_audited_once_per_period_with_the_repeats(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.services

    now = [1000.0]
    monkeypatch.setattr(core.services.time, "monotonic", lambda: now[0])
    ctx = ServiceContext(env.ws, Session("watcher", "analyst", "password"))
    for _ in range(5):
        call("ops.board", ctx)
        now[0] += 10
    assert [e["params"].get("repeats") for e in env.ws.audit.search(user="watcher")] == [None]
    now[0] += 300
    call("ops.board", ctx)
    entries = env.ws.audit.search(user="watcher", action="ops.board")
    assert [e["params"].get("repeats") for e in entries] == [None, 4]
    call("ops.incident", ctx, incident_id=env["incident"])  # not a polled read: every call
    call("ops.incident", ctx, incident_id=env["incident"])
    assert len(env.ws.audit.search(user="watcher", action="ops.incident")) == 2


def test_the_command_line_lists_the_services_a_role_may_call(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.cli import main
    from core.users import USERS_FILE, UserStore

    UserStore(env.ws.root / USERS_FILE).add("lister", "analyst", "Jm5-reader-secret-1")
    monkeypatch.setenv("SUPERBRAIN_USER", "lister")
    monkeypatch.setenv("SUPERBRAIN_PASSWORD", "Jm5-reader-secret-1")
    assert main(["services", "-w", str(env.ws.root), "--json"]) == 0
    rows = {r["name"]: r["allowed"] for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(services())
    assert rows["search.query"] and rows["ops.incident"] and not rows["ops.assign"]
    assert not rows["users.add"] and not rows["faces.review"]


def test_errors_have_a_kind_a_remote_caller_can_act_on(env: Env) -> None:
    from core.services import error_kind
    from ops.errors import NotOwnerError, StaleVersionError, UnknownIncidentError

    def kind_of(name: str, **params: Any) -> str:
        with pytest.raises(Exception) as caught:
            call(name, env.admin, **params)
        return error_kind(caught.value)

    assert kind_of("ops.incident", incident_id=999_999) == "NotFound"
    assert kind_of("search.query", query="(x") == "Invalid"
    assert kind_of("search.query", nonsense=1) == "Invalid"
    assert kind_of("faces.search", probe=b"", case="", purpose="") == "Invalid"
    assert error_kind(StaleVersionError("changed")) == "Conflict"
    assert error_kind(NotOwnerError("not yours")) == "PermissionDenied"
    assert error_kind(UnknownIncidentError("x")) == "NotFound"
    assert error_kind(KeyError("bug")) == "Error"


def test_no_password_or_key_passed_to_a_service_reaches_the_audit(env: Env) -> None:
    """users.add / passwd / es_credentials were called (and refused) with secrets above."""
    if not env.ws.audit.search(action="users.add"):
        call("users.add", env.admin, name="newbie", role="analyst", password="Kd3-novice-word-1")
    raw = env.ws.audit.path.read_text("utf-8")
    for secret in (
        "Kd3-novice-word-1",
        "Kd3-novice-word-2",
        "key-for-newbie-1",
        "Vx9-overseer-key-2026",
    ):
        assert secret not in raw
