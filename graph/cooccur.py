"""Co-occurrence (伴随分析): who travels with whom past the same checkpoints.

Two entities (vehicles, phones, tags) *co-occur* when the same device reads both within ±Δt.
Counting uses distinct (device, local day) pairs, so "seen together at least k times across
distinct places or days" is ``count >= k``; a car that sits next to the target in one jam counts
once.

The join is a windowed sort-merge per device: reads are sorted by (device, time) once, and each
read is paired with the reads that follow it within Δt at the same device, found with
``searchsorted`` and generated offset by offset with numpy. The work is proportional to the
number of reads plus the number of co-sightings — never to all pairs of reads.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import numpy as np

from core.progress import CancelToken, ProgressCallback, ProgressMeter
from core.store import Store
from core.timezones import DEFAULT_ZONE, offset_table
from graph.backend import GraphStore, LinkFilter, graph_store
from graph.errors import GraphError
from graph.model import iso
from graph.resolution import AliasMap

log = logging.getLogger(__name__)


def local_days(times: np.ndarray, zone: str = DEFAULT_ZONE) -> np.ndarray:
    """The calendar day number (days since 1970-01-01) of each epoch time in ``zone`` (the
    workspace's: a meeting's day is the local one). Times outside the zone's offset table
    (before 1970 or after 2070) take its first or last offset."""
    _lo, _hi, spans = offset_table(zone)
    starts = np.array([start for start, _ in spans], dtype=np.float64)
    offsets = np.array([offset for _, offset in spans], dtype=np.float64)
    at = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(starts) - 1)
    return np.floor((times + offsets[at]) / 86400).astype(np.int64)


class Sightings:
    """Reads as numpy arrays: entity code, device code, time (epoch s) and evidence uid.

    Build with :meth:`from_iterable`, :meth:`from_arrays` or :meth:`from_store`; the arrays are
    kept sorted by (device, time).
    """

    def __init__(
        self,
        entity: np.ndarray,
        device: np.ndarray,
        time: np.ndarray,
        entity_names: Sequence[str],
        device_names: Sequence[str],
        record_uids: Sequence[str] | None = None,
    ) -> None:
        if not (len(entity) == len(device) == len(time)):
            raise GraphError(
                f"sightings arrays differ in length: {len(entity)} entities, "
                f"{len(device)} devices, {len(time)} times"
            )
        order = np.lexsort((entity, time, device))
        self.entity = np.asarray(entity, dtype=np.int64)[order]
        self.device = np.asarray(device, dtype=np.int64)[order]
        self.time = np.asarray(time, dtype=np.float64)[order]
        self.entity_names = list(entity_names)
        self.device_names = list(device_names)
        self.record_index = order  # position of each read in the input (for evidence uids)
        self.record_uids = list(record_uids) if record_uids is not None else None
        self._lookup: Callable[[int], str] | None = None  # input position -> evidence uid
        self._code = {n: i for i, n in enumerate(self.entity_names)}

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def from_arrays(
        cls,
        entity: np.ndarray,
        device: np.ndarray,
        time: np.ndarray,
        entity_names: Sequence[str] | None = None,
        device_names: Sequence[str] | None = None,
    ) -> Sightings:
        """Integer-coded reads (names default to the codes as strings)."""
        ne = int(entity.max()) + 1 if len(entity) else 0
        nd = int(device.max()) + 1 if len(device) else 0
        return cls(
            entity,
            device,
            time,
            entity_names if entity_names is not None else [str(i) for i in range(ne)],
            device_names if device_names is not None else [str(i) for i in range(nd)],
        )

    @classmethod
    def from_iterable(cls, reads: Iterable[tuple[Any, ...]]) -> Sightings:
        """``(entity, device, time[, record_uid])`` tuples; time is epoch seconds or datetime."""
        ents: dict[str, int] = {}
        devs: dict[str, int] = {}
        e_codes, d_codes, times, uids = [], [], [], []
        for n, row in enumerate(reads):
            if len(row) < 3:
                raise GraphError(f"sighting {n}: need (entity, device, time), got {row!r}")
            ent, dev, t = row[0], row[1], row[2]
            if t is None:
                continue
            e_codes.append(ents.setdefault(ent, len(ents)))
            d_codes.append(devs.setdefault(dev, len(devs)))
            times.append(t.timestamp() if isinstance(t, datetime) else float(t))
            uids.append(row[3] if len(row) > 3 else "")
        return cls(
            np.array(e_codes, dtype=np.int64),
            np.array(d_codes, dtype=np.int64),
            np.array(times, dtype=np.float64),
            list(ents),
            list(devs),
            uids,
        )

    @classmethod
    def from_store(
        cls,
        store: Store | GraphStore,
        *,
        link_type: str = "passed",
        start: datetime | None = None,
        end: datetime | None = None,
        aliases: AliasMap | None = None,
        batch: int = 200_000,
    ) -> Sightings:
        """Every ``link_type`` link (entity → device) with a time, optionally in a window.

        Reads stream into numpy arrays batch by batch (a scan on SQL, a scroll on
        Elasticsearch). On SQL the evidence uids are looked up by link rowid only for the
        results shown, so millions of reads stay a few bytes each; Elasticsearch hands each
        read's uid over with it.
        """
        gs = graph_store(store)
        aliases = aliases if aliases is not None else gs.aliases()
        rows = gs.scan_type(
            link_type,
            start.timestamp() if start is not None else None,
            end.timestamp() if end is not None else None,
        )
        ents: dict[str, int] = {}
        devs: dict[str, int] = {}
        parts: list[tuple[np.ndarray, ...]] = []
        uids: list[str] = []
        rowids: list[np.ndarray] = []
        # SQL rows carry an integer rowid: keep 8 bytes a read and look the uid up for the
        # evidence shown; other engines hand the uid over with the read
        by_rowid = getattr(gs, "record_uid", None)
        while chunk := list(itertools.islice(rows, batch)):
            handle, _t, src, dst, t, uid = zip(*chunk, strict=True)
            parts.append(
                (
                    np.fromiter(
                        (ents.setdefault(aliases.canonical(x), len(ents)) for x in src),
                        np.int64,
                        len(src),
                    ),
                    np.fromiter((devs.setdefault(x, len(devs)) for x in dst), np.int64, len(dst)),
                    np.array(t, dtype=np.float64),
                )
            )
            if by_rowid is not None:
                rowids.append(np.array(handle, dtype=np.int64))
            else:
                uids.extend(uid)
        cols = [
            np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, np.int64)
            for i in range(3)
        ]
        # codes in name order and ties broken by entity: the same reads give the same
        # sightings (and so the same ranking and evidence) whatever order the engine scanned
        ent_codes, ent_names = _by_name(cols[0], list(ents))
        dev_codes, dev_names = _by_name(cols[1], list(devs))
        if by_rowid is None:
            return cls(ent_codes, dev_codes, cols[2], ent_names, dev_names, uids)
        out = cls(ent_codes, dev_codes, cols[2], ent_names, dev_names)
        handles = np.concatenate(rowids) if rowids else np.zeros(0, np.int64)
        out._lookup = lambda i: by_rowid(int(handles[i]))
        return out

    def code(self, entity: str) -> int | None:
        return self._code.get(entity)

    def _keys(self, window: float) -> np.ndarray:
        # (device, time) as one sortable float: devices spaced further apart than any window
        if not len(self.time):
            return self.time
        t0 = self.time.min()
        spacing = float(self.time.max() - t0) + 2 * window + 1.0
        return self.device * spacing + (self.time - t0)

    def uid(self, i: int) -> str:
        """The evidence record uid of sorted read ``i`` ("" when the input had none)."""
        if self._lookup is not None:
            return self._lookup(int(self.record_index[i]))
        if self.record_uids is None:
            return ""
        return self.record_uids[int(self.record_index[i])]


def _by_name(codes: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Recode so that code order is name order."""
    if not names:
        return codes.astype(np.int64), names
    by_name = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), np.int64)
    rank[by_name] = np.arange(len(names))
    return rank[codes.astype(np.int64)], [names[i] for i in by_name]


