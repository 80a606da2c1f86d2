"""Heavy pure-Python work in a helper process, so it cannot hold the GUI's GIL.

A worker *thread* that runs Python code (SQL row loops, the layout's numpy rounds) competes with
the GUI thread for the GIL: a 5,000-node expansion in a thread kept the window waiting for up to
~300 ms at a time (docs/PERFORMANCE.md, "Console responsiveness"). :func:`run_in_process` runs a
picklable function in one long-lived helper process instead (``spawn``, so no Qt state is
forked; ``nice``-d, so it yields the CPU to the GUI on a loaded machine) and waits for it in the
calling worker thread, which holds no GIL while it waits.

Results come back as a list of separately pickled chunks (:func:`chunked`) and are unpickled
one by one in the worker thread: a single ``pickle.loads`` of a 5,000-node graph holds the GIL
for ~100 ms in one C call, a chunk for a few milliseconds.

No Qt here; the console's :class:`~console.workers.Job` calls this from its worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from console.errors import ConsoleError
from core.progress import CancelToken

log = logging.getLogger(__name__)

#: Objects per pickled chunk of a result (a few milliseconds of ``pickle.loads`` each).
CHUNK = 400
#: ``nice`` increment of the helper process: the window comes first when both want a CPU.
HELPER_NICE = 10

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_cancelled: Any = None  # multiprocessing.Value: the highest task id cancelled so far
_next_task = 0


class OffloadError(ConsoleError):
    """The helper process failed (crashed or could not start); the message says how."""


# -- in the helper process --------------------------------------------------------------------
_shared_cancel: Any = None


def _init_helper(cancelled: Any, console_pid: int, nice: int) -> None:
    global _shared_cancel
    _shared_cancel = cancelled
    with contextlib.suppress(OSError):  # not permitted everywhere; then it just runs
        os.nice(nice)
    threading.Thread(
        target=_exit_with_console, args=(console_pid,), daemon=True, name="console-watch"
    ).start()


def _exit_with_console(console_pid: int) -> None:
    """End the helper when the console is gone, even if it died without shutting it down
    (an orphaned helper would otherwise wait forever, holding its pipes open)."""
    while os.getppid() == console_pid:
        time.sleep(1.0)
    os._exit(0)


class RemoteCancel:
    """A :class:`~core.progress.CancelToken` look-alike inside the helper process."""

    def __init__(self, task: int) -> None:
        self.task = task

    @property
    def cancelled(self) -> bool:
        return _shared_cancel is not None and _shared_cancel.value >= self.task


def chunked(items: Iterable[Any], size: int = CHUNK) -> list[bytes]:
    """``items`` pickled in chunks of ``size`` (see the module docstring for why)."""
    out, batch = [], []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            out.append(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
            batch = []
    if batch:
        out.append(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
    return out


def unchunk(blobs: Iterable[bytes]) -> list[Any]:
    """The items of :func:`chunked`, unpickled one chunk at a time."""
    out: list[Any] = []
    for blob in blobs:
        out.extend(pickle.loads(blob))
    return out


def _call(fn: Callable[..., Any], task: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return fn(*args, cancel=RemoteCancel(task), **kwargs)


# -- in the console process -------------------------------------------------------------------
def _executor() -> tuple[ProcessPoolExecutor, Any]:
    global _pool, _cancelled
    with _lock:
        if _pool is None:
            ctx = multiprocessing.get_context("spawn")
            _cancelled = ctx.Value("q", 0, lock=False)
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=ctx,
                initializer=_init_helper,
                initargs=(_cancelled, os.getpid(), HELPER_NICE),
            )
        return _pool, _cancelled


def warm_up() -> int:
    """Start the helper process now (it takes about a second) instead of on first use; blocks
    until it runs (call it from a worker thread) and returns its pid."""
    pool, _ = _executor()
    try:
        return pool.submit(os.getpid).result()
    except (BrokenProcessPool, RuntimeError) as exc:
        _discard(pool)
        raise OffloadError(f"helper process unavailable: {exc}") from exc


def run_in_process(
    fn: Callable[..., Any], *args: Any, cancel: CancelToken | None = None, **kwargs: Any
) -> Any:
    """``fn(*args, cancel=<token>, **kwargs)`` in the helper process; blocks until it returns.

    ``fn`` must be a module-level function whose arguments and result pickle. ``cancel`` is
    forwarded: once it is cancelled, ``fn`` sees its own token cancelled at its next check.
    """
    global _next_task, _pool
    pool, shared = _executor()
    with _lock:
        _next_task += 1
        task = _next_task
        if cancel is not None and cancel.cancelled:  # the helper sees it from the start
            shared.value = max(shared.value, task)
    try:
        future: Future[Any] = pool.submit(_call, fn, task, args, kwargs)
    except (BrokenProcessPool, RuntimeError) as exc:
        _discard(pool)
        raise OffloadError(f"helper process unavailable: {exc}") from exc
    told = False
    while not future.done():
        wait([future], timeout=0.05)  # no GIL held while waiting
        if cancel is not None and cancel.cancelled and not told:
            told = True
            with _lock:
                shared.value = max(shared.value, task)
    try:
        return future.result()  # or the function's own exception, as raised in the helper
    except BrokenProcessPool as exc:
        _discard(pool)
        raise OffloadError(f"helper process for {fn.__name__} died: {exc}") from exc


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the helper process (at exit; a later call starts a new one)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
