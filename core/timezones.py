"""One time zone per workspace: how times are read from files and shown to people.

Times are stored in UTC. A workspace declares its zone (``[workspace] timezone``, default
``Asia/Shanghai``); every listing shows times in that zone and says which one
(:func:`format_local`). A source may declare the zone its files' naive times are written in
(``[source] timezone``); naive times are read in that zone, and without one in the workspace's
(:func:`as_utc`: an ingest binds its workspace's zone with :func:`reading_in`, so a plugin's
``core.model.to_utc`` reads a naive time in it too).
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import SuperbrainError

DEFAULT_ZONE = "Asia/Shanghai"


class TimeZoneError(SuperbrainError):
    """A time zone name is not in the IANA database (the message suggests the nearest)."""


@functools.cache
def zone_named(name: str) -> ZoneInfo:
    """The IANA zone called ``name``.

    Raises
    ------
    TimeZoneError
        When ``name`` is unknown; the message names the nearest known zones.
    """
    if not isinstance(name, str) or not name.strip():
        raise TimeZoneError(
            f"time zone must be an IANA name such as {DEFAULT_ZONE!r}, got {name!r}"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        near = difflib.get_close_matches(name, sorted(available_timezones()), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(map(repr, near))}?" if near else ""
        raise TimeZoneError(f"unknown time zone {name!r}{hint}") from None


# The zone naive times are read in when no zone is given: an ingest (core.ingest) or a dry run
# binds its workspace's for the thread or task doing the reading, so plugin code that calls
# core.model.to_utc without knowing the workspace reads naive times in the right zone.
_READING: contextvars.ContextVar[ZoneInfo | None] = contextvars.ContextVar(
    "superbrain_naive_time_zone", default=None
)


@contextlib.contextmanager
def reading_in(zone: ZoneInfo) -> Iterator[ZoneInfo]:
    """Read naive times in ``zone`` (the workspace's) within this block, in this thread or
    task: :func:`as_utc` and ``core.model.to_utc`` called without a zone use it."""
    token = _READING.set(zone)
    try:
        yield zone
    finally:
        _READING.reset(token)


def naive_zone() -> ZoneInfo:
    """The zone a naive time is read in here: the one :func:`reading_in` bound (the workspace's,
    during an ingest), else :data:`DEFAULT_ZONE`."""
    return _READING.get() or zone_named(DEFAULT_ZONE)


def as_utc(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    """``value`` in UTC; a naive ``value`` is taken as wall-clock time in ``zone``.

    ``zone`` defaults to :func:`naive_zone`: the workspace's during an ingest, else
    :data:`DEFAULT_ZONE`. Code that knows its workspace passes ``workspace.zone``.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or naive_zone())
    return value.astimezone(UTC)


def format_local(
    value: datetime | None, zone: ZoneInfo, *, seconds: bool = False, label: bool = True
) -> str:
    """``value`` as wall-clock time in ``zone``, e.g. ``2024-03-01 02:10 CST``.

    Parameters
    ----------
    value:
        An aware datetime (naive ones are taken as UTC, which is how the store returns them);
        ``None`` gives ``"-"``.
    zone:
        The zone to show (normally ``workspace.zone``).
    seconds:
        Include seconds.
    label:
        Append the zone's abbreviation (``CST``) or, when it has none, its UTC offset.
    """
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone)
    text = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    if label:
        text += " " + zone_label(local)
    return text


def zone_label(local: datetime) -> str:
    """A short label of an aware datetime's zone: its abbreviation, else ``UTC+08:00``."""
    abbrev = local.tzname() or ""
    if abbrev and abbrev[0] not in "+-":
        return abbrev
    return offset_label(local)


def offset_label(local: datetime) -> str:
    """An aware datetime's UTC offset as ``UTC+08:00`` (``UTC-05:00``, ``UTC+05:30``)."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """An ISO date or date-time typed by a person, in UTC.

    A naive value (``2026-03-01``, ``2026-03-01T08:00``, ``2026-03-01 08:00``) is wall-clock
    time in ``zone``; one with an offset or ``Z`` (``2026-03-01T08:00+01:00``) is honoured.

    Raises
    ------
    ValueError
        When ``text`` is not an ISO date or date-time; the message names it.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO date or date-time (e.g. 2026-03-01, "
            "2026-03-01T08:00 or 2026-03-01T08:00+08:00)"
        ) from None
    return as_utc(value, zone)


def iso_local(value: datetime | float | None, zone: ZoneInfo) -> str | None:
    """``value`` (an aware or UTC-naive datetime, or epoch seconds) as ISO-8601 wall-clock
    time in ``zone`` with its offset, e.g. ``2026-03-01T02:10:00+08:00``; None stays None."""
    if value is None:
        return None
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, tz=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).isoformat()


def local_date(value: datetime, zone: ZoneInfo) -> str:
    """The calendar day (``YYYY-MM-DD``) of an aware instant in ``zone``."""
    return value.astimezone(zone).date().isoformat()


#: The years :func:`offset_table` covers; instants outside are converted one by one.
TABLE_YEARS = (1970, 2070)


@functools.cache
def offset_table(name: str) -> tuple[int, int, tuple[tuple[int, int], ...]]:
    """The UTC offsets of zone ``name`` from 1970 to 2070, for code that cannot call
    ``zoneinfo`` per instant (the compiled search builder).

    Returns ``(lo, hi, spans)``: epoch seconds of the range covered (``lo <= t < hi``) and
    ``(start, offset_seconds)`` pairs in order, each offset holding from its start (epoch
    seconds, UTC) to the next start. Found by stepping through the years a day at a time and
    bisecting each change to the second (about 0.1 s), so a change and its reversal within one
    day would be missed: no zone has one in this range, and the tests compare the table with
    ``zoneinfo`` instant by instant.
    """
    zone = zone_named(name)
    lo = int(datetime(TABLE_YEARS[0], 1, 1, tzinfo=UTC).timestamp())
    hi = int(datetime(TABLE_YEARS[1], 1, 1, tzinfo=UTC).timestamp())

    def offset(t: int) -> int:
        delta = datetime.fromtimestamp(t, tz=zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    step = 86_400
    spans = [(lo, offset(lo))]
    t, current = lo, spans[0][1]
    while t < hi:
        nxt = min(t + step, hi)
        if offset(nxt) != current:
            a, b = t, nxt  # offset(a) == current != offset(b): find the first second of b's
            while b - a > 1:
                mid = (a + b) // 2
                if offset(mid) == current:
                    a = mid
                else:
                    b = mid
            current = offset(b)
            spans.append((b, current))
            t = b
            continue
        t = nxt
    return lo, hi, tuple(spans)
