"""The evaluation dashboard's indicators as data: ``resources/ops/evaluation.toml``, overridden
by ``WORKSPACE/ops/evaluation.toml``, validated into :class:`Indicator` specs.

Every error names the file, the indicator (its position and id) and the key, and suggests the
nearest known name for a misspelt key or field. The file's grammar is documented at its top and
in docs/OPERATIONS.md ("Evaluation dashboard").
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.config import RESOURCE_DIR
from ops.errors import OpsConfigError

FILE_NAME = "evaluation.toml"
KINDS = ("count", "rate", "percentile", "mean", "ratio")
DIRECTIONS = ("higher", "lower")

#: Fields and stamps each source offers to filters, ``field`` and ``from``/``to``.
FIELDS: Mapping[str, frozenset[str]] = {
    "incidents": frozenset(
        {
            "category",
            "priority",
            "status",
            "district",
            "dispute",
            "mediation",
            "closed",
            "repeat",
            "rating",
            "unit_feedback",
        }
    ),
    "alerts": frozenset({"kind", "severity", "rule", "district", "acked"}),
}
STAMPS: Mapping[str, tuple[str, ...]] = {
    "incidents": (
        "received",
        "accepted",
        "routed",
        "dispatched",
        "on_scene",
        "resolved",
        "feedback",
        "assessed",
    ),
    "alerts": ("raised", "acked"),
}
NUMERIC = frozenset({"priority", "rating"})
TOP_KEYS = frozenset({"repeat_days", "repeat_place_m", "indicator"})
INDICATOR_KEYS = frozenset(
    {
        "id",
        "label",
        "label_zh",
        "source",
        "kind",
        "where",
        "numerator",
        "denominator",
        "field",
        "percentile",
        "from",
        "to",
        "per_10k",
        "scale",
        "unit",
        "unit_zh",
        "direction",
        "min_count",
        "description",
    }
)
_DURATION = re.compile(r"^([a-z_]+?)_to_([a-z_]+)_min$")

Filter = Mapping[str, Any]


@dataclass(frozen=True)
class Indicator:
    """One indicator: how its value is computed for one district and month.

    ``kind`` is one of :data:`KINDS`; ``where`` selects the rows of ``source`` it looks at;
    ``numerator`` (rate), ``denominator`` (ratio), ``measure`` (the ``field`` of a mean),
    ``start``/``end`` and ``percentile`` (percentile) complete the formula. ``direction`` says
    whether a higher or a lower value is better (the colour of a year-on-year arrow).
    """

    id: str
    label: str
    label_zh: str
    source: str
    kind: str
    unit: str
    direction: str
    where: Filter = field(default_factory=dict)
    numerator: Filter = field(default_factory=dict)
    denominator: Filter = field(default_factory=dict)
    measure: str = ""
    percentile: float = 90.0
    start: str = ""
    end: str = ""
    per_10k: bool = False
    scale: float = 1.0
    min_count: int = 1
    description: str = ""
    unit_zh: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "label_zh": self.label_zh,
            "source": self.source,
            "kind": self.kind,
            "unit": self.unit,
            "unit_zh": self.unit_zh or self.unit,
            "direction": self.direction,
            "description": self.description,
        }


@dataclass(frozen=True)
class EvaluationConfig:
    """The indicators in display order, the repeat-call window and where they were read."""

    indicators: tuple[Indicator, ...]
    repeat_days: float
    repeat_place_m: float
    path: Path


def _near(word: str, known: Any) -> str:
    close = difflib.get_close_matches(str(word), sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"


def is_field(source: str, name: str) -> bool:
    """Whether ``name`` is a field of ``source``, a duration ``<from>_to_<to>_min`` included."""
    if name in FIELDS[source]:
        return True
    m = _DURATION.match(name)
    return bool(m and m.group(1) in STAMPS[source] and m.group(2) in STAMPS[source])


def _filter(value: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise OpsConfigError(f"{where}: expected a table of field = value, got {value!r}")
    out: dict[str, Any] = {}
    for name, cond in value.items():
        at = f"{where}.{name}"
        if name == "has":
            if not isinstance(cond, list) or not all(c in STAMPS[source] for c in cond):
                raise OpsConfigError(
                    f"{at}: expected a list of stamps of {source} "
                    f"({', '.join(STAMPS[source])}), got {cond!r}"
                )
        elif not is_field(source, name):
            raise OpsConfigError(
                f"{at}: {name!r} is not a field of {source}{_near(name, FIELDS[source])}"
            )
        elif isinstance(cond, Mapping):
            bad = set(cond) - {"min", "max"}
            if (
                bad
                or not cond
                or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in cond.values()
                )
            ):
                raise OpsConfigError(
                    f"{at}: a range is {{min = number, max = number}}, got {dict(cond)!r}"
                )
            if name not in NUMERIC and not _DURATION.match(name):
                raise OpsConfigError(f"{at}: {name!r} is not a number; a range needs one")
        elif isinstance(cond, list):
            if not cond or not all(isinstance(v, str | int | float) for v in cond):
                raise OpsConfigError(f"{at}: expected a non-empty list of values, got {cond!r}")
        elif not isinstance(cond, str | int | float | bool):
            raise OpsConfigError(f"{at}: expected a value, a list or a range, got {cond!r}")
        out[name] = cond
    return out


def _parse(n: int, raw: Any, path: Path) -> Indicator:
    if not isinstance(raw, Mapping):
        raise OpsConfigError(f"{str(path)!r}: [[indicator]] #{n}: expected a table")
    where = f"{str(path)!r}: [[indicator]] #{n} ({raw.get('id')!r})"
    for key in raw:
        if key not in INDICATOR_KEYS:
            raise OpsConfigError(f"{where}: unknown key {key!r}{_near(key, INDICATOR_KEYS)}")
    for key in ("id", "label", "label_zh", "unit"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise OpsConfigError(f"{where}: {key!r} must be a non-empty string")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", raw["id"]):
        raise OpsConfigError(
            f"{where}: 'id' must be lower-case letters, digits and _ "
            "(at most 40), starting with a letter"
        )
    source = raw.get("source", "incidents")
    if source not in FIELDS:
        raise OpsConfigError(
            f"{where}: 'source' must be one of {', '.join(FIELDS)}, got {source!r}"
        )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise OpsConfigError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    direction = raw.get("direction")
    if direction not in DIRECTIONS:
        raise OpsConfigError(
            f"{where}: 'direction' must be 'higher' or 'lower' (which is better), got {direction!r}"
        )
    spec: dict[str, Any] = {
        "id": raw["id"],
        "label": raw["label"],
        "label_zh": raw["label_zh"],
        "source": source,
        "kind": kind,
        "unit": raw["unit"],
        "direction": direction,
        "where": _filter(raw.get("where", {}), source, f"{where}: where"),
        "description": str(raw.get("description", "")),
        "unit_zh": str(raw.get("unit_zh", "")),
    }
    min_count = raw.get("min_count", 1)
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise OpsConfigError(f"{where}: 'min_count' must be a whole number ≥ 1, got {min_count!r}")
    spec["min_count"] = min_count
    needs = {
        "rate": ("numerator",),
        "ratio": ("denominator",),
        "mean": ("field",),
        "percentile": ("from", "to"),
    }.get(kind, ())
    for key in needs:
        if key not in raw:
            raise OpsConfigError(f"{where}: a {kind} indicator needs {key!r}")
    if kind == "rate":
        spec["numerator"] = _filter(raw["numerator"], source, f"{where}: numerator")
    if kind == "ratio":
        spec["denominator"] = _filter(raw["denominator"], source, f"{where}: denominator")
        scale = raw.get("scale", 1)
        if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
            raise OpsConfigError(f"{where}: 'scale' must be a positive number, got {scale!r}")
        spec["scale"] = float(scale)
    if kind == "mean":
        name = raw["field"]
        if (
            not isinstance(name, str)
            or not (name in NUMERIC or _DURATION.match(name))
            or not is_field(source, name)
        ):
            raise OpsConfigError(
                f"{where}: 'field' must be a number field of {source} "
                f"(rating, priority or <from>_to_<to>_min), got {name!r}"
            )
        spec["measure"] = name
    if kind == "percentile":
        for key, attr in (("from", "start"), ("to", "end")):
            if raw[key] not in STAMPS[source]:
                raise OpsConfigError(
                    f"{where}: {key!r} must be a stamp of {source}, got "
                    f"{raw[key]!r}{_near(raw[key], STAMPS[source])}"
                )
            spec[attr] = raw[key]
        q = raw.get("percentile", 90)
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q <= 100:
            raise OpsConfigError(f"{where}: 'percentile' must be in (0, 100], got {q!r}")
        spec["percentile"] = float(q)
    per_10k = raw.get("per_10k", False)
    if not isinstance(per_10k, bool) or (per_10k and kind != "count"):
        raise OpsConfigError(f"{where}: 'per_10k' is true or false, and only for a count")
    spec["per_10k"] = per_10k
    return Indicator(**spec)


def load_evaluation(override_dir: Path | None = None) -> EvaluationConfig:
    """Read and validate ``evaluation.toml`` (the workspace's ``ops/`` copy wins).

    Raises
    ------
    OpsConfigError
        Naming the file, the indicator and the key at fault.
    """
    path = RESOURCE_DIR / FILE_NAME
    if override_dir is not None and (override_dir / FILE_NAME).is_file():
        path = override_dir / FILE_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OpsConfigError(f"{str(path)!r}: evaluation indicators file missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OpsConfigError(f"{str(path)!r}: {exc}") from None
    for key in data:
        if key not in TOP_KEYS:
            raise OpsConfigError(f"{str(path)!r}: unknown key {key!r}{_near(key, TOP_KEYS)}")
    raw = data.get("indicator")
    if not isinstance(raw, list) or not raw:
        raise OpsConfigError(f"{str(path)!r}: no [[indicator]] declared")
    indicators = tuple(_parse(n, item, path) for n, item in enumerate(raw, start=1))
    seen: set[str] = set()
    for n, ind in enumerate(indicators, start=1):
        if ind.id in seen:
            raise OpsConfigError(f"{str(path)!r}: [[indicator]] #{n}: duplicate id {ind.id!r}")
        seen.add(ind.id)
    settings = {}
    for key, default in (("repeat_days", 7), ("repeat_place_m", 150)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise OpsConfigError(f"{str(path)!r}: {key!r} must be a positive number, got {value!r}")
        settings[key] = float(value)
    return EvaluationConfig(indicators, settings["repeat_days"], settings["repeat_place_m"], path)
