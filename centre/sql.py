"""SQLite's dialect, as the engines write it, translated for PostgreSQL (see centre.db).

``translate(sql, catalog)`` rewrites one statement (cached); ``ddl_to_pg`` rewrites a DDL script.
The rules cover the SQL the engines use, and each one is tested (tests/test_centre_db.py and
tests/test_centre_engines.py, which runs the engines on both databases and compares answers).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from core.errors import StoreError

_WORD_USER = re.compile(r"(?<![\w.\"])user(?![\w\"])")
_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
_COLUMNS = re.compile(r"^\s*INSERT\s+INTO\s+\w+\s*\(([^)]*)\)\s*VALUES", re.IGNORECASE)
_TOTAL = re.compile(r"\btotal\(", re.IGNORECASE)
_LIKE = re.compile(r"(?<!I)\bLIKE\b")


def _outside_quotes(sql: str, fn: Any) -> str:
    """Apply ``fn`` to the parts of ``sql`` outside single-quoted literals; escape every ``%``."""
    parts = re.split(r"('(?:[^']|'')*')", sql)
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a quoted literal
            out.append(part.replace("%", "%%"))
        else:
            out.append(fn(part.replace("%", "%%")))
    return "".join(out)


_SQLITE_MASTER = re.compile(r"\bsqlite_master\b")
#: SQLite's catalogue of indexes, as far as the engines read it (name and type).
_PG_MASTER = (
    "(SELECT indexname AS name, 'index' AS type, tablename AS tbl_name FROM pg_indexes "
    "WHERE schemaname = current_schema()) AS sqlite_master"
)


_TEMP_SCHEMA = re.compile(r"\btemp\.(?=\w)")
_UNARY_PLUS = re.compile(r"(?<=[\s(])\+(?=[A-Za-z_])")  # SQLite's "don't use an index" hint


def _dialect(part: str) -> str:
    part = part.replace("?", "%s")
    part = _TEMP_SCHEMA.sub("pg_temp.", part)
    part = _UNARY_PLUS.sub("", part)
    part = _SQLITE_MASTER.sub(_PG_MASTER, part)
    part = _WORD_USER.sub('"user"', part)
    part = _TOTAL.sub("sum(", part)
    return _LIKE.sub("ILIKE", part)


_JSON_EXTRACT = re.compile(r"json_extract\(\s*(\w+)\s*,\s*'\$\.(\w+)'\s*\)", re.I)


@lru_cache(maxsize=4096)
def translate(sql: str, catalog: Catalog) -> tuple[str, bool]:
    """(PostgreSQL text, whether it returns the new row's id)."""
    sql = _JSON_EXTRACT.sub(r"(\1::jsonb ->> '\2')", sql)
    conflict = ""
    m = _INSERT_OR.match(sql)
    if m:
        mode, table = m.group(1).upper(), m.group(2)
        sql = sql[: m.start()] + f"INSERT INTO {table}" + sql[m.end() :]
        if mode == "IGNORE":
            conflict = " ON CONFLICT DO NOTHING"
        else:
            key = catalog.primary_keys.get(table)
            if not key:
                raise StoreError(f"INSERT OR REPLACE INTO {table}: the table has no primary key")
            cm = _COLUMNS.match(sql)
            cols = (
                [c.strip() for c in cm.group(1).split(",")]
                if cm
                else list(catalog.columns.get(table, ()))
            )
            sets = ", ".join(f"{_quote(c)}=EXCLUDED.{_quote(c)}" for c in cols if c not in key)
            conflict = f" ON CONFLICT ({', '.join(_quote(k) for k in key)}) " + (
                f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
            )
    text = _outside_quotes(sql.rstrip().rstrip(";"), _dialect) + conflict
    ins = _INSERT_INTO.match(sql)
    if ins and not conflict:
        text = _qualify_upsert(text, ins.group(1), catalog)
    returning = bool(
        ins and ins.group(1) in catalog.identity_tables and "RETURNING" not in sql.upper()
    )
    if returning:
        text += " RETURNING id"
    return text, returning


_DO_UPDATE = re.compile(r"\bDO\s+UPDATE\s+SET\b", re.IGNORECASE)
_NAME = re.compile(r'(?<![\w."])("user"|[A-Za-z_]\w*)(?![\w"(])')
_TARGET = re.compile(r"(?:SET|,)\s*$", re.IGNORECASE)


def _qualify_upsert(text: str, table: str, catalog: Catalog) -> str:
    """In ``ON CONFLICT … DO UPDATE SET``, SQLite reads a bare column as the existing row's;
    PostgreSQL calls it ambiguous: qualify it with the table name (targets stay bare)."""
    m = _DO_UPDATE.search(text)
    columns = set(catalog.columns.get(table, ()))
    if not m or not columns:
        return text
    head, tail = text[: m.end()], text[m.end() :]

    def qualify(match: _Shifted) -> str:
        name = match.group(1)
        bare = name.strip('"')
        if bare not in columns:
            return name
        before = head + tail[: match.start()]
        after = tail[match.end() :]
        if _TARGET.search(before) and re.match(r"\s*=(?!=)", after):
            return name  # the column being set
        return f"{table}.{name}"

    parts = re.split(r"('(?:[^']|'')*')", tail)
    out = []
    offset = 0
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            out.append(_NAME.sub(lambda mm, o=offset: qualify(_Shifted(mm, o)), part))
        offset += len(part)
    return head + "".join(out)


class _Shifted:
    """A regex match seen at its position in the whole tail (for the look-around above)."""

    def __init__(self, match: re.Match[str], offset: int) -> None:
        self._m, self._o = match, offset

    def group(self, n: int) -> str:
        return self._m.group(n)

    def start(self) -> int:
        return self._m.start() + self._o

    def end(self) -> int:
        return self._m.end() + self._o


def _quote(column: str) -> str:
    return '"user"' if column == "user" else column


_DDL_RULES = (
    (
        re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.I),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\)\s*WITHOUT\s+ROWID", re.I), ")"),
    (_WORD_USER, '"user"'),
)


def ddl_to_pg(ddl: str) -> list[str]:
    """SQLite ``CREATE TABLE/INDEX IF NOT EXISTS`` statements as PostgreSQL statements."""
    lines = [line.split("--", 1)[0] for line in ddl.splitlines()]
    out = []
    for stmt in "\n".join(lines).split(";"):
        stmt = stmt.strip()
        if not stmt:
            continue
        for pattern, repl in _DDL_RULES:
            stmt = pattern.sub(repl, stmt)
        out.append(stmt)
    return out


class Catalog:
    """What translation needs to know about the tables (hashable: part of the cache key)."""

    def __init__(
        self,
        primary_keys: dict[str, tuple[str, ...]],
        columns: dict[str, tuple[str, ...]],
        identity_tables: frozenset[str],
    ) -> None:
        self.primary_keys = primary_keys
        self.columns = columns
        self.identity_tables = identity_tables
        self._key = (
            tuple(sorted(primary_keys.items())),
            tuple(sorted(columns.items())),
            identity_tables,
        )

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Catalog) and self._key == other._key
