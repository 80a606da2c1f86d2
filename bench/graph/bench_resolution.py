"""Person resolution at scale: proposals for N person records, time and peak memory.

    python -m bench.graph.bench_resolution --n 100000        # what fits in ~3 min on 2 cores
    python -m bench.graph.bench_resolution --n 1000000       # the 1 M goal (≤ 10 min)

The records are the synthetic city's residents (``plugins.builtin.world``) as a population
registry would hold them, plus, for ``--dup-rate`` of them, a second record written another
way (the variations of ``plugins.builtin.gen_identity``: a bad ID digit, swapped digits, the
15-digit card, a homophone, pinyin in either order, traditional characters, another date
format, a partial address) and, for ``--family-rate``, a brother sharing the flat and phone.
Prints, side by side: the pairs a naive all-pairs comparison would score and the pairs the
blocking rules generate, the time of each phase, the peak RSS of the process (DuckDB's memory
included), and precision / recall against the known truth at the review threshold.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections.abc import Iterable, Iterator
from typing import Any

from graph import er_model
from graph.er_features import person_features
from graph.er_person import evaluate
from plugins.builtin import gen_identity as gi
from plugins.builtin.world import World


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _variant(p: Any, rng: random.Random) -> tuple[dict[str, Any], str]:
    """A second written form of resident ``p`` and the variation's name."""
    dates = gi._formats(p.birth_date)
    kind = rng.choice(
        ("check", "swap", "legacy", "homophone", "pinyin", "latin", "trad", "partial")
    )
    ident = gi._bad_digit(p.id_number, rng, range(6, 17))
    name, born, addr = p.name, rng.choice(list(dates.values())), p.address
    if kind == "swap":
        ident = gi._swapped(p.id_number, rng)
    elif kind == "legacy" and p.birth_date.year < 2000:
        ident = gi._legacy(p.id_number)
    elif kind == "homophone":
        name = gi._with_name_char(p.name, gi.HOMOPHONES)
    elif kind == "pinyin":
        name, born, addr = gi._pinyin(p), "", ""  # a hotel-like record: name and ID only
    elif kind == "latin":
        name, born, addr = gi._pinyin(p, surname_last=True, upper=True), "", ""
    elif kind == "trad":
        name = gi._traditional(p.name)
    elif kind == "partial":
        addr = gi._partial(p.address)
    props = {
        "name": name,
        "birth_date": born,
        "gender": p.gender,
        "id_number": ident,
        "address": addr,
    }
    return props, kind


Raw = tuple[str, dict[str, Any], list[str]]  # entity id, properties, phones


def records(
    n: int, dup_rate: float, family_rate: float, seed: int = 0
) -> tuple[list[Raw], list[list[str]]]:
    """``n`` registry records plus the variants and brothers (as written); the true clusters."""
    truth: list[list[str]] = []
    return list(iter_records(n, dup_rate, family_rate, truth, seed)), truth


def iter_records(
    n: int, dup_rate: float, family_rate: float, truth: list[list[str]], seed: int = 0
) -> Iterator[Raw]:
    """:func:`records` one at a time (the true clusters are appended to ``truth``)."""
    world = World(seed)
    rng = random.Random(f"bench-er:{seed}")
    for i in range(n):
        p = world.person(i)
        eid = f"person:{p.id_number}"
        yield (
            eid,
            {
                "name": p.name,
                "birth_date": p.birth_date.isoformat(),
                "gender": p.gender,
                "id_number": p.id_number,
                "address": p.address,
            },
            [p.phone],
        )
        r = rng.random()
        if r < dup_rate:
            props, _kind = _variant(p, rng)
            vid = f"person:{props['id_number']}#v"
            yield vid, props, [p.phone] if props["address"] else []
            truth.append([eid, vid])
        elif r < dup_rate + family_rate:  # a brother in the same flat with the family phone
            b = world.person(20_000_000 + i)
            name = p.name[0] + p.name[1:2] + ("军" if p.name[-1] != "军" else "华")
            yield (
                f"person:{b.id_number}#b",
                {
                    "name": name,
                    "birth_date": b.birth_date.isoformat(),
                    "gender": b.gender,
                    "id_number": b.id_number,
                    "address": p.address,
                },
                [p.phone],
            )


