"""Generate the benchmark graph (≥ 1M entities, 5M links) straight into a SQLite store.

Rows go in with ``executemany`` in large batches while the store's secondary indexes are
dropped; reopening the store recreates them (its DDL is idempotent). The result is cached under
``.cache/`` and reused while its parameters match.

    python -m bench.graph.generate [--out .cache/graph_bench.sqlite] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from core.store import Store

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PATH = REPO / ".cache" / "graph_bench.sqlite"
T0 = 1_767_225_600.0  # 2026-01-01 UTC
SPAN = 90 * 86400.0
BATCH = 200_000

# entity type -> count (per 1.0 scale); link type -> (count, source type, target type)
ENTITIES = {
    "person": 400_000,
    "phone": 350_000,
    "vehicle": 200_000,
    "address": 45_000,
    "device": 5_000,
}
LINKS = {
    "called": (2_500_000, "phone", "phone"),
    "owns_phone": (350_000, "person", "phone"),
    "owns_vehicle": (200_000, "person", "vehicle"),
    "lives_at": (400_000, "person", "address"),
    "passed": (1_550_000, "vehicle", "device"),
}


def key(etype: str, i: np.ndarray) -> list[str]:
    if etype == "person":
        return [f"person:3301{n:014d}" for n in i]
    if etype == "phone":
        return [f"phone:13{n:09d}" for n in i]
    if etype == "vehicle":
        return [f"vehicle:浙A{n:06d}" for n in i]
    if etype == "address":
        return [f"address:杭州市 {n} 号" for n in i]
    return [f"device:KK{n:05d}" for n in i]


def pick(rng: np.random.Generator, n: int, size: int, hubs: float = 0.2) -> np.ndarray:
    """Entity indexes, ``hubs`` of them drawn from the first 1% (a few busy nodes)."""
    out = rng.integers(0, n, size=size)
    busy = rng.random(size) < hubs
    out[busy] = rng.integers(0, max(1, n // 100), size=int(busy.sum()))
    return out


def generate(path: Path, scale: float = 1.0, seed: int = 1) -> dict[str, float]:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    Store(path).close()  # the store's own tables
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    indexes = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='index' "
            "AND tbl_name IN ('links','entities') "
            "AND sql IS NOT NULL"
        )
    ]
    for name in indexes:
        con.execute(f"DROP INDEX {name}")
    rng = np.random.default_rng(seed)
    counts = {t: int(c * scale) for t, c in ENTITIES.items()}
    started = time.monotonic()
    for etype, n in counts.items():
        ids = key(etype, np.arange(n))
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO entities VALUES (?,?,?,?,?,?,?)",
            ((eid, etype, eid.split(":", 1)[1], "", "{}", None, None) for eid in ids),
        )
        con.execute("COMMIT")
    t_entities = time.monotonic() - started
    n_links = 0
    for ltype, (count, st, tt) in LINKS.items():
        count = int(count * scale)
        real_type = "owns" if ltype.startswith("owns") else ltype
        for lo in range(0, count, BATCH):
            size = min(BATCH, count - lo)
            if ltype.startswith("owns"):  # one owner each: target i gets owner at random
                tgt = np.arange(lo, lo + size) % counts[tt]
                src = rng.integers(0, counts[st], size=size)
            elif ltype == "lives_at":
                src = np.arange(lo, lo + size) % counts[st]
                tgt = rng.integers(0, counts[tt], size=size)
            else:
                src = pick(rng, counts[st], size)
                tgt = pick(rng, counts[tt], size, hubs=0.3 if ltype == "passed" else 0.2)
            times = T0 + rng.random(size) * SPAN
            sk, tk = key(st, src), key(tt, tgt)
            con.execute("BEGIN")
            con.executemany(
                "INSERT INTO links VALUES (?,?,?,?,?,?,'{}')",
                (
                    (
                        f"{n_links + j:024x}",
                        real_type,
                        sk[j],
                        tk[j],
                        float(times[j]),
                        f"bench:{n_links + j}",
                    )
                    for j in range(size)
                ),
            )
            con.execute("COMMIT")
            n_links += size
            print(f"  {n_links:,} links", file=sys.stderr)
    t_links = time.monotonic() - started - t_entities
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('graph_bench', ?)",
        (json.dumps({"scale": scale, "seed": seed}),),
    )
    con.close()
    t0 = time.monotonic()
    Store(path).close()  # recreates the dropped indexes
    con = sqlite3.connect(path)
    con.execute("ANALYZE")
    con.close()
    return {
        "entities": sum(counts.values()),
        "links": n_links,
        "entities_s": t_entities,
        "links_s": t_links,
        "indexes_s": time.monotonic() - t0,
    }


def cached(path: Path = DEFAULT_PATH, scale: float = 1.0, seed: int = 1) -> Path:
    """The benchmark store, generated if missing or built with other parameters."""
    if path.exists():
        try:
            con = sqlite3.connect(path)
            row = con.execute("SELECT value FROM meta WHERE key='graph_bench'").fetchone()
            con.close()
            if row and json.loads(row[0]) == {"scale": scale, "seed": seed}:
                return path
        except sqlite3.Error:
            pass
    print(f"generating {path} (scale {scale}) …", file=sys.stderr)
    stats = generate(path, scale, seed)
    print(
        f"generated {stats['entities']:,} entities in {stats['entities_s']:.0f} s, "
        f"{stats['links']:,} links in {stats['links_s']:.0f} s, "
        f"indexes in {stats['indexes_s']:.0f} s",
        file=sys.stderr,
    )
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_PATH)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cached(args.out, args.scale, args.seed)


if __name__ == "__main__":
    main()
