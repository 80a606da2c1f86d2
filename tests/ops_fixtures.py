"""Helpers shared by the tests/test_ops_*.py modules (imported explicitly)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from core.model import EntityRef, Record

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC).timestamp()

# Points around 嘉兴 南湖区 used by several tests.
CENTRE = (30.7500, 120.7600)


class FakeClock:
    """A settable clock (epoch seconds) so timers, stamps and staleness are deterministic."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_ops(workspace: Any, clock: FakeClock | None = None) -> Any:
    from ops.service import OpsService

    return OpsService(workspace, clock=clock or FakeClock())


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """The point ``metres`` due north (along the meridian, as haversine measures it)."""
    return point[0] + math.degrees(metres / 6_371_008.8), point[1]


def record(
    source: str,
    rid: str,
    *,
    rtype: str = "event",
    time: float | None = None,
    geo: tuple[float, float] | None = None,
    text: dict[str, str] | None = None,
    fields: dict[str, Any] | None = None,
    entities: tuple[EntityRef, ...] = (),
) -> Record:
    return Record(
        source=source,
        id=rid,
        type=rtype,
        time=datetime.fromtimestamp(time, tz=UTC) if time is not None else None,
        geo=geo,
        text=text or {},
        fields=fields or {},
        entities=entities,
    )
