"""docs/PLUGINS.md's walk-through, executed: a GBK CSV with Chinese column names, from zero to
search, graph and map, exactly as the page shows it.

``<!-- walkthrough:file PATH ENCODING -->`` before a fenced block writes the block to PATH;
``<!-- walkthrough:run -->`` before a ``console`` block runs each ``$ superbrain …`` line and
checks that every output line shown appears in the real output (``…`` stands for any text).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "PLUGINS.md"
_STEP = re.compile(r"<!-- walkthrough:(file|run)([^>]*)-->\s*```[a-z]*\n(.*?)```", re.S)


def steps() -> list[tuple[str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    found = [(m.group(1), m.group(2).strip(), m.group(3)) for m in _STEP.finditer(text)]
    assert found, "docs/PLUGINS.md has no walk-through steps"
    return found


def commands(block: str) -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` of a console block."""
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif line.strip():
            out[-1][1].append(line)
    return out


def shown_in(expected: str, actual_lines: list[str]) -> bool:
    """True when one actual line holds the pieces of ``expected`` (split at ``…``) in order."""
    pieces = [p for p in expected.strip().split("…")]
    for line in actual_lines:
        at, ok = 0, True
        for piece in pieces:
            found = line.find(piece, at)
            if found < 0:
                ok = False
                break
            at = found + len(piece)
        if ok:
            return True
    return False


def test_walkthrough_runs_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUPERBRAIN_USER", "analyst")
    monkeypatch.delenv("SUPERBRAIN_PASSWORD", raising=False)
    ran = []
    for kind, arg, body in steps():
        if kind == "file":
            name, encoding = arg.split()
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body.encode(encoding))
            continue
        for command, expected in commands(body):
            argv = shlex.split(command)
            assert argv[0] == "superbrain", command
            capsys.readouterr()
            rc = main(argv[1:])
            output = capsys.readouterr().out.splitlines()
            assert rc == 0, f"{command} exited {rc}:\n" + "\n".join(output)
            missing = [line for line in expected if not shown_in(line, output)]
            assert not missing, (
                f"{command}: the docs show lines the command no longer "
                f"prints: {missing}\nactual output:\n" + "\n".join(output)
            )
            ran.append(argv[1])
    assert {"init", "sources", "ingest", "search", "graph"} <= set(ran)

    # The map: the ingested records carry their points, and the offline map page draws them.
    from core.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws")
    located = [r for r in ws.store.iter_records("shaoxing_110") if r.geo]
    assert len(located) == 5
    # Operations intake found the shared names: incidents with their district and category.
    incidents = ws.store.connection.execute(
        "SELECT source_uid, category, district, reporter_phone FROM ops_incidents "
        "ORDER BY source_uid"
    ).fetchall()
    assert incidents[0] == ("shaoxing_110:SX001", "盗窃", "越城区", "13905750001")
    assert len(incidents) == 5
    pytest.importorskip("folium", reason="the map page needs folium (a console dependency)")
    from console.mapgen import MapLayers, build_map_html

    html = build_map_html(
        MapLayers(
            records=[
                {"id": r.uid, "lat": r.geo[0], "lon": r.geo[1], "label": r.title(), "type": r.type}
                for r in located
                if r.geo
            ]
        )
    )
    assert "shaoxing_110:SX001" in html and "30.0003" in html
    ws.close()


def test_walkthrough_file_is_gbk_with_chinese_columns() -> None:
    (kind, arg, body), *_ = steps()
    assert (kind, arg.split()[1]) == ("file", "gbk")
    assert body.splitlines()[0].startswith("编号,时间,辖区,类别")


def test_the_validation_error_shown_in_the_docs_is_the_real_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.errors import SchemaError
    from plugins.mapping import load_mapping

    text = DOC.read_text(encoding="utf-8")
    shown = re.search(r"valid spelling[^\n]*\n\n```\n(.*?)\n```", text, re.S).group(1)
    ((_, arg, body),) = [s for s in steps() if s[0] == "file" and s[1].endswith(".toml utf-8")]
    monkeypatch.chdir(tmp_path)
    path = Path(arg.split()[0])
    path.parent.mkdir(parents=True)
    path.write_text(body.replace("optional = true", "optinal = true", 1), encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_mapping(path)
    assert str(err.value) == shown
