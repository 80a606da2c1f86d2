"""A plugin author's traps (issue #18): strict mapping validation with line and nearest
spelling, header checks, fields named apart from their columns, the dry run, documented keys."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from core.errors import SchemaError
from core.ingest import Ingestor
from core.model import FieldRole
from core.workspace import Workspace
from plugins.mapping import MAPPING_KEYS, MappingSource, load_mapping

DOC = (Path(__file__).resolve().parent.parent / "docs" / "PLUGINS.md").read_text("utf-8")

MAPPING = textwrap.dedent("""\
    [source]
    name = "sx"
    record_type = "incident"
    id = ["编号"]
    time = { column = "时间" }

    [fields]
    district = { column = "辖区", role = "keyword", facet = true }
    category = { column = "类别", role = "keyword", facet = true }
    summary = { column = "简要案情", role = "text" }
    plate = { column = "车牌", role = "identifier", normalizer = "plate" }
    phone = { column = "电话", role = "identifier", normalizer = "phone" }

    [entities.car]
    type = "vehicle"
    key = "plate"
    optional = true

    [entities.caller]
    type = "phone"
    key = "phone"
    optional = true

    [entities.case]
    type = "incident"
    key = "编号"

    [[links]]
    type = "involved_in"
    from = "car"
    to = "case"
    """)

ROWS = [
    "编号,时间,辖区,类别,简要案情,车牌,电话",
    "A1,2026-03-01 02:10:00,越城区,盗窃,电动车被盗,浙D12345,13905750001",
    "A2,2026-03-01 08:30:00,柯桥区,诈骗,电信诈骗,,13905750002",
    "A3,2026-03-02 14:00:00,越城区,交通事故,剐蹭,ZHE D 12345,",
]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def mapping_file(tmp_path: Path, text: str = MAPPING, name: str = "sx.toml") -> Path:
    return write(tmp_path / "plugins" / name, text)


# -- every key and role is documented -------------------------------------------------------------
def test_every_mapping_key_is_in_the_plugins_reference() -> None:
    missing = []
    for table, keys in MAPPING_KEYS.items():
        for key in keys:
            qualified = f"{table}.{key}" if table else key
            if f"`{qualified}`" not in DOC:
                missing.append(qualified)
    assert not missing, f"docs/PLUGINS.md's mapping reference lacks: {missing}"


def test_every_field_role_is_in_the_roles_table() -> None:
    missing = [r.value for r in FieldRole if f"| `{r.value}` |" not in DOC]
    assert not missing, f"docs/PLUGINS.md's roles table lacks: {missing}"


def test_optional_is_documented_with_its_effect() -> None:
    row = next(line for line in DOC.splitlines() if line.startswith("| `entities.*.optional`"))
    assert "missing key" in row and "rejected" in row


# -- strict validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "optional = true\n\n[entities.caller]",
            "optinal = true\n\n[entities.caller]",
            r"line 17: \[entities.car\]: unknown key 'optinal'; did you mean 'optional'\?",
        ),
        (
            'role = "keyword", facet = true }\ncategory',
            'role = "keywrod", facet = true }\ncategory',
            r"line 8: \[fields\] district: unknown role 'keywrod'; did you mean 'keyword'\?",
        ),
        (
            'normalizer = "plate"',
            'normaliser = "plate"',
            r"line 11: \[fields\] plate: unknown key 'normaliser'; did you mean 'normalizer'\?",
        ),
        (
            'normalizer = "phone"',
            'normalizer = "phones"',
            r"line 12: .*unknown normalizer 'phones'; did you mean 'phone'\?",
        ),
        (
            'type = "vehicle"',
            'type = "vehicel"',
            r"line 15: .*unknown entity type 'vehicel'; did "
            r"you mean 'vehicle'\?",
        ),
        ('type = "involved_in"', 'type = "involved"', r"line 29: .*unknown link type 'involved'"),
        (
            'from = "car"',
            'from = "cars"',
            r"line 30: .*unknown entity alias 'cars'; did you mean "
            r"'car'\?",
        ),
        (
            'time = { column = "时间" }',
            'time = { colum = "时间" }',
            r"line 5: \[source\] time: unknown key 'colum'; did you mean 'column'\?",
        ),
        (
            'record_type = "incident"',
            'record_typ = "incident"',
            r"line 3: .*did you mean "
            r"'record_type'\?",
        ),
        (
            'record_type = "incident"',
            'record_type = "incident"\ntimezone = "Asia/Shanghia"',
            r"line 4: \[source\] timezone: unknown time zone 'Asia/Shanghia'; did you mean "
            r"'Asia/Shanghai'",
        ),
        (
            "optional = true\n\n[entities.caller]",
            'optional = "yes"\n\n[entities.caller]',
            r"line 17: .*'optional' must be true or false",
        ),
        (
            'time = { column = "时间" }',
            'time = { column = "时间", format = "YYYY-MM-DD" }',
            r"line 5: \[source\] time format 'YYYY-MM-DD' has no strptime directive",
        ),
        (
            'summary = { column = "简要案情", role = "text" }',
            'summary = { column = "简要案情", role = "text", facet = true }',
            r"line 10: .*a text field cannot be a facet",
        ),
    ],
)
def test_mapping_errors_name_file_line_key_and_nearest_spelling(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in MAPPING
    path = mapping_file(tmp_path, MAPPING.replace(old, new, 1))
    with pytest.raises(SchemaError, match=message) as err:
        load_mapping(path)
    assert str(path) in str(err.value)


def test_broken_mapping_is_listed_under_its_source_name_and_ingest_says_so(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli import main

    write(
        workspace.root / "plugins" / "shaoxing-export.toml",
        MAPPING.replace(
            "optional = true\n\n[entities.caller]", "optinal = true\n\n[entities.caller]"
        ),
    )
    found = workspace.discover_sources()
    (failure,) = [f for f in found.failed]
    assert failure.name == "sx" and "optinal" in failure.error
    rc = main(["ingest", "-w", str(workspace.root), "-s", "sx", "x.csv"])
    err = capsys.readouterr().err
    assert rc == 2 and "source 'sx' is broken" in err and "did you mean 'optional'" in err
    rc = main(["ingest", "-w", str(workspace.root), "-s", "incident", "x.csv"])
    err = capsys.readouterr().err
    assert rc == 2 and "did you mean 'incidents'" in err and "broken: sx" in err


def test_missing_column_fails_before_any_row_naming_the_nearest(
    workspace: Workspace, tmp_path: Path
) -> None:
    source = MappingSource(
        load_mapping(
            mapping_file(tmp_path, MAPPING.replace('column = "辖区"', 'column = "辖 区域"'))
        )
    )
    data = write(tmp_path / "data.csv", "\n".join(ROWS) + "\n", "gbk")
    report = Ingestor(workspace, stages=[]).ingest_file(source, data)
    assert report.status == "failed" and report.records == 0
    assert "column '辖 区域' (named by [fields] district) is not in the header" in report.error
    assert "did you mean '辖区'?" in report.error
    assert workspace.store.count() == 0 and workspace.store.checkpoints() == []


# -- a field says what a column means ------------------------------------------------------------
def test_fields_named_apart_from_columns_share_filters_and_facets(
    workspace: Workspace, tmp_path: Path
) -> None:
    from search.backend import open_backend
    from search.model import Filters, SearchRequest

    write(workspace.root / "plugins" / "sx.toml", MAPPING)
    source = workspace.discover_sources().get("sx")
    data = write(tmp_path / "data.csv", "\n".join(ROWS) + "\n", "gbk")
    report = Ingestor(workspace).ingest_file(source, data)
    assert (report.status, report.records, report.rejects) == ("done", 3, 0), report.summary()
    record = workspace.store.get_record("sx:A1")
    assert record is not None
    assert record.fields["district"] == "越城区" and "辖区" not in record.fields
    backend = open_backend(workspace)
    try:
        result = backend.search(
            SearchRequest("*", Filters(districts=("越城区",)), facets=("category", "district"))
        )
        assert {h.uid for h in result.hits} == {"sx:A1", "sx:A3"}
        assert {b.value: b.count for b in result.facets["district"]} == {"越城区": 2}
        assert {b.value for b in result.facets["category"]} == {"盗窃", "交通事故"}
        assert backend.search(SearchRequest("district:柯桥区")).total == 1
    finally:
        backend.close()


def test_author_facet_fields_are_listed_by_search_facets(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli import main

    write(
        workspace.root / "plugins" / "sx.toml",
        MAPPING.replace(
            'summary = { column = "简要案情", role = "text" }',
            'summary = { column = "简要案情", role = "text" }\n'
            'kind = { column = "类别", role = "keyword", facet = true }',
        ),
    )
    data = write(tmp_path / "data.csv", "\n".join(ROWS) + "\n", "gbk")
    assert main(["ingest", "-w", str(workspace.root), "-s", "sx", str(data)]) == 0
    capsys.readouterr()
    assert main(["search", "-w", str(workspace.root), "*", "--facets"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^kind: .*盗窃 \(1\)", out, re.M), out
    # listings show local time and say which zone (in the time column's header)
    assert "time (Asia/Shanghai)" in out.splitlines()[0] and "2026-03-01 02:10" in out


def test_missing_key_message_says_how_to_make_an_entity_optional(tmp_path: Path) -> None:
    from core.errors import RowError
    from plugins.contract import Row

    source = MappingSource(
        load_mapping(
            mapping_file(
                tmp_path,
                MAPPING.replace("optional = true\n\n[entities.caller]", "\n[entities.caller]"),
            )
        )
    )
    with pytest.raises(
        RowError,
        match=r"missing key for vehicle .*add `optional = true` to "
        r"\[entities.car\]",
    ) as err:
        source.to_record(
            Row(3, dict(zip(ROWS[0].split(","), ROWS[2].split(","), strict=True))),
            tmp_path / "x.csv",
        )
    assert err.value.column == "车牌"


# -- the dry run ---------------------------------------------------------------------------------
def test_dry_run_shows_records_entities_links_and_rejects_and_writes_nothing(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli import main

    data = write(
        tmp_path / "data.csv",
        "\n".join([*ROWS, "A4,不详,越城区,盗窃,x,,", "A5,2026-03-04 10:00:00"]) + "\n",
        "gbk",
    )
    before = (workspace.store.count(), sorted(p.name for p in workspace.rejects_dir.iterdir()))
    rc = main(
        [
            "ingest",
            "-w",
            str(workspace.root),
            "--dry-run",
            "--mapping",
            str(mapping_file(tmp_path)),
            str(data),
            "--rows",
            "5",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "5 rows read: 3 would be records, 2 rejected" in out
    assert "record sx:A1  (data.csv:2)" in out and "time: 2026-03-01 02:10:00 CST" in out
    assert "entity vehicle:浙D12345  label ZHE D 12345" in out  # row A3's Latin plate
    assert "link vehicle:浙D12345 --involved_in--> incident:A3" in out
    assert "REJECT line 5 column '时间': unrecognised time '不详'" in out
    assert "REJECT line 6: expected 7 columns, got 2" in out
    assert (
        workspace.store.count(),
        sorted(p.name for p in workspace.rejects_dir.iterdir()),
    ) == before


def test_dry_run_warns_about_a_field_that_is_always_empty(tmp_path: Path) -> None:
    from core.dryrun import dry_run

    rows = [*ROWS[:1], *(r.rsplit(",", 1)[0] + "," for r in ROWS[1:])]  # 电话 always empty
    data = write(tmp_path / "data.csv", "\n".join(rows) + "\n")
    result = dry_run(MappingSource(load_mapping(mapping_file(tmp_path))), data)
    assert "field 'phone' (column '电话') is empty in all 3 records" in result.warnings
    assert "entity 'caller' (phone) was made for none of the 3 records" in result.warnings
    assert not any("does not read" in w for w in result.warnings)
    extra = write(
        tmp_path / "extra.csv",
        "\n".join(r + ",x" for r in ROWS).replace("电话,x", "电话,备注", 1) + "\n",
    )
    warned = dry_run(MappingSource(load_mapping(mapping_file(tmp_path))), extra).warnings
    assert "columns the mapping does not read: 备注" in warned


def test_dry_run_of_a_broken_mapping_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli import main

    path = mapping_file(tmp_path, MAPPING.replace('normalizer = "plate"', 'normalizer = "plat"'))
    rc = main(
        [
            "ingest",
            "--dry-run",
            "--mapping",
            str(path),
            str(tmp_path / "x.csv"),
            "-w",
            str(tmp_path / "nowhere"),
        ]
    )
    assert rc == 2
    assert "line 11" in capsys.readouterr().err
