"""Search benchmark: embedded (tantivy) vs Elasticsearch vs SQLite FTS5, side by side, one run.

    python bench/search/bench_search.py --records 1000000 [--es-url http://127.0.0.1:9200]

Generates the same synthetic records for every engine (seeded), measures ingest rate
(records/s, document building included) and query latency p50/p95 over a fixed query mix.
SQLite FTS5 indexes the same tokens (Han characters split, as in the engines) so its phrase
queries mean the same thing. Elasticsearch is skipped when no --es-url / SUPERBRAIN_ES_URL.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.model import FieldRole, FieldSpec, Record, RecordSchema
from search.analysis import tokenize
from search.document import FieldRegistry
from search.model import Filters, SearchRequest

SCHEMA = RecordSchema(
    "incident",
    "Incident",
    (
        FieldSpec("summary", FieldRole.TEXT),
        FieldSpec("category", FieldRole.KEYWORD),
        FieldSpec("district", FieldRole.KEYWORD),
        FieldSpec("plate", FieldRole.IDENTIFIER, normalizer="plate"),
        FieldSpec("phone", FieldRole.IDENTIFIER, normalizer="phone"),
        FieldSpec("loss", FieldRole.NUMBER),
    ),
)
CATEGORIES = ["盗窃", "诈骗", "纠纷", "交通", "可疑车辆", "抢劫", "Burglary", "Fraud"]
DISTRICTS = ["西湖区", "上城区", "拱墅区", "滨江区", "余杭区", "萧山区", "临平区", "钱塘区"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
CN = [
    "嫌疑人入室盗窃后逃离现场",
    "受害人报称手机被盗",
    "电信诈骗案件，受害人被骗",
    "两车发生剐蹭",
    "群众报警称有可疑人员徘徊",
    "夜间发生入户抢劫",
    "民警到场后调解纠纷",
    "室内财物被盗，门锁损坏",
    "驾驶可疑车辆多次出现",
    "嫌疑人持刀威胁受害人",
]
EN = [
    "suspect fled on foot",
    "burglary reported at a warehouse",
    "fraud call about a parcel",
    "vehicle seen near the bank",
    "witness heard glass breaking",
    "stolen bicycle reported",
]
QUERIES: list[tuple[str, str, Filters, tuple[str, ...]]] = [
    ("term", "burglary", Filters(), ()),
    ("phrase", '"suspect fled"', Filters(), ()),
    ("chinese phrase", "入室盗窃", Filters(), ()),
    ("name", "王建国", Filters(), ()),
    ("plate", "PLATE", Filters(), ()),  # a plate of the data, written with a dot
    ("bool+filter", "(盗窃 OR 诈骗) -district:西湖区", Filters(since=datetime(2024, 3, 1)), ()),
    ("facets", "诈骗", Filters(), ("category", "district", "day")),
]


def generate(n: int, seed: int = 7) -> Iterator[Record]:
    rnd = random.Random(seed)
    start = datetime(2024, 1, 1)
    for i in range(n):
        name = rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.choice((1, 2))))
        plate = f"浙{rnd.choice('ABCDEFGH')}{rnd.randrange(10000, 99999)}"
        parts = [rnd.choice(CN), name + "报警", rnd.choice(CN)]
        if rnd.random() < 0.4:
            parts.append(rnd.choice(EN))
        if rnd.random() < 0.3:
            parts.append(f"车牌{plate[0]}{plate[1]}·{plate[2:]}")
        yield Record(
            source="bench",
            id=str(i),
            type="incident",
            time=start + timedelta(seconds=rnd.randrange(0, 180 * 86400)),
            geo=(30.0 + rnd.random() * 0.6, 119.8 + rnd.random() * 0.8),
            text={"summary": "，".join(parts)},
            fields={
                "category": rnd.choice(CATEGORIES),
                "district": rnd.choice(DISTRICTS),
                "plate": plate,
                "phone": f"1{rnd.randrange(3, 9)}{rnd.randrange(10**9):09d}",
                "loss": rnd.randrange(0, 100000),
            },
        )


def _plate_query() -> str:
    plate = str(next(generate(1)).fields["plate"])
    return f"{plate[:2]}·{plate[2:]}"


QUERIES = [
    (label, _plate_query() if q == "PLATE" else q, f, facets) for label, q, f, facets in QUERIES
]


def batches(n: int, size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for r in generate(n):
        batch.append(r)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def latency(fn: Callable[[], object], reps: int) -> tuple[float, float]:
    fn()  # warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def process_cpu() -> float:
    """CPU seconds of this process (all threads) and its finished children."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def es_cpu(backend: object) -> float:
    """CPU seconds the Elasticsearch node processes have used (node stats)."""
    stats = backend.client.nodes.stats(metric="process")  # type: ignore[attr-defined]
    return sum(n["process"]["cpu"]["total_in_millis"] for n in stats["nodes"].values()) / 1000


