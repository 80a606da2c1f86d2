"""The centre server's front door: sessions, the route gate, roles through the service layer.

Real parts: a PostgreSQL database of the test's own and `superbrain serve` processes on
127.0.0.1 (see tests/centre_support.py).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from centre_support import (
    ServerProcess,
    api,
    call,
    chain_problems,
    free_port,
    fresh_database,
    init_centre,
    login,
    ok,
    pg_server_url,
    write_centre,
)

pytestmark = pytest.mark.timeout(300)

PASSWORDS = {"admin": "Heron-Lantern-71", "cmd1": "Osprey-Granite-52", "ana1": "Finch-Meadow-38"}


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    gen = fresh_database(pg_server_url())
    yield next(gen)
    gen.close()


@pytest.fixture(scope="module")
def servers(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    folder = tmp_path_factory.mktemp("centre")
    config = write_centre(folder, database)
    init_centre(config, "admin", PASSWORDS["admin"])
    a = ServerProcess(config, free_port()).start()
    b = ServerProcess(config, free_port()).start()
    try:
        token = login(a, "admin", PASSWORDS["admin"])
        ok(a, token, "users.add", name="cmd1", role="commander", password=PASSWORDS["cmd1"])
        ok(a, token, "users.add", name="ana1", role="analyst", password=PASSWORDS["ana1"])
        yield a, b
    finally:
        a.stop()
        b.stop()


def _routes(config: Path) -> list[tuple[str, str]]:
    """Every (method, path) the server's application declares, path parameters filled in."""
    from centre.config import load_centre_config
    from centre.workspace import open_centre
    from server.app import build_app
    from server.config import load_server_config

    ws = open_centre(config, application_name="superbrain-test")
    try:
        app = build_app(ws, load_server_config(load_centre_config(config)))
        found = []
        for route in app.routes:
            path = re.sub(r"\{[^}]+\}", "ops.assign", route.path)  # type: ignore[attr-defined]
            for method in sorted(route.methods - {"HEAD"}):  # type: ignore[attr-defined]
                found.append((method, path))
        return found
    finally:
        ws.close()


def test_the_route_list_is_complete(servers: tuple[ServerProcess, ...]) -> None:
    from server.field import is_open

    routes = _routes(servers[0].config)
    assert ("POST", "/api/v1/session") in routes
    assert ("POST", "/api/v1/call/ops.assign") in routes
    gated = [r for r in routes if not is_open(*r)]
    assert len(gated) == 8, gated  # what the contract lists (the two map tile routes since
    # #15: tests/test_field_basemap.py); a new route is tested below
    # The only routes open without a session: the field pages (static files; a unit logs in on
    # them) and the public report services (docs/FIELD.md), nothing else.
    opened = [r for r in routes if is_open(*r)]
    assert opened and all(
        (m == "GET" and p.startswith("/field")) or (m == "POST" and p.startswith("/api/v1/public/"))
        for m, p in opened
    ), opened


def test_no_route_answers_without_a_valid_session(
    servers: tuple[ServerProcess, ...], database: str
) -> None:
    import psycopg

    a, b = servers
    expired = login(a, "ana1", PASSWORDS["ana1"])
    with psycopg.connect(database, autocommit=True) as con:
        con.execute(
            "UPDATE sessions SET expires_at = %s WHERE token_hash = %s",
            (time.time() - 1, hashlib.sha256(expired.encode()).hexdigest()),
        )
    revoked = login(b, "ana1", PASSWORDS["ana1"])
    assert api(b, "DELETE", "/api/v1/session", token=revoked)[0] == 204
    forged = "A" * 43
    cases = {"no token": None, "forged": forged, "expired": expired, "revoked": revoked}
    from server.field import is_open

    routes = [r for r in _routes(a.config) if r != ("POST", "/api/v1/session") and not is_open(*r)]
    routes += [("GET", "/api/v1/nowhere"), ("GET", "/"), ("PUT", "/api/v1/services")]
    for server in (a, b):
        for method, path in routes:
            for what, token in cases.items():
                status, body = api(
                    server, method, path, token=token, body={"params": {}}, timeout=20
                )
                assert status == 401, (server.port, method, path, what, status, body)
                assert body["error"]["type"] == "Unauthenticated"
    # A malformed header is no session either.
    status, _ = api(a, "GET", "/api/v1/services", headers={"Authorization": "Basic abc"})
    assert status == 401
    # The open public route runs public services only: nothing else is reachable through it.
    for name in ("ops.assign", "search.query", "audit.list", "users.add"):
        status, body = api(a, "POST", f"/api/v1/public/{name}", body={"params": {}})
        assert status == 404 and body["error"]["type"] == "NotFound", (name, status, body)