@dataclass
class CoSighting:
    """One joint read: both entities at ``device``, at ``time_a`` and ``time_b``."""

    device: str
    time_a: float
    time_b: float
    record_a: str = ""
    record_b: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "time_a": iso(self.time_a),
            "time_b": iso(self.time_b),
            "record_a": self.record_a,
            "record_b": self.record_b,
        }


@dataclass
class CoOccurrence:
    """Entities ``a`` and ``b`` seen together: ``count`` distinct (device, day) meetings over
    ``places`` devices and ``days`` days, ``sightings`` joint reads in all, with evidence."""

    a: str
    b: str
    count: int
    places: int
    days: int
    sightings: int
    evidence: list[CoSighting] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "count": self.count,
            "places": self.places,
            "days": self.days,
            "sightings": self.sightings,
            "evidence": [e.to_dict() for e in self.evidence],
        }


def _rank(
    s: Sightings,
    ia: np.ndarray,
    ib: np.ndarray,
    *,
    min_count: int,
    min_places: int,
    top: int | None,
    evidence: int,
    zone: str = DEFAULT_ZONE,
) -> list[CoOccurrence]:
    """Aggregate joint reads (index pairs into ``s``) into ranked entity pairs."""
    if not len(ia):
        return []
    ea, eb = s.entity[ia], s.entity[ib]
    swap = ea > eb
    ia, ib = np.where(swap, ib, ia), np.where(swap, ia, ib)
    ea, eb = s.entity[ia], s.entity[ib]
    n_ent = max(len(s.entity_names), 1)
    pair = ea * n_ent + eb
    dev = s.device[ia]
    day = local_days(np.minimum(s.time[ia], s.time[ib]), zone)
    order = np.lexsort((day, dev, pair))
    p, d, y = pair[order], dev[order], day[order]
    new_pair = np.r_[True, p[1:] != p[:-1]]
    new_dev = new_pair | np.r_[True, d[1:] != d[:-1]]
    new_meeting = new_dev | np.r_[True, y[1:] != y[:-1]]
    starts = np.flatnonzero(new_pair)
    pair_ids = p[starts]
    group = np.cumsum(new_pair) - 1
    sightings = np.bincount(group)
    count = np.bincount(group, weights=new_meeting).astype(np.int64)
    places = np.bincount(group, weights=new_dev).astype(np.int64)
    # distinct days per pair: unique (pair, day)
    od = np.lexsort((y, p))
    p2, y2 = p[od], y[od]
    new_day = np.r_[True, (p2[1:] != p2[:-1]) | (y2[1:] != y2[:-1])]
    days = np.bincount(np.cumsum(np.r_[True, p2[1:] != p2[:-1]]) - 1, weights=new_day)
    keep = np.flatnonzero((count >= min_count) & (places >= min_places))
    keep = keep[np.lexsort((-sightings[keep], -places[keep], -count[keep]))]
    if top is not None:
        keep = keep[:top]
    out = []
    sorted_ia, sorted_ib = ia[order], ib[order]
    for g in keep:
        a, b = divmod(int(pair_ids[g]), n_ent)
        lo = starts[g]
        hi = starts[g + 1] if g + 1 < len(starts) else len(p)
        ev = []
        for k in range(lo, min(hi, lo + evidence)):
            i, j = int(sorted_ia[k]), int(sorted_ib[k])
            ev.append(
                CoSighting(
                    s.device_names[int(s.device[i])],
                    float(s.time[i]),
                    float(s.time[j]),
                    s.uid(i),
                    s.uid(j),
                )
            )
        out.append(
            CoOccurrence(
                s.entity_names[a],
                s.entity_names[b],
                int(count[g]),
                int(places[g]),
                int(days[g]),
                int(sightings[g]),
                ev,
            )
        )
    return out


