"""Ingest rules a person can predict (issue #18) and photo paths that stay in the data folder
(issue #16 item 9): re-ingest after a mapping change, skips that say why, renamed copies,
encodings, raw rows in rejects, time zones, progress and summaries."""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import PluginError, WorkspaceError
from core.ingest import Ingestor
from core.progress import Progress
from core.workspace import Workspace
from plugins.mapping import MappingSource, load_mapping
from tests.test_plugin_authoring import MAPPING, ROWS, mapping_file, write


def source(tmp_path: Path, text: str = MAPPING) -> MappingSource:
    return MappingSource(load_mapping(mapping_file(tmp_path, text)))


def csv_file(
    tmp_path: Path, rows: list[str] = ROWS, name: str = "data.csv", encoding: str = "gbk"
) -> Path:
    return write(tmp_path / "in" / name, "\n".join(rows) + "\n", encoding)


# -- re-ingest rules ---------------------------------------------------------------------------
def test_changed_mapping_rereads_the_file_and_says_why(
    workspace: Workspace, tmp_path: Path
) -> None:
    data = csv_file(tmp_path)
    ingest = Ingestor(workspace, stages=[]).ingest_file
    first = ingest(source(tmp_path), data)
    assert (first.status, first.records) == ("done", 3)
    assert workspace.store.get_record("sx:A1").text["summary"] == "电动车被盗"
    changed = source(
        tmp_path,
        MAPPING.replace(
            'summary = { column = "简要案情", role = "text" }',
            'brief = { column = "简要案情", role = "text" }',
        ),
    )
    second = ingest(changed, data)
    assert (second.status, second.records) == ("done", 3), second.summary()
    assert "mapping changed" in second.summary()
    record = workspace.store.get_record("sx:A1")
    assert record.text == {"brief": "电动车被盗"}  # read with the new mapping
    assert workspace.store.count("records", source="sx") == 3  # updated, not duplicated
    third = ingest(changed, data)
    assert third.status == "skipped"


def test_skip_says_when_and_how_to_force_and_points_at_an_existing_rejects_file(
    workspace: Workspace, tmp_path: Path
) -> None:
    data = csv_file(tmp_path, [*ROWS, "A9,不详,越城区,盗窃,x,,"])
    ingest = Ingestor(workspace, stages=[]).ingest_file
    plugin = source(tmp_path)
    assert ingest(plugin, data).rejects == 1
    again = ingest(plugin, data)
    text = again.summary()
    assert again.status == "skipped"
    assert "already ingested" in text and "CST" in text and "--force reads it again" in text
    assert again.rejects_path and Path(again.rejects_path).exists()
    copy = data.with_name("renamed.csv")
    copy.write_bytes(data.read_bytes())
    renamed = ingest(plugin, copy)
    assert renamed.status == "skipped"
    assert f"same content as {data.resolve()}" in renamed.summary()
    assert renamed.rejects_path and Path(renamed.rejects_path).exists()
    forced = ingest(plugin, copy, force=True)
    assert (forced.status, forced.records, forced.rejects) == ("done", 3, 1)
    after = ingest(plugin, copy)  # still known by its first name, and its rejects file
    assert f"same content as {data.resolve()}" in after.summary()
    assert after.rejects_path == forced.rejects_path and Path(after.rejects_path).exists()


def test_store_from_before_mapping_digests_is_upgraded(tmp_path: Path) -> None:
    from core.store import Checkpoint, Store

    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute("""CREATE TABLE ingest_files (
        source TEXT NOT NULL, fingerprint TEXT NOT NULL, path TEXT NOT NULL,
        rows_done INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,
        rejects INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, error TEXT,
        started TEXT, finished TEXT, PRIMARY KEY (source, fingerprint))""")
    con.execute("INSERT INTO ingest_files VALUES ('s','f','/x',5,5,0,'done',NULL,'t','t')")
    con.commit()
    con.close()
    store = Store(path)
    old = store.checkpoint("s", "f")
    assert old is not None and old.mapping_digest == "" and old.status == "done"
    store.save_checkpoint(Checkpoint("s", "g", "/y", 1, 1, 0, "done", None, "abc"))
    assert store.checkpoint("s", "g").mapping_digest == "abc"
    assert store.checkpoint("s", "g").finished is not None
    store.close()


# -- encodings -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_every_common_encoding_reads_the_same_records(
    workspace: Workspace, tmp_path: Path, encoding: str
) -> None:
    data = csv_file(tmp_path, encoding=encoding)
    report = Ingestor(workspace, stages=[]).ingest_file(source(tmp_path), data)
    assert (report.status, report.records, report.rejects) == ("done", 3, 0), report.summary()
    assert workspace.store.get_record("sx:A1").fields["district"] == "越城区"