def test_a_valid_token_works_on_every_server_process(servers: tuple[ServerProcess, ...]) -> None:
    a, b = servers
    token = login(a, "ana1", PASSWORDS["ana1"])
    status, listed = api(b, "GET", "/api/v1/services", token=token)
    assert status == 200
    by_name = {s["name"]: s for s in listed}
    assert by_name["ops.assign"]["allowed"] is False  # an analyst may not dispatch
    assert by_name["search.query"]["allowed"] is True
    status, health = api(b, "GET", "/api/v1/health", token=token)
    assert status == 200 and health["store"]["status"] == "green", health
    assert health["user"] == "ana1"


def test_login_refusals(servers: tuple[ServerProcess, ...]) -> None:
    a, _ = servers
    wrong = api(a, "POST", "/api/v1/session", body={"user": "cmd1", "password": "nope-nope"})
    unknown = api(a, "POST", "/api/v1/session", body={"user": "ghost", "password": "nope-nope"})
    assert wrong[0] == unknown[0] == 401
    assert wrong[1] == unknown[1]  # the same answer: no telling which names exist
    assert api(a, "POST", "/api/v1/session", body={"user": ["x"]})[0] == 422


def test_lock_out_is_counted_across_server_processes(servers: tuple[ServerProcess, ...]) -> None:
    from core.users import MAX_FAILURES

    a, b = servers
    admin = login(a, "admin", PASSWORDS["admin"])
    ok(a, admin, "users.add", name="victim", role="analyst", password="Maple-Orbit-4412")
    for i in range(MAX_FAILURES):
        server = (a, b)[i % 2]
        status, _ = api(
            server, "POST", "/api/v1/session", body={"user": "victim", "password": f"guess-{i}"}
        )
        assert status == 401
    status, body = api(
        b, "POST", "/api/v1/session", body={"user": "victim", "password": "Maple-Orbit-4412"}
    )
    assert status == 423, body  # locked, even with the right password, on either process
    assert "too many failed logins" in body["error"]["message"]


def test_an_analysts_token_cannot_dispatch(servers: tuple[ServerProcess, ...]) -> None:
    a, b = servers
    commander = login(a, "cmd1", PASSWORDS["cmd1"])
    ok(a, commander, "ops.seed_units", count=10)
    incident = ok(
        a,
        commander,
        "ops.incident_create",
        category="盗窃",
        priority=2,
        lat=30.75,
        lon=120.76,
        text="analyst test",
    )
    unit = ok(a, commander, "ops.recommend", incident_id=incident["id"])[0]["unit_id"]
    analyst = login(b, "ana1", PASSWORDS["ana1"])
    status, body = call(b, analyst, "ops.assign", incident_id=incident["id"], unit_ids=[unit])
    assert status == 403, body
    assert body["error"]["type"] == "PermissionDenied"
    units = {u["id"]: u for u in ok(b, analyst, "ops.units")}
    assert units[unit]["status"] == "available"  # nothing happened
    # The refusal is audited, under the analyst's name from the token.
    admin = login(a, "admin", PASSWORDS["admin"])
    denied = ok(a, admin, "audit.list", user="ana1", action="access.denied")
    assert any(e["params"].get("service") == "ops.assign" for e in denied), denied


def test_the_audit_names_the_tokens_user_and_the_chain_holds(
    servers: tuple[ServerProcess, ...],
) -> None:
    a, b = servers
    commander = login(b, "cmd1", PASSWORDS["cmd1"])
    incident = ok(
        b,
        commander,
        "ops.incident_create",
        category="纠纷",
        priority=3,
        lat=30.76,
        lon=120.75,
        text="audit test",
        reporter="someone-else",
    )
    admin = login(a, "admin", PASSWORDS["admin"])
    entries = ok(a, admin, "audit.list", action="ops.incident.create")
    mine = [e for e in entries if e["params"].get("incident") == incident["id"]]
    assert len(mine) == 1 and mine[0]["user"] == "cmd1", mine
    assert chain_problems(a.config) == []


def test_errors_follow_the_contract(servers: tuple[ServerProcess, ...]) -> None:
    a, _ = servers
    token = login(a, "cmd1", PASSWORDS["cmd1"])
    status, body = call(a, token, "no.such.service")
    assert status == 404 and body["error"]["type"] == "NotFound"
    status, body = call(a, token, "ops.incident", incident_id=10_000_000)
    assert status == 404 and body["error"]["type"] == "NotFound", body
    status, body = call(a, token, "ops.incident")
    assert status == 422 and "incident_id" in body["error"]["message"]
    status, body = call(a, token, "ops.incident", incident_id=1, bogus=1)
    assert status == 422 and "bogus" in body["error"]["message"]
    status, body = api(a, "POST", "/api/v1/call/ops.board", token=token, body={"params": [1, 2]})
    assert status == 422
    deep = b'{"params": {}, "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, body = api(a, "POST", "/api/v1/call/ops.board", token=token, body=deep)
    assert status == 422 and "nested too deeply" in body["error"]["message"], body
    huge = {"params": {"text": "x" * (17 * 1024 * 1024)}}
    status, body = api(a, "POST", "/api/v1/call/ops.incident_create", token=token, body=huge)
    assert status == 413


