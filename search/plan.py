"""From a syntax tree and filters to a backend-neutral plan over the indexed document layout.

The plan is where the query language gets its meaning, once for every backend: which indexed
field a query field maps to, how text is tokenized, how identifiers are normalised, how dates
are read. Each backend then translates the plan mechanically (``search/embedded_query.py``,
``search/es_query.py``, ``search/matcher.py``), so they agree by construction.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core import normalize
from core.model import FieldRole
from core.normalize import fold
from core.timezones import as_utc
from search import query as q
from search.analysis import identifier_forms, join_spaced_identifiers, tokenize
from search.document import FieldRegistry
from search.errors import QueryLimitError, QuerySyntaxError
from search.model import Filters


# -- plan nodes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PTerms:
    """Exact match of a keyword field against any of ``values``."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class PText:
    """Analysed text: one token is a term, several are a phrase (adjacent, in order)."""

    field: str
    tokens: tuple[str, ...]
    slop: int = 0


@dataclass(frozen=True)
class PWildcard:
    """``*``/``?`` pattern over one token (text fields) or one whole value (keyword fields)."""

    field: str
    pattern: str
    text: bool


@dataclass(frozen=True)
class PFuzzy:
    field: str
    value: str
    distance: int


@dataclass(frozen=True)
class PRange:
    """``kind`` is "number" or "date" (bounds in epoch milliseconds)."""

    field: str
    kind: str
    low: float | None
    high: float | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True)
class PGeoBox:
    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True)
class PGeoRadius:
    lat: float
    lon: float
    meters: float


@dataclass(frozen=True)
class PAll:
    pass


@dataclass(frozen=True)
class PNone:
    pass


@dataclass(frozen=True)
class PBool:
    """``must`` and ``filter`` all match (filter without scoring), one ``should`` if any,
    no ``must_not``."""

    must: tuple[PNode, ...] = ()
    should: tuple[PNode, ...] = ()
    must_not: tuple[PNode, ...] = ()
    filter: tuple[PNode, ...] = ()


PNode = PTerms | PText | PWildcard | PFuzzy | PRange | PGeoBox | PGeoRadius | PAll | PNone | PBool

#: Text fields whose tokens a highlighter marks: (tokens of each positive text clause).