def incremental(raw: list[Raw], new: int) -> None:
    """A store with every record but the last ``new`` duplicates: one batch run, then an
    ingest's worth of new persons matched against it — side by side."""
    import json
    import tempfile
    from pathlib import Path

    from core.store import Store
    from graph.resolution import Resolver

    late = {i for i, (eid, _, _) in enumerate(raw) if eid.endswith("#v")}
    late = set(sorted(late)[-new:])
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store.sqlite")

        def put(rows: list[Raw]) -> list[str]:
            with store.transaction() as con:
                con.executemany(
                    "INSERT INTO entities VALUES (?, 'person', ?, ?, ?, NULL, NULL)",
                    [
                        (
                            eid,
                            eid.split(":", 1)[1],
                            props.get("name") or "",
                            json.dumps(props, ensure_ascii=False),
                        )
                        for eid, props, _ in rows
                    ],
                )
                for eid, _, phones in rows:
                    for ph in phones:
                        con.execute(
                            "INSERT OR IGNORE INTO entities VALUES "
                            "(?, 'phone', ?, ?, '{}', NULL, NULL)",
                            (f"phone:{ph}", ph, ph),
                        )
                        con.execute(
                            "INSERT INTO links VALUES (?, 'owns', ?, ?, NULL, 'b', '{}')",
                            (f"{eid}>{ph}", eid, f"phone:{ph}"),
                        )
            return [eid for eid, _, _ in rows]

        put([r for i, r in enumerate(raw) if i not in late])
        resolver = Resolver(store)
        t0 = time.perf_counter()
        batch = resolver.propose()
        t1 = time.perf_counter()
        ids = put([r for i, r in enumerate(raw) if i in late])
        t2 = time.perf_counter()
        found = resolver.match_new(ids)
        t3 = time.perf_counter()
        store.close()
    print(
        f"incremental: batch run over {len(raw) - len(late):,} persons {t1 - t0:.1f} s "
        f"({len(batch):,} proposals); then {len(ids):,} new persons matched in "
        f"{t3 - t2:.2f} s ({len(found):,} proposals) — {(t1 - t0) / (t3 - t2):.0f}× less"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="registry records (default 100k)")
    ap.add_argument("--dup-rate", type=float, default=0.02)
    ap.add_argument("--family-rate", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    ap.add_argument("--threshold", type=float, default=0.5, help="review threshold")
    ap.add_argument(
        "--incremental",
        type=int,
        default=0,
        metavar="K",
        help="also: batch-run a store without the last K duplicates, then match "
        "those K as a new ingest (time side by side)",
    )
    args = ap.parse_args(argv)

    tg = time.perf_counter()
    truth: list[list[str]] = []
    if args.incremental:  # kept: the incremental part writes them to a store
        raw, truth = records(args.n, args.dup_rate, args.family_rate)
        stream: Iterable[Raw] = raw
    else:  # streamed: generated, featurised and packed into columns one at a time
        stream = iter_records(args.n, args.dup_rate, args.family_rate, truth)
    gen = 0.0

    def featurised() -> Iterator[dict[str, Any]]:
        nonlocal gen
        it = iter(stream)
        while True:
            g0 = time.perf_counter()
            item = next(it, None)
            gen += time.perf_counter() - g0
            if item is None:
                return
            eid, props, phones = item
            yield person_features(eid, props, phones=phones)

    t0 = time.perf_counter()
    recs = er_model.to_table(featurised())
    t1 = time.perf_counter()
    scored = er_model.predict(recs, min_probability=0.01, threads=args.threads)
    t2 = time.perf_counter()
    pairs = [(s.a, s.b, s.probability) for s in scored]
    m = evaluate(pairs, truth, args.threshold)
    n = recs.num_rows
    print(
        f"records: {n:,} ({len(truth):,} planted duplicates, "
        f"{n - args.n - len(truth):,} brothers sharing a phone and flat)"
    )
    print(f"pairs: all-pairs would be {n * (n - 1) // 2:,}; scored above 0.01: {len(scored):,}")
    gen_s = gen + (t0 - tg)
    feat_s = t1 - t0 - gen
    print(f"(generating the synthetic records: {gen_s:.1f} s, not counted)")
    print(
        f"features: {feat_s:.1f} s   blocking + scoring (splink/DuckDB, {args.threads} "
        f"threads): {t2 - t1:.1f} s   total: {feat_s + t2 - t1:.1f} s"
    )
    print(f"peak RSS: {_peak_mib():,.0f} MiB")
    print(
        f"at the review threshold {args.threshold}: precision {m.precision:.4f}, recall "
        f"{m.recall:.4f}, cluster F1 {m.cluster_f1:.4f} ({m.correct_pairs:,} of "
        f"{m.proposed_pairs:,} proposed pairs right; {m.true_pairs:,} true pairs)"
    )
    for a, b, s in m.false_pairs[:5]:
        print(f"  false: {a} ≈ {b} ({s:.3f})")
    for a, b in m.missed_pairs[:5]:
        print(f"  missed: {a} ≈ {b}")
    if args.incremental:
        del recs, scored
        incremental(raw, args.incremental)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
