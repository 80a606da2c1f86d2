"""A time without an offset is wall-clock time in the workspace's zone, not a fixed UTC+8.

A source may declare the zone its files are written in (``[source] timezone``), and that wins;
without one, a naive time — in a mapped file, in a record a plugin makes, passed to
``core.model.to_utc``, in an incident's lifecycle fields — is read in the workspace's zone
(``[workspace] timezone``, a centre's ``[centre] timezone``). Tested on a New York workspace,
where UTC+8 would be thirteen hours off, and on a New York centre (PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import RowError
from core.ingest import Ingestor
from core.model import FieldRole, FieldSpec, LinkRef, Record, RecordSchema, to_utc
from core.security import Session
from core.services import ServiceContext, acting, call
from core.workspace import Workspace
from plugins.contract import Row, SourcePlugin
from plugins.mapping import MappingSource, load_mapping
from tests.test_plugin_authoring import MAPPING, ROWS, mapping_file, write

NEW_YORK = "America/New_York"
#: 02:10 on 1 March 2026 (the first row of ROWS) in New York (EST, UTC-5) and in Shanghai.
A1_NEW_YORK = datetime(2026, 3, 1, 7, 10, tzinfo=UTC)
A1_SHANGHAI = datetime(2026, 2, 28, 18, 10, tzinfo=UTC)


def new_york_workspace(root: Path) -> Workspace:
    ws = Workspace.init(root)
    ws.close()
    config = root / "superbrain.toml"
    text = config.read_text(encoding="utf-8")
    assert 'timezone = "Asia/Shanghai"' in text
    config.write_text(text.replace('"Asia/Shanghai"', f'"{NEW_YORK}"'), encoding="utf-8")
    ws = Workspace.open(root)
    assert ws.zone.key == NEW_YORK
    return ws


@pytest.fixture
def ny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("SUPERBRAIN_USER", "tester")
    ws = new_york_workspace(tmp_path / "ws")
    yield ws
    ws.close()


def data_file(tmp_path: Path) -> Path:
    return write(tmp_path / "in" / "data.csv", "\n".join(ROWS) + "\n")


def test_a_new_york_workspace_reads_a_files_naive_times_in_new_york(
    ny: Workspace, tmp_path: Path
) -> None:
    plugin = MappingSource(load_mapping(mapping_file(tmp_path)))  # declares no timezone
    report = Ingestor(ny, stages=[]).ingest_file(plugin, data_file(tmp_path))
    assert (report.status, report.records) == ("done", 3)
    assert ny.store.get_record("sx:A1").time == A1_NEW_YORK  # not 2026-02-28 18:10 UTC


def test_a_sources_declared_zone_wins_over_the_workspaces(ny: Workspace, tmp_path: Path) -> None:
    text = MAPPING.replace(
        'record_type = "incident"', 'record_type = "incident"\ntimezone = "Asia/Shanghai"'
    )
    plugin = MappingSource(load_mapping(mapping_file(tmp_path, text)))
    report = Ingestor(ny, stages=[]).ingest_file(plugin, data_file(tmp_path))
    assert report.status == "done"
    assert ny.store.get_record("sx:A1").time == A1_SHANGHAI


def test_a_dry_run_reads_naive_times_in_the_zone_it_is_given(tmp_path: Path) -> None:
    from core.dryrun import dry_run
    from core.timezones import zone_named

    plugin = MappingSource(load_mapping(mapping_file(tmp_path)))
    result = dry_run(plugin, data_file(tmp_path), zone=zone_named(NEW_YORK))
    assert result.records[0].time == A1_NEW_YORK
    assert "2026-03-01 02:10:00 EST" in result.render(zone_named(NEW_YORK))


class NaivePlugin(SourcePlugin):
    """A plugin that leaves its times naive (``Record.time``, a link's time) or reads them
    with ``to_utc`` without a zone, as the example plugin does: ``id|time|how``."""

    name = "naive"
    version = "1"

    def record_schemas(self) -> Sequence[RecordSchema]:
        return [RecordSchema("note", "Note", (FieldSpec("how", FieldRole.KEYWORD),))]

    def read(self, path: Path) -> Iterator[Row | RowError]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            rid, when, how = line.split("|")
            yield Row(number, {"id": rid, "time": when, "how": how})

    def to_record(self, row: Row, path: Path) -> Record:
        v: dict[str, Any] = dict(row.values)
        when = datetime.fromisoformat(v["time"])
        if v["how"] == "to_utc":
            when = to_utc(when)
        return Record(
            "naive",
            v["id"],
            "note",
            time=when,
            fields={"how": v["how"]},
            links=(LinkRef("knows", "person:a", "person:b", when),),
        )


def test_a_plugins_naive_times_are_the_workspaces_whether_left_naive_or_read_with_to_utc(
    ny: Workspace, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "in" / "notes.txt", "n1|2026-03-01 02:10|naive\nn2|2026-03-01 02:10|to_utc\n"
    )
    seen: list[Record] = []

    class Catch:
        name = "catch"

        def process(self, records: Sequence[Record]) -> None:
            seen.extend(records)

        def finish(self) -> None:
            pass

    report = Ingestor(ny, stages=[Catch()]).ingest_file(NaivePlugin(), path)  # type: ignore[list-item]
    assert (report.status, report.records) == ("done", 2)
    for uid in ("naive:n1", "naive:n2"):
        assert ny.store.get_record(uid).time == A1_NEW_YORK
    assert [r.time for r in seen] == [A1_NEW_YORK, A1_NEW_YORK]  # what every engine receives
    assert [r.links[0].time for r in seen] == [A1_NEW_YORK, A1_NEW_YORK]
    # outside an ingest, with no workspace at hand, to_utc keeps the documented default
    assert to_utc(datetime(2026, 3, 1, 2, 10)) == A1_SHANGHAI


# -- incidents: the record's time and its lifecycle fields ----------------------------------------
CALL = {
    "case_no": "J3304022026030100001",
    "report_time": "2026-03-01 02:10:00",
    "category": "火警",
    "priority": "1",
    "status": "待处置",
    "district": "南湖区",
    "address": "中山路1号",
    "lat": "30.7601",
    "lon": "120.7902",
    "description": "厨房起火",
}


def _incident_times(ctx: ServiceContext, tmp_path: Path) -> tuple[float, dict[str, float]]:
    """Ingest one 110 call whose time is naive, then a grid report (a record a plugin made)
    whose own time and arrival time are naive; return the call's received time and the
    report's stamps (epoch seconds)."""
    from ops.service import ops_for
    from tests.test_ops_intake import _write

    (tmp_path / "calls").mkdir(exist_ok=True)
    path = _write(tmp_path / "calls" / "calls.csv", [CALL])
    report = call("ingest.file", ctx, source="incidents", path=str(path))
    assert report.status == "done", report
    ops = ops_for(ctx.workspace)
    with acting(ctx):
        created, _, problems = ops.intake.ingest_records(
            [
                Record(
                    "grid_reports",
                    "G1",
                    "incident",
                    time=datetime(2026, 3, 1, 2, 0),
                    fields={
                        "警情类别": "纠纷",
                        "级别": "3",
                        "辖区": "南湖区",
                        "arrive_time": "2026-03-01 02:10:00",
                    },
                    text={"简要案情": "邻里纠纷"},
                )
            ]
        )
    assert (created, problems) == (1, [])
    incidents = {i.source_uid: i for i in ops.incidents.list()}
    call_at = incidents["incidents:J3304022026030100001"].received_at.timestamp()
    grid = incidents["grid_reports:G1"]
    return call_at, {k: v.timestamp() for k, v in grid.stamps.items()}


def _check_new_york(call_at: float, stamps: dict[str, float]) -> None:
    assert call_at == A1_NEW_YORK.timestamp()  # 02:10 EST, not 02:10 CST
    assert stamps["received"] == datetime(2026, 3, 1, 7, 0, tzinfo=UTC).timestamp()
    assert stamps["on_scene"] == A1_NEW_YORK.timestamp()


def test_incident_intake_reads_naive_times_in_a_new_york_workspace(
    ny: Workspace, tmp_path: Path
) -> None:
    ctx = ServiceContext(ny, Session("tester", "administrator"))
    _check_new_york(*_incident_times(ctx, tmp_path))


def test_incident_intake_reads_naive_times_in_a_new_york_centre(tmp_path: Path) -> None:
    """The same on a centre: PostgreSQL, the zone from ``[centre] timezone``."""
    from centre_support import fresh_database, pg_server_url, write_centre

    from centre.workspace import open_centre

    databases = fresh_database(pg_server_url())
    database = next(databases)
    try:
        config = write_centre(tmp_path / "centre", database)
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace("[centre]\n", f'[centre]\ntimezone = "{NEW_YORK}"\n', 1), encoding="utf-8"
        )
        ws = open_centre(config, application_name="superbrain-test")
        try:
            assert ws.zone.key == NEW_YORK
            ctx = ServiceContext(ws, Session("admin", "administrator"))
            _check_new_york(*_incident_times(ctx, tmp_path))
        finally:
            ws.close()
    finally:
        databases.close()


def test_engine_calls_with_naive_times_read_them_in_the_workspace_zone(ny: Workspace) -> None:
    """A GPS plugin's fix time and a typed incident's received time, naive: New York wall-clock
    time (they were read in the machine's zone)."""
    from ops.service import OpsService

    ops = OpsService(ny)
    ops.units.add("NH-01", unit_type="patrol_car", lat=30.76, lon=120.79)
    ops.units.update_positions([("NH-01", 30.761, 120.791, datetime(2026, 3, 1, 2, 10))])
    (at,) = ops.ctx.con.execute("SELECT at FROM ops_positions WHERE unit_id='NH-01'").fetchone()
    assert at == A1_NEW_YORK.timestamp()  # kept as sent (older than the unit's position)
    inc = ops.incidents.create(
        "纠纷", 3, lat=30.76, lon=120.79, received_at=datetime(2026, 3, 1, 2, 10)
    )
    assert inc.received_at == A1_NEW_YORK
    listed = ops.incidents.list(since=datetime(2026, 3, 1, 2, 0), until=datetime(2026, 3, 1, 2, 20))
    assert [i.id for i in listed] == [inc.id]
