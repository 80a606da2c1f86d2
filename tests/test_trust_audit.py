"""Tamper evidence, exhaustively: every single-byte change of an audit line is found, random
damage never crashes the verifier, secrets never reach the log, and the actions the brief lists
(plugin loads, exports, face searches, dispatches) always leave an entry.

`superbrain audit verify` catching an edited line through the CLI is in test_core_audit.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.audit import AuditLog
from core.workspace import Workspace


def _log(path: Path, n: int = 3) -> AuditLog:
    log = AuditLog(path)
    for i in range(n):
        log.append(
            "分析员", "search", {"q": f"王建国 {i}", "hits": i * 7}, case=f"案-{i}", purpose="研判"
        )
    return log


def test_every_single_byte_mutation_of_a_line_is_detected(tmp_path: Path) -> None:
    """Exhaustive over the middle line: each byte replaced by three different values."""
    log = _log(tmp_path / "a.jsonl")
    original = log.path.read_bytes()
    lines = original.splitlines(keepends=True)
    start = len(lines[0])
    end = start + len(lines[1])
    checked = 0
    for pos in range(start, end):
        for delta in (1, 0x20, 0x80):
            mutated = bytearray(original)
            mutated[pos] = (mutated[pos] + delta) % 256
            log.path.write_bytes(bytes(mutated))
            problems = log.verify()  # must not raise, whatever the byte
            assert problems, f"byte {pos - start} of line 2 changed {delta:+#x}: not detected"
            assert min(p.line for p in problems) <= 3
            checked += 1
    assert checked == 3 * len(lines[1])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_damage_never_crashes_and_is_always_reported(data: st.DataObject) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        log = _log(Path(tmp) / "a.jsonl", 4)
        original = log.path.read_bytes()
        kind = data.draw(st.sampled_from(["bytes", "insert", "truncate", "line"]))
        if kind == "bytes":
            at = data.draw(st.integers(0, len(original) - 1))
            new = data.draw(st.binary(min_size=1, max_size=8))
            damaged = original[:at] + new + original[at + len(new) :]
        elif kind == "insert":
            at = data.draw(st.integers(0, len(original)))
            damaged = original[:at] + data.draw(st.binary(min_size=1, max_size=20)) + original[at:]
        elif kind == "truncate":
            damaged = original[: data.draw(st.integers(0, len(original) - 1))]
        else:  # a whole line replaced by any JSON value
            lines = original.splitlines(keepends=True)
            i = data.draw(st.integers(0, len(lines) - 1))
            value = data.draw(
                st.recursive(
                    st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats()),
                    lambda inner: st.one_of(
                        st.lists(inner, max_size=3),
                        st.dictionaries(
                            st.sampled_from(["seq", "hash", "prev", "user", "ts"]), inner
                        ),
                    ),
                    max_leaves=8,
                )
            )
            lines[i] = json.dumps(value).encode() + b"\n"
            damaged = b"".join(lines)
        if damaged == original:
            return
        log.path.write_bytes(damaged)
        problems = log.verify()
        if kind == "truncate" and (damaged == b"" or damaged.endswith(b"\n")):
            # dropping whole trailing lines is indistinguishable from an older log; the
            # count kept elsewhere (exports, backups) is what shows it — see docs/SECURITY.md
            return
        assert problems
        list(log.entries())  # reading a damaged log never raises either


def test_surrogate_in_a_filename_does_not_break_the_chain(tmp_path: Path) -> None:
    """An undecodable file name (surrogate-escaped by Python) is logged, not a crash."""
    log = AuditLog(tmp_path / "a.jsonl")
    log.append("u", "ingest", {"file": "/data/\udcff\udcfe.csv"})
    log.append("u", "ingest", {"file": "/data/ok.csv"})
    assert log.verify() == []
    assert next(log.entries())["params"]["file"] == "/data/\udcff\udcfe.csv"


def test_damaged_last_entry_stops_appends_with_a_clear_error(tmp_path: Path) -> None:
    """Fail closed: actions that must be audited cannot silently start a fresh chain."""
    from core.audit import AuditError

    log = _log(tmp_path / "a.jsonl", 2)
    with log.path.open("ab") as fh:
        fh.write(b'{"seq": 3, "half a line\n')
    with pytest.raises(AuditError, match=r"a\.jsonl.*last entry is damaged"):
        log.append("u", "search", {})
    assert [p.line for p in log.verify()] == [3]


def test_secret_parameters_never_reach_the_audit(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    log.append(
        "admin",
        "search.connect",
        {
            "url": "https://elastic:hunter2-secret@es.example:9200",
            "password": "hunter2-secret",
            "api_key": "VnVhQ2ZHY0JDZGJr==",
            "nested": {
                "es_password": "hunter2-secret",
                "auth": "Authorization: ApiKey VnVhQ2ZHY0JDZGJr==",
            },
        },
    )
    text = log.path.read_text("utf-8")
    assert "hunter2" not in text and "VnVhQ2ZHY0JDZGJr" not in text
    entry = next(log.entries())
    assert entry["params"]["url"] == "https://elastic:***@es.example:9200"
    assert log.verify() == []


# -- what must always appear ---------------------------------------------------------------
def test_plugin_loads_always_appear_with_version_and_hash(workspace: Workspace) -> None:
    plugin = workspace.root / "plugins" / "notes.toml"
    plugin.write_text('[source]\nname = "notes"\nversion = "2.1"\nid = ["id"]\n')
    workspace.discover_sources()
    loads = {e["params"]["name"]: e["params"] for e in workspace.audit.search(action="plugin.load")}
    import hashlib

    assert loads["notes"]["version"] == "2.1"
    assert loads["notes"]["sha256"] == hashlib.sha256(plugin.read_bytes()).hexdigest()
    assert loads["notes"]["origin"] == str(plugin)
    builtin = [p for p in loads.values() if p["origin"].startswith("entry point")]
    assert builtin and all(len(p["sha256"]) == 64 for p in builtin)


def test_audit_exports_always_appear(workspace: Workspace, tmp_path: Path) -> None:
    from core.security import export_audit

    export_audit(workspace, tmp_path / "x.jsonl")
    export_audit(workspace, tmp_path / "y.jsonl", action="plugin.*")
    exports = workspace.audit.search(action="audit.export")
    assert [e["params"]["file"] for e in exports] == [
        str(tmp_path / "x.jsonl"),
        str(tmp_path / "y.jsonl"),
    ]


def _fake_photo(n: int) -> object:
    import numpy as np

    from facematch.pipeline import Face, ImageFaces

    vec = np.random.default_rng(n).normal(size=128).astype("float32")
    return ImageFaces(
        source=f"/photos/{n}.jpg",
        sha256=f"{n:064d}",
        width=200,
        height=200,
        faces=(
            Face(index=0, box=(10, 10, 110, 110), size=100, score=2.0, quality=0.9, descriptor=vec),
        ),
    )


def test_face_searches_verifications_and_reviews_always_appear(workspace: Workspace) -> None:
    pytest.importorskip("facematch.gallery", reason="facematch/ (issue 5) not installed")
    from facematch.errors import SafeguardError
    from facematch.gallery import Gallery
    from tests.faces_fixtures import open_cases

    open_cases(workspace)
    g = Gallery(workspace)
    for n in range(3):
        g.enroll_faces(_fake_photo(n), record_uid=f"r:{n}", save=False)
    g.save()
    with pytest.raises(SafeguardError):  # no case number: refused before anything runs
        g.search(_fake_photo(1), case="", purpose="lead")
    result = g.search(_fake_photo(1), case="2026-FT-0017", purpose="robbery lead")
    g.verify(_fake_photo(1), _fake_photo(2), case="2026-FT-0017", purpose="robbery lead")
    g.review(result.candidates[0], "confirmed", "same scar")
    g.close()
    by_action = {e["action"]: e for e in workspace.audit.search(action="face.*")}
    assert by_action["face.search"]["case"] == "2026-FT-0017"
    assert by_action["face.search"]["params"]["probe_sha256"] == f"{1:064d}"
    assert by_action["face.verify"]["params"]["other_sha256"] == f"{2:064d}"
    assert by_action["face.review"]["user"] == "tester"
    assert workspace.audit.verify() == []


def test_calling_code_cannot_choose_the_audited_face_user(workspace: Workspace) -> None:
    """``user=`` on the gallery is kept as ``on_behalf_of``; the audit names the session."""
    pytest.importorskip("facematch.gallery", reason="facematch/ (issue 5) not installed")
    from facematch.gallery import Gallery
    from tests.faces_fixtures import open_cases

    open_cases(workspace)
    g = Gallery(workspace)
    for n in range(3):
        g.enroll_faces(_fake_photo(n), record_uid=f"r:{n}", save=False)
    result = g.search(_fake_photo(1), case="2026-FT-0018", purpose="lead", user="someone-else")
    g.verify(
        _fake_photo(1), _fake_photo(2), case="2026-FT-0018", purpose="lead", user="someone-else"
    )
    g.review(result.candidates[0], "rejected", user="someone-else")
    g.close()
    entries = [
        e
        for e in workspace.audit.search(action="face.*")
        if e["action"] in ("face.search", "face.verify", "face.review")
    ]
    assert len(entries) == 3
    assert {e["user"] for e in entries} == {workspace.user}
    assert {e["params"]["on_behalf_of"] for e in entries} == {"someone-else"}


def test_dispatches_always_appear(workspace: Workspace) -> None:
    pytest.importorskip("ops.service", reason="ops/ (issue 7) not installed")
    from ops.service import OpsService

    ops = OpsService(workspace)
    ops.units.add("U1", unit_type="patrol_car", lat=30.75, lon=120.76, district="南湖区")
    inc = ops.incidents.create("纠纷", 3, lat=30.75, lon=120.76, text="邻居吵架")
    ops.dispatch.assign(inc.id, "U1")
    ops.dispatch.release("U1")
    actions = [e["action"] for e in workspace.audit.search(action="ops.*")]
    assert (
        actions.index("ops.incident.create")
        < actions.index("ops.dispatch.assign")
        < actions.index("ops.dispatch.release")
    )
    assign = workspace.audit.search(action="ops.dispatch.assign")[-1]
    assert {k: v for k, v in assign["params"].items() if k != "journal"} == {
        "incident": inc.id,
        "units": ["U1"],
    }


def test_searches_and_graph_exports_always_appear(workspace: Workspace, tmp_path: Path) -> None:
    pytest.importorskip("search.cli", reason="search/ (issue 3) not installed")
    pytest.importorskip("graph.cli", reason="graph/ (issue 4) not installed")
    import os
    import subprocess
    import sys

    from core.ingest import Ingestor
    from plugins.mapping import MappingSource, parse_mapping

    source = MappingSource(
        parse_mapping(
            {
                "source": {"name": "calls", "id": ["id"]},
                "fields": {
                    "a": {"role": "identifier", "normalizer": "phone"},
                    "b": {"role": "identifier", "normalizer": "phone"},
                },
                "entities": {
                    "pa": {"type": "phone", "key": "a"},
                    "pb": {"type": "phone", "key": "b"},
                },
                "links": [{"type": "called", "from": "pa", "to": "pb"}],
            },
            "calls",
        )
    )
    data = tmp_path / "calls.csv"
    data.write_text("id,a,b\n1,13800138000,13900139000\n2,13900139000,13700137000\n", "utf-8")
    assert Ingestor(workspace).ingest_file(source, data).status == "done"
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "SUPERBRAIN_USER": "tester"}
    out = tmp_path / "g.graphml"
    from tests.faces_fixtures import open_cases

    open_cases(workspace, numbers=("2026-GX-0002",))
    for args in (
        ["search", "13800138000"],
        ["graph", "export", "13800138000", "-o", str(out), "--case", "2026-GX-0002"],
    ):
        run = subprocess.run(
            [sys.executable, "main.py", *args, "-w", str(workspace.root)],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
    assert workspace.audit.search(action="search.query")[-1]["params"]["query"] == "13800138000"
    export = workspace.audit.search(action="graph.export")[-1]
    assert export["case"] == "2026-GX-0002" and export["params"]["files"] == [str(out)]
