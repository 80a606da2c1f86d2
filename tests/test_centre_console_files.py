"""What a client console (``superbrain console --server URL``) does with files and the heavier
engines, against a real `superbrain serve` on PostgreSQL (tests/centre_fixtures.py):

- exports (GraphML, CSV, the chart picture, the dossier) are made by the service on the server
  and come down to the path the analyst picked, checked against the SHA-256 that the server's
  audit entry records; a file name that would leave that folder, a tampered file, a role without
  ``export`` — nothing is written;
- the link chart's centrality is computed by the server's ``graph.centrality`` on the chart the
  console sends;
- face search: the console sends the probe photo's bytes (read bounded, sniffed, never a FIFO),
  the server runs the gallery with case number and purpose and audits the search; the leads'
  pictures come from the server to the analyst who searched.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.centre_fixtures import PASSWORDS, Centre, centre, cli, tiny_demo  # noqa: F401
from tests.console_fixtures import qtinit  # noqa: F401 - prepares WebEngine first

psycopg = pytest.importorskip("psycopg")
pytestmark = [pytest.mark.timeout(300)]

DEMO_CASE = "2026-JX-0117"  # the demo's case, led by chief, moved into the centre
WAIT = 60_000


def _client(centre: Centre, user: str) -> Any:
    from core.remote import CentreClient

    client = CentreClient(centre.url, timeout=120)
    client.login(user, PASSWORDS[user])
    return client


def _audit(centre: Centre, user: str, action: str) -> list[dict[str, Any]]:
    """``user``'s audit entries named ``action`` (the chained JSON entries), oldest first."""
    with psycopg.connect(centre.pg_url) as con:
        rows = con.execute(
            'SELECT line FROM audit_log WHERE "user" = %s AND action = %s ORDER BY seq',
            (user, action),
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _some_entities(centre: Centre) -> list[str]:
    """The two persons with the most records (a chart with neighbours)."""
    with psycopg.connect(centre.pg_url) as con:
        return [
            r[0]
            for r in con.execute(
                "SELECT entity_id FROM record_entities WHERE entity_id LIKE 'person:%' "
                "GROUP BY entity_id ORDER BY count(*) DESC, entity_id LIMIT 2"
            )
        ]


# -- exports -----------------------------------------------------------------------------------
def test_graph_exports_come_down_checked_against_the_audited_sha256(
    centre: Centre, tmp_path: Path
) -> None:
    chief = _client(centre, "chief")
    seeds = _some_entities(centre)
    result, written = chief.download(
        "graph.export",
        "output",
        tmp_path / "chart.graphml",
        entities=seeds,
        depth=1,
        format="graphml",
    )
    assert written == [tmp_path / "chart.graphml"]
    text = written[0].read_text("utf-8")
    assert text.startswith("<?xml") and "graphml" in text and seeds[0] in text
    assert result["nodes"] >= 1
    entry = _audit(centre, "chief", "graph.export")[-1]["params"]
    assert entry["sha256"] == [_sha256(written[0])]  # the server's record of what it sent
    assert entry["files"][0].endswith("/chart.graphml")
    assert "superbrain-download-" in entry["files"][0]  # made in the request's own folder
    assert not Path(entry["files"][0]).parent.exists()  # ... removed before the answer left

    # CSV: two files, both beside the path picked, both in the audit entry
    _, written = chief.download(
        "graph.export", "output", tmp_path / "net.csv", entities=seeds, depth=1, format="csv"
    )
    assert sorted(p.name for p in written) == ["net.edges.csv", "net.nodes.csv"]
    assert all(p.parent == tmp_path for p in written)
    entry = _audit(centre, "chief", "graph.export")[-1]["params"]
    assert sorted(entry["sha256"]) == sorted(_sha256(p) for p in written)
    chief.logout()


def test_a_download_cannot_leave_its_folder_or_be_asked_of_any_service(
    centre: Centre, tmp_path: Path
) -> None:
    from core.remote import RemoteInvalidError, RemotePermissionDeniedError

    chief = _client(centre, "chief")
    seeds = _some_entities(centre)
    before = len(_audit(centre, "chief", "graph.export"))
    for name in ("../escape.graphml", "/tmp/x.graphml", ".hidden", "a\\b.graphml"):
        with pytest.raises(RemoteInvalidError, match="plain file name"):
            chief.call("graph.export", entities=seeds, output={"download": name})
    with pytest.raises(RemoteInvalidError, match="cannot be downloaded"):
        chief.call("search.query", query={"download": "x.txt"})
    with pytest.raises(RemoteInvalidError, match="would name a file on the server"):
        chief.call("graph.export", entities=seeds, output=str(tmp_path / "x.graphml"))
    assert not list(tmp_path.iterdir())
    assert len(_audit(centre, "chief", "graph.export")) == before  # nothing was exported
    chief.logout()
    # an analyst holds no `export`: refused on the server, audited, nothing written here
    li = _client(centre, "li")
    with pytest.raises(RemotePermissionDeniedError):
        li.download("graph.export", "output", tmp_path / "li.graphml", entities=seeds)
    assert not (tmp_path / "li.graphml").exists()
    assert any("graph.export" in json.dumps(e) for e in _audit(centre, "li", "access.denied"))
    li.logout()


def test_a_file_that_does_not_match_its_sha256_is_not_kept(tmp_path: Path) -> None:
    from core.remote_files import TransferError, save_downloads

    good = b"<graphml/>"
    entry = {
        "name": "chart.graphml",
        "bytes": len(good),
        "sha256": hashlib.sha256(good).hexdigest(),
        "base64": base64.b64encode(b"<graphml>tampered</graphml>").decode(),
    }
    with pytest.raises(TransferError, match="SHA-256 on arrival"):
        save_downloads([entry], tmp_path / "chart.graphml")
    # a companion named to climb out of the folder is refused before anything is written
    fine = {**entry, "base64": base64.b64encode(good).decode()}
    with pytest.raises(TransferError, match="not a plain file name"):
        save_downloads([fine, {**fine, "name": "../outside.graphml"}], tmp_path / "c.graphml")
    assert list(tmp_path.iterdir()) == []
    assert save_downloads([fine], tmp_path / "chart.graphml") == [tmp_path / "chart.graphml"]
    assert (tmp_path / "chart.graphml").read_bytes() == good


def test_the_dossier_and_the_chart_picture_come_down_to_the_client(
    centre: Centre, tmp_path: Path
) -> None:
    chief = _client(centre, "chief")
    saved = chief.call(
        "cases.chart_save",
        case=DEMO_CASE,
        name="下载 图",
        data={
            "format": 1,
            "nodes": [
                {"id": "phone:13800000001", "type": "phone"},
                {"id": "phone:13800000002", "type": "phone"},
            ],
            "edges": [
                {
                    "source": "phone:13800000001",
                    "target": "phone:13800000002",
                    "type": "called",
                    "count": 2,
                }
            ],
            "positions": {"phone:13800000001": [0.0, 0.0], "phone:13800000002": [90.0, 30.0]},
        },
    )
    result, written = chief.download(
        "cases.chart_image", "path", tmp_path / "chart.svg", case=DEMO_CASE, chart_id=saved["id"]
    )
    svg = written[0].read_text("utf-8")
    assert svg.lstrip().startswith("<svg") and DEMO_CASE in svg
    entry = _audit(centre, "chief", "cases.chart_image")[-1]["params"]
    assert entry["sha256"] == result["sha256"] == _sha256(written[0])
    result, written = chief.download(
        "cases.dossier", "path", tmp_path / "dossier.html", case=DEMO_CASE
    )
    assert written == [tmp_path / "dossier.html"]
    assert DEMO_CASE in written[0].read_text("utf-8")
    assert _audit(centre, "chief", "cases.dossier")[-1]["params"]["sha256"] == _sha256(written[0])
    # the PDF is printed on the server (Qt WebEngine in a child process) and comes down whole
    result, written = chief.download(
        "cases.dossier", "path", tmp_path / "dossier.pdf", case=DEMO_CASE
    )
    assert written[0].read_bytes()[:5] == b"%PDF-"
    assert (
        result["sha256"]
        == _sha256(written[0])
        == _audit(centre, "chief", "cases.dossier")[-1]["params"]["sha256"]
    )
    chief.logout()


# -- the console ---------------------------------------------------------------------------------
@pytest.fixture
def drained(qtbot: Any) -> Iterator[None]:
    yield
    from PyQt6.QtWidgets import QApplication

    from console.workers import running_jobs

    deadline = time.monotonic() + 60
    while running_jobs() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)


