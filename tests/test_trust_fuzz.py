"""Fuzzed inputs: readers, the mapping loader, plugin metadata and the record mapper never crash.

Every bad input ends as a clear :class:`~core.errors.SuperbrainError` subclass or a yielded
:class:`~core.errors.RowError`; any other exception is a crash and fails the test. Bounded with
``max_examples`` so the whole module stays well under a minute.
"""

from __future__ import annotations

import io
import itertools
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import PluginError, RowError, SchemaError, SuperbrainError
from plugins.contract import Row
from plugins.mapping import MappingSource, parse_mapping
from plugins.readers import read_any
from plugins.registry import discover

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Bytes that look like the files police exports really are: UTF-8 and GBK Chinese, BOMs, quotes,
# separators, NULs, CR/LF mixes, plus anything at all.
_FRAGMENTS = [
    b"id,name,phone\n",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    "王建国".encode(),
    "王建国".encode("gbk"),
    b'"',
    b'""',
    b",",
    b"\t",
    b"\r\n",
    b"\n",
    b"\r",
    b"\x00",
    b"\\",
    b"{",
    b"}",
    b'{"a": 1}\n',
    b"[1,2]\n",
    b"null\n",
    b"\x80\x81",
    b"1e999",
    b"NaN",
    b'"\xe4\xb8"',
]
_content = st.lists(
    st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=40)), max_size=30
).map(b"".join)


def _drain(path: Path) -> list[Any]:
    """Read a file to the end; only SuperbrainError may escape."""
    try:
        items = list(read_any(path))
    except SuperbrainError as exc:
        assert str(path.name) in str(exc), f"error does not name the file: {exc}"
        return []
    for item in items:
        assert isinstance(item, Row | RowError), item
        if isinstance(item, RowError):
            assert item.line is not None and item.line >= 1
    return items


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_text_readers_never_crash(suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"

        @FUZZ
        @given(_content)
        def run(data: bytes) -> None:
            path.write_bytes(data)
            _drain(path)

        run()


def _xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "姓名", "time"])
    for i in range(5):
        sheet.append([i, f"王{i}", "2024-01-02 03:04:05"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_excel_reader_never_crashes_on_damaged_workbooks() -> None:
    good = _xlsx_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.xlsx"

        @settings(max_examples=120, deadline=None)
        @given(
            st.lists(
                st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)),
                min_size=1,
                max_size=8,
            ),
            st.integers(0, len(good)),
        )
        def run(flips: list[tuple[int, int]], cut: int) -> None:
            data = bytearray(good)
            for at, value in flips:
                data[at] = value
            path.write_bytes(bytes(data[: max(cut, 200)]))
            _drain(path)

        run()
        path.write_bytes(b"PK\x03\x04 not really a zip")
        with pytest.raises(PluginError, match=r"fuzz\.xlsx"):
            list(read_any(path))


def _with_sheet_xml(good: bytes, edit: Any) -> bytes:
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            dst.writestr(item, data)
    return out.getvalue()


