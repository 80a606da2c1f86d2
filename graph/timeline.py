"""An entity's events in time order across every source, and the day × hour time-wheel."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.store import Store
from core.timezones import DEFAULT_ZONE, zone_named
from graph.backend import GraphStore, LinkFilter, graph_store
from graph.errors import EntityNotFoundError
from graph.model import iso
from graph.resolution import AliasMap

_CHUNK = 400


@dataclass
class TimelineEvent:
    """One record that mentions the entity (directly or through a link), at ``time``.

    ``links`` are the links of that record touching the entity: ``{"type", "other", "time"}``.
    """

    time: float | None
    record_uid: str
    source: str
    record_type: str
    title: str
    geo: tuple[float, float] | None = None
    links: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": iso(self.time),
            "record_uid": self.record_uid,
            "source": self.source,
            "record_type": self.record_type,
            "title": self.title,
            "geo": list(self.geo) if self.geo else None,
            "links": self.links,
        }


def _title(text_json: str, rtype: str, rid: str) -> str:
    for value in json.loads(text_json).values():
        if value:
            return value if len(value) <= 80 else value[:79] + "…"
    return f"{rtype} {rid}"


def timeline(
    store: Store | GraphStore,
    entity: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    aliases: AliasMap | None = None,
    limit: int | None = None,
) -> list[TimelineEvent]:
    """Every record about ``entity`` (and entities merged into it), oldest first.

    Records without a time come last. ``start`` / ``end`` bound the events' times (records
    without a time are then left out). The links come from the graph store (SQL or
    Elasticsearch), the records from the relational store behind it.
    """
    gs = graph_store(store)
    if gs.get_entity(entity) is None:
        raise EntityNotFoundError(f"no entity {entity!r} in the store")
    aliases = aliases if aliases is not None else gs.aliases()
    members = aliases.members(aliases.canonical(entity))
    con = gs.records_store().connection
    marks = ",".join("?" * len(members))
    uids = {
        r[0]
        for r in con.execute(
            f"SELECT record_uid FROM record_entities WHERE entity_id IN ({marks})", members
        )
    }
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    member_set = set(members)
    for column in ("source", "target"):
        rows = sorted(
            gs.links_of(members, LinkFilter(), (column,)),
            key=lambda r: (r[4] is not None, r[4] or 0.0, r[5], r[1], r[2], r[3]),
        )
        for _h, ltype, s, d, t, uid in rows:
            other = d if s in member_set else s
            links[uid].append({"type": ltype, "other": aliases.canonical(other), "time": t})
            uids.add(uid)
    events = []
    ordered = sorted(uids)
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        for uid, source, rid, rtype, t, lat, lon, text in con.execute(
            f"SELECT uid, source, id, type, time, lat, lon, text FROM records "
            f"WHERE uid IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            when = t
            if when is None:
                link_times = [lk["time"] for lk in links.get(uid, ()) if lk["time"] is not None]
                when = min(link_times) if link_times else None
            events.append(
                TimelineEvent(
                    when,
                    uid,
                    source,
                    rtype,
                    _title(text, rtype, rid),
                    (lat, lon) if lat is not None else None,
                    [{**lk, "time": iso(lk["time"])} for lk in links.get(uid, ())],
                )
            )
    if start is not None or end is not None:
        lo = start.timestamp() if start else float("-inf")
        hi = end.timestamp() if end else float("inf")
        events = [e for e in events if e.time is not None and lo <= e.time <= hi]
    events.sort(key=lambda e: (e.time is None, e.time or 0.0, e.record_uid))
    return events[:limit] if limit else events


def day_hour_matrix(
    times: Iterable[float | TimelineEvent | None], zone: ZoneInfo | None = None
) -> list[list[int]]:
    """Counts by weekday (rows, Monday first) and hour (columns) in ``zone`` (the workspace's;
    default Asia/Shanghai).

    Accepts epoch seconds or :class:`TimelineEvent` (untimed ones are skipped).
    """
    zone = zone or zone_named(DEFAULT_ZONE)
    grid = [[0] * 24 for _ in range(7)]
    for item in times:
        t = item.time if isinstance(item, TimelineEvent) else item
        if t is None:
            continue
        local = datetime.fromtimestamp(t, tz=zone)
        grid[local.weekday()][local.hour] += 1
    return grid
