"""Person resolution over a store: features from entities and their links, scored proposals,
transitive clusters with their weakest link, incremental matching of new entities, and the
pairwise / cluster metrics against a planted truth.

The model (blocking, levels, weights) is :mod:`graph.er_model`; :class:`graph.resolution.Resolver`
is the audited front door that turns these proposals into decisions.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.store import Store
from graph.er_features import person_features

log = logging.getLogger(__name__)

RULE = "probabilistic"
_CHUNK = 500


def load_features(store: Store, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The comparable columns of every person entity (or of ``ids``), with their phones
    (``owns`` links) and home addresses (``lives_at`` links)."""
    con = store.connection
    wanted = None if ids is None else sorted(set(ids))
    rows: list[tuple[str, str]] = []
    if wanted is None:
        rows = con.execute("SELECT id, props FROM entities WHERE type='person'").fetchall()
    else:
        for i in range(0, len(wanted), _CHUNK):
            part = wanted[i : i + _CHUNK]
            rows += con.execute(
                f"SELECT id, props FROM entities WHERE type='person' AND id IN "
                f"({','.join('?' * len(part))})",
                part,
            ).fetchall()
    phones: dict[str, list[str]] = defaultdict(list)
    homes: dict[str, list[str]] = defaultdict(list)
    ent_ids = [r[0] for r in rows]
    for i in range(0, len(ent_ids), _CHUNK):
        part = ent_ids[i : i + _CHUNK]
        marks = ",".join("?" * len(part))
        # by source only, the link types picked here: with a type condition SQLite plans the
        # query on links(type, time) and scans every owns/lives_at link for each chunk (a
        # 167,000-person file stalled an ingest at 1M records); links(source, time) it is
        for source, ltype, target, props in con.execute(
            f"SELECT l.source, l.type, l.target, e.props FROM links l JOIN entities e "
            f"ON e.id = l.target WHERE l.source IN ({marks})",
            part,
        ):
            if ltype not in ("owns", "lives_at"):
                continue
            if ltype == "owns" and target.startswith("phone:"):
                phones[source].append(target.split(":", 1)[1])
            elif ltype == "lives_at":
                homes[source].append(json.loads(props).get("address") or target.split(":", 1)[1])
    return [
        person_features(
            eid, json.loads(props), phones=phones.get(eid, ()), addresses=homes.get(eid, ())
        )
        for eid, props in rows
    ]


@dataclass(frozen=True)
class Cluster:
    """Entities joined by proposals (and accepted merges) — shown together, merged by no one.

    ``weakest`` is the lowest-scoring link that holds the cluster together (the weakest edge
    of its maximum spanning tree): cut it and the cluster falls apart.
    """

    members: tuple[str, ...]
    links: tuple[tuple[str, str, float], ...]
    weakest: tuple[str, str, float] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "members": list(self.members),
            "links": [list(x) for x in self.links],
            "weakest": list(self.weakest) if self.weakest else None,
        }


def clusters(pairs: Iterable[tuple[str, str, float]]) -> list[Cluster]:
    """Connected components of scored pairs, biggest first, each with its weakest link."""
    import networkx as nx

    g = nx.Graph()
    for a, b, s in pairs:
        if not g.has_edge(a, b) or g[a][b]["score"] < s:
            g.add_edge(a, b, score=s)
    out = []
    for comp in nx.connected_components(g):
        sub = g.subgraph(comp)
        tree = nx.maximum_spanning_tree(sub, weight="score")
        tree_edges = [(a, b, d["score"]) for a, b, d in tree.edges(data=True)]
        weakest = min(tree_edges, key=lambda e: e[2]) if tree_edges else None
        links = tuple(
            sorted((min(a, b), max(a, b), d["score"]) for a, b, d in sub.edges(data=True))
        )
        out.append(
            Cluster(
                tuple(sorted(comp)),
                links,
                (min(weakest[:2]), max(weakest[:2]), weakest[2]) if weakest else None,
            )
        )
    out.sort(key=lambda c: (-len(c.members), c.members))
    return out


@dataclass(frozen=True)
class Metrics:
    """Pairwise precision / recall and cluster F1 of proposals against a truth."""

    threshold: float
    true_pairs: int
    proposed_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    cluster_f1: float
    false_pairs: tuple[tuple[str, str, float], ...]
    missed_pairs: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def evaluate(
    pairs: Sequence[tuple[str, str, float]],
    truth_clusters: Iterable[Iterable[str]],
    threshold: float,
) -> Metrics:
    """Compare scored pairs at ``threshold`` with true clusters (entities not in any truth
    cluster are each their own person). Cluster F1: the share of true clusters (of two or more)
    reproduced exactly by the proposals' clusters, against the share of proposed clusters that
    are exactly true, combined as F1."""
    cluster_of: dict[str, int] = {}
    true_sets = []
    for k, members in enumerate(truth_clusters):
        ms = sorted(set(members))
        true_sets.append(frozenset(ms))
        for m in ms:
            cluster_of[m] = k
    truth = {(a, b) for ms in true_sets for a in ms for b in ms if a < b}
    above = [(min(a, b), max(a, b), s) for a, b, s in pairs if s >= threshold]
    got = {(a, b) for a, b, _ in above}
    correct = got & truth
    precision = len(correct) / len(got) if got else 1.0
    recall = len(correct) / len(truth) if truth else 1.0
    found = {frozenset(c.members) for c in clusters(above)}
    multi_truth = {s for s in true_sets if len(s) > 1}
    exact = found & multi_truth
    cp = len(exact) / len(found) if found else 1.0
    cr = len(exact) / len(multi_truth) if multi_truth else 1.0
    f1 = 2 * cp * cr / (cp + cr) if cp + cr else 0.0
    return Metrics(
        threshold,
        len(truth),
        len(got),
        len(correct),
        precision,
        recall,
        f1,
        tuple(sorted(p for p in above if (p[0], p[1]) not in truth)),
        tuple(sorted(truth - got)),
    )
