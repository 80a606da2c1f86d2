"""The indexed form of a record, shared by both backends, and the registry of declared fields.

A record becomes one flat document (a dict) with the same layout in every backend::

    uid source type day      exact keywords (day = local date in the workspace's time zone)
    time (epoch ms)  geo [lat, lon]
    all              analysed: keyword values, raw identifiers, entity labels and the text of
                     fields no schema declares as TEXT
    t.<field>        analysed text of every text field (declared TEXT fields live only here)
    k.<field>        exact values of KEYWORD fields; IDENTIFIER fields hold raw + canonical forms
    n.<field>        NUMBER fields      d.<field>  TIME fields (epoch ms)
    ids              canonical identifiers: identifier fields, entity keys, ids found in text
    ent              entity ids ("type:key")
    src              what a hit shows: title and the original text fields (not indexed)

Field roles come from the sources' :class:`~core.model.RecordSchema` (through
:class:`FieldRegistry`); fields no schema declares are indexed by their Python type. A query
without a field searches ``all`` and every declared ``t.<field>`` (see
:func:`default_text_fields`): text is indexed once, not twice, which halves indexing work.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from core import normalize
from core.model import FieldRole, FieldSpec, Record, RecordSchema, to_utc
from core.normalize import fold
from core.timezones import DEFAULT_ZONE, zone_named
from search.analysis import identifier_forms, identifiers_in_text

if TYPE_CHECKING:
    from core.workspace import Workspace

log = logging.getLogger(__name__)


def _default_zone() -> ZoneInfo:
    return zone_named(DEFAULT_ZONE)


#: Top-level keyword fields every document has.
CORE_KEYWORDS = ("uid", "source", "type", "day", "ids", "ent")


@dataclass
class FieldRegistry:
    """Declared fields of every record type, by field name (the first declaration wins), and
    the time zone whose calendar days the ``day`` facet counts (the workspace's)."""

    schemas: dict[str, RecordSchema] = field(default_factory=dict)
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    _by_type: dict[str, dict[str, FieldSpec]] = field(default_factory=dict, repr=False)
    _plans: dict[tuple[str, str], _FieldPlan] = field(default_factory=dict, repr=False)
    #: Bumped by :meth:`add`, so caches of resolved plans (the compiled builder's) know.
    version: int = field(default=0, repr=False, compare=False)
    #: The zone of the ``day`` facet and of naive dates in queries and filters.
    zone: ZoneInfo = field(default_factory=_default_zone, compare=False)

    @classmethod
    def from_schemas(
        cls, schemas: Iterable[RecordSchema], zone: ZoneInfo | None = None
    ) -> FieldRegistry:
        reg = cls(zone=zone or _default_zone())
        for schema in schemas:
            reg.add(schema)
        return reg

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> FieldRegistry:
        """The schemas of the workspace's sources (:meth:`Workspace.source_schemas`) and the
        workspace's time zone."""
        return cls.from_schemas(workspace.source_schemas(), workspace.zone)

    def add(self, schema: RecordSchema) -> None:
        self._by_type.clear()
        self._plans.clear()
        self.version += 1
        self.schemas.setdefault(schema.record_type, schema)
        for spec in schema.fields:
            known = self.fields.get(spec.name)
            if known is None:
                self.fields[spec.name] = spec
            elif known.role is not spec.role:
                log.warning(
                    "field %r is %s in one schema and %s in %r; using %s",
                    spec.name,
                    known.role,
                    spec.role,
                    schema.record_type,
                    known.role,
                )

    def spec(self, record_type: str, name: str) -> FieldSpec | None:
        """The field's spec in ``record_type``'s schema, else its first declaration."""
        by_type = self._by_type.get(record_type)
        if by_type is None:
            schema = self.schemas.get(record_type)
            by_type = {f.name: f for f in schema.fields} if schema else {}
            self._by_type[record_type] = by_type
        return by_type.get(name) or self.fields.get(name)

    def role(self, name: str) -> FieldRole | None:
        spec = self.fields.get(name)
        return spec.role if spec else None

    def names(self, role: FieldRole) -> list[str]:
        return sorted(n for n, s in self.fields.items() if s.role is role)


# Full-width punctuation common in Chinese text, with its NFKC form (one character each).
_FULLWIDTH_PUNCT = tuple((ch, unicodedata.normalize("NFKC", ch)) for ch in "，：；！？（）\u3000")


def _fold(text: str) -> str:
    """:func:`core.normalize.fold`, without its full NFKC pass where it would change nothing.

    Plain ASCII needs none. Chinese text is usually NFKC already except for full-width
    punctuation (，：；…), which is replaced by its NFKC form first; the quick check then
    passes. (Same result: NFKC of a string equals NFKC of the string with any character
    replaced by its own NFKC form, and NFKC text is left as it is.)
    """
    if text.isascii():
        return text.strip()
    if not unicodedata.is_normalized("NFKC", text):
        for wide, narrow in _FULLWIDTH_PUNCT:
            if wide in text:
                text = text.replace(wide, narrow)
        if not unicodedata.is_normalized("NFKC", text):
            return fold(text)
    return text.strip()


def epoch_ms(value: datetime, zone: ZoneInfo | None = None) -> int:
    """Epoch milliseconds of ``value``; a naive one is wall-clock time in ``zone`` (the
    workspace's, ``registry.zone``; default Asia/Shanghai)."""
    return int(to_utc(value, zone or _default_zone()).timestamp() * 1000)


def local_day(value: datetime, zone: ZoneInfo | None = None) -> str:
    """The ``day`` facet's value of a time: its calendar day in ``zone`` (default
    Asia/Shanghai; pass the workspace's, ``registry.zone``); a naive time is wall-clock time
    in that zone."""
    zone = zone or _default_zone()
    return to_utc(value, zone).astimezone(zone).date().isoformat()


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [v for v in value if v is not None and v != ""]
    return [] if value == "" else [value]


@dataclass(frozen=True)
class _FieldPlan:
    """How ``build_doc`` treats one field of one record type (resolved once, then cached)."""

    spec: FieldSpec | None
    role: FieldRole | None
    declared_text: bool  # searched as t.<name>, so not copied into ``all``
    normalizer: Callable[[str], str] | None
    detect_forms: bool  # also try every identifier kind (no specific normaliser declared)


def _field_plan(registry: FieldRegistry, record_type: str, name: str) -> _FieldPlan:
    key = (record_type, name)
    plan = registry._plans.get(key)
    if plan is None:
        spec = registry.spec(record_type, name)
        normalizer = None
        if spec is not None and spec.normalizer:
            try:
                normalizer = normalize.get(spec.normalizer)
            except KeyError:
                log.warning("field %r names unknown normalizer %r", spec.name, spec.normalizer)
        plan = _FieldPlan(
            spec,
            spec.role if spec else None,
            registry.role(name) is FieldRole.TEXT,
            normalizer,
            spec is None or spec.normalizer not in ("plate", "phone", "id_number"),
        )
        registry._plans[key] = plan
    return plan


def _identifier_values(raw: str, plan: _FieldPlan) -> list[str]:
    folded = _fold(raw)
    out = [folded] if folded else []
    if plan.normalizer is not None:
        canonical = plan.normalizer(folded)
        if canonical and canonical not in out:
            out.append(canonical)
    if plan.detect_forms:
        out.extend(v for v in identifier_forms(folded) if v not in out)
    return out


def build_doc(record: Record, registry: FieldRegistry) -> dict[str, Any]:
    """The indexed document of ``record`` (see the module docstring for the layout).

    This runs once per indexed record, so field roles are resolved once per (type, field) and
    cached in the registry, and times are converted once.
    """
    all_text: list[str] = []
    text: dict[str, str] = {}
    keywords: dict[str, list[str]] = {}
    numbers: dict[str, float] = {}
    dates: dict[str, int] = {}
    ids: set[str] = set()
    rtype = record.type

    for name, value in record.text.items():
        if value:
            folded = _fold(str(value))
            text[name] = folded
            if not _field_plan(registry, rtype, name).declared_text:
                all_text.append(folded)  # declared text fields are searched as t.<name>
            ids.update(identifiers_in_text(folded))
    for name, value in record.fields.items():
        plan = _field_plan(registry, rtype, name)
        role = plan.role
        for v in _values(value):
            role_v = _undeclared_role(v) if role is None else role
            if role_v is FieldRole.TEXT:
                folded = _fold(str(v))
                text[name] = f"{text[name]}\n{folded}" if name in text else folded
                if not plan.declared_text:
                    all_text.append(folded)
                ids.update(identifiers_in_text(folded))
            elif role_v is FieldRole.NUMBER:
                num = _as_number(v)
                if num is not None:
                    numbers[name] = num
            elif role_v is FieldRole.TIME:
                ms = time_value_ms(v, registry.zone)
                if ms is not None:
                    dates[name] = ms
            elif role_v is FieldRole.GEO or role_v is FieldRole.PHOTO:
                continue
            elif role_v is FieldRole.IDENTIFIER:
                forms = _identifier_values(str(v), plan)
                if forms:  # a blank value ("  ") has none
                    keywords.setdefault(name, []).extend(forms)
                    ids.update(forms)
                    all_text.append(forms[0])
            else:  # KEYWORD, or an undeclared short string / bool
                folded = _fold(str(v))
                keywords.setdefault(name, []).append(folded)
                all_text.append(folded)
    entity_ids = []
    for e in record.entities:
        entity_ids.append(e.id)
        ids.add(e.key)
        if e.label:
            all_text.append(_fold(e.label))
    time_ms = day = None
    if record.time is not None:
        time_ms, day = record_time(record.time, registry.zone)
    doc: dict[str, Any] = {
        "uid": record.uid,
        "source": record.source,
        "type": rtype,
        "time": time_ms,
        "day": day,
        "geo": [float(record.geo[0]), float(record.geo[1])] if record.geo else None,
        "all": list(dict.fromkeys(all_text)),
        "t": text,
        "k": {k: list(dict.fromkeys(v)) if len(v) > 1 else v for k, v in keywords.items()},
        "n": numbers,
        "d": dates,
        "ids": sorted(ids),
        "ent": entity_ids,
        "src": {
            "title": record.title(),
            "text": dict(record.text),
            "time": record.time.isoformat() if record.time else None,
        },
    }
    return doc


def record_time(value: datetime, zone: ZoneInfo | None = None) -> tuple[int, str]:
    """A record time's epoch ms and its calendar day in ``zone`` (the workspace's; default
    Asia/Shanghai). A naive time is wall-clock time in ``zone`` (an ingest has already made
    every record time aware: core.ingest.with_aware_times)."""
    zone = zone or _default_zone()
    aware = value.replace(tzinfo=zone) if value.tzinfo is None else value
    return int(aware.timestamp() * 1000), aware.astimezone(zone).date().isoformat()


def time_value_ms(value: Any, zone: ZoneInfo | None = None) -> int | None:
    """The epoch ms of a TIME field's value, None when it is not a time; a naive one is
    wall-clock time in ``zone`` (the workspace's, ``registry.zone``; default Asia/Shanghai)."""
    dt = _as_datetime(value)
    return None if dt is None else epoch_ms(dt, zone)


def time_value_function(registry: FieldRegistry) -> Callable[[Any], int | None]:
    """``time_value_ms`` in the registry's zone, for the compiled builder's callback."""
    zone = registry.zone

    def time_value(value: Any) -> int | None:
        return time_value_ms(value, zone)

    return time_value


def field_plan_tuple(
    registry: FieldRegistry, record_type: str, name: str
) -> tuple[str, bool, str | None, bool] | None:
    """How ``build_doc`` treats a field, as plain values: ``(role, declared_text, normalizer
    name, detect_forms)``, or None for a field no schema declares (the compiled builder's
    view of :class:`_FieldPlan`)."""
    plan = _field_plan(registry, record_type, name)
    if plan.role is None:
        return None
    normalizer = plan.spec.normalizer if plan.normalizer is not None and plan.spec else None
    return str(plan.role), plan.declared_text, normalizer, plan.detect_forms


def _undeclared_role(v: Any) -> FieldRole:
    """The role a value of a field no schema declares gets, from its Python type."""
    if isinstance(v, str):
        if len(v) > 40:
            return FieldRole.TEXT
        return FieldRole.IDENTIFIER if identifier_forms(v) else FieldRole.KEYWORD
    if isinstance(v, datetime | date):
        return FieldRole.TIME
    if _as_number(v) is not None:
        return FieldRole.NUMBER
    return FieldRole.IDENTIFIER if identifier_forms(str(v)) else FieldRole.KEYWORD


def text_values(doc: Mapping[str, Any]) -> list[str]:
    """Every value a query without a field searches (for highlighting and the matcher)."""
    values = list(doc.get("t", {}).values())
    seen = set(values)
    return values + [v for v in doc.get("all", []) if v not in seen]


def default_text_fields(registry: FieldRegistry) -> list[str]:
    """The indexed fields a query without a field searches: ``all`` and each ``t.<field>``."""
    return ["all", *(f"t.{name}" for name in registry.names(FieldRole.TEXT))]
