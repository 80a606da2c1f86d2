"""Helpers shared by tests/test_cases_*.py: a workspace with records (from a named file, with
its ingest checkpoint), staff accounts, and service contexts for each of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.model import EntityRef, LinkRef, Record
from core.security import Session
from core.services import ServiceContext
from core.store import Checkpoint
from core.workspace import Workspace

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CASE = "2026-JX-0117"
PHONES = [f"phone:1380000000{i}" for i in range(5)]
PERSON = "person:330402199001011234"
PLATE = "vehicle:浙F12345"


def _call(i: int, a: str, b: str, when: datetime, line: int) -> Record:
    return Record(
        source="calls",
        id=f"C{i:04d}",
        type="call",
        time=when,
        geo=(30.75 + i * 0.002, 120.76 + i * 0.002),
        text={"summary": f"通话 {a} → {b}"},
        entities=(EntityRef("phone", a.split(":")[1]), EntityRef("phone", b.split(":")[1])),
        links=(LinkRef("called", a, b, when),),
        origin=f"calls_2026.csv:{line}",
    )


def calls(n: int, start: int = 0) -> list[Record]:
    """``n`` calls around a ring of five phones (record ids C0000, C0001, ...)."""
    out = []
    for i in range(start, start + n):
        a, b = PHONES[i % 5], PHONES[(i + 1) % 5]
        out.append(_call(i, a, b, T0 + timedelta(hours=i), line=i + 2))
    return out


def owner_record() -> Record:
    return Record(
        source="registry",
        id="P1",
        type="person",
        time=T0,
        text={"name": "张伟"},
        entities=(
            EntityRef("person", PERSON.split(":")[1], "张伟"),
            EntityRef("phone", PHONES[0].split(":")[1]),
        ),
        links=(LinkRef("owns", PERSON, PHONES[0], T0),),
        origin="population.csv:7",
    )


def populate(ws: Workspace, n_calls: int = 8) -> None:
    """Write the records as an ingest would, with the files' checkpoints (ingest time)."""
    ws.store.upsert_batch(
        calls(n_calls),
        Checkpoint("calls", "f" * 64, "/data/in/calls_2026.csv", n_calls, n_calls, 0, "done"),
    )
    ws.store.upsert_batch(
        [owner_record()],
        Checkpoint("registry", "e" * 64, "/data/in/population.csv", 1, 1, 0, "done"),
    )


def ctx(ws: Workspace, user: str, role: str) -> ServiceContext:
    """A service context for ``user`` acting with ``role`` (as a login would build it)."""
    return ServiceContext(ws, Session(user, role, "password"))


def chart_of(ws: Workspace, seeds: list[str]) -> dict[str, Any]:
    """A chart document of the seeds' neighbourhood, laid out, with some analyst choices."""
    from cases.chart import chart_document
    from graph.expand import expand
    from graph.layout import layout

    g = expand(ws.store, seeds, depth=1)
    pos = layout(g)
    ids = sorted(g.nodes)
    return chart_document(
        g,
        positions=pos,
        pinned=ids[:1],
        hidden=ids[-1:],
        colour_mode="type",
        styles={ids[0]: {"colour": "#123456", "size": 20}},
        groups=[{"name": "ring", "members": ids[:3], "colour": "#e15759"}],
        origin={"kind": "seed", "seeds": seeds, "depth": 1},
    )
