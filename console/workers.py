"""Slow work off the GUI thread: a :class:`Job` runs a function in the global thread pool.

The function receives a progress callback and a :class:`~core.progress.CancelToken`; the job
re-emits what happens as Qt signals, which arrive queued in the GUI thread::

    job = Job(lambda progress, cancel: engine.search(q, progress=progress, cancel=cancel))
    job.result.connect(view.show_hits)
    job.error.connect(status.show_error)
    job.start()
    ...
    job.cancel()   # the engine stops at its next checkpoint; ``cancelled`` is emitted
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal

from console.qtnone import present
from core.errors import SuperbrainError
from core.progress import CancelToken, Progress, ProgressCallback

log = logging.getLogger(__name__)

JobFunction = Callable[[ProgressCallback, CancelToken], Any]

_running: set[Job] = set()  # keeps jobs alive until they finish, even if the caller drops them


def describe_error(exc: BaseException) -> str:
    """The message a user sees: our own errors already name the culprit; others get their type."""
    if isinstance(exc, SuperbrainError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _Runner(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job._execute()


class Job(QObject):
    """One unit of background work with started/progress/result/error/cancelled signals.

    Parameters
    ----------
    fn:
        ``fn(progress, cancel)`` — runs in a worker thread; its return value is emitted by
        :attr:`result`. It must not touch widgets.
    name:
        Shown in logs and the status bar.
    """

    started = pyqtSignal()
    progress = pyqtSignal(object)  # core.progress.Progress
    result = pyqtSignal(object)  # the return value (partial when the job was cancelled)
    error = pyqtSignal(str)
    cancelled = pyqtSignal()  # after `result`, when cancel() was called
    finished = pyqtSignal()  # always last, after result, error or cancelled

    def __init__(self, fn: JobFunction, name: str = "job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fn = fn
        self.name = name
        self.token = CancelToken()
        self.seconds = 0.0
        self.running = False
        # forget the job in its own (GUI) thread: dropping the last reference from the worker
        # thread would delete a QObject outside its thread
        self.finished.connect(self._forget)

    def _forget(self) -> None:
        _running.discard(self)

    def start(self, pool: QThreadPool | None = None) -> Job:
        """Queue the job on ``pool`` (default: the global pool) and return it."""
        _running.add(self)
        self.running = True
        (pool or present(QThreadPool.globalInstance())).start(_Runner(self))
        return self

    def cancel(self) -> None:
        """Ask the function to stop at its next checkpoint (thread-safe)."""
        self.token.cancel()

    def _emit_progress(self, p: Progress) -> None:
        self.progress.emit(p)

    def _execute(self) -> None:
        started = time.monotonic()
        self.started.emit()
        try:
            value = self.fn(self._emit_progress, self.token)
        except Exception as exc:  # reported to the user through `error`, never swallowed
            if not isinstance(exc, SuperbrainError):
                log.exception("job %s failed", self.name)
            self.seconds = time.monotonic() - started
            self.error.emit(describe_error(exc))
        else:
            self.seconds = time.monotonic() - started
            # what the function returned, even when cancelled (e.g. a partial ingest report)
            self.result.emit(value)
            if self.token.cancelled:
                self.cancelled.emit()
        finally:
            self.running = False
            self.finished.emit()


def run_job(
    fn: JobFunction,
    *,
    name: str = "job",
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    parent: QObject | None = None,
) -> Job:
    """Create, connect and start a :class:`Job` in one call."""
    job = Job(fn, name, parent)
    if on_result is not None:
        job.result.connect(on_result)
    if on_error is not None:
        job.error.connect(on_error)
    if on_progress is not None:
        job.progress.connect(on_progress)
    return job.start()


class Poller(QObject):
    """Runs ``fn`` in a worker every ``interval_ms`` (never two at once) and emits its result.

    Used to follow changes made by other consoles and CLIs on the same workspace.
    """

    result = pyqtSignal(object)
    error = pyqtSignal(str)

    def __init__(
        self, fn: Callable[[], Any], interval_ms: int = 2000, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        from PyQt6.QtCore import QTimer

        self.fn = fn
        self._job: Job | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def poll(self) -> Job | None:
        """Run once now (skipped when the previous run has not finished)."""
        if self._job is not None:
            return None
        job = Job(lambda _p, _c: self.fn(), "poll")
        job.result.connect(self._on_result)
        job.error.connect(self._on_error)
        job.finished.connect(self._done)
        self._job = job
        return job.start()

    def _on_result(self, value: Any) -> None:
        self.result.emit(value)

    def _on_error(self, message: str) -> None:
        self.error.emit(message)

    def _done(self) -> None:
        self._job = None


def running_jobs() -> int:
    """Jobs started and not finished yet (tests wait for zero before tearing widgets down)."""
    return len(_running)