def _window(centre: Centre, user: str, qtbot: Any) -> tuple[Any, Any, Any]:
    from console.remote import RemoteWorkspace
    from console.remote_app import open_window
    from core.remote import CentreClient

    workspace = RemoteWorkspace(CentreClient(centre.url, timeout=120))
    workspace.login(user, PASSWORDS[user])
    window, bridge = open_window(workspace.client, workspace)
    qtbot.addWidget(window)
    return workspace, window, bridge


@pytest.mark.gui
def test_console_centrality_and_graphml_export_through_the_server(
    qtbot: Any, centre: Centre, drained: None, tmp_path: Path
) -> None:
    workspace, window, bridge = _window(centre, "chief", qtbot)
    try:
        graph = window.panels["graph"]
        assert graph.available
        graph.show_entities(_some_entities(centre)[:1])
        qtbot.waitUntil(lambda: graph.job is None, timeout=WAIT)
        assert graph.model.graph is not None and len(graph.model.graph.nodes) > 1, (
            graph.status.text()
        )
        job = graph.colour_by_centrality()
        assert job is not None, graph.ctx.engines.graph_centrality.unavailable()
        qtbot.waitUntil(lambda: graph.job is None, timeout=WAIT)
        assert graph.model.colour_mode == "centrality", graph.status.text()
        scores = graph.model.scores
        assert set(scores) == set(graph.model.graph.nodes)
        assert abs(sum(scores.values()) - 1.0) < 1e-6  # PageRank, computed on the server
        assert _audit(centre, "chief", "graph.centrality")[-1]["params"]["nodes"] == len(
            graph.model.graph.nodes
        )
        files = graph.export_graphml(tmp_path / "chart.graphml")
        assert files == [tmp_path / "chart.graphml"]
        entry = _audit(centre, "chief", "graph.export")[-1]["params"]
        assert entry["sha256"] == [_sha256(files[0])]
        assert entry["nodes"] == len(graph.model.graph.nodes)
        # a picture of the unsaved chart is not faked on the client: the message says where
        with pytest.raises(RuntimeError, match="Chart picture in the Cases dock"):
            graph.export_png(tmp_path / "chart.png")
    finally:
        bridge.stop()
        workspace.close()


