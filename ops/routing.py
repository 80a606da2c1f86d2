"""Routing rules as data: category, keywords, priority and district → responsible departments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.normalize import fold
from ops.errors import OpsConfigError


def _norm(text: str) -> str:
    return fold(text).lower()


@dataclass(frozen=True)
class RoutingRule:
    """One rule of ``routing.toml`` (see the file's header for the matching semantics)."""

    id: str
    description: str
    departments: tuple[str, ...]
    capabilities: tuple[str, ...]
    units: int
    categories: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    max_priority: int | None = None
    districts: frozenset[str] = frozenset()
    unless: tuple[str, ...] = ()
    dispute: bool = False

    def matches(self, category: str, text: str, priority: int, district: str) -> bool:
        """Whether the rule fires; ``category`` and ``text`` already folded to lower case."""
        if self.max_priority is not None and priority > self.max_priority:
            return False
        if self.districts and district not in self.districts:
            return False
        haystack = f"{category} {text}"
        if any(u in haystack for u in self.unless):
            return False
        if not self.categories and not self.keywords:
            return True
        if category in self.categories:
            return True
        return any(k in haystack for k in self.keywords)


@dataclass(frozen=True)
class RoutingDecision:
    """The rule that fired for an incident and what it asks for (stored on the incident)."""

    rule_id: str
    description: str
    departments: tuple[str, ...]
    capabilities: tuple[str, ...]
    units: int
    dispute: bool = False  # incidents routed by the rule are dispute cases (mediation)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "description": self.description,
            "departments": list(self.departments),
            "capabilities": list(self.capabilities),
            "units": self.units,
            "dispute": self.dispute,
        }


class Router:
    """Tries the rules in file order; the first that fires decides.

    Parameters
    ----------
    rules:
        Rules in priority order. The last should match everything (a default); when none
        fires, :meth:`route` raises so a gap in the rules is noticed rather than guessed over.
    departments:
        Department id → label.
    """

    def __init__(
        self, rules: Sequence[RoutingRule], departments: Mapping[str, str], where: str = "routing"
    ) -> None:
        self.rules = list(rules)
        self.departments = dict(departments)
        self.where = where

    def route(
        self, category: str, text: str = "", priority: int = 3, district: str = ""
    ) -> RoutingDecision:
        cat, folded = _norm(category), _norm(text)
        for rule in self.rules:
            if rule.matches(cat, folded, priority, district):
                return RoutingDecision(
                    rule.id,
                    rule.description,
                    rule.departments,
                    rule.capabilities,
                    rule.units,
                    rule.dispute,
                )
        raise OpsConfigError(
            f"{self.where}: no routing rule matches category {category!r}; "
            "add a default rule without conditions at the end"
        )

    def department_label(self, dept: str) -> str:
        return self.departments.get(dept, dept)


def parse_routing(data: Mapping[str, Any], where: str) -> Router:
    """Validate ``routing.toml``; errors name the file, the rule and the key."""
    departments = data.get("departments") or {}
    if not isinstance(departments, Mapping) or not departments:
        raise OpsConfigError(f"{where}: missing [departments] table")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise OpsConfigError(f"{where}: no [[rules]]")
    rules: list[RoutingRule] = []
    seen: set[str] = set()
    for n, r in enumerate(raw_rules, start=1):
        rid = r.get("id")
        ctx = f"{where}: rule #{n} ({rid!r})"
        if not rid or not isinstance(rid, str):
            raise OpsConfigError(f"{ctx}: missing 'id'")
        if rid in seen:
            raise OpsConfigError(f"{ctx}: duplicate id")
        seen.add(rid)
        depts = r.get("departments")
        if not isinstance(depts, list) or not depts:
            raise OpsConfigError(f"{ctx}: 'departments' must be a non-empty list")
        for d in depts:
            if d not in departments:
                raise OpsConfigError(
                    f"{ctx}: unknown department {d!r}; declared: {', '.join(departments)}"
                )
        unknown = set(r) - {
            "id",
            "description",
            "departments",
            "capabilities",
            "units",
            "categories",
            "keywords",
            "max_priority",
            "districts",
            "unless",
            "dispute",
        }
        if unknown:
            raise OpsConfigError(f"{ctx}: unknown key(s) {', '.join(sorted(unknown))}")
        max_p = r.get("max_priority")
        if max_p is not None and (not isinstance(max_p, int) or not 1 <= max_p <= 9):
            raise OpsConfigError(f"{ctx}: max_priority must be an integer 1..9")
        units = r.get("units", 1)
        if not isinstance(units, int) or units < 0:
            raise OpsConfigError(f"{ctx}: units must be a non-negative integer")
        rules.append(
            RoutingRule(
                id=rid,
                description=str(r.get("description", rid)),
                departments=tuple(depts),
                capabilities=tuple(r.get("capabilities") or ()),
                units=units,
                categories=frozenset(_norm(c) for c in r.get("categories") or ()),
                keywords=tuple(_norm(k) for k in r.get("keywords") or ()),
                max_priority=max_p,
                districts=frozenset(r.get("districts") or ()),
                unless=tuple(_norm(u) for u in r.get("unless") or ()),
                dispute=bool(r.get("dispute", False)),
            )
        )
    return Router(rules, {k: str(v) for k, v in departments.items()}, where)
