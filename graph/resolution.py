"""Entity resolution: proposals for weak matches, and accepted merges that can be undone.

Strong identifiers (ID number, phone, plate) are merged by construction: an entity's id is its
type plus its normalised key. Weaker matches — the same name and birth date, or the same name and
address — are only *proposed*, with a score and the evidence. An analyst accepts or rejects each;
an accepted merge is a row in ``graph_merges`` (alias → canonical), applied whenever a graph is
built, and undoing it (a split) simply deactivates the row, so the next graph is exactly the one
before the merge. Nothing in the store's own tables is ever rewritten.
"""

from __future__ import annotations

import json
import logging
import re
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core import normalize
from core.audit import AuditLog
from core.schema import Schema, default_schema
from core.store import Store
from graph.errors import ResolutionError

log = logging.getLogger(__name__)

_DDL = """
CREATE TABLE IF NOT EXISTS graph_merges (
    id INTEGER PRIMARY KEY AUTOINCREMENT, alias TEXT NOT NULL, canonical TEXT NOT NULL,
    rule TEXT NOT NULL, score REAL NOT NULL, evidence TEXT NOT NULL, user TEXT NOT NULL,
    accepted_at REAL NOT NULL, undone_at REAL, undone_by TEXT);
CREATE INDEX IF NOT EXISTS graph_merges_alias ON graph_merges(alias);
CREATE TABLE IF NOT EXISTS graph_proposals (
    a TEXT NOT NULL, b TEXT NOT NULL, type TEXT NOT NULL, rule TEXT NOT NULL,
    score REAL NOT NULL, evidence TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS graph_unsure (
    a TEXT NOT NULL, b TEXT NOT NULL, user TEXT NOT NULL, at REAL NOT NULL, note TEXT,
    PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS er_keys (
    key TEXT NOT NULL, entity_id TEXT NOT NULL, PRIMARY KEY (key, entity_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS graph_rejections (
    a TEXT NOT NULL, b TEXT NOT NULL, rule TEXT NOT NULL, user TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (a, b)) WITHOUT ROWID;
"""

#: Match probability from which a person proposal goes to the review queue (workspace
#: ``[resolution] review_threshold``).
REVIEW_THRESHOLD = 0.5
#: Scores of the weak-match rules (the evidence says which fields matched).
RULE_SCORES = {"name+birth_date+address": 0.97, "name+birth_date": 0.9, "name+address": 0.75}
MAX_BUCKET = 50  # a (name, birth date) shared by more entities than this is noise, not a match
_DIGITS = re.compile(r"\D+")


_READY: weakref.WeakSet[Store] = weakref.WeakSet()  # stores whose graph tables exist


def ensure_tables(store: Store) -> None:
    """Create the graph tables in the store's SQLite if they are missing (once per store)."""
    if store in _READY:
        return
    store.connection.executescript(_DDL)
    _READY.add(store)


@dataclass(frozen=True)
class MergeProposal:
    """Two entities that may be the same, why (``rule`` and ``evidence``) and how likely."""

    a: str
    b: str
    entity_type: str
    rule: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.a}|{self.b}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "a": self.a,
            "b": self.b,
            "type": self.entity_type,
            "rule": self.rule,
            "score": self.score,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Merge:
    """An accepted merge: ``alias`` is shown as ``canonical`` while the merge is active."""

    id: int
    alias: str
    canonical: str
    rule: str
    score: float
    evidence: dict[str, Any]
    user: str
    accepted_at: float
    undone_at: float | None = None
    undone_by: str | None = None

    @property
    def active(self) -> bool:
        return self.undone_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alias": self.alias,
            "canonical": self.canonical,
            "rule": self.rule,
            "score": self.score,
            "evidence": self.evidence,
            "user": self.user,
            "accepted_at": self.accepted_at,
            "undone_at": self.undone_at,
            "undone_by": self.undone_by,
        }