def test_undecodable_file_fails_with_a_message_about_its_encoding(
    workspace: Workspace, tmp_path: Path
) -> None:
    rng = random.Random(7)
    data = tmp_path / "in" / "noise.csv"
    data.parent.mkdir(parents=True)
    data.write_bytes(bytes(rng.randrange(128, 256) for _ in range(4000)))
    report = Ingestor(workspace, stages=[]).ingest_file(source(tmp_path), data)
    assert report.status == "failed"
    assert "cannot tell the file's encoding" in report.error and "UTF-8" in report.error
    assert "row -1" not in report.summary()


def test_a_plugin_failing_on_its_first_row_reports_row_zero(
    workspace: Workspace, tmp_path: Path
) -> None:
    class Failing(MappingSource):
        def read(self, path):  # a deliberately broken plugin
            raise PluginError("cannot read")
            yield  # pragma: no cover

    data = csv_file(tmp_path)
    report = Ingestor(workspace, stages=[]).ingest_file(
        Failing(load_mapping(mapping_file(tmp_path))), data
    )
    assert report.status == "failed" and "row -1" not in report.summary()
    (cp,) = workspace.store.checkpoints()
    assert cp.rows_done == 0


def test_column_count_reject_keeps_the_raw_row(workspace: Workspace, tmp_path: Path) -> None:
    data = csv_file(tmp_path, [*ROWS, "A4,2026-03-04 10:00:00,越城区"])
    report = Ingestor(workspace, stages=[]).ingest_file(source(tmp_path), data)
    assert report.rejects == 1
    (entry,) = [json.loads(line) for line in Path(report.rejects_path).read_text().splitlines()]
    assert entry["reason"] == "expected 7 columns, got 3"
    assert entry["raw"] == ["A4", "2026-03-04 10:00:00", "越城区"]


# -- time zones ----------------------------------------------------------------------------------
def test_naive_times_are_read_in_the_sources_declared_zone(tmp_path: Path) -> None:
    from plugins.contract import Row

    header = ROWS[0].split(",")
    row = Row(2, dict(zip(header, ROWS[1].split(","), strict=True)))
    shanghai = source(tmp_path).to_record(row, tmp_path / "x.csv")
    assert shanghai.time == datetime(2026, 2, 28, 18, 10, tzinfo=UTC)
    berlin = source(
        tmp_path,
        MAPPING.replace(
            'record_type = "incident"', 'record_type = "incident"\ntimezone = "Europe/Berlin"'
        ),
    ).to_record(row, tmp_path / "x.csv")
    assert berlin.time == datetime(2026, 3, 1, 1, 10, tzinfo=UTC)


def test_workspace_time_zone_defaults_to_shanghai_and_is_validated(tmp_path: Path) -> None:
    from core.timezones import format_local

    ws = Workspace.init(tmp_path / "w")
    assert str(ws.zone) == "Asia/Shanghai"
    moment = datetime(2026, 2, 28, 18, 10, tzinfo=UTC)
    assert format_local(moment, ws.zone) == "2026-03-01 02:10 CST"
    ws.close()
    config = ws.root / "superbrain.toml"
    config.write_text(config.read_text().replace('"Asia/Shanghai"', '"Europe/London"'))
    assert (
        format_local(moment, Workspace.open(ws.root).zone, seconds=True)
        == "2026-02-28 18:10:00 GMT"
    )
    config.write_text(config.read_text().replace('"Europe/London"', '"Asia/Shangai"'))
    with pytest.raises(WorkspaceError, match=r"timezone.*did you mean 'Asia/Shanghai'"):
        Workspace.open(ws.root)


# -- progress and summaries ----------------------------------------------------------------------
def test_progress_ends_at_the_row_count_and_summary_says_one_record(
    workspace: Workspace, tmp_path: Path
) -> None:
    seen: list[Progress] = []
    data = csv_file(tmp_path, ROWS[:2])
    report = Ingestor(workspace, stages=[]).ingest_file(
        source(tmp_path), data, progress=seen.append
    )
    assert seen[-1].done == seen[-1].total == 1
    assert ", 1 record, 0 rejected" in report.summary()


