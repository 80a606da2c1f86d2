"""Time limits on code that is not ours: a plugin's construction, its calls and its rows.

:func:`call_with_timeout` and :func:`timed_iter` run the plugin's code in a daemon thread and
stop waiting for it after a number of seconds. They live in ``core`` (not ``plugins``) because
the ingest and the workspace apply them to whatever source they are handed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from core.errors import PluginError

#: Seconds a plugin may take to import and construct, and to answer one call such as
#: ``record_schemas()`` (workspace config: ``[plugins] load_timeout``).
LOAD_TIMEOUT = 20.0
#: Seconds an ingest waits for the next rows from a plugin's ``read`` before it fails that
#: file (``[plugins] read_timeout``).
READ_TIMEOUT = 120.0

T = TypeVar("T")


class PluginTimeoutError(PluginError):
    """A plugin did not answer in time (it keeps running in a background thread, unused)."""


def call_with_timeout(fn: Callable[[], T], seconds: float, what: str) -> T:
    """``fn()``, or :class:`PluginTimeoutError` after ``seconds`` (the call is abandoned in a
    daemon thread: Python cannot stop it, but nobody waits for it any more)."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            box.put((True, fn()))
        except BaseException as exc:  # handed to the caller, never lost
            box.put((False, exc))

    threading.Thread(target=run, name=f"plugin: {what}", daemon=True).start()
    try:
        ok, value = box.get(timeout=seconds)
    except queue.Empty:
        raise PluginTimeoutError(
            f"{what}: no answer within {seconds:g} s (the plugin hangs or sleeps); it was skipped"
        ) from None
    if not ok:
        raise value
    return value


def timed_iter(
    make: Callable[[], Iterable[T]], seconds: float, what: str, chunk: int = 1024
) -> Iterator[T]:
    """Iterate ``make()`` in a worker thread; raise :class:`PluginTimeoutError` when no item
    arrives for ``seconds``. Items are handed over in batches under one lock (cheap per item;
    at most ``chunk`` wait in between); an exception inside ``make()`` or its items is raised
    here, after the items before it, where the caller handles it."""
    cond = threading.Condition()
    buf: list[T] = []
    state: dict[str, Any] = {"done": False, "error": None, "stop": False}

    def produce() -> None:
        try:
            for item in make():
                with cond:
                    while len(buf) >= chunk and not state["stop"]:
                        cond.wait(0.5)  # back-pressure: the consumer is behind
                    if state["stop"]:
                        return
                    buf.append(item)
                    cond.notify()
        except BaseException as exc:  # the consumer re-raises it
            with cond:
                state["error"] = exc
        finally:
            with cond:
                state["done"] = True
                cond.notify()

    threading.Thread(target=produce, name=f"plugin: {what}", daemon=True).start()
    try:
        while True:
            with cond:
                if (
                    not buf
                    and not state["done"]
                    and not cond.wait_for(lambda: buf or state["done"], timeout=seconds)
                ):
                    raise PluginTimeoutError(
                        f"{what}: no rows for {seconds:g} s (the plugin hangs or sleeps)"
                    )
                taken = buf[:]
                buf.clear()
                finished, error = state["done"], state["error"]
                cond.notify()
            yield from taken
            if finished and not buf:
                if error is not None:
                    raise error
                return
    finally:
        with cond:
            state["stop"] = True
            cond.notify()
