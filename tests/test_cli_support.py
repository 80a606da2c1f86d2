"""One CLI support module (issue #19 item 4) and times in the workspace's zone on every
command line listing (issue #18 item 5).

The workspace here is in New York, so a wrong zone (UTC, or the old fixed UTC+8) shows: the
incident at 23:30 local time on 1 March is 04:30 UTC and 12:30 in Shanghai on 2 March.
"""

from __future__ import annotations

import argparse
import ast
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from core.cli_support import (
    Column,
    TimeArg,
    emit,
    local_time,
    resolve_times,
    table,
    time_arg,
)
from core.timezones import zone_named
from core.workspace import Workspace
from tests.test_plugin_authoring import MAPPING, mapping_file, write

ROOT = Path(__file__).resolve().parents[1]
NY = zone_named("America/New_York")
ROWS = [
    "编号,时间,辖区,类别,简要案情,车牌,电话",
    "N1,2026-03-01 23:30:00,越城区,盗窃,电动车被盗,浙D12345,13905750001",
    "N2,2026-03-03 09:00:00,柯桥区,诈骗,电信诈骗,浙D12345,13905750002",
]


# -- the module's pieces -------------------------------------------------------------------------
def test_time_arguments_are_read_in_the_workspace_zone_unless_they_carry_an_offset() -> None:
    args = argparse.Namespace(
        start=time_arg("2026-03-01"),
        end=time_arg("2026-03-01T23:30"),
        aware=time_arg("2026-03-01T23:30+08:00"),
        other="x",
    )
    resolve_times(args, NY)
    assert args.start == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert args.end == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
    assert args.aware == datetime(2026, 3, 1, 15, 30, tzinfo=UTC)  # honoured as written
    assert args.other == "x"
    with pytest.raises(argparse.ArgumentTypeError, match="'yesterday' is not an ISO date"):
        time_arg("yesterday")


def test_a_table_names_the_zone_over_its_time_columns() -> None:
    rows = [{"id": 7, "at": datetime(2026, 3, 2, 4, 30, tzinfo=UTC), "what": "盗窃"}]
    lines = table(
        rows,
        [
            Column("id", lambda r: r["id"], -4),
            Column("received", lambda r: r["at"], time=True),
            Column("what", lambda r: r["what"]),
        ],
        NY,
    )
    assert lines[0].split() == ["id", "received", "(America/New_York)", "what"]
    assert lines[1].split() == ["7", "2026-03-01", "23:30", "盗窃"]
    # service answers give ISO text or epoch seconds; both are shown the same way
    assert local_time("2026-03-02T04:30:00+00:00", NY) == "2026-03-01 23:30 EST"
    assert (
        local_time(datetime(2026, 3, 2, 4, 30, tzinfo=UTC).timestamp(), NY)
        == "2026-03-01 23:30 EST"
    )


def test_emit_is_the_one_json_switch(capsys: pytest.CaptureFixture[str]) -> None:
    when = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
    emit(argparse.Namespace(json=True), {"at": when}, ["text"])
    assert json.loads(capsys.readouterr().out) == {"at": "2026-03-02T04:30:00+00:00"}
    emit(argparse.Namespace(json=False), {"at": when}, ["one", "two"])
    assert capsys.readouterr().out == "one\ntwo\n"


CLI_MODULES = sorted(
    {*ROOT.glob("*/cli.py"), *ROOT.glob("*/*_cli.py")} - {ROOT / "core" / "cli_support.py"}
)


