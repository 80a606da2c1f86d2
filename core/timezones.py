"""One time zone per workspace: how times are read from files and shown to people.

Times are stored in UTC. A workspace declares its zone (``[workspace] timezone``, default
``Asia/Shanghai``); every listing shows times in that zone and says which one
(:func:`format_local`). A source may declare the zone its files' naive times are written in
(``[source] timezone``); naive times are read in that zone (:func:`as_utc`).
"""

from __future__ import annotations

import difflib
import functools
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


def as_utc(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    """``value`` in UTC; a naive ``value`` is taken as wall-clock time in ``zone``.

    ``zone`` defaults to :data:`DEFAULT_ZONE`.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or zone_named(DEFAULT_ZONE))
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
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