def test_excel_reader_damaged_sheet_inside_a_valid_zip() -> None:
    """Regression: read-only openpyxl parsed the sheet lazily and leaked a ParseError."""
    good = _xlsx_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.xlsx"
        path.write_bytes(_with_sheet_xml(good, lambda d: d[: len(d) // 2] + b"<<garbage"))
        with pytest.raises(PluginError, match=r"damaged\.xlsx.*damaged workbook"):
            list(read_any(path))

        @settings(max_examples=80, deadline=None)
        @given(
            st.lists(
                st.tuples(st.integers(0, 4000), st.binary(min_size=1, max_size=3)),
                min_size=1,
                max_size=4,
            )
        )
        def run(edits: list[tuple[int, bytes]]) -> None:
            def edit(data: bytes) -> bytes:
                for at, new in edits:
                    at %= len(data)
                    data = data[:at] + new + data[at + len(new) :]
                return data

            path.write_bytes(_with_sheet_xml(good, edit))
            _drain(path)

        run()


# -- the mapping loader ------------------------------------------------------------------------
_KEYS = [
    "source",
    "fields",
    "entities",
    "links",
    "name",
    "version",
    "record_type",
    "id",
    "time",
    "geo",
    "column",
    "format",
    "lat",
    "lon",
    "role",
    "normalizer",
    "type",
    "key",
    "label",
    "props",
    "optional",
    "from",
    "to",
    "facet",
    "formats",
    "person",
    "phone",
    "text",
    "identifier",
    "keyword",
    "calls",
    "owns",
]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.sampled_from(_KEYS),
    st.text(max_size=8),
)
_toml_like = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5)
    ),
    max_leaves=25,
)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["source", "fields", "entities", "links"]), _toml_like, max_size=4
    )
)
def test_mapping_loader_only_raises_schema_error(data: dict[str, Any]) -> None:
    try:
        parse_mapping(data, "'fuzz.toml'")
    except SchemaError as exc:
        assert "fuzz.toml" in str(exc)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(copy[path[0]], path[1:], new)
    return copy


def test_mapping_loader_survives_any_damaged_valid_mapping() -> None:
    """Start from a valid mapping and replace one part with anything at all."""
    paths = [p for p in _paths(_VALID) if p]

    @FUZZ
    @given(st.lists(st.tuples(st.sampled_from(paths), _toml_like), min_size=1, max_size=3))
    def run(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
        data: Any = _VALID
        for path, new in edits:
            try:
                data = _replaced(data, path, new)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier edit removed this path
        try:
            parse_mapping(data, "'fuzz.toml'")
        except SchemaError as exc:
            assert "fuzz.toml" in str(exc)

    run()


_VALID = {
    "source": {
        "name": "fz",
        "id": ["id"],
        "time": {"column": "t"},
        "geo": {"lat": "lat", "lon": "lon"},
    },
    "fields": {
        "phone": {"role": "identifier", "normalizer": "phone"},
        "plate": {"role": "identifier", "normalizer": "plate"},
        "n": "number",
        "when": "time",
        "body": "text",
        "pic": "photo",
    },
    "entities": {
        "p": {"type": "person", "key": "{idno}", "label": "name", "optional": True},
        "ph": {"type": "phone", "key": "phone"},
        "car": {"type": "vehicle", "key": "plate", "optional": True},
    },
    "links": [{"type": "uses_phone", "from": "p", "to": "ph"}],
}
_cell = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(),
    st.floats(),
    st.sampled_from(
        [
            "",
            " ",
            "1e999",
            "-1e400",
            "nan",
            "inf",
            "9" * 30,
            "2024-02-30 25:61",
            "1700000000",
            "浙D·12345",
            "+86 138-0013-8000",
            "11010519491231002X",
            "\x00",
            "０１２",
        ]
    ),
    st.datetimes(),
)


def test_record_mapper_only_raises_row_error() -> None:
    from core.schema import default_schema

    schema = default_schema()
    data = {**_VALID, "links": [link for link in _VALID["links"] if link["type"] in schema.links]}
    source = MappingSource(parse_mapping(data, "'valid.toml'"))
    columns = [
        "id",
        "t",
        "lat",
        "lon",
        "phone",
        "plate",
        "n",
        "when",
        "body",
        "pic",
        "idno",
        "name",
    ]

    @FUZZ
    @given(st.fixed_dictionaries({c: _cell for c in columns}))
    def run(values: dict[str, Any]) -> None:
        try:
            source.to_record(Row(7, values), Path("/data/x.csv"))
        except RowError as exc:
            assert exc.line == 7

    run()


# -- plugin metadata -----------------------------------------------------------------------------
_PLUGIN = textwrap.dedent("""
    from core.model import Record, RecordSchema
    from plugins.contract import Row, SourcePlugin

    class Odd(SourcePlugin):
        name = {name!r}
        version = {version!r}
        description = {description!r}
        formats = {formats!r}

        def record_schemas(self):
            return [RecordSchema("odd", "Odd", ())]

        def read(self, path):
            yield Row(1, {{}})

        def to_record(self, row, path):
            return Record(source="odd", id="1", type="odd")

    {export}
""")
_meta = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=10),
    st.lists(st.text(max_size=3)),
    st.sampled_from(["", "../../etc", "a/b", "ok_name", "名字", " ", "x" * 300]),
)
_counter = itertools.count()


