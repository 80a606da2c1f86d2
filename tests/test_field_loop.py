"""The field loop in a real browser: a unit's phone page and the public report page, served by a
real `superbrain serve` on PostgreSQL, driven in Debian's chromium by Playwright; commanders'
consoles are SSE clients of the same server.

Real parts: PostgreSQL (SUPERBRAIN_PG_URL), a `superbrain serve` process, /usr/bin/chromium.
With SUPERBRAIN_UPDATE_SCREENSHOTS=1 the phone pages are saved to docs/screenshots.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from centre_support import (
    REPO,
    Console,
    ServerProcess,
    api,
    call,
    free_port,
    fresh_database,
    init_centre,
    login,
    ok,
    pg_server_url,
    write_centre,
)

pytestmark = pytest.mark.timeout(600)

CHROMIUM = os.environ.get("SUPERBRAIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN = ("admin", "Hz7-chief-of-field-2026")
DESK = ("desk1", "Kq4-west-lake-board-2026")
DESK2 = ("desk2", "Rv8-east-lake-board-2026")
DEVICES = {"dev-a": ("Pm3-patrol-phone-one", None), "dev-b": ("Ws5-patrol-phone-two", None)}
PUSH_BUDGET_S = 1.0
PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>粗</b>'
PHONE = {"width": 360, "height": 640}
SHOTS = REPO / "docs" / "screenshots"


def _png(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    gen = fresh_database(pg_server_url())
    database = next(gen)
    folder = tmp_path_factory.mktemp("field")
    config = write_centre(folder, database, server={"keepalive_seconds": 1})
    init_centre(config, *ADMIN)
    server = ServerProcess(config, free_port()).start()
    try:
        admin = login(server, *ADMIN)
        for name, password in (DESK, DESK2):
            ok(server, admin, "users.add", name=name, role="commander", password=password)
        units = ok(server, admin, "ops.seed_units", count=6)
        desk = login(server, *DESK)
        bound = {}
        for (name, (password, _)), unit in zip(DEVICES.items(), units, strict=False):
            ok(server, admin, "users.add", name=name, role="unit", password=password)
            ok(server, desk, "field.bind_device", account=name, unit_id=unit["id"])
            bound[name] = unit["id"]
        yield {"server": server, "config": config, "admin": admin, "desk": desk, "units": bound}
    finally:
        server.stop()
        gen.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("SUPERBRAIN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _phone(browser: Any, base: str, **extra: Any) -> Any:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        base_url=base,
        **extra,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def _shot(page: Any, name: str) -> None:
    if os.environ.get("SUPERBRAIN_UPDATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name))


def _unit_login(browser: Any, base: str, account: str, **extra: Any) -> Any:
    page = _phone(browser, base, **extra)
    page.goto("/field/unit")
    page.fill("#account", account)
    page.fill("#password", DEVICES[account][0])
    page.click("#login-button")
    page.wait_for_selector("#app:not(.hidden)")
    page.wait_for_function("() => document.body.dataset.link === 'live'")
    return page


def _incident(server: ServerProcess, token: str, **extra: Any) -> dict[str, Any]:
    params = {
        "category": "纠纷",
        "priority": 2,
        "lat": 30.752,
        "lon": 120.758,
        "address": "中山路 1 号",
        "text": "两人在店门口争吵",
    } | extra
    return ok(server, token, "ops.incident_create", **params)


def test_a_unit_page_receives_a_dispatch_within_a_second_and_one_tap_moves_the_board(
    centre: dict[str, Any], browser: Any
) -> None:
    server, desk = centre["server"], centre["desk"]
    unit = centre["units"]["dev-a"]
    page = _unit_login(browser, server.base, "dev-a")
    assert page.locator("#assignment").is_hidden()
    _shot(page, "field-unit-idle.png")
    console = Console(server, desk).start()
    try:
        inc = _incident(server, desk)
        page.evaluate("""() => new MutationObserver(() => {
            if (!document.body.dataset.shownAt && document.body.dataset.incident)
                document.body.dataset.shownAt = String(Date.now() / 1000);
        }).observe(document.body, {attributes: true})""")
        ok(server, desk, "ops.assign", incident_id=inc["id"], unit_ids=[unit])
        created = console.wait_for(
            lambda e: (
                e.data["kind"] == "assignment.created" and e.data["payload"]["unit_id"] == unit
            )
        )
        page.wait_for_function(
            f"() => document.body.dataset.incident === '{inc['id']}'", timeout=5000
        )
        shown_at = float(page.evaluate("() => document.body.dataset.shownAt"))
        delay = shown_at - created.data["ts"]
        assert delay < PUSH_BUDGET_S, f"the unit page showed the dispatch {delay:.3f} s after it"
        assert page.text_content("#incident-text") == "两人在店门口争吵"
        assert page.text_content("#priority") == "P2"
        _shot(page, "field-unit-assignment.png")

        # accept, then one tap per status; each reaches the commander's board within 1 s
        page.click("#accept")
        console.wait_for(
            lambda e: (
                e.data["kind"] == "assignment.accepted" and e.data["payload"]["unit_id"] == unit
            )
        )
        for status in ("en_route", "on_scene", "cleared"):
            button = page.locator(f"#next-buttons button[data-status={status}]")
            button.wait_for(state="visible")
            tapped = time.time()
            button.click()
            event = console.wait_for(
                lambda e, s=status: (
                    e.data["kind"] == "unit.updated"
                    and e.data["ref"] == unit
                    and e.data["payload"]["status"] == s
                )
            )
            assert event.at - tapped < PUSH_BUDGET_S, (status, event.at - tapped)
            board = ok(server, desk, "ops.board")
            assert board["units"][status] >= 1
            page.wait_for_function(f"() => document.body.dataset.unitStatus === '{status}'")
        assert ok(server, desk, "ops.incident", incident_id=inc["id"])["status"] == "on_scene"

        # feedback at clearance, with a photo
        page.wait_for_selector("#feedback:not(.hidden)")
        page.select_option("#outcome", "resolved")
        page.fill("#notes", "双方已和解 settled")
        page.set_input_files(
            "#feedback-photos",
            files=[{"name": "scene.png", "mimeType": "image/png", "buffer": _png()}],
        )
        _shot(page, "field-unit-feedback.png")
        page.click("#feedback-form button[type=submit]")
        report = console.wait_for(lambda e: e.data["kind"] == "incident.field_report")
        assert report.data["payload"]["outcome"] == "resolved"
        page.wait_for_selector("#feedback.hidden", state="attached")
        filed = ok(server, desk, "field.reports", incident_id=inc["id"])
        kinds = [r["kind"] for r in filed]
        assert kinds == ["accept", "feedback"]
        assert filed[1]["notes"] == "双方已和解 settled" and len(filed[1]["photos"]) == 1
        assert filed[1]["photos"][0]["mime"] == "image/png"
        got = ok(server, desk, "ops.photo", photo_id=filed[1]["photos"][0]["id"])
        assert base64.b64decode(got["data"]["base64"]) == _png()
        assert got["owner"] == f"field:{filed[1]['id']}"
        # audited, under the device's account
        entries = ok(server, centre["admin"], "audit.list", user="dev-a", limit=50)
        actions = {e["action"] for e in entries}
        assert {"field.accept", "ops.unit.status", "field.feedback"} <= actions, actions
        assert not page.errors
    finally:
        console.close()
        page.context.close()


def test_panic_raises_a_p1_alert_on_every_console_with_the_last_position(
    centre: dict[str, Any], browser: Any
) -> None:
    server = centre["server"]
    unit = centre["units"]["dev-b"]
    consoles = [
        Console(server, centre["desk"]).start(),
        Console(server, login(server, *DESK2)).start(),
    ]
    page = _unit_login(
        browser,
        server.base,
        "dev-b",
        geolocation={"latitude": 30.7601, "longitude": 120.7702},
        permissions=["geolocation"],
    )
    try:
        page.check("#share")
        page.wait_for_function(
            "() => document.getElementById('share-state').textContent.includes('Position sent')"
        )
        page.click("#panic")
        assert "confirm" in page.text_content("#panic-state")
        _shot(page, "field-unit-panic-armed.png")
        page.click("#panic")
        page.wait_for_function("() => document.body.dataset.panic === 'sent'")
        for console in consoles:
            alert = console.wait_for(
                lambda e: e.data["kind"] == "alert.raised" and e.data["payload"]["kind"] == "panic"
            )
            payload = alert.data["payload"]
            assert payload["severity"] == "critical" and payload["payload"]["priority"] == 1
            assert payload["title"].startswith("P1")
            assert payload["payload"]["unit_id"] == unit
            assert payload["payload"]["lat"] == pytest.approx(30.7601)
            assert payload["payload"]["lon"] == pytest.approx(120.7702)
    finally:
        for console in consoles:
            console.close()
        page.context.close()


def _open_report_page(browser: Any, base: str) -> Any:
    page = _phone(browser, base)
    page.goto("/field/report")
    page.wait_for_function("() => document.querySelectorAll('#category option').length > 3")
    return page


def test_a_citizen_report_is_routed_into_the_queue_followed_by_receipt_and_rated(
    centre: dict[str, Any], browser: Any
) -> None:
    server, desk = centre["server"], centre["desk"]
    page = _open_report_page(browser, server.base)
    try:
        page.select_option("#category", "dispute")
        page.fill("#text", "楼上邻居每晚吵架 " + PAYLOAD)
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            "() => document.getElementById('picked').textContent.includes('Picked')"
        )
        page.fill("#phone", "13800000001")
        page.set_input_files(
            "#photos", files=[{"name": "a.png", "mimeType": "image/png", "buffer": _png()}]
        )
        _shot(page, "field-report-form.png")
        page.click("#submit")
        page.wait_for_selector("#receipt:not(.hidden)")
        code = page.text_content("#receipt-code")
        assert code and len(code) == 10
        page.wait_for_selector("#status-result:not(.hidden)")
        assert "接警" in page.text_content("#status-label")
        _shot(page, "field-report-receipt.png")

        # in the commander's queue, routed like a 110 call, with its text kept as text
        (report,) = ok(server, desk, "ops.reports", limit=5)[:1]
        assert report["code"] == code and report["peer"] == "127.0.0.1" and report["photos"] == 1
        queue = ok(server, desk, "ops.queue")
        entry = next(q for q in queue if q["id"] == report["incident_id"])
        assert entry["routing"]["rule_id"] == "dispute"
        assert entry["text"].endswith(PAYLOAD) and entry["reporter_phone"] == "13800000001"

        # the handling: a unit is sent, the incident resolved; the reporter sees it and rates
        unit = centre["units"]["dev-a"]
        current = next(u for u in ok(server, desk, "ops.units") if u["id"] == unit)["status"]
        if current != "available":
            ok(server, desk, "ops.unit_status", unit_id=unit, status="available")
        unit_page = _unit_login(browser, server.base, "dev-a")
        try:
            ok(server, desk, "ops.assign", incident_id=entry["id"], unit_ids=[unit])
            unit_page.wait_for_function(f"() => document.body.dataset.incident === '{entry['id']}'")
            # the script payload is shown as text on the unit's page, never run or parsed
            assert unit_page.text_content("#incident-text").endswith(PAYLOAD)
            assert (
                unit_page.locator(
                    "#incident-text img, #incident-text script, #incident-text b"
                ).count()
                == 0
            )
            assert unit_page.evaluate("() => window.__pwned") is None
            _shot(unit_page, "field-unit-report-assignment.png")
        finally:
            unit_page.context.close()
        ok(server, desk, "ops.incident_status", incident_id=entry["id"], status="resolved")
        page.click("#status-form button")
        page.wait_for_selector("#rate:not(.hidden)")
        assert "处置完毕" in page.text_content("#status-label")
        page.click("#stars button[data-rating='4']")
        page.fill("#rate-note", "处理及时 <i>quick</i>")
        _shot(page, "field-report-rate.png")
        page.click("#rate-send")
        page.wait_for_function("() => document.getElementById('rated').textContent.includes('4/5')")
        assert page.evaluate("() => window.__pwned") is None
        assert not page.errors
        inc = ok(server, desk, "ops.incident", incident_id=entry["id"])
        assert inc["status"] == "feedback" and "4/5" in inc["feedback"]
        sat = ok(server, desk, "ops.metrics")["satisfaction"]
        assert sat["ratings"] >= 1 and sat["by_district"][inc["district"] or "(unknown)"]
        # a second rating is refused
        status, body = api(
            server,
            "POST",
            "/api/v1/public/public.report_rate",
            body={"params": {"code": code, "rating": 1}},
        )
        assert status == 422 and "already" in body["error"]["message"]
    finally:
        page.context.close()


def _post_from(address: str, port: int, body: dict[str, Any]) -> int:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(address, 0))
    for attempt in range(5):  # a busy machine may refuse a connection: nothing was sent yet
        try:
            con.connect()
            break
        except OSError:
            if attempt == 4:
                raise
            time.sleep(0.2)
    try:
        con.request(
            "POST",
            "/api/v1/public/public.report_submit",
            body=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        response = con.getresponse()
        response.read()
        return response.status
    finally:
        con.close()


def test_a_burst_of_1000_reports_from_one_address_is_cut_and_nothing_else_is_lost(
    centre: dict[str, Any],
) -> None:
    server, desk = centre["server"], centre["desk"]
    before = {r["code"] for r in ok(server, desk, "ops.reports", limit=1000)}
    statuses: list[int] = []
    others: list[int] = []
    lock = threading.Lock()

    failures: list[BaseException] = []

    def flood(worker: int) -> None:
        try:
            for i in range(125):
                body = {
                    "params": {
                        "category": "noise",
                        "text": f"burst {worker}-{i}",
                        "phone": f"139{worker:02d}{i:06d}",
                        "address": "某小区",
                    }
                }
                status = _post_from("127.0.0.2", server.port, body)
                with lock:
                    statuses.append(status)
        except BaseException as exc:  # reported below
            failures.append(exc)

    def honest() -> None:
        for i in range(3):
            body = {
                "params": {
                    "category": "theft",
                    "text": f"电动车被盗 {i}",
                    "phone": f"1370000000{i}",
                    "address": "南湖路",
                }
            }
            others.append(_post_from("127.0.0.3", server.port, body))
            time.sleep(0.5)

    threads = [threading.Thread(target=flood, args=(w,)) for w in range(8)]
    threads.append(threading.Thread(target=honest))
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not failures, failures
    assert len(statuses) == 1000
    assert statuses.count(200) == 5, {s: statuses.count(s) for s in set(statuses)}
    assert statuses.count(429) == 995
    assert others == [200, 200, 200]
    new = [r for r in ok(server, desk, "ops.reports", limit=2000) if r["code"] not in before]
    assert sorted(r["peer"] for r in new) == ["127.0.0.2"] * 5 + ["127.0.0.3"] * 3
    queue_ids = {q["id"] for q in ok(server, desk, "ops.queue")}
    assert {r["incident_id"] for r in new} <= queue_ids
    # every refusal is on record, but the flood cannot flood the audit: past 60 calls a minute
    # the address is refused before the service runs, audited once per 60 refusals
    entries = ok(server, centre["admin"], "audit.list", user="public@127.0.0.2")
    assert len(entries) < 120, len(entries)
    floods = [e for e in entries if e["action"] == "public.flood"]
    assert floods and floods[0]["params"]["refused"] == 1
    served = [e for e in entries if e["action"] == "public.report_submit"]
    assert len(served) == 60  # 5 accepted, 55 refused by the service's own limit


def test_the_flood_gate_counts_per_address_and_forgets_old_calls() -> None:
    from server.field import FloodGate

    gate = FloodGate(limit=3, window_s=10)
    assert [gate.admit("a", t) for t in (0, 1, 2)] == [(True, 0)] * 3
    assert gate.admit("b", 2) == (True, 0)  # another address is not affected
    assert gate.admit("a", 3) == (False, 1)  # the first refusal: audited at once
    assert [gate.admit("a", 4) for _ in range(3)] == [(False, 0), (False, 0), (False, 3)]
    assert gate.admit("a", 5) == (False, 0)
    assert gate.admit("a", 11) == (True, 1)  # the window moved on; the last refusal flushed


def test_public_reports_refuse_fake_photos_and_bad_fields_losing_nothing(
    centre: dict[str, Any],
) -> None:
    server, desk = centre["server"], centre["desk"]
    before = len(ok(server, desk, "ops.reports", limit=1000))
    good = {"category": "other", "text": "路灯坏了", "phone": "13600000009", "address": "东路"}
    fake = {"base64": base64.b64encode(b"<html><script>x</script></html>").decode()}
    cases = [
        ({**good, "photos": [fake]}, "not a JPEG"),
        ({**good, "photos": [{"base64": ""}] * 4}, "at most 3"),
        ({**good, "category": "<b>x</b>"}, "category"),
        ({**good, "phone": "call me"}, "phone"),
        ({**good, "address": ""}, "place"),
    ]
    for params, needle in cases:
        status, body = api(
            server,
            "POST",
            "/api/v1/public/public.report_submit",
            body={"params": params},
            headers={},
        )
        assert status == 422, (params, body)
        assert needle in body["error"]["message"]
    # a public caller reaches only the public services
    status, _ = api(server, "POST", "/api/v1/public/ops.queue", body={"params": {}})
    assert status == 404
    assert len(ok(server, desk, "ops.reports", limit=1000)) == before
    # one phone, from several addresses: the fourth report within the hour is refused
    sent = [
        _post_from(f"127.0.0.{10 + i}", server.port, {"params": {**good, "phone": "135 0000 0042"}})
        for i in range(4)
    ]
    assert sent == [200, 200, 200, 429]


def test_a_revoked_device_can_do_nothing_more(centre: dict[str, Any]) -> None:
    server, desk, admin = centre["server"], centre["desk"], centre["admin"]
    ok(server, admin, "users.add", name="dev-c", role="unit", password="Tn6-patrol-phone-three")
    unit = ok(server, desk, "ops.units")[-1]["id"]
    ok(server, desk, "field.bind_device", account="dev-c", unit_id=unit)
    token = login(server, "dev-c", "Tn6-patrol-phone-three")
    assert ok(server, token, "field.me")["unit"]["id"] == unit
    # a device acts only through field.*: the commander's services are refused
    status, _ = call(server, token, "ops.unit_status", unit_id=unit, status="off_duty")
    assert status == 403
    # its event stream carries its own unit's events only …
    device = Console(server, token).start()
    watcher = Console(server, desk).start()
    try:
        others = [u["id"] for u in ok(server, desk, "ops.units") if u["id"] != unit][:2]
        for other in others:
            ok(server, desk, "ops.unit_status", unit_id=other, status="off_duty")
        ok(server, desk, "ops.unit_status", unit_id=unit, status="off_duty")
        device.wait_for(lambda e: e.data["kind"] == "unit.updated" and e.data["ref"] == unit)
        assert {e.data["ref"] for e in device.events} == {unit}
        # … until the device is revoked: from then on nothing more
        ok(server, desk, "field.revoke_device", account="dev-c")
        heard = len(device.events)
        ok(server, desk, "ops.unit_status", unit_id=unit, status="available")
        watcher.wait_for(
            lambda e: (
                e.data["kind"] == "unit.updated"
                and e.data["ref"] == unit
                and e.data["payload"]["status"] == "available"
            )
        )
        time.sleep(1.0)
        assert len(device.events) == heard, [e.data["kind"] for e in device.events[heard:]]
    finally:
        device.close()
        watcher.close()
    for service, params in (
        ("field.me", {}),
        ("field.panic", {}),
        ("field.status", {"status": "off_duty"}),
    ):
        status, body = call(server, token, service, **params)
        assert status == 403, (service, body)
        assert "not bound" in body["error"]["message"]
    assert not [a for a in ok(server, desk, "ops.alerts", kind="panic") if a["subject"] == unit]


def test_the_pages_load_nothing_from_outside_the_server(
    centre: dict[str, Any], browser: Any
) -> None:
    server = centre["server"]
    for path in ("/field/unit", "/field/report"):
        page = _phone(browser, server.base)
        outside: list[str] = []
        page.on(
            "request",
            lambda r, seen=outside: (
                seen.append(r.url) if not r.url.startswith(server.base) else None
            ),
        )
        try:
            response = page.goto(path)
            assert response.status == 200
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
            assert outside == []
            assert not page.errors
        finally:
            page.context.close()
    for path in (
        "/field/assets/../../centre.toml",
        "/field/assets/%2e%2e/%2e%2e/server/app.py",
        "/field/vendor/leaflet/../../security/roles.toml",
    ):
        con = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        con.request("GET", path)
        response = con.getresponse()
        assert response.status == 404, (path, response.read()[:200])
        con.close()


def test_online_mediation_invites_parties_and_counts_success_by_district_and_mediator(
    centre: dict[str, Any], browser: Any
) -> None:
    server, desk, admin = centre["server"], centre["desk"], centre["admin"]
    for name, password in (("med-wang", "Lb2-mediator-of-west"), ("med-zhao", "Gc9-mediator-east")):
        ok(server, admin, "users.add", name=name, role="mediator", password=password)
    wang = login(server, "med-wang", "Lb2-mediator-of-west")
    zhao = login(server, "med-zhao", "Gc9-mediator-east")
    cases = []
    for i, mediator in enumerate(("med-wang", "med-wang", "med-zhao")):
        inc = _incident(server, desk, text=f"劳资纠纷 {i}", lat=30.75 + i * 0.01)
        cases.append(ok(server, desk, "mediation.assign", incident_id=inc["id"], mediator=mediator))
    # a mediator sees and changes only their own cases
    assert {c["id"] for c in ok(server, wang, "mediation.mine")} == {cases[0]["id"], cases[1]["id"]}
    status, body = call(
        server,
        zhao,
        "mediation.outcome",
        mediation_id=cases[0]["id"],
        outcome="success",
        agreement="x",
    )
    assert status == 403, body
    # nor anything else of operations
    assert call(server, wang, "ops.queue")[0] == 403

    session = ok(
        server,
        wang,
        "mediation.schedule",
        mediation_id=cases[0]["id"],
        at="2026-12-08T10:00:00+08:00",
        parties=["张三", "李四 <b>x</b>"],
    )
    link = session["invites"][1]["link"]
    page = _phone(browser, server.base)
    try:
        page.goto(link)
        page.wait_for_function("() => document.body.dataset.loaded === '1'")
        assert page.text_content("#party") == "您好 Dear 李四 <b>x</b>"
        assert page.text_content("#at").startswith("2026-12-08 10:00")
        _shot(page, "field-mediation-invite.png")
        assert not page.errors
    finally:
        page.context.close()
    opened = ok(server, wang, "mediation.mine")
    invites = next(c for c in opened if c["id"] == cases[0]["id"])["sessions"][0]["invites"]
    assert [i["opened"] for i in invites] == [False, True]

    ok(
        server,
        wang,
        "mediation.outcome",
        mediation_id=cases[0]["id"],
        outcome="success",
        agreement="甲方于三日内支付工资 5000 元",
    )
    # the mediator's own page: their cases only, the invitations, one tap to close a case.
    # The phone is in New York: the session time typed is still the centre's local time.
    page = _phone(browser, server.base, timezone_id="America/New_York")
    try:
        page.goto("/field/mediator")
        page.fill("#account", "med-wang")
        page.fill("#password", "Lb2-mediator-of-west")
        page.click("#login-button")
        page.wait_for_selector(f"section[data-case='{cases[1]['id']}']")
        assert page.locator("section[data-case]").count() == 2
        first = page.locator(f"section[data-case='{cases[0]['id']}']")
        assert "李四 <b>x</b>" in first.text_content() and "opened" in first.text_content()
        _shot(page, "field-mediator.png")
        card = page.locator(f"section[data-case='{cases[1]['id']}']")
        assert "Schedule a session (Asia/Shanghai)" in card.text_content()
        card.locator("input.at").fill("2026-12-09T09:30")
        card.locator("input.parties").fill("王五")
        card.locator("button.schedule").click()
        page.wait_for_function(f"""() => document.querySelector(
            "section[data-case='{cases[1]["id"]}']").textContent.includes('王五')""")
        assert "调解 Session 2026-12-09 09:30 CST" in card.text_content()
        scheduled = next(
            c for c in ok(server, wang, "mediation.mine") if c["id"] == cases[1]["id"]
        )["sessions"][0]
        assert scheduled["at"] == datetime(2026, 12, 9, 1, 30, tzinfo=UTC).timestamp()
        card.locator("button.failed").click()
        page.wait_for_function(f"""() => document.querySelector(
            "section[data-case='{cases[1]["id"]}']").textContent.includes('failed')""")
        assert not page.errors
    finally:
        page.context.close()
    ok(
        server,
        zhao,
        "mediation.outcome",
        mediation_id=cases[2]["id"],
        outcome="success",
        agreement="双方和解",
    )
    status, body = call(
        server, wang, "mediation.outcome", mediation_id=cases[0]["id"], outcome="failed"
    )
    assert status == 422 and "already closed" in body["error"]["message"]
    metrics = ok(server, desk, "ops.metrics")
    assert metrics["mediation_by_mediator"]["med-wang"] | {} == {
        "cases": 2,
        "success": 1,
        "failed": 1,
        "open": 0,
        "success_rate": 0.5,
    }
    assert metrics["mediation_by_mediator"]["med-zhao"]["success_rate"] == 1.0
    assert metrics["mediation_total"]["success"] >= 2
    assert (
        ok(server, desk, "ops.incident", incident_id=cases[0]["incident_id"])["mediation"]
        == "success"
    )


def test_a_unit_that_sets_off_without_tapping_accept_has_accepted(centre: dict[str, Any]) -> None:
    server, desk = centre["server"], centre["desk"]
    unit = centre["units"]["dev-b"]
    token = login(server, "dev-b", DEVICES["dev-b"][0])
    if ok(server, token, "field.me")["unit"]["status"] != "available":
        ok(server, desk, "ops.unit_status", unit_id=unit, status="available")
    inc = _incident(server, desk, text="no accept tap")
    ok(server, desk, "ops.assign", incident_id=inc["id"], unit_ids=[unit])
    assert ok(server, token, "field.me")["accepted"] is False
    ok(server, token, "field.status", status="en_route")
    assert ok(server, token, "field.me")["accepted"] is True
    assert [r["kind"] for r in ok(server, desk, "field.reports", incident_id=inc["id"])] == [
        "accept"
    ]
    # a device cannot reach a status its state machine forbids
    status, body = call(server, token, "field.status", status="cleared")
    assert status == 409 and "en_route" in body["error"]["message"]


def test_a_devices_fixes_are_all_kept_and_audited_once_a_minute_on_the_centre(
    centre: dict[str, Any],
) -> None:
    """Issue #20, position audit volume, on PostgreSQL through the real server: six fixes in a
    row from one device are six rows of its unit's track (with the device's account) and one
    audit entry (the first fix; the others are summarised by the next minute's entry); the
    audit chain verifies."""
    server, admin, desk = centre["server"], centre["admin"], centre["desk"]
    unit = centre["units"]["dev-a"]
    device = login(server, "dev-a", DEVICES["dev-a"][0])
    before = ok(server, admin, "audit.list", user="dev-a", action="field.position", limit=500)
    start = time.time()
    fixes = [(30.71 + i * 0.001, 120.71 + i * 0.001) for i in range(6)]
    for lat, lon in fixes:
        ok(server, device, "field.position", lat=lat, lon=lon)
    track = ok(server, desk, "ops.track", unit_id=unit, since=start - 1)
    assert [(t["lat"], t["lon"]) for t in reversed(track)] == fixes
    assert {(t["account"], t["via"]) for t in track} == {("dev-a", "device")}
    after = ok(server, admin, "audit.list", user="dev-a", action="field.position", limit=500)
    new = after[len(before) :]  # in log order
    assert len(new) <= 1, new  # at most one entry for six fixes within a minute
    if not before:  # this device's first fix ever: audited at once, naming it
        assert new and new[0]["params"]["lat"] == fixes[0][0]
    from centre_support import chain_problems

    assert chain_problems(centre["config"]) == []
