"""The field loop under load: units reporting positions from their devices while consoles follow
the push stream.

One run, two phases side by side (docs/PERFORMANCE.md, "Field loop"):

A. **Consoles only**: ``--consoles`` SSE clients on ``GET /api/v1/events`` while a commander
   creates ``--incident-rate`` incidents a second.
B. **Plus units**: the same, and ``--units`` unit devices, each logged in with its own account,
   holding its own event stream (as the unit page does) and calling ``field.position`` every
   ``--interval`` seconds (staggered).

For each phase: push latency per (incident, console) from just before the commander's request
to the moment the console read the event (p50/p95/max), the position calls' latency and
failures, and the server process's CPU (psutil: % of one core over the phase). Ratios B/A.

**Position audit volume** (phase B, read from PostgreSQL): the audit entries the fixes wrote
(``field.position``) and their bytes (the entries' JSON lines, as the chain and its file mirror
keep them), the rows and bytes of the positions table when there is one, each per fix and per
day at this load; and the cost of one audit append on the centre (``--appends`` appends of a
typical position entry, timed in this process on the same database). ``--repo DIR`` runs the
server (and the append) from another checkout, for a before/after on the same machine::

    python bench/server/bench_field.py --units 200 --consoles 20 --seconds 75 --repo /work/main

Needs a PostgreSQL (``SUPERBRAIN_PG_URL``); creates and drops its own database::

    python bench/server/bench_field.py --units 200 --consoles 20 --seconds 60
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from centre_harness import REPO, scratch_centre, serve, summary

ADMIN_PASSWORD = "Bz4-bench-leader-2026"
UNIT_PASSWORD = "Qy7-bench-phone-pw"


class Client:
    """One keep-alive HTTP connection (one per thread)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, service: str, token: str | None, **params: Any) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"params": params})
        for attempt in range(2):
            try:
                self.con.request("POST", f"/api/v1/call/{service}", body=body, headers=headers)
                response = self.con.getresponse()
                data = response.read()
                return response.status, json.loads(data) if data else None
            except (http.client.HTTPException, OSError):
                self.con.close()
                self.con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def ok(self, service: str, token: str | None, **params: Any) -> Any:
        status, body = self.call(service, token, **params)
        if status != 200:
            raise SystemExit(f"{service}: {status} {body}")
        return body["result"]


def login(port: int, user: str, password: str) -> str:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    con.request(
        "POST",
        "/api/v1/session",
        body=json.dumps({"user": user, "password": password}),
        headers={"Content-Type": "application/json"},
    )
    response = con.getresponse()
    body = json.loads(response.read())
    con.close()
    if response.status != 200:
        raise SystemExit(f"login {user}: {response.status} {body}")
    return str(body["token"])


