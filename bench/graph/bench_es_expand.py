"""2-hop expansions on Elasticsearch: the previous reads against the current ones, same index.

    python -m bench.graph.bench_es_expand --es http://127.0.0.1:9260 --prefix bench-graph-1m \\
        [--cap 1000] [--samples 40] [--while-writing]

Runs on the indices a ``bench_cluster --keep --prefix P`` run left. Per seed, interleaved (the
machine's load moves both alike): the *previous* reads — a capped hop's hub counts then its
links by chunks, the entity rows after the links among the outer ring, those in one search
(main before a392ccc) — and the *current* ones (``graph/backend.py``, ``search/es_links.py``:
one request per hop when its links are few, the entity rows and two halves of the ring's
links at once). The cap defaults to the cluster's shipped fan-out cap. ``--while-writing``
keeps a writer adding 2,000 links a second with a refresh after each batch, as a centre does
while it ingests (the links are removed at the end): every refresh makes the node rebuild the
global ordinals of ``source`` and ``target`` for the next aggregation that uses them.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.graph.bench_graph import pct, random_ids
from graph.backend import CLUSTER_MAX_FANOUT, EsGraphStore, LinkFilter, LinkTuple
from graph.expand import expand
from graph.resolution import AliasMap
from search.es_links import EsLinkIndex, es_client


class PreviousIndex(EsLinkIndex):
    """The links among an expansion's outer ring in one search, as before."""

    split_min = 10**9


class PreviousStore(EsGraphStore):
    """A capped hop as before: the hub counts, then the links by chunks (two round trips or
    more); the entity rows after the links, not meanwhile."""

    concurrent = False  # no chunk read ahead

    def links_and_counts(
        self, ids: Sequence[str], flt: LinkFilter, limit: int
    ) -> tuple[dict[str, int], list[LinkTuple] | None]:
        return self.link_counts(ids, flt), None

    def load_in_background(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        result = fn()
        return lambda: result


def writer(
    client: Any, index: str, stop: threading.Event, scale: float, written: list[int]
) -> None:
    rng = random.Random(3)
    phones = int(350_000 * scale)
    n = 0
    while not stop.is_set():
        ops: list[dict[str, Any]] = []
        for _ in range(2000):
            n += 1
            ops += [
                {"index": {"_index": index, "_id": f"churn-{n}"}},
                {
                    "type": "churn",
                    "source": f"phone:13{rng.randrange(phones):09d}",
                    "target": f"phone:13{rng.randrange(phones):09d}",
                    "time": 1.77e9 + n,
                    "record_uid": f"churn:{n}",
                },
            ]
        client.bulk(operations=ops, refresh=True)
        written.append(n)
        stop.wait(1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--es", default="http://127.0.0.1:9250")
    ap.add_argument("--prefix", required=True, help="indices of a bench_cluster --keep run")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cap", type=int, default=CLUSTER_MAX_FANOUT, help="fan-out cap")
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--while-writing", action="store_true")
    args = ap.parse_args()
    new_client, shown = es_client(args.es, timeout=300)
    old_client, _ = es_client(args.es, timeout=300)
    current = EsGraphStore(EsLinkIndex(new_client, prefix=args.prefix, url=shown))
    previous = PreviousStore(PreviousIndex(old_client, prefix=args.prefix, url=shown))
    seeds = random_ids(random.Random(11), args.scale, args.samples)
    stop = threading.Event()
    written: list[int] = [0]
    churn = threading.Thread(
        target=writer,
        args=(new_client, current.index.links, stop, args.scale, written),
        daemon=True,
    )
    if args.while_writing:
        churn.start()
        time.sleep(2)
    times: dict[str, list[float]] = {"previous": [], "current": []}
    try:
        for s in seeds[:3]:
            expand(current, [s], depth=2, max_nodes=2000, max_fanout=args.cap, aliases=AliasMap())
        for i, s in enumerate(seeds):
            order = [("previous", previous), ("current", current)]
            for name, gs in order if i % 2 else reversed(order):
                t = time.perf_counter()
                expand(gs, [s], depth=2, max_nodes=2000, max_fanout=args.cap, aliases=AliasMap())
                times[name].append((time.perf_counter() - t) * 1000)
    finally:
        stop.set()
        if args.while_writing:
            churn.join()
            for i in range(1, written[-1] + 1, 5000):  # (no _delete_by_query in every build)
                new_client.bulk(
                    refresh=True,
                    operations=[
                        {"delete": {"_index": current.index.links, "_id": f"churn-{j}"}}
                        for j in range(i, min(i + 5000, written[-1] + 1))
                    ],
                )
    print(
        f"2-hop expansions, fan-out cap {args.cap}, {len(seeds)} seeds, "
        f"{'while 2,000 links/s are written' if args.while_writing else 'no writes'}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    for name, ts in times.items():
        print(f"{name:>9}: p50 {pct(ts, 0.5):.0f} ms  p95 {pct(ts, 0.95):.0f} ms")


if __name__ == "__main__":
    main()
