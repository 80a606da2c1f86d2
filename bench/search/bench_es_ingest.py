"""Search ingest into one Elasticsearch node against the node's own limit, same run.

    python bench/search/bench_es_ingest.py --es-url http://127.0.0.1:9260 [--records 200000]

Three ways to put the same records (``bench_search.generate``) into a fresh index with the
same mapping, each timed from the first record to the last acknowledgement:

* ``limit``: documents prebuilt as bulk NDJSON before the clock starts, then sent by
  :class:`search.es_bulk.ParallelBulk` (``--threads`` connections, ``--chunk`` per request) —
  what the node takes when the client costs nothing;
* ``superbrain``: ``ElasticsearchBackend.index`` on batches of 10,000 records, as ingest calls
  it: documents from the compiled builder, the same parallel bulk settings;
* ``before``: what the backend did before (documents built as Python dicts, sent through one
  ``helpers.streaming_bulk`` stream), for the CPU per record it cost.

The limit and superbrain runs alternate ``--rounds`` times (the machine's load moves both).
Printed per run: records/s, this process's CPU µs per record (building + sending), the node's
CPU µs per record; then superbrain / limit by rate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import SCHEMA, es_cpu, generate, process_cpu

from search.document import FieldRegistry, build_doc
from search.elastic import ElasticsearchBackend
from search.es_bulk import EsDocBuilder, ParallelBulk, es_doc
from search.es_links import es_client


def fresh(client: Any, registry: FieldRegistry, name: str, threads: int) -> ElasticsearchBackend:
    client.indices.delete(
        index=f"{name}-*", ignore_unavailable=True, allow_no_indices=True, expand_wildcards="all"
    )
    backend = ElasticsearchBackend(client, registry, prefix=name, url="bench", bulk_threads=threads)
    backend._ensure_alias("incident")
    return backend


def timed(backend: ElasticsearchBackend, n: int, fn: Any) -> dict[str, float]:
    t0, cpu0, node0 = time.perf_counter(), process_cpu(), es_cpu(backend)
    done = fn()
    backend.flush()
    wall = time.perf_counter() - t0
    count = int(backend.client.count(index=backend.type_alias("incident"))["count"])
    if count != n or done != n:
        raise SystemExit(f"{backend.prefix}: {done} acknowledged, {count} in the index, {n} sent")
    return {
        "rate": n / wall,
        "cpu": (process_cpu() - cpu0) / n * 1e6,
        "node": (es_cpu(backend) - node0) / n * 1e6,
        "wall": wall,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--es-url", default=os.environ.get("SUPERBRAIN_ES_URL", ""))
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--threads", type=int, default=2, help="parallel bulk connections")
    ap.add_argument("--chunk", type=int, default=1000, help="records per bulk request")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-before", action="store_true")
    args = ap.parse_args()
    if not args.es_url:
        raise SystemExit("give --es-url (or SUPERBRAIN_ES_URL)")
    client, _ = es_client(args.es_url, timeout=300)
    registry = FieldRegistry.from_schemas([SCHEMA])
    records = list(generate(args.records))
    n = len(records)
    rows: list[tuple[str, dict[str, float]]] = []
    try:
        for rnd in range(args.rounds):
            limit = fresh(client, registry, "sbingest-limit", args.threads)
            bodies = list(
                EsDocBuilder(registry).bodies(records, limit.type_alias, chunk=args.chunk)
            )
            loader = ParallelBulk(client, "bench", threads=args.threads)

            def send(loader: ParallelBulk = loader, bodies: list[Any] = bodies) -> int:
                return loader.load(bodies)[0]

            rows.append(("limit (prebuilt NDJSON, parallel bulk)", timed(limit, n, send)))
            del bodies, send
            print(rnd, *rows[-1], flush=True)
            ours = fresh(client, registry, "sbingest-ours", args.threads)

            def index_all(backend: ElasticsearchBackend = ours) -> int:
                done = 0
                for i in range(0, n, 10_000):
                    done += backend.index(records[i : i + 10_000]).indexed
                return done

            rows.append(("superbrain (compiled builder, parallel bulk)", timed(ours, n, index_all)))
            print(rnd, *rows[-1], flush=True)
        if not args.skip_before:
            from elasticsearch import helpers

            old = fresh(client, registry, "sbingest-before", 1)

            def before() -> int:
                actions = (
                    {
                        "_op_type": "index",
                        "_index": old.type_alias(r.type),
                        "_id": r.uid,
                        "_source": es_doc(build_doc(r, registry)),
                    }
                    for r in records
                )
                return sum(
                    ok
                    for ok, _ in helpers.streaming_bulk(
                        client,
                        actions,
                        chunk_size=args.chunk,
                        max_retries=6,
                        initial_backoff=0.5,
                        raise_on_error=False,
                    )
                )

            rows.append(("before (Python dicts, one stream)", timed(old, n, before)))
    finally:
        client.indices.delete(
            index="sbingest-*",
            ignore_unavailable=True,
            allow_no_indices=True,
            expand_wildcards="all",
        )
    print(
        f"{n:,} records, {args.threads} bulk connections, {args.chunk} records per request; "
        f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end"
    )
    print(f"{'run':<48}{'rec/s':>9}{'client µs/rec':>15}{'node µs/rec':>13}")
    for name, r in rows:
        print(f"{name:<48}{r['rate']:>9,.0f}{r['cpu']:>15.1f}{r['node']:>13.1f}")
    limits = [r["rate"] for name, r in rows if name.startswith("limit")]
    ours_r = [r["rate"] for name, r in rows if name.startswith("superbrain")]
    ratios = [o / lim for o, lim in zip(ours_r, limits, strict=True)]
    print(
        "superbrain / limit by rate: "
        + ", ".join(f"{x:.2f}" for x in ratios)
        + f" (mean {sum(ratios) / len(ratios):.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
