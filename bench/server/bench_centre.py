"""The centre under load: push latency, search through the server, server CPU, centre ingest.

One run, side by side (docs/PERFORMANCE.md, "Centre server"):

1. **Ingest** of the same generated files (the seven built-in sources, ``--rows`` rows each)
   into a fresh embedded workspace and into a fresh centre (PostgreSQL record/link store plus
   its search index), in this process: records per second, and the centre's share.
2. **Search, unloaded**: the same queries in-process on the centre's own search backend and
   through a real ``superbrain serve`` (``POST /api/v1/call/search.query``): p50/p95 each and
   what the server adds; the server's CPU per search (psutil, the server process only).
3. **Load**: ``--consoles`` clients following ``GET /api/v1/events`` (Server-Sent Events) and
   ``--analysts`` clients searching without pause for ``--seconds``, while a commander creates
   ``--incident-rate`` incidents a second. Push latency is measured per (incident, console)
   from just before the commander's request to the moment the console read the event; search
   p95 under that load; server CPU per request.

Needs a PostgreSQL (``SUPERBRAIN_PG_URL``, e.g. ``eval "$(tools/dev-postgres start)"``); creates
and drops its own database (and, with Elasticsearch, its own index prefix). Sizes scale by
flags: ``--rows 167000`` gives 1,005,363 records, the issue's size, with the defaults for
consoles and analysts; ``--skip-embedded`` runs the centre stages alone::

    python bench/server/bench_centre.py --rows 2000 --seconds 30
    python bench/server/bench_centre.py --rows 167000 --seconds 60 \
        --search-backend elasticsearch --search-url http://127.0.0.1:9250
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

from centre_harness import REPO, log, pct, scratch_centre, serve, summary

sys.path.insert(0, str(REPO))

QUERIES = [
    "盗窃",
    "入室盗窃",
    "电动车",
    "纠纷",
    "诈骗",
    "南湖区",
    "嘉善县",
    "火警",
    "交通事故",
    "burglary",
    "酒店",
    "浙F",
    "source:incidents",
    "category:纠纷",
    "district:南湖区",
]
PASSWORD = "bench-password-1"


# -- 1. ingest ------------------------------------------------------------------------------------
def generate(folder: Path, rows: int) -> Path:
    """The demo sources' files (``rows`` per source, each source's demo share), generated only:
    ``superbrain demo`` would also ingest them, which at 1M records costs as much as a run."""
    from core.workspace import Workspace

    gen = Workspace.init(folder)
    for plugin in gen.discover_sources().plugins():
        if not plugin.can_generate:
            continue
        out = gen.data_dir / plugin.name
        out.mkdir(parents=True, exist_ok=True)
        n = rows if plugin.demo_fraction >= 1 else max(10, round(rows * plugin.demo_fraction))
        plugin.generate(out, n, seed=7)
    gen.close()
    return gen.data_dir


def ingest_all(ws: Any, data: Path, label: str = "") -> tuple[int, float]:
    from core.ingest import Ingestor

    found = ws.discover_sources()
    ingestor = Ingestor(ws)
    records, started = 0, time.perf_counter()
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        plugin = found.get(folder.name)
        for path in sorted(folder.iterdir()):
            t = time.perf_counter()
            report = ingestor.ingest_file(plugin, path)
            records += report.records
            if label:  # progress, so a long run shows where it is and at what rate
                took = time.perf_counter() - t
                log(
                    f"{label}: {path.parent.name}/{path.name} {report.records:,} records in "
                    f"{took:.1f} s ({report.records / max(took, 1e-9):,.0f}/s); "
                    f"{records:,} so far, {records / (time.perf_counter() - started):,.0f}/s"
                )
    return records, time.perf_counter() - started


def bench_ingest(
    tmp: Path,
    data: Path,
    warm_data: Path,
    config: Path,
    results: dict[str, Any],
    *,
    embedded_too: bool = True,
) -> dict[str, Any]:
    from centre.workspace import open_centre
    from core.workspace import Workspace

    warm = Workspace.init(tmp / "warm-up")  # jieba's dictionary, imports: paid once, here
    ingest_all(warm, warm_data)
    warm.close()
    part: dict[str, Any] = {}
    results["ingest"] = part
    if embedded_too:
        embedded = Workspace.init(tmp / "embedded")
        n_emb, t_emb = ingest_all(embedded, data, "embedded")
        embedded.close()
        part.update(
            {
                "records": n_emb,
                "embedded_rec_s": round(n_emb / t_emb),
                "embedded_s": round(t_emb, 1),
                "load_average_after_embedded": [round(x, 1) for x in os.getloadavg()],
            }
        )
        save_partial(results)
    centre = open_centre(config, application_name="bench-ingest")
    centre.login("chief", PASSWORD)
    n_cen, t_cen = ingest_all(centre, data, "centre")
    centre.close()
    part.update(
        {
            "centre_rec_s": round(n_cen / t_cen),
            "centre_s": round(t_cen, 1),
            "records_centre": n_cen,
            "load_average_after_centre": [round(x, 1) for x in os.getloadavg()],
        }
    )
    if embedded_too:
        part["centre_share"] = round((n_cen / t_cen) / (part["records"] / part["embedded_s"]), 3)
    return part


PARTIAL: list[Path] = []


def save_partial(results: dict[str, Any]) -> None:
    """Write what has finished so far (``--json``), so a run stopped midway still reports."""
    if PARTIAL:
        PARTIAL[0].write_text(json.dumps(results, indent=2, ensure_ascii=False), "utf-8")


# -- the server -----------------------------------------------------------------------------------
def server_cpu(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


# -- 2. search, unloaded --------------------------------------------------------------------------
def bench_search(config: Path, url: str, pid: int, rounds: int) -> dict[str, Any]:
    from centre.workspace import open_centre
    from core.remote import CentreClient
    from core.services import ServiceContext, call
    from search.backend import open_backend
    from search.model import SearchRequest

    ws = open_centre(config, application_name="bench-search")
    session = ws.login("analyst", PASSWORD)
    ctx = ServiceContext(ws, session)
    backend = open_backend(ws)
    client = CentreClient(url)
    client.login("analyst", PASSWORD)
    plan = [q for _ in range(rounds) for q in QUERIES]
    for q in QUERIES:  # warm every path (index readers, connections)
        backend.search(SearchRequest(q, size=20))
        call("search.query", ctx, query=q, size=20)
        client.call("search.query", query=q, size=20)
    raw, local, remote = [], [], []
    cpu = 0.0
    for q in plan:  # interleaved, so all three see the same machine at the same moment
        t = time.perf_counter()
        backend.search(SearchRequest(q, size=20))
        raw.append(time.perf_counter() - t)
        t = time.perf_counter()
        call("search.query", ctx, query=q, size=20)  # the same service: role check + audit
        local.append(time.perf_counter() - t)
        cpu0 = server_cpu(pid)
        t = time.perf_counter()
        client.call("search.query", query=q, size=20)
        remote.append(time.perf_counter() - t)
        cpu += server_cpu(pid) - cpu0
    backend.close()
    ws.close()
    client.logout()
    return {
        "backend_only": summary(raw),
        "in_process_service": summary(local),
        "through_server": summary(remote),
        "server_adds_p50_ms": round((pct(remote, 50) - pct(local, 50)) * 1000, 2),
        "server_adds_p95_ms": round((pct(remote, 95) - pct(local, 95)) * 1000, 2),
        "server_cpu_ms_per_search": round(cpu / len(plan) * 1000, 2),
    }


# -- 3. load: consoles on push, analysts searching, a commander creating incidents ---------------
def bench_load(
    url: str, pid: int, consoles: int, analysts: int, seconds: float, rate: float
) -> dict[str, Any]:
    from core.remote import CentreClient

    stop = threading.Event()
    sent: dict[str, float] = {}  # incident id -> time just before the request
    received: list[tuple[str, float]] = []
    lock = threading.Lock()
    connected = threading.Semaphore(0)
    searches: list[float] = []
    errors: list[str] = []

    def console() -> None:
        client = CentreClient(url, timeout=120)
        client.login("desk", PASSWORD)
        state = {"up": False}

        def on_state(s: str) -> None:
            if s == "connected" and not state["up"]:
                state["up"] = True
                connected.release()

        try:
            for ev in client.events(None, stop=stop, on_state=on_state):
                now = time.perf_counter()
                if isinstance(ev.data, dict) and ev.data.get("kind") == "incident.created":
                    with lock:
                        received.append((str(ev.data.get("ref")), now))
        except Exception as exc:  # counted and reported, never hidden
            errors.append(f"console: {exc}")

    def analyst() -> None:
        client = CentreClient(url, timeout=120)
        client.login("analyst", PASSWORD)
        rnd = random.Random(threading.get_ident())
        while not stop.is_set():
            t = time.perf_counter()
            try:
                client.call("search.query", query=rnd.choice(QUERIES), size=20)
            except Exception as exc:
                errors.append(f"analyst: {exc}")
                continue
            with lock:
                searches.append(time.perf_counter() - t)

    threads = [threading.Thread(target=console, daemon=True) for _ in range(consoles)]
    for t in threads:
        t.start()
    for _ in range(consoles):
        if not connected.acquire(timeout=120):
            raise SystemExit("consoles did not all connect to the event stream in 120 s")
    commander = CentreClient(url, timeout=120)
    commander.login("commander", PASSWORD)
    workers = [threading.Thread(target=analyst, daemon=True) for _ in range(analysts)]
    cpu0, started = server_cpu(pid), time.perf_counter()
    for t in workers:
        t.start()
    created = 0
    rnd = random.Random(7)
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        inc = commander.call(
            "ops.incident_create",
            category="纠纷",
            priority=2,
            lat=30.75 + rnd.uniform(-0.05, 0.05),
            lon=120.75 + rnd.uniform(-0.05, 0.05),
            text="bench push",
        )
        with lock:
            sent[str(inc["id"])] = t0
        created += 1
        time.sleep(max(0.0, 1 / rate - (time.perf_counter() - t0)))
    elapsed = time.perf_counter() - started
    time.sleep(3)  # let the last events arrive
    cpu = server_cpu(pid) - cpu0
    stop.set()
    with lock:
        latencies = [now - sent[ref] for ref, now in received if ref in sent]
    delivered = len(latencies)
    expected = created * consoles
    return {
        "consoles": consoles,
        "analysts": analysts,
        "seconds": round(elapsed, 1),
        "incidents": created,
        "push_delivered": delivered,
        "push_expected": expected,
        "push": summary(latencies),
        "search_under_load": summary(searches),
        "searches_per_s": round(len(searches) / elapsed, 1),
        "server_cpu_ms_per_request": round(cpu / max(1, len(searches) + created) * 1000, 2),
        "server_cpu_share_of_one_core": round(cpu / elapsed, 2),
        "errors": errors[:5],
        "error_count": len(errors),
    }


# -- the run --------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=2000, help="demo rows per source (7 sources)")
    ap.add_argument("--consoles", type=int, default=50)
    ap.add_argument("--analysts", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--incident-rate", type=float, default=2.0, help="incidents per second")
    ap.add_argument("--search-rounds", type=int, default=10, help="rounds of the query list")
    ap.add_argument(
        "--search-backend",
        default="embedded",
        choices=["embedded", "elasticsearch"],
        help="the centre's search backend (embedded: tantivy in the data folder)",
    )
    ap.add_argument(
        "--search-url",
        default="http://127.0.0.1:9200",
        help="Elasticsearch URL with --search-backend elasticsearch",
    )
    ap.add_argument(
        "--skip-embedded",
        action="store_true",
        help="ingest into the centre only (no embedded run, no ingest ratio): "
        "for the search and load stages at a size where the full run is long",
    )
    ap.add_argument(
        "--json", type=Path, help="also write the results here (updated after each finished stage)"
    )
    args = ap.parse_args()
    if args.json:
        PARTIAL.append(args.json)
    from centre.workspace import open_centre

    started = time.perf_counter()
    os.environ.update({"SUPERBRAIN_USER": "chief", "SUPERBRAIN_PASSWORD": PASSWORD})
    results: dict[str, Any] = {
        "rows_per_source": args.rows,
        "cpus": os.cpu_count(),
        "search_backend": args.search_backend,
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
    }
    with scratch_centre(
        "bench_centre",
        admin="chief",
        password=PASSWORD,
        search_backend=args.search_backend,
        search_url=args.search_url,
    ) as centre:
        tmp, config = centre.folder, centre.config
        ws = open_centre(config, application_name="bench-setup")
        for user, role in (("analyst", "analyst"), ("desk", "analyst"), ("commander", "commander")):
            ws.accounts.add(user, role, PASSWORD)
        ws.close()
        log(f"generating the demo data ({args.rows:,} rows per source)…")
        data = generate(tmp / "demo", args.rows)
        warm_data = generate(tmp / "warm-data", 200)
        log("ingest: embedded, then the centre…")
        results["ingest"] = bench_ingest(
            tmp, data, warm_data, config, results, embedded_too=not args.skip_embedded
        )
        save_partial(results)
        with serve(centre) as (server, port):
            url = f"http://127.0.0.1:{port}"
            log("search: in-process vs through the server…")
            results["search"] = bench_search(config, url, server.pid, args.search_rounds)
            save_partial(results)
            log(
                f"load: {args.consoles} consoles on push, {args.analysts} analysts, "
                f"{args.seconds:.0f} s…"
            )
            results["load"] = bench_load(
                url, server.pid, args.consoles, args.analysts, args.seconds, args.incident_rate
            )
        results["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
        results["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