def _lfw(name: str, n: int) -> Path:
    from conftest import faces_dir

    folder = faces_dir()
    if folder is None:
        pytest.skip("the shared face photos (SUPERBRAIN_FACES_DIR) are not on this machine")
    photo = folder / "lfw" / name / f"{name}_{n:04d}.jpg"
    if not photo.is_file():
        pytest.skip(f"no LFW photo {photo}")
    return photo


@pytest.mark.gui
def test_console_face_search_runs_on_the_server_with_case_and_purpose(
    qtbot: Any, centre: Centre, drained: None, tmp_path: Path
) -> None:
    enrolled, probe = _lfw("Colin_Powell", 1), _lfw("Colin_Powell", 2)
    stranger = _lfw("Tony_Blair", 1)
    admin = {"SUPERBRAIN_USER": "chief", "SUPERBRAIN_PASSWORD": PASSWORDS["chief"]}
    for photo, uid in ((enrolled, "lfw:powell-1"), (stranger, "lfw:blair-1")):
        out = cli(
            "faces",
            "enroll",
            "-w",
            str(centre.config),
            "--photo",
            str(photo),
            "--record-uid",
            uid,
            "--label",
            photo.parent.name,
            env=admin,
        )
        assert out.returncode == 0, out.stdout + out.stderr
    case = "2026-FC-0301"
    li = _client(centre, "li")
    li.call("cases.create", case=case, title="face search from a client console")
    li.logout()
    workspace, window, bridge = _window(centre, "li", qtbot)
    try:
        faces = window.panels["faces"]
        assert faces.available and faces.remote
        # what is not a photo never leaves the desk: a FIFO, a text file
        fifo = tmp_path / "pipe.jpg"
        os.mkfifo(fifo)
        assert faces.load_file(fifo) is None and "not a regular file" in faces.status.text()
        text = tmp_path / "notes.jpg"
        text.write_text("not a photo")
        assert faces.load_file(text) is None and "not a JPEG" in faces.status.text()
        assert _audit(centre, "li", "faces.detect") == []
        job = faces.load_file(probe)
        assert job is not None
        qtbot.waitUntil(lambda: faces.faces is not None, timeout=WAIT)
        assert len(faces.faces.faces) >= 1 and faces.face_index == 0
        sent = hashlib.sha256(probe.read_bytes()).hexdigest()
        assert _audit(centre, "li", "faces.detect")[-1]["params"]["sha256"] == sent
        # no case, no purpose: refused on the desk, nothing searched
        assert faces.search() is None
        faces.case.setText(case)
        faces.purpose.setText("burglary suspect seen on camera 7")
        with qtbot.waitSignal(faces.searched, timeout=WAIT) as searched:
            faces.search()
        result = searched.args[0]
        assert result.case == case and result.gallery_size == 2
        assert result.candidates[0].record_uid == "lfw:powell-1"  # rank 1: the same person
        assert result.probe_sha256 == sent
        entry = _audit(centre, "li", "face.search")[-1]
        assert entry["purpose"] == "burglary suspect seen on camera 7"
        assert entry["case"] == case and entry["params"]["probe_sha256"] == sent
        # the leads' pictures come from the server (the gallery photos stay there)
        qtbot.waitUntil(lambda: len(faces.pictures) == len(result.candidates), timeout=WAIT)
        assert all(data[:3] == b"\xff\xd8\xff" for data in faces.pictures.values())
        assert not faces.candidates.item(0).icon().isNull()
        assert _audit(centre, "li", "faces.candidates")[-1]["params"]["search_case"] == case
        # ... and only to the analyst who searched: another user is told there is no such search
        from core.remote import RemoteNotFoundError

        other = _client(centre, "chief")
        with pytest.raises(RemoteNotFoundError, match="no face search"):
            other.call(
                "faces.candidates",
                search_id=result.search_id,
                face_ids=[result.candidates[0].face_id],
            )
        other.logout()
    finally:
        bridge.stop()
        workspace.close()
