"""Watchlist index and saved-search predicates used by the alert rules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import normalize
from core.model import Record
from core.schema import default_schema
from ops.errors import OpsError

if TYPE_CHECKING:
    from ops.config import AlertConfig
    from ops.events import Tx

#: Friendly names → entity type of the schema.
KIND_ALIASES = {
    "plate": "vehicle",
    "vehicle": "vehicle",
    "id_number": "person",
    "person": "person",
    "id": "person",
    "phone": "phone",
}
#: Normaliser of a watched record field → entity type whose keys it produces.
NORMALIZER_KINDS = {"plate": "vehicle", "id_number": "person", "phone": "phone"}


def kind_of(kind: str, value: str) -> tuple[str, str]:
    """(entity type, normalised key) for a watchlist entry; errors name the bad kind/value."""
    etype = KIND_ALIASES.get(kind)
    if etype is None:
        raise OpsError(f"unknown watchlist kind {kind!r}; one of {', '.join(KIND_ALIASES)}")
    key = default_schema().entity(etype).normalize_key(str(value))
    if not key:
        raise OpsError(f"watchlist {kind}: {value!r} is empty once normalised")
    return etype, key


class WatchIndex:
    """The watchlist in memory for one batch: (entity type, key) → (label, reason)."""

    def __init__(
        self, entries: dict[tuple[str, str], tuple[str, str]], config: AlertConfig
    ) -> None:
        self.entries = entries
        self.config = config

    @classmethod
    def load(cls, con: Any, config: AlertConfig) -> WatchIndex:
        rows = con.execute("SELECT kind, key, label, reason FROM ops_watchlist")
        return cls({(k, key): (label, reason) for k, key, label, reason in rows}, config)

    def add_from_record(self, tx: Tx, rec: Record) -> None:
        """A watchlist-source record: every identifier it mentions goes on the watchlist."""
        reason = rec.title()
        for e in rec.entities:
            if e.type not in self.config.watch_entity_types:
                continue
            tx.con.execute(
                "INSERT INTO ops_watchlist VALUES (?,?,?,?,?,?,?) ON CONFLICT(kind, key) DO "
                "UPDATE SET label=excluded.label, reason=excluded.reason, "
                "source_uid=excluded.source_uid",
                (e.type, e.key, e.label or e.key, reason, rec.uid, "ingest", tx.now),
            )
            self.entries[(e.type, e.key)] = (e.label or e.key, reason)

    def hits(self, rec: Record) -> Iterator[tuple[str, str, str, str]]:
        """(entity type, key, label, reason) of each watched identifier the record carries."""
        if not self.entries:
            return
        seen: set[tuple[str, str]] = set()
        for e in rec.entities:
            k = (e.type, e.key)
            if k in self.entries and k not in seen:
                seen.add(k)
                yield (*k, *self.entries[k])
        for fname, norm in self.config.watch_fields.items():
            raw = rec.fields.get(fname)
            if raw is None or raw == "":
                continue
            k = (NORMALIZER_KINDS.get(norm, norm), normalize.get(norm)(str(raw)))
            if k in self.entries and k not in seen:
                seen.add(k)
                yield (*k, *self.entries[k])


@dataclass(frozen=True)
class SavedSearch:
    """A predicate over new records (see :meth:`AlertCenter.save_search`)."""

    id: int
    name: str
    terms: tuple[str, ...]
    fields: Mapping[str, str]
    sources: frozenset[str]
    record_types: frozenset[str]

    @classmethod
    def build(
        cls,
        sid: int,
        name: str,
        *,
        text: str = "",
        fields: Mapping[str, str],
        sources: Iterable[str] = (),
        record_types: Iterable[str] = (),
    ) -> SavedSearch:
        if not name or not name.strip():
            raise OpsError("a saved search needs a name")
        terms = tuple(normalize.text(text).split())
        norm_fields = {k: normalize.text(str(v)) for k, v in fields.items()}
        if not terms and not norm_fields:
            raise OpsError(f"saved search {name!r}: give search words or field values")
        return cls(sid, name, terms, norm_fields, frozenset(sources), frozenset(record_types))

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> SavedSearch:
        sid, name, query = row
        q = json.loads(query)
        return cls.build(
            sid,
            name,
            text=" ".join(q.get("terms", [])),
            fields=q.get("fields", {}),
            sources=q.get("sources", []),
            record_types=q.get("record_types", []),
        )

    def query(self) -> dict[str, Any]:
        return {
            "terms": list(self.terms),
            "fields": dict(self.fields),
            "sources": sorted(self.sources),
            "record_types": sorted(self.record_types),
        }

    def matches(self, rec: Record) -> bool:
        if self.sources and rec.source not in self.sources:
            return False
        if self.record_types and rec.type not in self.record_types:
            return False
        for fname, want in self.fields.items():
            value = rec.fields.get(fname, rec.text.get(fname))
            if value is None or normalize.text(str(value)) != want:
                return False
        if self.terms:
            hay = normalize.text(
                " ".join([*map(str, rec.text.values()), *map(str, rec.fields.values())])
            )
            return all(t in hay for t in self.terms)
        return True