def bench_backend(
    backend: object, n: int, reps: int, server_cpu: Callable[[], float] | None = None
) -> dict[str, object]:
    load0 = os.getloadavg()[0]
    t0, cpu0, server0 = time.perf_counter(), process_cpu(), server_cpu() if server_cpu else 0.0
    for batch in batches(n, 10_000):
        backend.index(batch)  # type: ignore[attr-defined]
        backend.flush()  # type: ignore[attr-defined]
    backend.release()  # type: ignore[attr-defined]  # (ends document workers: CPU accounted)
    rate = n / (time.perf_counter() - t0)
    cpu = process_cpu() - cpu0 + (server_cpu() - server0 if server_cpu else 0.0)
    out: dict[str, object] = {"ingest": rate, "cpu": cpu / n * 1e6}
    for label, query, filters, facets in QUERIES:
        req = SearchRequest(query, filters, size=20, facets=facets)
        out[label] = latency(lambda req=req: backend.search(req), reps)  # type: ignore[attr-defined]
        out[label + " hits"] = backend.search(req).total  # type: ignore[attr-defined]
    out["load"] = (load0, os.getloadavg()[0])
    return out


def bench_fts5(n: int, reps: int, folder: Path) -> dict[str, object]:
    load0 = os.getloadavg()[0]
    con = sqlite3.connect(folder / "fts.sqlite")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(body, ids, uid UNINDEXED, "
        "category UNINDEXED, district UNINDEXED, time UNINDEXED, "
        "tokenize='unicode61 remove_diacritics 0')"
    )
    t0, cpu0 = time.perf_counter(), process_cpu()
    for batch in batches(n, 10_000):
        rows = []
        for r in batch:
            f = r.fields
            body = " ".join(tokenize(f"{r.text['summary']} {f['category']} {f['district']}"))
            rows.append(
                (
                    body,
                    f"{f['plate']} {f['phone']}",
                    r.uid,
                    f["category"],
                    f["district"],
                    r.time.timestamp() if r.time else None,
                )
            )
        with con:
            con.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?)", rows)
    rate = n / (time.perf_counter() - t0)
    cpu = process_cpu() - cpu0

    def match(expr: str, where: str = "", facets: bool = False) -> Callable[[], object]:
        def run() -> object:
            sql = f"SELECT uid FROM docs WHERE docs MATCH ? {where} ORDER BY rank LIMIT 20"
            rows = con.execute(sql, (expr,)).fetchall()
            con.execute(f"SELECT count(*) FROM docs WHERE docs MATCH ? {where}", (expr,)).fetchone()
            if facets:
                for col in ("category", "district", "date(time, 'unixepoch', '+8 hours')"):
                    con.execute(
                        f"SELECT {col}, count(*) FROM docs WHERE docs MATCH ? "
                        f"GROUP BY 1 ORDER BY 2 DESC LIMIT 20",
                        (expr,),
                    ).fetchall()
            return rows

        return run

    since = datetime(2024, 3, 1).timestamp()
    fns = {
        "term": match('body:"burglary"'),
        "phrase": match('body:"suspect fled"'),
        "chinese phrase": match('body:"入 室 盗 窃"'),
        "name": match('body:"王 建 国"'),
        "plate": match(f'ids:"{_plate_query().replace("·", "")}"'),
        "bool+filter": match(
            'body:("盗 窃" OR "诈 骗") NOT body:"西 湖 区"', f"AND time >= {since}"
        ),
        "facets": match('body:"诈 骗"', facets=True),
    }
    out: dict[str, object] = {"ingest": rate, "cpu": cpu / n * 1e6}
    for label, fn in fns.items():
        out[label] = latency(fn, reps)
    out["load"] = (load0, os.getloadavg()[0])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--es-url", default=os.environ.get("SUPERBRAIN_ES_URL", ""))
    ap.add_argument(
        "--es-records",
        type=int,
        default=0,
        help="index only this many records into Elasticsearch (its ingest rate on a "
        "prefix, queries then run on that smaller index); default: --records",
    )
    ap.add_argument(
        "--index-workers",
        type=int,
        default=None,
        help="embedded engine's document worker processes (default: its own choice)",
    )
    args = ap.parse_args()
    registry = FieldRegistry.from_schemas([SCHEMA])
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        from search.embedded import EmbeddedBackend

        print(f"embedded: indexing {args.records:,} records …", file=sys.stderr)
        emb = EmbeddedBackend(Path(tmp) / "emb", registry, index_workers=args.index_workers)
        print(f"embedded: {emb._builder.workers} document worker processes", file=sys.stderr)
        results["embedded"] = bench_backend(emb, args.records, args.reps)
        emb.close()
        if args.es_url:
            from core.workspace import SearchConfig
            from search.elastic import ElasticsearchBackend

            print("elasticsearch: indexing …", file=sys.stderr)
            es = ElasticsearchBackend.from_config(
                SearchConfig("elasticsearch", args.es_url, "", "", "", "", "sbbench"), registry
            )
            es.client.indices.delete(
                index="sbbench-*",
                ignore_unavailable=True,
                allow_no_indices=True,
                expand_wildcards="all",
            )
            es_records = args.es_records or args.records
            results["elasticsearch"] = bench_backend(es, es_records, args.reps, lambda: es_cpu(es))
            results["elasticsearch"]["records"] = es_records
            es.client.indices.delete(
                index="sbbench-*",
                ignore_unavailable=True,
                allow_no_indices=True,
                expand_wildcards="all",
            )
            es.close()
        print("sqlite fts5: indexing …", file=sys.stderr)
        results["fts5"] = bench_fts5(args.records, args.reps, Path(tmp))
    engines = list(results)
    short = {"embedded": "emb", "elasticsearch": "es", "fts5": "fts5"}
    w, rw = 17, 12  # engine and ratio column widths

    def row(label: str, cells: list[str], ratios: list[float], tail: str = "") -> None:
        print(
            f"{label:<17}"
            + "".join(f"{c:>{w}}" for c in cells)
            + "".join(f"{r:>{rw - 1}.1f}x" for r in ratios)
            + tail
        )

    print(f"records: {args.records:,}   query reps: {args.reps}   (latency ms p50 / p95)")
    print(
        f"{'':<17}"
        + "".join(f"{e:>{w}}" for e in engines)
        + "".join(f"{'emb vs ' + short[e]:>{rw}}" for e in engines[1:])
    )
    res: dict[str, Any] = results
    row(
        "ingest rec/s",
        [f"{res[e]['ingest']:,.0f}" for e in engines],
        [res["embedded"]["ingest"] / res[e]["ingest"] for e in engines[1:]],
    )
    row(
        "ingest cpu us/rec",
        [f"{res[e]['cpu']:,.0f}" for e in engines],
        [res[e]["cpu"] / res["embedded"]["cpu"] for e in engines[1:]],
    )
    for label, *_ in QUERIES:
        row(
            label,
            [f"{res[e][label][0]:.1f} / {res[e][label][1]:.1f}" for e in engines],
            [res[e][label][1] / res["embedded"][label][1] for e in engines[1:]],
            f"   hits: {res['embedded'][label + ' hits']:,}",
        )
    row(
        "load avg",
        [f"{res[e]['load'][0]:.1f} → {res[e]['load'][1]:.1f}" for e in engines],
        [],
        "   (1-min load average when each engine started → ended)",
    )
    print(
        "ratios: ingest = embedded rate / other rate; cpu = other / embedded (CPU seconds of "
        "every thread and process, server included, per record); queries = other p95 / "
        "embedded p95"
    )
    es = results.get("elasticsearch")
    if es and es["records"] == args.records:
        differ = [
            label
            for label, *_ in QUERIES
            if es[label + " hits"] != results["embedded"][label + " hits"]
        ]
        print(
            "hits: embedded and elasticsearch agree on every query"
            if not differ
            else "hits DIFFER between embedded and elasticsearch: " + ", ".join(differ)
        )
    if es and es["records"] != args.records:
        print(
            f"elasticsearch: {results['elasticsearch']['records']:,} records indexed "
            f"(ingest rate on that prefix; its queries ran on that smaller index)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
