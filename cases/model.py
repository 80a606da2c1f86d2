"""Plain-data case objects (JSON-ready through ``to_dict``) and the rules on their fields.

Times are epoch seconds (UTC) in the store and ISO-8601 UTC strings in ``to_dict``; what a
person reads is shown in the workspace time zone (:func:`local_time`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cases.errors import CaseInvalidError

#: The case number face searches ask for, e.g. ``2026-JX-0117``: year, unit code, serial.
CASE_NUMBER = re.compile(r"^(19|20)\d{2}-[A-Z]{2,6}-\d{3,6}$")
CASE_NUMBER_HELP = "YEAR-UNIT-SERIAL, e.g. 2026-JX-0117"

CASE_ROLES = ("lead", "contributor", "reader")
STATUSES = ("open", "suspended", "closed")
CLASSIFICATIONS = ("公开 PUBLIC", "内部 INTERNAL", "秘密 CONFIDENTIAL", "机密 SECRET")
DEFAULT_CLASSIFICATION = "内部 INTERNAL"

#: What a note may be attached to; ``case`` is a note on the case as a whole.
NOTE_TARGETS = ("case", "entity", "link", "record", "timeline", "place")
#: What may be pinned as evidence.
PIN_KINDS = ("record", "search", "face_lead", "cooccur")

MAX_TITLE = 200
MAX_NOTE = 20_000
MAX_NAME = 120
DEFAULT_TZ = "Asia/Shanghai"


def check_number(number: str) -> str:
    """``number`` stripped and upper-cased, or :class:`CaseInvalidError` naming the format."""
    value = (number or "").strip().upper()
    if not CASE_NUMBER.match(value):
        raise CaseInvalidError(f"case number {number!r} is not of the form {CASE_NUMBER_HELP}")
    return value


def check_choice(what: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise CaseInvalidError(f"{what} {value!r} must be one of {', '.join(allowed)}")
    return value


def check_text(what: str, value: str, limit: int, *, blank: bool = False) -> str:
    text = (value or "").strip()
    if not text and not blank:
        raise CaseInvalidError(f"{what} must not be blank")
    if len(text) > limit:
        raise CaseInvalidError(f"{what} is {len(text)} characters; at most {limit}")
    return text


def iso(t: float | None) -> str | None:
    return datetime.fromtimestamp(t, tz=UTC).isoformat() if t is not None else None


def local_time(t: float | None, tz: str = DEFAULT_TZ) -> str:
    """``t`` (epoch seconds) as ``YYYY-MM-DD HH:MM`` in ``tz``, with the zone's name and its
    UTC offset then (``2026-03-01 02:10 Asia/Shanghai (UTC+08:00)``)."""
    from core.timezones import offset_label

    if t is None:
        return "—"
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = DEFAULT_TZ, ZoneInfo(DEFAULT_TZ)
    when = datetime.fromtimestamp(t, tz=zone)
    return f"{when:%Y-%m-%d %H:%M} {tz} ({offset_label(when)})"


def workspace_tz(workspace: Any) -> str:
    """The workspace's time zone (``Workspace.zone``: ``[workspace] timezone``, a centre's
    ``[centre] timezone``; default Asia/Shanghai)."""
    zone = getattr(workspace, "zone", None)
    if getattr(zone, "key", None):
        return str(zone.key)  # type: ignore[union-attr]
    tz = str(getattr(workspace, "config", {}).get("workspace", {}).get("timezone", DEFAULT_TZ))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_TZ
    return tz


@dataclass(frozen=True)
class Member:
    user: str
    role: str
    added_by: str
    added_at: float

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "added_at": iso(self.added_at)}


@dataclass(frozen=True)
class CaseFile:
    """One case: its number, title, classification label, status and members."""

    number: str
    title: str
    classification: str
    status: str
    created_by: str
    created_at: float
    updated_at: float
    version: int
    members: tuple[Member, ...] = ()

    def role_of(self, user: str) -> str | None:
        for m in self.members:
            if m.user == user:
                return m.role
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "classification": self.classification,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "version": self.version,
            "members": [m.to_dict() for m in self.members],
        }


@dataclass(frozen=True)
class SavedChart:
    """A named chart of a case; ``data`` is the chart document of :mod:`cases.chart`."""

    id: str
    case: str
    name: str
    data: dict[str, Any]
    created_by: str
    created_at: float
    updated_by: str
    updated_at: float
    version: int

    def to_dict(self, *, with_data: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "case": self.case,
            "name": self.name,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "updated_by": self.updated_by,
            "updated_at": iso(self.updated_at),
            "version": self.version,
        }
        if with_data:
            out["data"] = self.data
        else:
            out["nodes"] = len(self.data.get("nodes", ()))
        return out


@dataclass(frozen=True)
class Note:
    """A note on the case or on one entity, link, record, timeline point or map place.

    ``target`` is the thing noted: an entity id, a link key ``source|target|type``, a record
    uid, a timeline point ``record_uid`` or ``ISO time``, a place ``lat,lon``. ``mentions`` are
    the entity ids the note names; they become links of the note on the chart.
    """

    id: str
    case: str
    target_kind: str
    target: str
    text: str
    mentions: tuple[str, ...]
    author: str
    created_at: float
    updated_at: float
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case": self.case,
            "target_kind": self.target_kind,
            "target": self.target,
            "text": self.text,
            "mentions": list(self.mentions),
            "author": self.author,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "version": self.version,
        }


@dataclass(frozen=True)
class Pin:
    """A piece of evidence pinned to the case, with who pinned it and when.

    ``data`` keeps what the evidence was when pinned (a saved search's query and hit count, a
    face lead's similarity, threshold, false-match rate and review, a co-occurrence result).
    """

    id: str
    case: str
    kind: str
    ref: str
    title: str
    data: dict[str, Any] = field(default_factory=dict)
    pinned_by: str = ""
    pinned_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case": self.case,
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "data": self.data,
            "pinned_by": self.pinned_by,
            "pinned_at": iso(self.pinned_at),
        }


@dataclass(frozen=True)
class CaseEvent:
    """One journalled change (``kind`` e.g. ``case.note_added``), for live updates."""

    id: int
    ts: float
    kind: str
    case: str
    ref: str
    user: str
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": iso(self.ts),
            "kind": self.kind,
            "case": self.case,
            "ref": self.ref,
            "user": self.user,
            "payload": self.payload,
        }