def test_no_service_touches_the_servers_files_over_the_network(
    servers: tuple[ServerProcess, ...],
) -> None:
    import base64

    a, _ = servers
    admin = login(a, "admin", PASSWORDS["admin"])
    for service, params in (
        ("faces.detect", {"photo": "/etc/passwd"}),
        ("audit.export", {"output": "/tmp/stolen.jsonl"}),
        ("ingest.file", {"source": "watchlist", "path": "/etc/hosts"}),
    ):
        status, body = call(a, admin, service, **params)
        assert status == 422, (service, body)
        assert "would name a file on the server" in body["error"]["message"]
    assert not Path("/tmp/stolen.jsonl").exists()
    for service, hook in (
        ("graph.expand", "compute"),
        ("ingest.file", "progress"),
        ("graph.export", "write"),
    ):
        status, body = call(a, admin, service, **{hook: "os.system"})
        assert status == 422 and "in-process callers only" in body["error"]["message"], body
    # The content itself is accepted, decoded and handed to the engine (which finds no image).
    not_a_photo = {"base64": base64.b64encode(b"plain text, not an image").decode()}
    status, body = call(a, admin, "faces.detect", photo=not_a_photo)
    assert status == 422 and body["error"]["type"] == "Invalid", body
    assert "image" in body["error"]["message"].lower()


def test_accounts_added_on_the_servers_command_line_log_in_over_the_network(
    servers: tuple[ServerProcess, ...],
) -> None:
    from centre_support import run_cli

    a, b = servers
    refused = run_cli(
        "centre",
        "add-user",
        "--config",
        str(a.config),
        "cli1",
        "--role",
        "analyst",
        env={
            "SUPERBRAIN_USER": "ana1",
            "SUPERBRAIN_PASSWORD": PASSWORDS["ana1"],
            "SUPERBRAIN_NEW_PASSWORD": "Cedar-Signal-2290",
        },
    )
    assert refused.returncode != 0 and "users.manage" in refused.stderr  # an analyst may not
    out = run_cli(
        "centre",
        "add-user",
        "--config",
        str(a.config),
        "cli1",
        "--role",
        "analyst",
        env={
            "SUPERBRAIN_USER": "admin",
            "SUPERBRAIN_PASSWORD": PASSWORDS["admin"],
            "SUPERBRAIN_NEW_PASSWORD": "Cedar-Signal-2290",
        },
    )
    assert out.returncode == 0, out.stderr
    assert login(b, "cli1", "Cedar-Signal-2290")


def test_a_user_changes_their_own_password_and_no_one_elses(
    servers: tuple[ServerProcess, ...],
) -> None:
    a, b = servers
    admin = login(a, "admin", PASSWORDS["admin"])
    ok(a, admin, "users.add", name="pw1", role="analyst", password="first-password")
    mine = login(a, "pw1", "first-password")
    status, body = call(a, mine, "users.passwd", name="ana1", password="hijacked-pass")
    assert status == 403, body
    ok(b, mine, "users.passwd", name="pw1", password="second-password")
    assert (
        api(a, "POST", "/api/v1/session", body={"user": "pw1", "password": "first-password"})[0]
        == 401
    )
    assert login(b, "pw1", "second-password")


def test_face_leads_are_served_by_the_server(servers: tuple[ServerProcess, ...]) -> None:
    import base64

    from conftest import faces_dir

    folder = faces_dir()
    if folder is None:
        pytest.skip("the shared face photos (SUPERBRAIN_FACES_DIR) are not on this machine")
    photo = next(iter(sorted((folder / "lfw").rglob("*.jpg"))), None)
    if photo is None:
        pytest.skip(f"no LFW photo under {folder}")
    a, _ = servers
    analyst = login(a, "ana1", PASSWORDS["ana1"])
    probe = {"base64": base64.b64encode(photo.read_bytes()).decode()}
    detected = ok(a, analyst, "faces.detect", photo=probe)
    assert len(detected["faces"]) >= 1
    status, body = call(a, analyst, "faces.search", probe=probe, case=None, purpose=None)
    assert status == 422 and "case" in body["error"]["message"].lower(), body
    # a face search names a case the analyst belongs to (on a centre as on a workspace)
    status, body = call(
        a, analyst, "faces.search", probe=probe, case="2026-JX-0117", purpose="burglary suspect"
    )
    assert status == 422 and "no case '2026-JX-0117'" in body["error"]["message"], body
    ok(a, analyst, "cases.create", case="2026-JX-0117", title="face lead test")
    result = ok(
        a, analyst, "faces.search", probe=probe, case="2026-JX-0117", purpose="burglary suspect"
    )
    assert result["case"] == "2026-JX-0117" and result["gallery_size"] == 0
    assert result["faces"] and all(f["candidates"] == [] for f in result["faces"])
    assert result["threshold"] > 0 and result["notice"]  # a lead, with its calibration
