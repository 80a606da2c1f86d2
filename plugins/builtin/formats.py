"""How the generators write values and files: the many written forms of plates, phones and ID
numbers (so normalisation matters), local timestamps, streamed CSV (UTF-8 or GBK) and .xlsx."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from plugins.builtin.world import DAYS, START

_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})

#: Traffic by hour of day (relative): quiet nights, morning and evening peaks.
HOURLY = (2, 1, 1, 1, 1, 2, 5, 10, 12, 9, 8, 8, 9, 8, 8, 9, 10, 12, 11, 8, 6, 5, 4, 3)


def plate_variant(plate: str, r: float) -> str:
    """One written form of canonical ``plate`` ("浙F12345"), chosen by ``r`` in [0, 1)."""
    if r < 0.40:
        return f"{plate[:2]}·{plate[2:]}"
    if r < 0.70:
        return plate
    if r < 0.85:
        return f"{plate[:2]} {plate[2:]}"
    if r < 0.95:
        return plate[0] + plate[1:].lower()
    return plate[0] + plate[1:].translate(_FULLWIDTH)


def phone_variant(phone: str, r: float) -> str:
    """One written form of an 11-digit mobile number, chosen by ``r`` in [0, 1)."""
    if r < 0.50:
        return phone
    if r < 0.70:
        return f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if r < 0.85:
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    if r < 0.95:
        return "+86" + phone
    return "0086-" + phone


def id_variant(id_number: str, r: float) -> str:
    """One written form of an ID number: mostly as is, sometimes lower-case x or spaced."""
    if r < 0.85:
        return id_number
    if r < 0.95:
        return id_number.lower()
    return f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}"


class Clock:
    """Formats seconds since :data:`~plugins.builtin.world.START` as local timestamps, fast."""

    def __init__(self) -> None:
        self.days = [START + timedelta(days=d) for d in range(DAYS + 2)]

    def split(self, seconds: int) -> tuple[datetime, int, int, int]:
        day, rem = divmod(seconds, 86400)
        return self.days[day], rem // 3600, rem // 60 % 60, rem % 60

    def iso(self, seconds: int) -> str:
        """``2026-09-03 14:22:05``"""
        d, h, m, s = self.split(seconds)
        return f"{d.year}-{d.month:02d}-{d.day:02d} {h:02d}:{m:02d}:{s:02d}"

    def compact(self, seconds: int) -> str:
        """``20260903142205``"""
        d, h, m, s = self.split(seconds)
        return f"{d.year}{d.month:02d}{d.day:02d}{h:02d}{m:02d}{s:02d}"

    def slashed(self, seconds: int) -> str:
        """``2026/09/03 14:22`` (minutes only, as hotel systems print)."""
        d, h, m, _ = self.split(seconds)
        return f"{d.year}/{d.month:02d}/{d.day:02d} {h:02d}:{m:02d}"

    def offset(self, seconds: int) -> str:
        """``2026-09-03T14:22:05+08:00``"""
        d, h, m, s = self.split(seconds)
        return f"{d.year}-{d.month:02d}-{d.day:02d}T{h:02d}:{m:02d}:{s:02d}+08:00"


def seconds_of(moment: datetime) -> int:
    """Seconds from START to a local datetime."""
    return int((moment - START).total_seconds())


def daily_times(rng: random.Random, count: int, days: int = DAYS) -> Iterator[int]:
    """``count`` event times (seconds from START) over ``days``, in time order, shaped by
    :data:`HOURLY`; generated one day at a time so memory stays flat."""
    hours = [h for h, weight in enumerate(HOURLY) for _ in range(weight)]
    per_day, extra = divmod(count, days)
    for day in range(days):
        n = per_day + (1 if day < extra else 0)
        base = day * 86400
        times = sorted(
            base + hours[int(rng.random() * len(hours))] * 3600 + int(rng.random() * 3600)
            for _ in range(n)
        )
        yield from times


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], encoding: str = "utf-8"
) -> Path:
    """Stream ``rows`` to a CSV file (header first); characters the encoding lacks raise."""
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], sheet: str = "Sheet1"
) -> Path:
    """Stream ``rows`` to a one-sheet workbook (openpyxl write-only mode)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    book.save(path)
    return path