@dataclass
class Plan:
    """The planned query (``root``) plus what highlighting and the caller need."""

    root: PNode
    highlight_terms: list[tuple[str, ...]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- fields --------------------------------------------------------------------------------------
_KEYWORD_FIELDS = {
    "uid": "uid",
    "source": "source",
    "type": "type",
    "day": "day",
    "ids": "ids",
    "identifier": "ids",
    "entity": "ent",
    "ent": "ent",
}
_TEXT_FIELDS = {"text": "all", "all": "all"}
_DATE_MATH = re.compile(r"^now(?:-(\d+)([smhdw]))?$")


def parse_date(value: str, pos: int, query: str) -> tuple[datetime, bool]:
    """A date bound: ISO date/datetime or ``now``/``now-7d``; returns (datetime, date-only)."""
    v = value.strip()
    m = _DATE_MATH.match(v)
    if m:
        now = datetime.now().astimezone()
        if m.group(1):
            unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[
                m.group(2)
            ]
            now -= timedelta(**{unit: int(m.group(1))})
        return now, False
    try:
        if len(v) == 10:
            d = date.fromisoformat(v)
            return datetime(d.year, d.month, d.day), True
        return datetime.fromisoformat(v), False
    except ValueError:
        raise QuerySyntaxError(
            f"{value!r} is not a date (use 2024-01-31 or 2024-01-31T08:00, or now-7d)", query, pos
        ) from None


#: Bounds on what one query may ask (issue #16: a 10,000-character wildcard query ran 81 s):
#: the embedded engine cannot interrupt a running search, so its cost is bounded up front.
#: Each leading or inner wildcard scans the term dictionary of every text field.
MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 256
MAX_WILDCARD_TERMS = 8
MAX_WILDCARD_LENGTH = 64
MAX_WILDCARDS_PER_TERM = 4
#: Seconds a search may run (Elasticsearch: the server's ``timeout``; embedded: checked
#: between the stages of a search, see docs/SEARCH.md).
SEARCH_TIME_LIMIT_S = 10.0


def check_size(query: str) -> None:
    """Raise :class:`QueryLimitError` for a query longer than :data:`MAX_QUERY_CHARS`."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryLimitError(
            f"the query has {len(query):,} characters; the limit is "
            f"{MAX_QUERY_CHARS:,} — shorten it or use filters",
            query[:MAX_QUERY_CHARS],
            MAX_QUERY_CHARS,
        )


def check_complexity(tree: q.Node, query: str) -> None:
    """Raise :class:`QueryLimitError` when the parsed query has too many clauses or
    wildcards, or a wildcard term that is too long or has too many ``*``/``?``."""
    clauses, wildcards = 0, 0
    stack = [tree]
    while stack:
        node = stack.pop()
        clauses += 1
        if clauses > MAX_CLAUSES:
            raise QueryLimitError(
                f"the query has more than {MAX_CLAUSES} terms and operators;"
                " split it into several searches",
                query,
                node.pos,
            )
        if isinstance(node, q.And | q.Or):
            stack.extend(node.children)
        elif isinstance(node, q.Not):
            stack.append(node.child)
        elif isinstance(node, q.Wildcard):
            wildcards += 1
            stars = sum(node.pattern.count(c) for c in "*?")
            if wildcards > MAX_WILDCARD_TERMS:
                raise QueryLimitError(
                    f"the query has more than {MAX_WILDCARD_TERMS} wildcard "
                    "terms; use fewer (each scans the whole index)",
                    query,
                    node.pos,
                )
            if len(node.pattern) > MAX_WILDCARD_LENGTH or stars > MAX_WILDCARDS_PER_TERM:
                raise QueryLimitError(
                    f"wildcard term {node.pattern[:20]!r}… is too complex (at most "
                    f"{MAX_WILDCARD_LENGTH} characters and {MAX_WILDCARDS_PER_TERM} * or ?)",
                    query,
                    node.pos,
                )


class Planner:
    """Plans queries against the fields declared in ``registry``."""

    def __init__(self, registry: FieldRegistry) -> None:
        self.registry = registry

    def _ms(self, value: datetime) -> int:
        """Epoch ms of a date bound; a naive one is wall-clock time in the workspace's zone
        (the registry's), the zone whose days the ``day`` facet counts."""
        return int(as_utc(value, self.registry.zone).timestamp() * 1000)

    def plan(self, query: str, filters: Filters | None = None) -> Plan:
        check_size(query)
        tree = q.parse(join_spaced_identifiers(query))
        check_complexity(tree, query)
        plan = Plan(PAll())
        plan.root = self._node(tree, query, plan, positive=True)
        flt = self.filters(filters or Filters())
        if flt:
            plan.root = PBool(must=(plan.root,), filter=tuple(flt))
        return plan

    # filters
    def filters(self, f: Filters) -> list[PNode]:
        out: list[PNode] = []
        for name, values in (
            ("source", f.sources),
            ("type", f.types),
            ("k.category", f.categories),
            ("k.district", f.districts),
            ("uid", f.uids),
        ):
            if values:
                out.append(PTerms(name, tuple(fold(v) for v in values)))
        if f.since or f.until:
            out.append(
                PRange(
                    "time",
                    "date",
                    self._ms(f.since) if f.since else None,
                    self._ms(f.until) if f.until else None,
                    True,
                    False,
                )
            )
        if f.box:
            out.append(PGeoBox(f.box.south, f.box.west, f.box.north, f.box.east))
        if f.radius:
            out.append(PGeoRadius(f.radius.lat, f.radius.lon, f.radius.meters))
        return out

    # query nodes
    def _node(self, node: q.Node, query: str, plan: Plan, positive: bool) -> PNode:
        if isinstance(node, q.MatchAll):
            return PAll()
        if isinstance(node, q.And):
            musts, nots = [], []
            for child in node.children:
                if isinstance(child, q.Not):
                    nots.append(self._node(child.child, query, plan, not positive))
                else:
                    musts.append(self._node(child, query, plan, positive))
            return PBool(must=tuple(musts) or (PAll(),), must_not=tuple(nots))
        if isinstance(node, q.Or):
            return PBool(should=tuple(self._node(c, query, plan, positive) for c in node.children))
        if isinstance(node, q.Not):
            return PBool(
                must=(PAll(),), must_not=(self._node(node.child, query, plan, not positive),)
            )
        if isinstance(node, q.Range):
            return self._range(node, query)
        return self._leaf(node, query, plan, positive)

    def _resolve(self, name: str | None, pos: int, plan: Plan) -> tuple[str, FieldRole | None]:
        """Map a query field to an indexed field and its role (None: default text)."""
        if name is None:
            return "all", None
        if name in _TEXT_FIELDS:
            return "all", FieldRole.TEXT
        if name in _KEYWORD_FIELDS:
            return _KEYWORD_FIELDS[name], FieldRole.KEYWORD
        if name == "time":
            return "time", FieldRole.TIME
        role = self.registry.role(name)
        if role is None:
            if name not in ("category", "district"):
                plan.warnings.append(
                    f"field {name!r} is not declared by any source; searching its exact values"
                )
            return f"k.{name}", FieldRole.KEYWORD
        prefix = {FieldRole.TEXT: "t", FieldRole.NUMBER: "n", FieldRole.TIME: "d"}.get(role, "k")
        return f"{prefix}.{name}", role

    def _leaf(self, node: q.Node, query: str, plan: Plan, positive: bool) -> PNode:
        name = getattr(node, "field", None)
        target, role = self._resolve(name, node.pos, plan)
        if role in (FieldRole.NUMBER, FieldRole.TIME):
            if isinstance(node, q.Term | q.Phrase):
                value = node.text
                return self._range(q.Range(node.pos, name, value, value), query)
            raise QuerySyntaxError(
                f"field {name!r} holds {role.value}s: use a value or a range", query, node.pos
            )
        if isinstance(node, q.Wildcard):
            is_text = role in (None, FieldRole.TEXT)
            pattern = fold(node.pattern)
            return PWildcard(target, pattern.lower() if is_text else pattern, is_text)
        if isinstance(node, q.Fuzzy):
            if role in (None, FieldRole.TEXT):
                tokens = tokenize(node.text)
                if len(tokens) != 1:
                    raise QuerySyntaxError("a fuzzy term must be a single word", query, node.pos)
                if positive:
                    plan.highlight_terms.append((tokens[0],))
                return PFuzzy(target, tokens[0], node.distance)
            return PFuzzy(target, fold(node.text), node.distance)
        assert isinstance(node, q.Term | q.Phrase)
        text = node.text
        slop = node.slop if isinstance(node, q.Phrase) else 0
        if role in (None, FieldRole.TEXT):
            words = tuple(tokenize(text))
            clauses: list[PNode] = []
            if words:
                clauses.append(PText(target, words, slop))
                if positive:
                    plan.highlight_terms.append(words)
            if role is None:  # a bare term that looks like a plate/phone/ID also finds it
                forms = identifier_forms(text)
                if forms:
                    clauses.append(PTerms("ids", tuple(forms)))
            if not clauses:
                raise QuerySyntaxError(f"nothing searchable in {text!r}", query, node.pos)
            return clauses[0] if len(clauses) == 1 else PBool(should=tuple(clauses))
        if target == "ids":
            folded = fold(text)
            forms = [folded, *identifier_forms(folded), normalize.code(folded)]
            return PTerms("ids", tuple(dict.fromkeys(forms)))
        values = [fold(text)]
        if role is FieldRole.IDENTIFIER or (name and name not in _KEYWORD_FIELDS):
            spec = self.registry.fields.get(name or "")
            if spec is not None and spec.normalizer:
                with contextlib.suppress(KeyError):
                    values.append(normalize.get(spec.normalizer)(values[0]))
            values.extend(identifier_forms(values[0]))
        return PTerms(target, tuple(dict.fromkeys(v for v in values if v)))

    def _range(self, node: q.Range, query: str) -> PNode:
        if node.field is None:
            raise QuerySyntaxError(
                "a range needs a field, e.g. time:[2024-01-01 TO *]", query, node.pos
            )
        target, role = self._resolve(node.field, node.pos, Plan(PAll()))
        if role is FieldRole.TIME:
            low = high = None
            inc_low, inc_high = node.include_low, node.include_high
            if node.low is not None:
                dt, day_only = parse_date(node.low, node.pos, query)
                low = float(self._ms(dt))
                if day_only and not inc_low:  # {2024-01-05 TO: after that whole day
                    low, inc_low = float(self._ms(dt + timedelta(days=1))), True
            if node.high is not None:
                dt, day_only = parse_date(node.high, node.pos, query)
                high = float(self._ms(dt))
                if day_only and inc_high:  # TO 2024-01-31]: up to the end of that day
                    high, inc_high = float(self._ms(dt + timedelta(days=1))), False
            return PRange(target, "date", low, high, inc_low, inc_high)
        if role is FieldRole.NUMBER:
            try:
                lo = float(node.low) if node.low is not None else None
                hi = float(node.high) if node.high is not None else None
            except ValueError:
                raise QuerySyntaxError(
                    f"field {node.field!r} holds numbers; {node.low or node.high!r} is not one",
                    query,
                    node.pos,
                ) from None
            return PRange(target, "number", lo, hi, node.include_low, node.include_high)
        raise QuerySyntaxError(
            f"field {node.field!r} is not a number or time field: ranges need one", query, node.pos
        )