@settings(max_examples=60, deadline=None)
@given(
    name=_meta,
    version=_meta,
    description=_meta,
    formats=_meta,
    export=st.sampled_from(
        [
            "plugin = Odd",
            "plugin = Odd()",
            "PLUGINS = [Odd, Odd]",
            "PLUGINS = 5",
            "plugin = 42",
            "plugin = None",
            "",
            "import sys; sys.exit(3)",
            "raise SystemExit('bye')",
            "plugin = lambda: 1 / 0",
        ]
    ),
)
def test_odd_plugins_never_break_discovery(
    name: Any, version: Any, description: Any, formats: Any, export: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stem = f"odd{next(_counter)}"
        (folder / f"{stem}.py").write_text(
            _PLUGIN.format(
                name=name, version=version, description=description, formats=formats, export=export
            ),
            encoding="utf-8",
        )
        found = discover([folder], use_entry_points=False)
    assert len(found.loaded) + len(found.failed) >= 1
    for loaded_name, lp in found.loaded.items():
        # what reaches the audit, the CLI and file names must be sane
        assert isinstance(loaded_name, str) and loaded_name == lp.plugin.name
        assert "/" not in loaded_name and loaded_name.strip() == loaded_name and loaded_name
        assert isinstance(lp.plugin.version, str)
        assert len(lp.sha256) == 64
    for failure in found.failed:
        assert failure.error and stem in failure.origin


# -- regressions: crashes the fuzzers found, pinned ----------------------------------------------
def test_regression_damaged_utf16_csv_is_a_plugin_error(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(b"\xff\xfe\x00\x00\x00")
    with pytest.raises(PluginError, match=r"u16\.csv.*UTF-16"):
        list(read_any(path))


@pytest.mark.parametrize("cell", [67768036191676796, -1e300, "0001-01-01 00:00:00"])
def test_regression_out_of_range_time_is_a_row_error(cell: Any) -> None:
    source = MappingSource(
        parse_mapping({"source": {"name": "t", "id": "id", "time": {"column": "t"}}}, "'t.toml'")
    )
    with pytest.raises(RowError, match=r"out of range|unrecognised"):
        source.to_record(Row(3, {"id": "1", "t": cell}), Path("x.csv"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"source": {"name": "m"}, "fields": {"phone": None}}, "phone: missing 'role'"),
        ({"source": {"name": "m"}, "fields": {"phone": 5}}, "phone: expected a table"),
        ({"source": {"name": "m"}, "fields": ["phone"]}, "expected a table"),
        ({"source": {"name": "m", "time": "t"}}, "time: expected a table"),
        (
            {
                "source": {"name": "m"},
                "fields": {"p": {"role": "identifier", "normalizer": "nope"}},
            },
            "unknown normalizer",
        ),
        ({"source": {"name": "m", "id": [1]}}, "id must be"),
        ({"source": {"name": "m"}, "links": {"type": "owns"}}, "expected a list"),
    ],
)
def test_regression_mapping_shapes_are_schema_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        parse_mapping(data, "'m.toml'")


@pytest.mark.parametrize(
    ("export", "error"),
    [
        ("import sys; sys.exit(3)", "SystemExit"),
        ("plugin = Odd", "name 5 must be"),
    ],
)
def test_regression_plugin_exit_or_bad_name_is_a_failure(
    tmp_path: Path, export: str, error: str
) -> None:
    (tmp_path / "odd.py").write_text(
        _PLUGIN.format(name=5, version="1", description="", formats=(), export=export),
        encoding="utf-8",
    )
    found = discover([tmp_path], use_entry_points=False)
    assert not found.loaded
    assert error in found.failed[0].error