class Console(threading.Thread):
    """Follows the event stream; records when each incident.created arrived (a unit's device
    follows it the same way and should receive none: they are not its unit's)."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.seen: dict[int, float] = {}
        self.events = 0
        self.ready = threading.Event()

    def run(self) -> None:
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        con.request("GET", "/api/v1/events", headers={"Authorization": f"Bearer {self.token}"})
        response = con.getresponse()
        self.ready.set()
        data = ""
        while True:
            raw = response.readline()
            if not raw:
                return
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("data: "):
                data = line[6:]
            elif not line and data:
                event = json.loads(data)
                self.events += 1
                if event["kind"] == "incident.created":
                    self.seen[int(event["ref"])] = time.time()
                data = ""


def run_phase(
    port: int,
    server_pid: int,
    consoles: list[Console],
    commander: str,
    units: list[str],
    *,
    seconds: float,
    interval: float,
    incident_rate: float,
) -> dict[str, Any]:
    import psutil

    proc = psutil.Process(server_pid)
    stop = threading.Event()
    sent: dict[int, float] = {}
    position_lat: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def commander_loop() -> None:
        client = Client(port)
        while not stop.is_set():
            t0 = time.time()
            inc = client.ok(
                "ops.incident_create",
                commander,
                category="纠纷",
                priority=3,
                lat=30.75 + random.random() / 20,
                lon=120.75 + random.random() / 20,
                text="bench",
            )
            sent[int(inc["id"])] = t0
            stop.wait(max(0.0, 1.0 / incident_rate - (time.time() - t0)))

    def unit_loop(tokens: list[str], offset: float) -> None:
        client = Client(port)
        step = interval / max(1, len(tokens))
        start = time.monotonic() + offset
        k = 0
        while not stop.is_set():
            due = start + k * step
            if stop.wait(max(0.0, due - time.monotonic())):
                return
            token = tokens[k % len(tokens)]
            t0 = time.perf_counter()
            status, _ = client.call(
                "field.position",
                token,
                lat=30.7 + random.random() / 10,
                lon=120.7 + random.random() / 10,
                accuracy_m=12,
            )
            with lock:
                position_lat.append(time.perf_counter() - t0)
                if status != 200:
                    failures.append(status)
            k += 1

    workers = min(10, len(units)) if units else 0
    threads = [threading.Thread(target=commander_loop, daemon=True)]
    for w in range(workers):
        mine = units[w::workers]
        threads.append(
            threading.Thread(
                target=unit_loop, args=(mine, w * interval / max(1, len(units))), daemon=True
            )
        )
    cpu0 = sum(proc.cpu_times()[:2])
    wall0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(30)
    time.sleep(1.5)  # the last events reach the consoles
    cpu = sum(proc.cpu_times()[:2]) - cpu0
    wall = time.monotonic() - wall0
    push = [c.seen[i] - t0 for i, t0 in sent.items() for c in consoles if i in c.seen]
    missing = sum(1 for i in sent for c in consoles if i not in c.seen)
    return {
        "incidents": len(sent),
        "push": summary(push),
        "push_missing": missing,
        "positions": summary(position_lat),
        "positions_per_s": round(len(position_lat) / seconds, 1),
        "position_failures": len(failures),
        "server_cpu_pct_of_one_core": round(100 * cpu / wall, 1),
    }


def audit_mark(db_url: str) -> int:
    import psycopg

    with psycopg.connect(db_url) as con:
        return int(con.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0])


def audit_volume(
    db_url: str,
    after_seq: int,
    since: float,
    fixes: int,
    seconds: float,
    units: int,
    interval: float,
) -> dict[str, Any]:
    """What phase B's fixes cost in the audit log and the positions table, per fix and per day
    at ``units`` reporting every ``interval`` s (measured rates scaled to a day)."""
    import psycopg

    with psycopg.connect(db_url) as con:
        entries, text_bytes, audit_row_bytes = con.execute(
            "SELECT count(*), coalesce(sum(octet_length(line)), 0), "
            "coalesce(sum(pg_column_size(a.*)), 0) FROM audit_log a WHERE seq > %s "
            "AND action = 'field.position'",
            (after_seq,),
        ).fetchone()
        rows = row_bytes = None
        if con.execute("SELECT to_regclass('ops_positions')").fetchone()[0] is not None:
            rows, row_bytes = con.execute(
                "SELECT count(*), coalesce(sum(pg_column_size(p.*)), 0) FROM ops_positions p "
                "WHERE ts >= %s",
                (since,),
            ).fetchone()
    per_day = 86400 / seconds
    out: dict[str, Any] = {
        "fixes": fixes,
        "audit_entries": int(entries),
        "audit_entries_per_fix": round(int(entries) / max(1, fixes), 3),
        "audit_bytes_per_entry": round(int(text_bytes) / max(1, int(entries))),
        "audit_entries_per_day": round(int(entries) * per_day),
        "audit_mb_per_day": round(int(text_bytes) * per_day / 1e6, 1),
        "audit_table_mb_per_day": round(int(audit_row_bytes) * per_day / 1e6, 1),
        "fixes_per_day_at_this_load": round(units * 86400 / interval),
    }
    if rows is not None:
        out |= {
            "position_rows": int(rows),
            "position_bytes_per_row": round(int(row_bytes) / max(1, int(rows))),
            "position_mb_per_day": round(int(row_bytes) * per_day / 1e6, 1),
        }
    return out


def append_cost(config: Path, n: int) -> dict[str, Any]:
    """``n`` audit appends of a typical position entry on the centre, timed one by one."""
    from centre.workspace import open_centre

    ws = open_centre(config, application_name="bench-audit-append")
    times = []
    try:
        for i in range(n):
            params = {"lat": 30.7 + i * 1e-5, "lon": 120.7, "accuracy_m": 12, "unit": "BENCH-01"}
            t0 = time.perf_counter()
            ws.audit.append("bench-device", "bench.position_append", params)
            times.append(time.perf_counter() - t0)
    finally:
        ws.close()
    return summary(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--incident-rate", type=float, default=1.0)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="the checkout whose server runs (default: this one)"
    )
    args = parser.parse_args()
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo))
    with (
        scratch_centre("bench_field", admin="chief", password=ADMIN_PASSWORD, repo=repo) as centre,
        serve(centre, timeout=60) as (server, port),
    ):
        admin = login(port, "chief", ADMIN_PASSWORD)
        client = Client(port)
        units = client.ok("ops.seed_units", admin, count=args.units)
        print(f"setup: {len(units)} units; adding {args.units} device accounts …", file=sys.stderr)

        def enrol(unit: dict[str, Any]) -> str:
            c = Client(port)
            account = f"dev-{unit['id'].lower()}"
            c.ok("users.add", admin, name=account, role="unit", password=UNIT_PASSWORD)
            c.ok("field.bind_device", admin, account=account, unit_id=unit["id"])
            return login(port, account, UNIT_PASSWORD)

        with ThreadPoolExecutor(4) as pool:
            tokens = list(pool.map(enrol, units[: args.units]))
        consoles = [Console(port, admin) for _ in range(args.consoles)]
        for c in consoles:
            c.start()
            c.ready.wait(30)
        time.sleep(1)
        common = {
            "seconds": args.seconds,
            "interval": args.interval,
            "incident_rate": args.incident_rate,
        }
        a = run_phase(port, server.pid, consoles, admin, [], **common)
        # phase B: every unit's page also holds its own event stream, as the app does
        streams = [Console(port, t) for t in tokens]
        for c in streams:
            c.start()
            c.ready.wait(30)
        seq0, since = audit_mark(centre.database_url), time.time()
        b = run_phase(port, server.pid, consoles, admin, tokens, **common)
        b["audit"] = audit_volume(
            centre.database_url,
            seq0,
            since,
            b["positions"]["n"],
            args.seconds,
            args.units,
            args.interval,
        )
        b["audit"]["append_on_centre"] = append_cost(centre.config, args.appends)
        b["unit_streams"] = len(streams)
        b["events_on_unit_streams"] = sum(c.events for c in streams)
        print(
            json.dumps(
                {
                    "args": {**vars(args), "repo": str(repo)},
                    "A_consoles_only": a,
                    "B_plus_units": b,
                    "ratios_B_over_A": {
                        "push_p95": round(b["push"]["p95_ms"] / a["push"]["p95_ms"], 2),
                        "server_cpu": round(
                            b["server_cpu_pct_of_one_core"]
                            / max(0.1, a["server_cpu_pct_of_one_core"]),
                            2,
                        ),
                    },
                },
                indent=1,
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
