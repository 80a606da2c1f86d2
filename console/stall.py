"""Event-loop stall instrumentation: a heartbeat timer that measures its own lateness.

A ``QTimer`` fires every ``interval_ms``; when the GUI thread is busy the tick arrives late, and
the lateness is the stall the user felt (a frozen window). The GUI thread's CPU time between two
ticks tells the two causes apart: *busy* (the console's own code ran that long in the GUI
thread) or *starved* (the thread waited: for the GIL held by a worker, or for a CPU the machine
gave to other processes). The console keeps one monitor running
and logs stalls over the threshold; ``bench/console`` reads the same numbers.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StallStats:
    """Heartbeat lateness since the last reset."""

    ticks: int
    max_ms: float
    p99_ms: float
    over_threshold: int
    threshold_ms: float
    max_busy_ms: float = 0.0  # most GUI-thread CPU time between two heartbeats: our own work

    def describe(self) -> str:
        return (
            f"{self.ticks} ticks, max stall {self.max_ms:.1f} ms (GUI thread busy at most "
            f"{self.max_busy_ms:.1f} ms between ticks), p99 {self.p99_ms:.1f} ms, "
            f"{self.over_threshold} over {self.threshold_ms:.0f} ms"
        )


class StallMonitor(QObject):
    """Measures how late a periodic timer fires in the GUI thread.

    Parameters
    ----------
    interval_ms:
        Heartbeat period; lateness below it cannot be told from jitter.
    threshold_ms:
        A stall longer than this is logged and emitted through :attr:`stalled`.
    """

    stalled = pyqtSignal(float)  # milliseconds

    def __init__(
        self, interval_ms: int = 10, threshold_ms: float = 100.0, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.threshold_ms = threshold_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._last_cpu = 0.0
        self._late: list[float] = []
        self._busy: list[float] = []

    def start(self) -> None:
        self.reset()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._late = []
        self._busy = []

    def _tick(self) -> None:
        now = time.perf_counter()
        cpu = time.thread_time()  # this runs in the GUI thread: its CPU time
        late = max(0.0, (now - self._last) * 1000.0 - self.interval_ms)
        busy = max(0.0, (cpu - self._last_cpu) * 1000.0)
        self._last, self._last_cpu = now, cpu
        self._late.append(late)
        self._busy.append(busy)
        if late > self.threshold_ms:
            log.info("event loop stalled for %.0f ms", late)
            self.stalled.emit(late)

    def stats(self) -> StallStats:
        """Lateness figures since :meth:`start` or :meth:`reset`."""
        values = sorted(self._late)
        if not values:
            return StallStats(0, 0.0, 0.0, 0, self.threshold_ms)
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        over = sum(1 for v in values if v > self.threshold_ms)
        return StallStats(
            len(values), values[-1], p99, over, self.threshold_ms, max(self._busy, default=0.0)
        )


class GcSettler(QObject):
    """Freezes the objects of start-up out of Python's full garbage collections, once.

    A full (generation 2) collection walks every tracked object while holding the GIL. With a
    1M-record workspace open the console holds ~520,000 of them after start-up, and one such
    collection took ~300 ms: whichever thread triggered it (often a search worker), the window
    waited that long (docs/PERFORMANCE.md, "Console responsiveness"). Objects that live for the
    whole session gain nothing from being re-examined; ``gc.freeze()`` moves them to the
    permanent generation, so later full collections only walk what was created since. The
    freeze happens when the start-up work (every job) has finished.

    Until then, full collections are held back: on a 1M-record workspace the start-up workers
    (map layers, dashboards, dispatch board) grow the heap so fast that Python ran some twenty
    full collections of 40–800 ms each, the window frozen for each. Young collections go on as
    usual, and what reference counting frees is freed at once; only cyclic garbage made during
    start-up waits (and is kept by the freeze).
    """

    def __init__(self, parent: QObject | None = None, poll_ms: int = 500) -> None:
        super().__init__(parent)
        self.frozen = 0  # objects frozen (0 until it happened)
        self._thresholds: tuple[int, int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._check)

    def start(self) -> None:
        """Hold back full collections now; freeze once every job has finished."""
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            young, middle, _full = self._thresholds
            gc.set_threshold(young, middle, 1_000_000)  # ~never, until _check restores it
        self._timer.start()

    def _check(self) -> None:
        from console.workers import running_jobs

        if running_jobs():
            return
        self._timer.stop()
        gc.freeze()
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        self.frozen = gc.get_freeze_count()
        log.info("start-up done: %d objects frozen out of full collections", self.frozen)
