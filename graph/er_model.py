"""The person match model: blocking rules, comparison levels with their weights, and scoring
through splink (DuckDB here; splink's Spark backend runs the same settings on a cluster).

A pair of person records is scored the Fellegi–Sunter way: each field's comparison falls into
one level (e.g. *ID number one digit off and the check character fails*), each level has an
``m`` probability (how often records of the **same** person land there) and a ``u``
probability (how often records of **different** people do), and the pair's match weight is
``log2(prior odds) + Σ log2(m/u)``. Every proposal carries each field's level and its
``log2(m/u)``, so the analyst sees why it was proposed.

The levels' ``m``/``u`` are set here by hand, from the rates stated beside each level, rather
than estimated by EM on each workspace: a small demo has too few duplicates to learn from, the
weights must not drift between a batch run and the incremental matching of the next ingest,
and a reviewer can read and challenge them. Two choices matter for precision:

* the ID number is compared **without its birth-date digits** (area + sequence, and whether the
  check character holds); the birth date is one field, as written or else as in the ID — so two
  neighbours in the registry (same area, same birthday) do not collect the date twice;
* two valid ID numbers one digit apart are weak evidence (they are usually two neighbours in the
  registry); one digit apart with a failing check character is a typo.

splink is imported lazily; nothing here runs at import time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graph.er_features import COLUMNS

log = logging.getLogger(__name__)

#: Share of person records expected to have a duplicate; the prior probability that two records
#: picked at random are the same person is ``2 * DUPLICATE_SHARE / n`` for ``n`` records (a
#: bigger registry holds more coincidences: the same evidence weighs less).
DUPLICATE_SHARE = 0.01


def prior(n_records: int) -> float:
    """The prior match probability of a random pair among ``n_records`` person records."""
    return min(1e-4, max(1e-10, 2 * DUPLICATE_SHARE / max(n_records, 1)))


@dataclass(frozen=True)
class Level:
    """One comparison level: a SQL condition over ``col_l`` / ``col_r``, and its m and u."""

    label: str
    sql: str
    m: float
    u: float

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class Field:
    """One compared field: its null condition and its levels, most specific first."""

    name: str
    null_sql: str
    levels: tuple[Level, ...]
    shown: tuple[str, ...]  # the columns shown side by side for this field


def _null(*cols: str) -> str:
    return " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in cols)


def _eq(col: str) -> str:
    return f'"{col}_l" = "{col}_r"'


_PHONE = 'list_has_any("phones_l", "phones_r")'
_ONE_INVALID = 'NOT ("id_valid_l" AND "id_valid_r")'
_LEV_ID = 'levenshtein("id17_l", "id17_r")'

#: The fields and their levels. ``u`` rates are for a city-sized registry (~1 M people);
#: ``m`` rates for the ways the sources in docs/DATA.md write one person.
FIELDS: tuple[Field, ...] = (
    Field(
        "id_number",
        _null("id17"),
        (
            # The birth-date digits are left to the birth date field (it holds the ID's date when
            # nothing else is written): comparing them here too would count them twice.
            Level(
                "same area and sequence (a check character or the 15-digit form differs)",
                _eq("id_core"),
                0.55,
                1.5e-4,
            ),
            Level(
                "area and sequence one digit off, a check character fails",
                f'levenshtein("id_core_l", "id_core_r") <= 1 AND {_ONE_INVALID}',
                0.27,
                4e-3,
            ),
            Level(
                "two digits off or swapped, a check character fails",
                f"{_LEV_ID} <= 2 AND {_ONE_INVALID}",
                0.12,
                0.04,
            ),
            Level(
                "area and sequence one digit off, both valid (registry neighbours)",
                'levenshtein("id_core_l", "id_core_r") <= 1',
                0.03,
                4.5e-3,
            ),
            Level("different", "TRUE", 0.02, 0.95),
        ),
        ("id_shown",),
    ),
    Field(
        "name",
        _null("name_key"),
        (
            Level("same characters", _eq("name_hz"), 0.55, 2e-4),
            Level(
                "same pinyin (homophone, traditional, Latin script, order)",
                _eq("name_key"),
                0.33,
                5e-4,
            ),
            Level(
                "one character differs",
                f'{_eq("surname")} AND length("name_hz_l") = '
                'length("name_hz_r") AND levenshtein("name_hz_l", "name_hz_r") <= 1',
                0.06,
                5e-3,
            ),
            Level(
                "similar pinyin",
                'jaro_winkler_similarity("name_key_l", "name_key_r") >= 0.9',
                0.04,
                0.02,
            ),
            Level("different", "TRUE", 0.01, 0.97),
        ),
        ("name",),
    ),
    Field(
        "birth_date",
        _null("birth_date"),
        (
            Level("same date, any format", _eq("birth_date"), 0.87, 5e-5),
            Level(
                "one of year / month / day differs",
                f"({_eq('birth_y')} AND {_eq('birth_m')}) OR ({_eq('birth_y')} AND "
                f"{_eq('birth_d')}) OR ({_eq('birth_m')} AND {_eq('birth_d')})",
                0.12,
                5e-3,
            ),
            Level("different", "TRUE", 0.01, 0.995),
        ),
        ("birth_shown",),
    ),
    Field(
        "gender",
        _null("gender"),
        (
            Level("same", _eq("gender"), 0.97, 0.5),
            Level("different", "TRUE", 0.03, 0.5),
        ),
        ("gender",),
    ),
    Field(
        "household",
        '("phones_l" IS NULL AND "street_l" IS NULL AND "district_l" IS NULL) '
        'OR ("phones_r" IS NULL AND "street_r" IS NULL AND "district_r" IS NULL)',
        (
            # Phone and address are one comparison: a family shares both, so counting them as two
            # independent agreements would merge brothers who share a flat and a phone.
            Level(
                "same phone and same street, number and building",
                f"{_PHONE} AND {_eq('street_no')} AND {_eq('building')}",
                0.30,
                2e-5,
            ),
            Level(
                "same street, number and building",
                f"{_eq('street_no')} AND {_eq('building')}",
                0.20,
                2e-5,
            ),
            Level("a phone in common", _PHONE, 0.20, 2e-4),
            Level("same street and number", _eq("street_no"), 0.10, 1e-4),
            Level("same street", _eq("street"), 0.05, 0.04),
            Level("same district", _eq("district"), 0.08, 0.2),
            Level("different or not comparable", "TRUE", 0.07, 0.76),
        ),
        ("phones", "address"),
    ),
)

#: Candidate pairs: a pair is scored when it agrees on one of these (not on all pairs).
BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("id_head",),  # area + birth date of the ID: typos in the sequence/check
    ("id_tail",),  # birth date + sequence: typos in the area code
    ("name_key", "id_area"),  # same name and area: typos in birth date and sequence
    ("name_key", "birth_date"),
    ("name_key", "street_no"),
    ("surname", "phone1"),  # the family-phone trap is scored, never skipped
)


#: SQL functions that differ between splink's backends (DuckDB here; Spark to scale out).
_DIALECT_FUNCTIONS = {
    "spark": {"list_has_any(": "arrays_overlap(", "jaro_winkler_similarity(": "jaro_winkler("}
}


def _sql(text: str, dialect: str) -> str:
    for old, new in _DIALECT_FUNCTIONS.get(dialect, {}).items():
        text = text.replace(old, new)
    return text


def settings(n_records: int, dialect: str = "duckdb") -> Any:
    """The splink ``SettingsCreator`` for deduplicating ``n_records`` person records.

    ``dialect="spark"`` swaps the two functions Spark SQL names otherwise (``arrays_overlap``,
    and splink's ``jaro_winkler`` UDF); see docs/SCALING.md.
    """
    from splink import SettingsCreator, block_on
    from splink import comparison_level_library as cll
    from splink import comparison_library as cl

    comparisons: list[Any] = []
    for f in FIELDS:
        levels: list[Any] = [
            cll.CustomLevel(f.null_sql, label_for_charts="missing").configure(is_null_level=True)
        ]
        for lv in f.levels:
            level = cll.ElseLevel() if lv.sql == "TRUE" else cll.CustomLevel(_sql(lv.sql, dialect))
            levels.append(
                level.configure(m_probability=lv.m, u_probability=lv.u, label_for_charts=lv.label)
            )
        comparisons.append(cl.CustomComparison(levels, output_column_name=f.name))
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior(n_records),
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in BLOCKING_RULES],
        retain_matching_columns=True,
        additional_columns_to_retain=["name", "address", "id_shown", "birth_shown"],
        retain_intermediate_calculation_columns=True,
    )


def _rows(records: Iterable[dict[str, Any]], chunk: int = 50_000) -> Any:
    """Records as a pyarrow table with the model's columns (plus the blocking keys), built
    ``chunk`` records at a time so that a generator of records is never all in memory as dicts."""
    import pyarrow as pa

    types = {
        "phones": pa.list_(pa.string()),
        "id_valid": pa.bool_(),
        "birth_y": pa.int32(),
        "birth_m": pa.int32(),
        "birth_d": pa.int32(),
    }
    names = (*COLUMNS, "id_tail")
    schema = pa.schema([(c, types.get(c, pa.string())) for c in names])
    batches = []
    cols: dict[str, list[Any]] = {c: [] for c in names}

    def flush() -> None:
        batches.append(
            pa.record_batch(
                [pa.array(cols[c], type=schema.field(c).type) for c in names], schema=schema
            )
        )
        for v in cols.values():
            v.clear()

    for r in records:
        for c in COLUMNS:
            cols[c].append(r.get(c))
        cols["id_tail"].append(r["id17"][6:] if r.get("id17") else None)
        if len(cols["unique_id"]) >= chunk:
            flush()
    if cols["unique_id"] or not batches:
        flush()
    return pa.Table.from_batches(batches, schema=schema)


def to_table(records: Iterable[dict[str, Any]]) -> Any:
    """Person records (dicts of :data:`COLUMNS`, e.g. a generator) as the pyarrow table that
    :func:`predict` takes — the memory-lean way to score millions."""
    return _rows(records)


@dataclass(frozen=True)
class ScoredPair:
    """A scored candidate pair with each field's level, weight and the two values."""

    a: str
    b: str
    match_weight: float
    probability: float
    fields: dict[str, dict[str, Any]]
    prior_weight: float = 0.0

    def explanation(self) -> dict[str, Any]:
        return {
            "match_weight": round(self.match_weight, 2),
            "prior_weight": round(self.prior_weight, 2),
            "fields": self.fields,
        }


def _scored(row: dict[str, Any], n_records: int) -> ScoredPair:
    fields: dict[str, dict[str, Any]] = {}
    for f in FIELDS:
        gamma = int(row[f"gamma_{f.name}"])
        # gamma: -1 null level, then len(levels)-1 … 0 from the most specific level down
        if gamma < 0:
            label, weight = "missing", 0.0
        else:
            level = f.levels[len(f.levels) - 1 - gamma]
            label, weight = level.label, level.weight
        fields[f.name] = {
            "level": label,
            "weight": round(weight, 2),
            "a": _shown(row, f.shown, "l"),
            "b": _shown(row, f.shown, "r"),
        }
    a, b = sorted((row["unique_id_l"], row["unique_id_r"]))
    if a != row["unique_id_l"]:
        for v in fields.values():
            v["a"], v["b"] = v["b"], v["a"]
    lam = prior(n_records)
    return ScoredPair(
        a,
        b,
        float(row["match_weight"]),
        float(row["match_probability"]),
        fields,
        math.log2(lam / (1 - lam)),
    )


def _shown(row: dict[str, Any], cols: tuple[str, ...], side: str) -> str:
    parts = []
    for col in cols:
        value = row.get(f"{col}_{side}")
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        if value not in (None, ""):
            parts.append(str(value))
    return " · ".join(parts)


def _db_api() -> Any:
    from splink import DuckDBAPI

    return DuckDBAPI()


def predict(
    records: Sequence[dict[str, Any]] | Any,
    *,
    min_probability: float = 0.0,
    threads: int | None = None,
) -> list[ScoredPair]:
    """Score every candidate pair of ``records`` (dicts of :data:`COLUMNS`, or the table of
    :func:`to_table`) found by :data:`BLOCKING_RULES`; pairs below ``min_probability`` are
    left out."""
    table = records if hasattr(records, "num_rows") else _rows(records)
    n = int(table.num_rows)
    if n < 2:
        return []
    from splink import Linker

    db = _db_api()
    if threads:
        db._con.execute(f"SET threads = {int(threads)}")
    linker = Linker(db.register(table), settings(n), log_level=logging.WARNING)
    del table
    result = linker.inference.predict(
        threshold_match_probability=min_probability or None, warning_mode="never"
    )
    return [_scored(r, n) for r in _iter_records(result)]


def compare(
    new: Sequence[dict[str, Any]],
    existing: Sequence[dict[str, Any]],
    *,
    n_records: int,
    min_probability: float = 0.0,
) -> list[ScoredPair]:
    """Score each new record against the existing records that share a blocking key with it,
    and the new records among themselves (the incremental path of an ingest); ``n_records``
    is the number of person records in the workspace (it sets the prior)."""
    if not new:
        return []
    from splink.internals.realtime import compare_records

    pool = {r["unique_id"]: r for r in existing}
    pool.update({r["unique_id"]: r for r in new})
    db = _db_api()
    left, right = _rows(new), _rows(pool.values())
    best: dict[tuple[str, str], ScoredPair] = {}
    # One equi-join per blocking rule, the pairs united here. A single join on the rules
    # OR-ed together is the same set of pairs, but DuckDB runs an OR condition as a nested
    # loop over new × pool: a file of 167,000 persons took hours at 1M records (profiled in
    # bench/server/bench_centre.py); each rule alone is a hash join. A pair's score does not
    # depend on the rule that found it.
    for cols in BLOCKING_RULES:
        join = " AND ".join(f'l."{c}" = r."{c}"' for c in cols)
        result = compare_records(
            left,
            right,
            settings(n_records),
            db,
            join_condition=f"l.unique_id <> r.unique_id AND {join}",
        )
        for row in _iter_records(result):
            p = _scored(row, n_records)
            if p.probability >= min_probability:
                best[(p.a, p.b)] = p
    return list(best.values())


def _iter_records(sdf: Any) -> Iterable[dict[str, Any]]:
    table = sdf.as_pyarrow_table() if hasattr(sdf, "as_pyarrow_table") else None
    if table is None:
        yield from sdf.as_record_dict()
        return
    for batch in table.to_batches(max_chunksize=50_000):
        yield from batch.to_pylist()
