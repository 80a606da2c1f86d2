"""The record, entity and link types every source produces and every engine consumes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.timezones import as_utc


class FieldRole(StrEnum):
    """How a field of a record is stored, searched and shown."""

    TEXT = "text"  # analysed full text (Chinese and English), highlighted in results
    KEYWORD = "keyword"  # exact value: filters and facets (category, district, source)
    IDENTIFIER = "identifier"  # plate, phone, ID number: normalised so any written form matches
    NUMBER = "number"  # integer or float: ranges
    TIME = "time"  # timestamp: ranges, timeline (the record's own time is Record.time)
    GEO = "geo"  # (lat, lon) (the record's own point is Record.geo)
    PHOTO = "photo"  # path to an image, relative to the input file: face enrolment


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record type: its role and, for identifiers, the normaliser to apply."""

    name: str
    role: FieldRole
    label: str = ""
    normalizer: str | None = None
    facet: bool = False


@dataclass(frozen=True)
class RecordSchema:
    """The fields a record type carries; search backends build their mappings from this."""

    record_type: str
    label: str
    fields: tuple[FieldSpec, ...]

    def by_role(self, role: FieldRole) -> list[FieldSpec]:
        return [f for f in self.fields if f.role is role]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def to_utc(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    """``value`` as an aware UTC datetime.

    A naive ``value`` is wall-clock time in ``zone``; without one, in the zone of naive times
    where this runs (:func:`core.timezones.naive_zone`): during an ingest the workspace's
    (``[workspace] timezone``, a centre's ``[centre] timezone``), else Asia/Shanghai.
    """
    return as_utc(value, zone)


@dataclass(frozen=True)
class EntityRef:
    """An entity a record mentions: identified by its type and normalised key."""

    type: str
    key: str
    label: str = ""
    props: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return entity_id(self.type, self.key)


def entity_id(entity_type: str, key: str) -> str:
    return f"{entity_type}:{key}"


@dataclass(frozen=True)
class LinkRef:
    """A link between two entities, observed at ``time`` in the record that carries it."""

    type: str
    source: str  # entity id
    target: str  # entity id
    time: datetime | None = None
    props: Mapping[str, Any] = field(default_factory=dict)

    def link_id(self, record_uid: str) -> str:
        raw = f"{self.type}|{self.source}|{self.target}|{record_uid}"
        return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class Record:
    """One row of one source, mapped.

    ``uid`` (``source:id``) is stable: re-reading the same row yields the same uid, so
    re-ingesting a file never duplicates anything.
    """

    source: str
    id: str
    type: str
    time: datetime | None = None
    geo: tuple[float, float] | None = None  # (lat, lon), WGS-84
    text: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)
    attachments: Mapping[str, str] = field(default_factory=dict)  # e.g. {"photo": "/abs/p.jpg"}
    entities: tuple[EntityRef, ...] = ()
    links: tuple[LinkRef, ...] = ()
    origin: str = ""  # "file:line" the record came from

    @property
    def uid(self) -> str:
        return f"{self.source}:{self.id}"

    def title(self) -> str:
        """A one-line label for lists: the first text field, else the type and id."""
        for value in self.text.values():
            if value:
                return value if len(value) <= 80 else value[:79] + "…"
        return f"{self.type} {self.id}"
