"""Progress reports and cancellation shared by every long-running job (CLI and console alike)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    """A snapshot of a long job.

    Attributes
    ----------
    done, total:
        Units of work finished and expected (``total`` is ``None`` when unknown).
    rate:
        Units per second since the job started.
    eta_seconds:
        Estimated seconds left, or ``None`` when the total is unknown.
    message:
        What is being worked on now (e.g. the file name).
    """

    done: int
    total: int | None
    rate: float
    eta_seconds: float | None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)

    def describe(self) -> str:
        parts = [f"{self.done:,}" + (f"/{self.total:,}" if self.total else "")]
        parts.append(f"{self.rate:,.0f}/s")
        if self.eta_seconds is not None:
            parts.append(f"ETA {format_seconds(self.eta_seconds)}")
        if self.message:
            parts.append(self.message)
        return "  ".join(parts)


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


ProgressCallback = Callable[[Progress], None]


@dataclass
class CancelToken:
    """Set from any thread (a Cancel button, Ctrl+C); checked by the worker between batches."""

    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class ProgressMeter:
    """Turns counts into :class:`Progress` snapshots, throttled to ``interval`` seconds."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        total: int | None = None,
        interval: float = 0.25,
    ) -> None:
        self._callback = callback
        self.total = total
        self._interval = interval
        self._start = time.monotonic()
        self._last = 0.0
        self.done = 0

    def advance(self, n: int, message: str = "", *, force: bool = False) -> None:
        self.done += n
        if self._callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self._interval:
            return
        self._last = now
        self._callback(self.snapshot(message))

    def snapshot(self, message: str = "") -> Progress:
        elapsed = max(1e-9, time.monotonic() - self._start)
        rate = self.done / elapsed
        eta = None
        if self.total and rate > 0:
            eta = max(0.0, (self.total - self.done) / rate)
        return Progress(self.done, self.total, rate, eta, message)