def test_sources_listing_aligns_long_names(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli import main

    write(
        workspace.root / "plugins" / "long.toml",
        MAPPING.replace('name = "sx"', 'name = "a_rather_long_county_export_name"'),
    )
    assert main(["sources", "-w", str(workspace.root)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ok")]
    starts = {re.match(r"  ok\s+\S+\s+", line).end() for line in lines}  # the version column
    assert len(lines) == 8 and len(starts) == 1, lines


# -- photos stay in the data folder (#16 item 9) -------------------------------------------------
PHOTO_MAPPING = MAPPING.replace(
    'summary = { column = "简要案情", role = "text" }',
    'summary = { column = "简要案情", role = "text" }\nphoto = { column = "照片", role = "photo" }',
)


def photo_rows(photos: list[str]) -> list[str]:
    header = ROWS[0] + ",照片"
    return [
        header,
        *(f"P{i},2026-03-01 02:10:00,越城区,盗窃,x,,,{p}" for i, p in enumerate(photos)),
    ]


def test_photo_paths_outside_the_data_folder_or_not_regular_files_are_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    data_dir = tmp_path / "in"
    data_dir.mkdir()
    outside = tmp_path / "x.png"
    outside.write_bytes(b"\x89PNG")
    (data_dir / "ok.jpg").write_bytes(b"\xff\xd8\xff")
    os.mkfifo(data_dir / "pipe.jpg")
    (data_dir / "link.jpg").symlink_to(outside)
    with (data_dir / "huge.jpg").open("wb") as fh:
        fh.truncate(21 * 1024 * 1024)
    photos = [
        "ok.jpg",
        "../../../../" + str(outside).lstrip("/"),
        str(outside),
        "pipe.jpg",
        "/dev/zero",
        "link.jpg",
        "huge.jpg",
        "missing.jpg",
    ]
    data = csv_file(tmp_path, photo_rows(photos), encoding="utf-8")
    result: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: result.update(
            report=Ingestor(workspace, stages=[]).ingest_file(source(tmp_path, PHOTO_MAPPING), data)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the ingest hung on a photo path"
    report = result["report"]
    reasons = {
        json.loads(line)["row"]["照片"]: json.loads(line)["reason"]
        for line in Path(report.rejects_path).read_text().splitlines()
    }
    assert set(reasons) == set(photos[1:7]), reasons
    assert "outside the data folder" in reasons[photos[1]]
    assert "outside the data folder" in reasons[str(outside)]
    assert "not a regular file" in reasons["pipe.jpg"]
    assert "outside the data folder" in reasons["/dev/zero"]
    assert "outside the data folder" in reasons["link.jpg"]
    assert "limit" in reasons["huge.jpg"]
    assert workspace.store.get_record("sx:P0").attachments["photo"] == str(data_dir / "ok.jpg")
    assert workspace.store.get_record("sx:P7") is not None  # a missing photo keeps the record


def test_jsonl_field_never_filled_is_warned_about(workspace: Workspace, tmp_path: Path) -> None:
    header = ROWS[0].split(",")
    lines = [
        json.dumps(dict(zip(header, r.split(","), strict=True)), ensure_ascii=False)
        for r in ROWS[1:]
    ]
    data = write(tmp_path / "in" / "data.jsonl", "\n".join(lines) + "\n")
    misspelt = MAPPING.replace('column = "辖区"', 'column = "辖 区"')
    report = Ingestor(workspace, stages=[]).ingest_file(source(tmp_path, misspelt), data)
    assert report.status == "done" and report.records == 3
    assert "warning: field district empty in every record read" in report.summary()
    fine = Ingestor(workspace, stages=[]).ingest_file(source(tmp_path), data)
    assert "warning" not in fine.summary()


def test_a_code_plugins_attachments_are_confined_too(workspace: Workspace, tmp_path: Path) -> None:
    from core.model import Record
    from plugins.contract import Row, SourcePlugin

    class Photos(SourcePlugin):
        name = "photos"
        formats = ("txt",)

        def record_schemas(self):  # a minimal code plugin: one photo path per line
            return []

        def read(self, path):
            for n, line in enumerate(path.read_text().splitlines(), start=1):
                yield Row(n, {"photo": line})

        def to_record(self, row, path):
            return Record(
                "photos", str(row.line), "photo", attachments={"photo": row.values["photo"]}
            )

    data_dir = tmp_path / "in"
    data_dir.mkdir()
    os.mkfifo(data_dir / "pipe.jpg")
    (data_dir / "ok.jpg").write_bytes(b"\xff\xd8\xff")
    data = write(
        data_dir / "list.txt",
        "ok.jpg\n/dev/zero\n" + str(data_dir / "pipe.jpg") + "\n../../../etc/passwd\n",
    )
    result: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: result.update(
            report=Ingestor(workspace, stages=[]).ingest_file(Photos(), data)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the ingest hung on a photo path"
    report = result["report"]
    assert (report.records, report.rejects) == (1, 3), report.summary()
    reasons = [
        json.loads(line)["reason"] for line in Path(report.rejects_path).read_text().splitlines()
    ]
    assert "outside the data folder" in reasons[0] and "not a regular file" in reasons[1]
    assert "outside the data folder" in reasons[2]