def cooccurring_with(
    sightings: Sightings,
    target: str,
    *,
    window: float = 60.0,
    min_count: int = 2,
    min_places: int = 1,
    top: int | None = 50,
    evidence: int = 20,
    zone: str = DEFAULT_ZONE,
) -> list[CoOccurrence]:
    """The entities seen with ``target`` within ±``window`` seconds, best first.

    Each result has ``a == target``. ``min_count`` is the least number of distinct
    (device, day) meetings, days in time zone ``zone`` (the workspace's), ``min_places`` the
    least number of distinct devices.
    """
    code = sightings.code(target)
    if code is None:
        raise GraphError(f"{target!r} has no sightings")
    keys = sightings._keys(window)
    mine = np.flatnonzero(sightings.entity == code)
    lo = np.searchsorted(keys, keys[mine] - window, side="left")
    hi = np.searchsorted(keys, keys[mine] + window, side="right")
    lengths = hi - lo
    ia = np.repeat(mine, lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ib = np.repeat(lo, lengths) + offsets
    other = sightings.entity[ib] != code
    ia, ib = ia[other], ib[other]
    found = _rank(
        sightings,
        ia,
        ib,
        min_count=min_count,
        min_places=min_places,
        top=None,
        evidence=evidence,
        zone=zone,
    )
    for r in found:  # present every pair from the target's side
        if r.b == target:
            r.a, r.b = r.b, r.a
            for ev in r.evidence:
                ev.time_a, ev.time_b = ev.time_b, ev.time_a
                ev.record_a, ev.record_b = ev.record_b, ev.record_a
    return found[:top] if top is not None else found


def cooccurrence_pairs(
    sightings: Sightings,
    *,
    window: float = 60.0,
    min_count: int = 3,
    min_places: int = 1,
    top: int | None = 100,
    evidence: int = 10,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    zone: str = DEFAULT_ZONE,
) -> list[CoOccurrence]:
    """All pairs of entities that co-occur at least ``min_count`` times, best first.

    Raises
    ------
    GraphError
        When cancelled through ``cancel``.
    """
    keys = sightings._keys(window)
    n = len(keys)
    hi = np.searchsorted(keys, keys + window, side="right")
    span = hi - np.arange(n) - 1  # reads after i within the window at the same device
    max_span = int(span.max()) if n else 0
    meter = ProgressMeter(progress, total=max_span)
    ia_parts, ib_parts = [], []
    active = np.flatnonzero(span > 0)
    offset = 1
    while len(active):
        if cancel is not None and cancel.cancelled:
            raise GraphError("co-occurrence cancelled")
        j = active + offset
        diff = sightings.entity[active] != sightings.entity[j]
        ia_parts.append(active[diff])
        ib_parts.append(j[diff])
        offset += 1
        active = active[span[active] >= offset]
        meter.advance(1, f"offset {offset}")
    ia = np.concatenate(ia_parts) if ia_parts else np.zeros(0, np.int64)
    ib = np.concatenate(ib_parts) if ib_parts else np.zeros(0, np.int64)
    log.debug("co-occurrence: %d reads, %d joint reads, max run %d", n, len(ia), max_span)
    return _rank(
        sightings,
        ia,
        ib,
        min_count=min_count,
        min_places=min_places,
        top=top,
        evidence=evidence,
        zone=zone,
    )


def cooccurring_in_store(
    store: Store | GraphStore,
    target: str,
    *,
    window: float = 60.0,
    min_count: int = 2,
    min_places: int = 1,
    link_type: str = "passed",
    start: datetime | None = None,
    end: datetime | None = None,
    top: int | None = 50,
    aliases: AliasMap | None = None,
    evidence: int = 20,
    zone: str = DEFAULT_ZONE,
) -> list[CoOccurrence]:
    """:func:`cooccurring_with` reading only the target's reads and the reads at the same
    devices within ±``window`` of them (key and range lookups, not the whole links table)."""
    gs = graph_store(store)
    aliases = aliases if aliases is not None else gs.aliases()
    target = aliases.canonical(target)
    members = aliases.members(target)
    flt = LinkFilter(
        (link_type,),
        start.timestamp() if start is not None else None,
        end.timestamp() if end is not None else None,
    )
    own = [r for r in gs.links_of(members, flt, ("source",)) if r[4] is not None]
    if not own:
        raise GraphError(f"{target!r} has no {link_type!r} links with a time")
    reads: dict[Any, tuple[str, str, float, str]] = {}
    probes = sorted({(r[3], float(cast(float, r[4]))) for r in own})
    for row in gs.links_near(probes, window, link_type):
        reads[row[0]] = (aliases.canonical(row[2]), row[3], cast(float, row[4]), row[5])
    # one order whatever the engine returned: the evidence shown first is the same
    sightings = Sightings.from_iterable(
        sorted(reads.values(), key=lambda r: (r[1], r[2], r[0], r[3]))
    )
    return cooccurring_with(
        sightings,
        target,
        window=window,
        min_count=min_count,
        min_places=min_places,
        top=top,
        evidence=evidence,
        zone=zone,
    )
