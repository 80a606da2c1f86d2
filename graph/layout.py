"""Force-directed positions for the console, vectorised with numpy, and incremental.

Fruchterman–Reingold: nodes repel (k²/d), edges attract (d²/k), the step shrinks each round.
Repulsion is exact (in row blocks, float32) up to :data:`EXACT_LIMIT` nodes and sampled above it
(each round every node is pushed by a random sample of the others, scaled up), which keeps a
5,000-node layout to seconds on two cores. Given existing positions, only the new nodes move:
each starts next to its already-placed neighbours, so expanding a node leaves the picture as it
was and grows it locally.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from graph.model import GraphResult

EXACT_LIMIT = 1500
SAMPLE = 400
_BLOCK = 256

Positions = dict[str, tuple[float, float]]


def layout(
    graph: GraphResult,
    *,
    fixed: Mapping[str, tuple[float, float]] | None = None,
    iterations: int | None = None,
    seed: int = 0,
) -> Positions:
    """Positions for every node of ``graph`` (roughly within [-1, 1]² for a fresh layout).

    Parameters
    ----------
    fixed:
        Known positions (e.g. what is on screen). Those nodes do not move; nodes not in ``fixed``
        are placed near their placed neighbours and then relaxed.
    iterations:
        Rounds of relaxation (default: 60 for a fresh layout, 30 for an incremental one).
    """
    return layout_edges(
        list(graph.nodes),
        ((e.source, e.target) for e in graph.edges),
        fixed=fixed,
        iterations=iterations,
        seed=seed,
    )


def layout_edges(
    nodes: list[str],
    edges: Iterable[tuple[str, str]],
    *,
    fixed: Mapping[str, tuple[float, float]] | None = None,
    iterations: int | None = None,
    seed: int = 0,
) -> Positions:
    """:func:`layout` for plain node ids and (source, target) pairs."""
    rng = np.random.default_rng(seed)
    n = len(nodes)
    if n == 0:
        return {}
    index = {nid: i for i, nid in enumerate(nodes)}
    pairs = {
        (min(index[a], index[b]), max(index[a], index[b]))
        for a, b in edges
        if a in index and b in index and a != b
    }
    e = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    fixed = {k: v for k, v in (fixed or {}).items() if k in index}
    pos = np.zeros((n, 2), dtype=np.float32)
    movable = np.ones(n, dtype=bool)
    for nid, xy in fixed.items():
        pos[index[nid]] = xy
        movable[index[nid]] = False
    if fixed:
        fx = pos[~movable]
        extent = max(float(np.ptp(fx[:, 0])), float(np.ptp(fx[:, 1])), 1e-3)
        k = extent / np.sqrt(max(len(fixed), 1))
    else:
        extent, k = 2.0, 2.0 / np.sqrt(n)
    _seed_positions(pos, movable, e, rng, k, extent)
    if not movable.any():
        return {nid: (float(pos[i, 0]), float(pos[i, 1])) for nid, i in index.items()}
    rounds = iterations if iterations is not None else (30 if fixed else 60)
    temperature = 0.1 * extent if not fixed else k / 2
    moving = np.flatnonzero(movable)
    for r in range(rounds):
        # placing new nodes: only nearby nodes push, so they settle by their neighbours
        # instead of being driven to the rim by the whole picture
        disp = _repulsion(pos, moving, k, rng, cutoff=3 * k if fixed else None)
        if len(e):
            delta = pos[e[:, 0]] - pos[e[:, 1]]
            dist = np.maximum(np.sqrt((delta**2).sum(axis=1)), 1e-4)
            pull = (delta * (dist / k)[:, None]).astype(np.float32)
            full = np.zeros((n, 2), dtype=np.float32)
            np.add.at(full, e[:, 0], -pull)
            np.add.at(full, e[:, 1], pull)
            disp += full[moving]
        length = np.maximum(np.sqrt((disp**2).sum(axis=1)), 1e-6)
        step = temperature * (1 - r / rounds)
        pos[moving] += disp * (np.minimum(length, step) / length)[:, None]
    return {nid: (float(pos[i, 0]), float(pos[i, 1])) for nid, i in index.items()}


def _seed_positions(
    pos: np.ndarray,
    movable: np.ndarray,
    e: np.ndarray,
    rng: np.random.Generator,
    k: float,
    extent: float,
) -> None:
    """Start each new node next to its placed neighbours (breadth-first), else at random."""
    n = len(pos)
    placed = ~movable
    if not placed.any():
        pos[:] = rng.uniform(-extent / 2, extent / 2, size=(n, 2))
        return
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in e:
        nbrs[a].append(int(b))
        nbrs[b].append(int(a))
    pending = set(np.flatnonzero(movable).tolist())
    centre = pos[placed].mean(axis=0)
    while pending:
        ready = [i for i in pending if any(placed[j] for j in nbrs[i])]
        if not ready:  # nothing connected to the picture: put one at the edge and go on
            i = min(pending)
            angle = rng.uniform(0, 2 * np.pi)
            pos[i] = centre + (extent / 2 + k) * np.array([np.cos(angle), np.sin(angle)])
            placed[i] = True
            pending.discard(i)
            continue
        for i in ready:
            anchors = [j for j in nbrs[i] if placed[j]]
            pos[i] = pos[anchors].mean(axis=0) + rng.normal(0, k / 2, size=2)
        for i in ready:
            placed[i] = True
            pending.discard(i)


def _repulsion(
    pos: np.ndarray,
    moving: np.ndarray,
    k: float,
    rng: np.random.Generator,
    cutoff: float | None = None,
) -> np.ndarray:
    n = len(pos)
    if n > EXACT_LIMIT:
        others = rng.choice(n, size=SAMPLE, replace=False)
        scale = n / SAMPLE
    else:
        others = np.arange(n)
        scale = 1.0
    tx, ty = pos[others, 0], pos[others, 1]
    out = np.zeros((len(moving), 2), dtype=np.float32)
    k2 = np.float32(k * k * scale)
    for lo in range(0, len(moving), _BLOCK):
        rows = pos[moving[lo : lo + _BLOCK]]
        # x and y kept apart: reducing over a length-2 axis is slow in numpy
        dx = rows[:, 0, None] - tx[None, :]
        dy = rows[:, 1, None] - ty[None, :]
        d2 = np.maximum(dx * dx + dy * dy, np.float32(1e-6))
        force = k2 / d2
        if cutoff is not None:
            force[d2 > cutoff * cutoff] = 0.0
        out[lo : lo + _BLOCK, 0] = (dx * force).sum(axis=1)
        out[lo : lo + _BLOCK, 1] = (dy * force).sum(axis=1)
    return out