class AliasMap:
    """alias → canonical for the active merges, resolved through chains (a→b, b→c ⇒ a→c)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        direct = dict(pairs)
        self._canon: dict[str, str] = {}
        for alias in direct:
            seen = {alias}
            target = direct[alias]
            while target in direct and target not in seen:
                seen.add(target)
                target = direct[target]
            self._canon[alias] = target
        self._members: dict[str, list[str]] = defaultdict(list)
        for alias, canonical in sorted(self._canon.items()):
            self._members[canonical].append(alias)

    @classmethod
    def load(cls, store: Store) -> AliasMap:
        ensure_tables(store)
        rows = store.connection.execute(
            "SELECT alias, canonical FROM graph_merges WHERE undone_at IS NULL ORDER BY id"
        )
        return cls(rows.fetchall())

    def __bool__(self) -> bool:
        return bool(self._canon)

    def canonical(self, entity_id: str) -> str:
        return self._canon.get(entity_id, entity_id)

    def aliases(self, canonical: str) -> list[str]:
        return list(self._members.get(canonical, ()))

    def members(self, canonical: str) -> list[str]:
        """The canonical id followed by every id merged into it."""
        return [canonical, *self._members.get(canonical, ())]


def _norm_date(value: Any) -> str:
    return _DIGITS.sub("", normalize.fold(str(value))) if value else ""


def _norm(value: Any, normalizer: str) -> str:
    return normalize.get(normalizer)(str(value)) if value else ""


class Resolver:
    """Proposes, accepts, rejects and undoes merges in one store (audited via ``audit``)."""

    def __init__(
        self,
        store: Store,
        *,
        audit: AuditLog | None = None,
        user: str = "",
        schema: Schema | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.audit = audit
        self.user = user or "unknown"
        self.schema = schema or default_schema()
        self.config = dict(config or {})
        ensure_tables(store)

    @property
    def review_threshold(self) -> float:
        """Person proposals at or above this match probability go to the review queue."""
        return float(self.config.get("review_threshold", REVIEW_THRESHOLD))

    def auto_threshold(self, entity_type: str) -> float | None:
        """Score from which ``entity_type`` merges without review; None (off) unless the
        workspace sets ``[resolution.auto_merge] TYPE = score`` — off for persons by default."""
        value = dict(self.config.get("auto_merge", {})).get(entity_type)
        if value in (None, False, "off"):
            return None
        score = float(value)
        if not 0.5 <= score <= 1.0:
            raise ResolutionError(
                f"[resolution.auto_merge] {entity_type} = {value!r}: "
                "must be between 0.5 and 1, or 'off'"
            )
        return score

    @classmethod
    def for_workspace(cls, workspace: Any) -> Resolver:
        """A resolver acting as the workspace's session (needs ``graph.read``; every decision
        is audited)."""
        from core.security import require

        session = require(workspace, "graph.read", action="graph.resolve")
        return cls(
            workspace.store,
            audit=workspace.audit,
            user=session.user,
            config=workspace.config.get("resolution", {}),
        )

    # -- proposals ----------------------------------------------------------------------------
    def propose(
        self,
        entity_type: str | None = None,
        *,
        min_score: float | None = None,
        limit: int | None = None,
    ) -> list[MergeProposal]:
        """Weak-match proposals, best first, leaving out rejected and already merged pairs.

        Persons are scored by the probabilistic model (:mod:`graph.er_model`; ``score`` is the
        match probability, the evidence gives each field's level and weight) and kept from
        ``min_score`` (default: the review threshold); the proposals are also stored as the
        review queue (:meth:`queue`). Other types with a ``name`` and a ``birth_date`` and/or
        ``address`` property get the exact-match rules; addresses also come from
        ``lives_at`` / ``located_at`` links.
        """
        floor = self.review_threshold if min_score is None else min_score
        types = [entity_type] if entity_type else list(self.schema.entities)
        aliases = AliasMap.load(self.store)
        rejected = {
            (a, b) for a, b in self.store.connection.execute("SELECT a, b FROM graph_rejections")
        }
        best: dict[tuple[str, str], MergeProposal] = {}
        for tname in types:
            props = self.schema.entity(tname).properties
            if "name" not in props or not ({"birth_date", "address"} & set(props)):
                continue
            found = self._propose_persons(floor) if tname == "person" else self._propose_type(tname)
            for p in found:
                pair = (p.a, p.b)
                if pair in rejected or aliases.canonical(p.a) == aliases.canonical(p.b):
                    continue
                if pair not in best or best[pair].score < p.score:
                    best[pair] = p
        out = sorted(
            (p for p in best.values() if p.score >= floor), key=lambda p: (-p.score, p.a, p.b)
        )
        return out[:limit] if limit else out

    def _propose_persons(self, floor: float) -> list[MergeProposal]:
        from graph import er_model, er_person

        features = er_person.load_features(self.store)
        self._index_keys(features, replace=True)
        scored = er_model.predict(features, min_probability=max(floor, 1e-4))
        found = [_proposal(s) for s in scored]
        self._store_proposals(found, replace=True)
        return found

    def match_new(self, entity_ids: Iterable[str]) -> list[MergeProposal]:
        """Match new (or changed) person entities against the ones already indexed, without
        re-scoring the workspace: candidates come from the blocking-key index, the pairs are
        scored by the same model, those above the review threshold join the queue, and those
        above the workspace's auto threshold (off for persons by default) are merged."""
        from graph import er_model, er_person

        ids = sorted(set(entity_ids))
        if not ids:
            return []
        new = er_person.load_features(self.store, ids)
        self._index_keys(new)
        keys = sorted({k for f in new for k in _keys(f)})
        cand: set[str] = set()
        con = self.store.connection
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            cand.update(
                r[0]
                for r in con.execute(
                    f"SELECT entity_id FROM er_keys WHERE key IN ({','.join('?' * len(part))})",
                    part,
                )
            )
        existing = er_person.load_features(self.store, cand - set(ids))
        n = con.execute("SELECT count(*) FROM entities WHERE type='person'").fetchone()[0]
        scored = er_model.compare(
            new, existing, n_records=int(n), min_probability=self.review_threshold
        )
        aliases = AliasMap.load(self.store)
        rejected = {(a, b) for a, b in con.execute("SELECT a, b FROM graph_rejections")}
        found = [
            p
            for p in (_proposal(s) for s in scored)
            if (p.a, p.b) not in rejected and aliases.canonical(p.a) != aliases.canonical(p.b)
        ]
        self._store_proposals(found)
        self.apply_auto(found)
        return found

    def apply_auto(self, proposals: Iterable[MergeProposal]) -> list[Merge]:
        """Merge the proposals at or above their type's auto threshold (none when it is off)."""
        merges = []
        for p in sorted(proposals, key=lambda p: -p.score):
            limit = self.auto_threshold(p.entity_type)
            if limit is None or p.score < limit:
                continue
            aliases = AliasMap.load(self.store)
            if aliases.canonical(p.a) == aliases.canonical(p.b):
                continue
            keep = aliases.canonical(p.a)
            alias = aliases.canonical(p.b)
            merges.append(
                self.accept(alias, keep, rule=f"auto:{p.rule}", score=p.score, evidence=p.evidence)
            )
        return merges

    def _index_keys(self, features: Sequence[dict[str, Any]], replace: bool = False) -> None:
        rows = [(k, f["unique_id"]) for f in features for k in _keys(f)]
        with self.store.transaction() as con:
            if replace:
                con.execute("DELETE FROM er_keys")
            con.executemany("INSERT OR IGNORE INTO er_keys VALUES (?,?)", rows)

    def _store_proposals(self, found: Sequence[MergeProposal], replace: bool = False) -> None:
        now = time.time()
        with self.store.transaction() as con:
            if replace:
                con.execute("DELETE FROM graph_proposals WHERE type='person'")
            con.executemany(
                "INSERT OR REPLACE INTO graph_proposals VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        p.a,
                        p.b,
                        p.entity_type,
                        p.rule,
                        p.score,
                        json.dumps(p.evidence, ensure_ascii=False, default=str),
                        now,
                    )
                    for p in found
                ],
            )

    def queue(self, *, min_score: float | None = None) -> list[dict[str, Any]]:
        """The review queue: stored proposals at or above the review threshold that nobody has
        accepted or rejected, best first; each with ``unsure`` when marked "not sure"."""
        floor = self.review_threshold if min_score is None else min_score
        con = self.store.connection
        aliases = AliasMap.load(self.store)
        rejected = {(a, b) for a, b in con.execute("SELECT a, b FROM graph_rejections")}
        unsure = {(a, b): u for a, b, u in con.execute("SELECT a, b, user FROM graph_unsure")}
        out = []
        for a, b, etype, rule, score, evidence, _ in con.execute(
            "SELECT * FROM graph_proposals WHERE score >= ? ORDER BY score DESC, a, b", (floor,)
        ):
            if (a, b) in rejected or aliases.canonical(a) == aliases.canonical(b):
                continue
            p = MergeProposal(a, b, etype, rule, float(score), json.loads(evidence))
            out.append({**p.to_dict(), "unsure": unsure.get((a, b))})
        return out

    def clusters(self, *, min_score: float | None = None) -> list[Any]:
        """The queue's proposals and the active merges as transitive clusters, each with its
        weakest link (shown together; nothing is merged by being in one cluster)."""
        from graph.er_person import clusters

        pairs = [(q["a"], q["b"], q["score"]) for q in self.queue(min_score=min_score)]
        pairs += [(m.alias, m.canonical, m.score) for m in self.merges()]
        return clusters(pairs)

    def find_proposal(self, a: str, b: str) -> MergeProposal | None:
        """The stored proposal for the pair (from the queue), else a fresh one, else None."""
        x, y = sorted((a, b))
        row = self.store.connection.execute(
            "SELECT a, b, type, rule, score, evidence FROM graph_proposals WHERE a=? AND b=?",
            (x, y),
        ).fetchone()
        if row is not None:
            return MergeProposal(row[0], row[1], row[2], row[3], float(row[4]), json.loads(row[5]))
        entity = self.store.get_entity(a)
        if entity is not None and entity.type == "person":
            return None  # persons are only proposed by a run; don't rescore the workspace
        return next((p for p in self.propose(min_score=0.0) if {p.a, p.b} == {a, b}), None)

    def decision_on(self, a: str, b: str) -> str | None:
        """Who has already decided the pair, in words (a rejection, or an active merge that
        joined the two), or None while it is undecided — "not sure" is no decision."""
        x, y = sorted((a, b))
        ensure_tables(self.store)
        row = self.store.connection.execute(
            "SELECT user FROM graph_rejections WHERE a=? AND b=?", (x, y)
        ).fetchone()
        if row is not None:
            return f"{row[0]} rejected {x} ≈ {y} (different people)"
        aliases = AliasMap.load(self.store)
        canonical = aliases.canonical(a)
        if canonical != aliases.canonical(b):
            return None
        members = set(aliases.members(canonical))
        joined = [m for m in self.merges() if m.alias in members]
        if not joined:  # a == b: nothing to decide
            return f"{a} and {b} are one entity"
        last = joined[-1]
        return f"{last.user} merged {last.alias} into {last.canonical} (merge {last.id})"

    def mark_unsure(self, a: str, b: str, *, note: str = "", case: str | None = None) -> None:
        """Record "not sure" for the pair: it stays in the queue, flagged, for a second look."""
        a, b = sorted((a, b))
        with self.store.transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO graph_unsure VALUES (?,?,?,?,?)",
                (a, b, self.user, time.time(), note[:500]),
            )
        self._audit("graph.unsure", {"a": a, "b": b, "note": note[:500]}, case)

    def _propose_type(self, tname: str) -> list[MergeProposal]:
        con = self.store.connection
        info: dict[str, dict[str, Any]] = {}
        for eid, name, birth, address in con.execute(
            "SELECT id, json_extract(props, '$.name'), json_extract(props, '$.birth_date'), "
            "json_extract(props, '$.address') FROM entities "
            "WHERE type=? AND json_extract(props, '$.name') IS NOT NULL",
            (tname,),
        ):
            n = _norm(name, "name")
            if not n:
                continue
            addrs = {_norm(address, "text")} - {""}
            info[eid] = {
                "name": n,
                "birth_date": _norm_date(birth),
                "addresses": addrs,
                "raw": {"name": name, "birth_date": birth, "address": address},
            }
        if not info:
            return []
        for source, target in con.execute(
            "SELECT source, target FROM links WHERE type IN ('lives_at', 'located_at') "
            "AND source IN (SELECT id FROM entities WHERE type=?)",
            (tname,),
        ):
            if source in info:
                info[source]["addresses"].add(target)
        by_birth: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_addr: dict[tuple[str, str], list[str]] = defaultdict(list)
        for eid, d in info.items():
            if d["birth_date"]:
                by_birth[(d["name"], d["birth_date"])].append(eid)
            for addr in d["addresses"]:
                by_addr[(d["name"], addr)].append(eid)
        matches: dict[tuple[str, str], set[str]] = defaultdict(set)
        for kind, buckets in (("birth_date", by_birth), ("address", by_addr)):
            for key, ids in buckets.items():
                if len(ids) > MAX_BUCKET:
                    log.info("skipping %s bucket %r: %d entities share it", kind, key, len(ids))
                    continue
                ids = sorted(set(ids))
                for i, a in enumerate(ids):
                    for b in ids[i + 1 :]:
                        matches[(a, b)].add(kind)
        out = []
        for (a, b), kinds in matches.items():
            rule = "name+" + "+".join(k for k in ("birth_date", "address") if k in kinds)
            da, db = info[a], info[b]
            evidence: dict[str, Any] = {"name": da["raw"]["name"]}
            if "birth_date" in kinds:
                evidence["birth_date"] = da["raw"]["birth_date"]
            if "address" in kinds:
                evidence["address"] = sorted(da["addresses"] & db["addresses"])
            evidence["a"] = da["raw"]
            evidence["b"] = db["raw"]
            out.append(MergeProposal(a, b, tname, rule, RULE_SCORES[rule], evidence))
        return out

    # -- decisions ----------------------------------------------------------------------------
    def accept(
        self,
        alias: str,
        canonical: str,
        *,
        rule: str = "manual",
        score: float = 1.0,
        evidence: dict[str, Any] | None = None,
        case: str | None = None,
    ) -> Merge:
        """Merge ``alias`` into ``canonical`` (both must exist and be of the same type)."""
        ea, ec = self.store.get_entity(alias), self.store.get_entity(canonical)
        for eid, row in ((alias, ea), (canonical, ec)):
            if row is None:
                raise ResolutionError(f"cannot merge: no entity {eid!r} in the store")
        assert ea is not None and ec is not None
        if ea.type != ec.type:
            raise ResolutionError(
                f"cannot merge {alias!r} ({ea.type}) into {canonical!r} "
                f"({ec.type}): entities of different types"
            )
        aliases = AliasMap.load(self.store)
        if aliases.canonical(alias) != alias:
            raise ResolutionError(
                f"{alias!r} is already merged into {aliases.canonical(alias)!r}; split it first"
            )
        if aliases.canonical(canonical) == alias or canonical == alias:
            raise ResolutionError(f"cannot merge {alias!r} into itself ({canonical!r})")
        now = time.time()
        ev = evidence or {}
        with self.store.transaction() as con:
            cur = con.execute(
                "INSERT INTO graph_merges (alias, canonical, rule, score, evidence, user, "
                "accepted_at) VALUES (?,?,?,?,?,?,?)",
                (
                    alias,
                    canonical,
                    rule,
                    score,
                    json.dumps(ev, ensure_ascii=False, default=str),
                    self.user,
                    now,
                ),
            )
            merge_id = int(cur.lastrowid or 0)
        self._audit(
            "graph.merge",
            {
                "merge": merge_id,
                "alias": alias,
                "canonical": canonical,
                "rule": rule,
                "score": score,
            },
            case,
        )
        return Merge(merge_id, alias, canonical, rule, score, ev, self.user, now)

    def accept_proposal(
        self, proposal: MergeProposal, *, canonical: str | None = None, case: str | None = None
    ) -> Merge:
        """Accept a proposal; ``canonical`` (``a`` by default) is the id that survives."""
        keep = canonical or proposal.a
        if keep not in (proposal.a, proposal.b):
            raise ResolutionError(f"{keep!r} is not part of proposal {proposal.id!r}")
        alias = proposal.b if keep == proposal.a else proposal.a
        return self.accept(
            alias,
            keep,
            rule=proposal.rule,
            score=proposal.score,
            evidence=proposal.evidence,
            case=case,
        )

    def reject(self, a: str, b: str, *, rule: str = "", case: str | None = None) -> None:
        """Never propose the pair (a, b) again."""
        a, b = sorted((a, b))
        with self.store.transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO graph_rejections VALUES (?,?,?,?,?)",
                (a, b, rule, self.user, time.time()),
            )
        self._audit("graph.reject", {"a": a, "b": b, "rule": rule}, case)

    def undo(self, merge_id: int, *, case: str | None = None) -> Merge:
        """Deactivate merge ``merge_id``: the next graph shows both entities again."""
        merge = self.get(merge_id)
        if not merge.active:
            raise ResolutionError(f"merge {merge_id} was already undone")
        with self.store.transaction() as con:
            con.execute(
                "UPDATE graph_merges SET undone_at=?, undone_by=? WHERE id=?",
                (time.time(), self.user, merge_id),
            )
        self._audit(
            "graph.split",
            {"merge": merge_id, "alias": merge.alias, "canonical": merge.canonical},
            case,
        )
        return self.get(merge_id)

    def split(self, alias: str, *, case: str | None = None) -> Merge:
        """Undo the active merge that made ``alias`` part of another entity."""
        row = self.store.connection.execute(
            "SELECT id FROM graph_merges WHERE alias=? AND undone_at IS NULL", (alias,)
        ).fetchone()
        if row is None:
            raise ResolutionError(f"{alias!r} is not merged into anything")
        return self.undo(int(row[0]), case=case)

    # -- reading ------------------------------------------------------------------------------
    def get(self, merge_id: int) -> Merge:
        row = self.store.connection.execute(
            "SELECT * FROM graph_merges WHERE id=?", (merge_id,)
        ).fetchone()
        if row is None:
            raise ResolutionError(f"no merge with id {merge_id}")
        return _merge_from_row(row)

    def merges(self, *, active_only: bool = True) -> list[Merge]:
        sql = "SELECT * FROM graph_merges" + (" WHERE undone_at IS NULL" if active_only else "")
        return [_merge_from_row(r) for r in self.store.connection.execute(sql + " ORDER BY id")]

    def explain(self, entity_id: str) -> list[Merge]:
        """Every merge (active or undone) that involves ``entity_id``, oldest first."""
        rows = self.store.connection.execute(
            "SELECT * FROM graph_merges WHERE alias=? OR canonical=? ORDER BY id",
            (entity_id, entity_id),
        )
        return [_merge_from_row(r) for r in rows]

    def aliases(self) -> AliasMap:
        return AliasMap.load(self.store)

    def _audit(self, action: str, params: dict[str, Any], case: str | None) -> None:
        if self.audit is not None:
            self.audit.append(self.user, action, params, case=case)


def _keys(f: dict[str, Any]) -> list[str]:
    """The blocking keys of one person record (``rule#:value``), as in er_model."""
    from graph.er_model import BLOCKING_RULES

    tail = f["id17"][6:] if f.get("id17") else None
    out = []
    for n, cols in enumerate(BLOCKING_RULES):
        values = [tail if c == "id_tail" else f.get(c) for c in cols]
        if all(v not in (None, "") for v in values):
            out.append(f"{n}:" + "\x1f".join(str(v) for v in values))
    return out


def _proposal(scored: Any) -> MergeProposal:
    ev = scored.explanation()
    return MergeProposal(
        scored.a, scored.b, "person", "probabilistic", round(scored.probability, 6), ev
    )


def _merge_from_row(row: tuple[Any, ...]) -> Merge:
    return Merge(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        float(row[4]),
        json.loads(row[5]),
        row[6],
        float(row[7]),
        row[8],
        row[9],
    )