@pytest.mark.parametrize("path", CLI_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_command_modules_use_the_support_module_not_their_own_parsers_or_json(path: Path) -> None:
    """No command module parses times, declares --json, branches on it or prints JSON by
    itself (issue #19 item 4 counted 21 hand-written `if args.json` branches)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "fromisoformat":
            found.append(f"line {node.lineno}: a time parser of its own (use time_arg)")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "--json"
        ):
            found.append(f"line {node.lineno}: --json declared by hand (use add_json_arg)")
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "json"
            and isinstance(node.value, ast.Name)
            and node.value.id == "args"
        ):
            found.append(f"line {node.lineno}: an `args.json` branch (use emit)")
        if isinstance(node, ast.Name) and node.id == "print_json":
            found.append(f"line {node.lineno}: print_json (use emit)")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "strftime"
        ):
            found.append(f"line {node.lineno}: strftime (use local_time or a time Column)")
        if (
            isinstance(node, ast.FormattedValue)
            and isinstance(node.format_spec, ast.JoinedStr)
            and any(
                isinstance(v, ast.Constant) and "%H" in str(v.value)
                for v in node.format_spec.values
            )
        ):
            found.append(f"line {node.lineno}: a time formatted by hand (use local_time)")
    assert not found, f"{path.relative_to(ROOT)}: " + "; ".join(found)


# -- end to end, in a New York workspace -----------------------------------------------------------
@pytest.fixture
def ny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("SUPERBRAIN_USER", "SUPERBRAIN_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    ws = Workspace.init(tmp_path / "w")
    ws.close()
    config = ws.root / "superbrain.toml"
    config.write_text(config.read_text().replace('"Asia/Shanghai"', '"America/New_York"'))
    mapping_file(
        ws.root,
        MAPPING.replace(
            'record_type = "incident"', 'record_type = "incident"\ntimezone = "America/New_York"'
        ),
    )
    data = write(tmp_path / "in" / "ny.csv", "\n".join(ROWS) + "\n")
    assert main(["ingest", "-w", str(ws.root), "-s", "sx", str(data)]) == 0
    return ws.root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out) if "--json" in argv else out


def test_search_days_filters_and_listing_are_new_york_local(
    ny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = ["-w", str(ny)]
    found = run(capsys, "search", *w, "*", "--facets", "--json")
    assert {b["value"]: b["count"] for b in found["facets"]["day"]} == {
        "2026-03-01": 1,
        "2026-03-03": 1,
    }
    # JSON keeps ISO-8601 with the offset
    times = {h["uid"]: datetime.fromisoformat(h["time"]) for h in found["hits"]}
    assert times["sx:N1"] == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
    one_day = run(
        capsys, "search", *w, "*", "--since", "2026-03-01", "--until", "2026-03-02", "--json"
    )
    assert [h["uid"] for h in one_day["hits"]] == ["sx:N1"]
    assert [
        h["uid"]
        for h in run(capsys, "search", *w, "time:[2026-03-01 TO 2026-03-01]", "--json")["hits"]
    ] == ["sx:N1"]
    text = run(capsys, "search", *w, "电动车")
    assert "time (America/New_York)" in text and "2026-03-01 23:30" in text


def test_graph_listings_and_windows_are_new_york_local(
    ny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = ["-w", str(ny)]
    text = run(
        capsys, "graph", "timeline", *w, "浙D12345", "--start", "2026-03-01", "--end", "2026-03-02"
    )
    assert "time (America/New_York)" in text
    assert "2026-03-01 23:30:00" in text and "1 events" in text
    events = run(capsys, "graph", "timeline", *w, "浙D12345", "--json")["events"]
    assert len(events) == 2
    text = run(capsys, "graph", "expand", *w, "浙D12345", "--depth", "1")
    assert "times in America/New_York" in text and "2026-03-01 23:30" in text


def test_ops_listings_name_the_zone(ny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w = ["-w", str(ny)]
    inc = run(
        capsys,
        "ops",
        "new",
        *w,
        "--category",
        "纠纷",
        "--lat",
        "30.76",
        "--lon",
        "120.79",
        "--json",
    )
    received = datetime.fromisoformat(inc["received_at"])
    assert received.utcoffset() is not None  # JSON: ISO-8601 with its offset
    text = run(capsys, "ops", "incidents", *w)
    assert text.splitlines()[0].split()[:5] == [
        "id",
        "P",
        "status",
        "received",
        "(America/New_York)",
    ]
    assert received.astimezone(NY).strftime("%Y-%m-%d %H:%M") in text
    text = run(capsys, "ops", "events", *w)
    assert "time (America/New_York)" in text
    text = run(capsys, "ops", "show", *w, str(inc["id"]))
    assert received.astimezone(NY).strftime("%Y-%m-%d %H:%M:%S E") in text


def test_audit_list_shows_local_times(ny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = run(capsys, "audit", "-w", str(ny), "list", "--json")
    assert entries and all("ts" in e for e in entries)
    text = run(capsys, "audit", "-w", str(ny), "list")
    assert "time (America/New_York)" in text.splitlines()[0]
    last = datetime.fromisoformat(entries[-1]["ts"]).astimezone(NY)
    assert last.strftime("%Y-%m-%d %H:%M:%S") in text


def test_a_time_arg_not_resolved_is_never_passed_on() -> None:
    """Every command opens its workspace through open_workspace, which resolves the times; a
    TimeArg reaching a service would be a bug, so it is not a datetime the services take."""
    assert not isinstance(time_arg("2026-03-01"), datetime)
    assert isinstance(time_arg("2026-03-01"), TimeArg)


def test_graph_exports_carry_new_york_times_with_their_offset(
    ny: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import csv

    w = ["-w", str(ny)]
    run(capsys, "graph", "export", *w, "浙D12345", "--depth", "1", "-o", str(tmp_path / "g.csv"))
    with (tmp_path / "g.edges.csv").open(encoding="utf-8-sig") as fh:
        edges = list(csv.DictReader(fh))
    firsts = {e["First"] for e in edges}
    assert "2026-03-01T23:30:00-05:00" in firsts, firsts
    times = json.loads(next(e["Times"] for e in edges if e["First"].startswith("2026-03-01")))
    assert all(t.endswith("-05:00") for t in times)
    run(
        capsys, "graph", "export", *w, "浙D12345", "--depth", "1", "-o", str(tmp_path / "g.graphml")
    )
    assert "2026-03-01T23:30:00-05:00" in (tmp_path / "g.graphml").read_text(encoding="utf-8")


def test_services_read_naive_times_from_remote_callers_in_the_workspace_zone(ny: Path) -> None:
    """A console on a centre sends times as ISO text; without an offset they are local."""
    from core.services import call, local_context

    ws = Workspace.open(ny)
    try:
        ctx = local_context(ws)
        out = call("graph.timeline", ctx, entity="浙D12345", start="2026-03-01", end="2026-03-02")
        assert [e.record_uid for e in out["events"]] == ["sx:N1"]
        out = call(
            "graph.timeline",
            ctx,
            entity="浙D12345",
            start="2026-03-01T00:00+08:00",
            end="2026-03-02T00:00+08:00",
        )
        assert out["events"] == []  # an offset is honoured: that day in Shanghai has nothing
        metrics = call("ops.metrics", ctx, start="2026-03-01", end="2026-03-02")
        assert "incidents" in metrics
    finally:
        ws.close()


def test_changing_the_zone_says_the_days_are_stale_until_a_reindex(
    ny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = ["-w", str(ny)]
    assert run(capsys, "search-health", *w, "--json")["stale"] is None
    config = ny / "superbrain.toml"
    config.write_text(config.read_text().replace('"America/New_York"', '"Europe/London"'))
    stale = run(capsys, "search-health", *w, "--json")["stale"]
    assert "counts America/New_York days" in stale and "Europe/London" in stale
    assert "superbrain reindex" in stale
    assert main(["reindex", *w]) == 0
    capsys.readouterr()
    assert run(capsys, "search-health", *w, "--json")["stale"] is None
    found = run(capsys, "search", *w, "*", "--facets", "--json")
    assert {b["value"] for b in found["facets"]["day"]} == {"2026-03-02", "2026-03-03"}
