"""Records into Elasticsearch as fast as the cluster takes them.

Two halves, each measured in ``bench/search/bench_search.py`` (docs/PERFORMANCE.md):

* :class:`EsDocBuilder` turns records into bulk NDJSON with the compiled builder the embedded
  engine uses (``search._native``, :meth:`DocBuilder.build_es`): the same document as
  ``es_doc(build_doc(record))``, written as bytes without a Python dict in between. Records it
  declines (unusual characters, undeclared fields) are built by that Python reference.
* :class:`ParallelBulk` sends those bodies on several connections at once, a bounded number in
  flight, retries what the cluster pushes back (HTTP 429, whole requests or single documents)
  with a growing pause, and names every document it finally refused.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from core.model import Record
from search.document import FieldRegistry, build_doc, field_plan_tuple, time_value_function
from search.embedded_docs import _time_parts, native_available, native_zone_table
from search.errors import SearchUnavailable
from search.es_links import es_errors

log = logging.getLogger(__name__)

#: Records per bulk request.
BULK_CHUNK = 1000
#: Bulk requests in flight at once (one connection each).
BULK_THREADS = 2
#: Times a request (or the documents in it) pushed back with HTTP 429 is sent again.
MAX_RETRIES = 8
_BACKOFF = 0.5  # seconds, doubled per retry up to _MAX_BACKOFF
_MAX_BACKOFF = 30.0
_FILTER = "errors,items.*.status,items.*.error"
#: A chunk of bulk NDJSON: ``(body, uids in body order, records that could not be documents)``.
Body = tuple[bytes, list[str], dict[str, str]]


def es_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The Elasticsearch form of :func:`search.document.build_doc`'s document (no null
    top-level values, the point as ``{lat, lon}``)."""
    out = {k: v for k, v in doc.items() if v is not None}
    if doc.get("geo"):
        out["geo"] = {"lat": doc["geo"][0], "lon": doc["geo"][1]}
    return out


# One encoder: NaN and infinities are refused (the cluster would refuse them anyway).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _action(index: str, uid: str) -> bytes:
    return (_JSON.encode({"index": {"_index": index, "_id": uid}}) + "\n").encode()


class EsDocBuilder:
    """Bulk NDJSON for records of one field registry.

    Thread-safe (the compiled builder is entered under a lock). ``native=False`` (or
    ``SUPERBRAIN_SEARCH_NATIVE=0``, or no compiled module) builds everything in Python.
    """

    def __init__(self, registry: FieldRegistry, *, native: bool = True) -> None:
        self.registry = registry
        self.native = native and native_available()
        self._lock = threading.Lock()
        self._builder: Any = None
        self._version = -1

    def _compiled(self) -> Any:
        if self._builder is None or self._version != self.registry.version:
            from search import _native  # type: ignore[attr-defined]

            registry = self.registry
            self._builder = _native.DocBuilder(
                lambda rtype, name: field_plan_tuple(registry, rtype, name),
                lambda space, name: None,
                _time_parts(registry),
                time_value_function(registry),
                [],
                native_zone_table(registry.zone),  # naive times natively only at UTC+8
            )
            self._version = registry.version
        return self._builder

    def body(self, records: Sequence[Record], index_of: Callable[[str], str]) -> Body:
        """One bulk request for ``records``, each into ``index_of(record.type)``."""
        failures: dict[str, str] = {}
        targets = {t: index_of(t) for t in {r.type for r in records}}
        built: list[bool] = [False] * len(records)
        body = b""
        if self.native and hasattr(self._compiled_or_none(), "build_es"):
            with self._lock:
                body, built = self._compiled().build_es(records, targets)
        uids = [r.uid for r, ok in zip(records, built, strict=True) if ok]
        rest: list[bytes] = []
        for r, ok in zip(records, built, strict=True):
            if ok:
                continue
            try:
                doc = _JSON.encode(es_doc(build_doc(r, self.registry)))
            except (ValueError, TypeError, OverflowError) as exc:
                failures[r.uid] = f"{type(exc).__name__}: {exc}"
                continue
            rest += [_action(targets[r.type], r.uid), doc.encode(), b"\n"]
            uids.append(r.uid)
        return body + b"".join(rest), uids, failures

    def _compiled_or_none(self) -> Any:
        try:
            return self._compiled()
        except ImportError:  # pragma: no cover - native_available() said it was there
            self.native = False
            return None

    def bodies(
        self,
        records: Iterable[Record],
        index_of: Callable[[str], str],
        *,
        chunk: int = BULK_CHUNK,
        taper: int = 0,
    ) -> Iterator[Body]:
        """:meth:`body` for every ``chunk`` records of ``records``.

        With ``taper`` (and a sequence of records) a batch starts and ends small: the first
        ``taper`` records go in eighth-size chunks, so the cluster gets work after a few
        hundred records are built rather than a thousand, and the last ``taper`` in
        quarter-size chunks, so parallel connections finish close together instead of one
        idling while the other sends a whole chunk. Each ingest batch waits for its last
        acknowledgement, so both ends of every batch cost (docs/PERFORMANCE.md).
        """
        if taper and isinstance(records, Sequence) and len(records) > 2 * taper:
            n = len(records)
            cuts = [
                *range(0, taper, max(1, chunk // 8)),
                *range(taper, n - taper, chunk),
                *range(n - taper, n, max(1, chunk // 4)),
                n,
            ]
            for a, b in itertools.pairwise(cuts):
                yield self.body(records[a:b], index_of)
            return
        batch: list[Record] = []
        for r in records:
            batch.append(r)
            if len(batch) >= chunk:
                yield self.body(batch, index_of)
                batch = []
        if batch:
            yield self.body(batch, index_of)


def _lines(body: bytes, positions: Sequence[int]) -> bytes:
    """The action + document line pairs at ``positions`` of a bulk body."""
    lines = body.split(b"\n")
    return b"".join(lines[2 * i] + b"\n" + lines[2 * i + 1] + b"\n" for i in positions)


class ParallelBulk:
    """Bulk bodies sent on ``threads`` connections: at most ``threads`` requests in flight and
    as many more built and queued.

    Parameters
    ----------
    client:
        An ``elasticsearch.Elasticsearch`` client (its connection pool is shared).
    url:
        The cluster as shown in errors.
    what:
        What is being indexed, for error messages ("indexing records").
    sleep:
        How to wait between retries (tests pass a recorder).
    """

    def __init__(
        self,
        client: Any,
        url: str,
        *,
        threads: int = BULK_THREADS,
        what: str = "bulk indexing",
        sleep: Callable[[float], None] = time.sleep,
        refresh: str | None = None,
    ) -> None:
        self.client = client
        self.url = url
        self.threads = max(1, threads)
        self.what = what
        self.sleep = sleep
        self.refresh = refresh
        self.retried = 0  # documents sent again after a 429 (all requests of this loader)
        self._count_lock = threading.Lock()

    def load(
        self, bodies: Iterable[Body], on_done: Callable[[int], None] | None = None
    ) -> tuple[int, dict[str, str]]:
        """Send every body; return (documents acknowledged, ``{uid: reason}`` refused).

        ``on_done(n)`` is told of each finished request's record count (progress). Cluster
        trouble other than a 429 (unreachable, a refused request) raises
        :class:`~search.errors.SearchError` after the requests in flight have finished.
        """
        ok, failures = 0, dict[str, str]()
        pending: deque[Future[tuple[int, dict[str, str]]]] = deque()

        def collect(f: Future[tuple[int, dict[str, str]]]) -> None:
            nonlocal ok
            n, bad = f.result()
            ok += n
            failures.update(bad)
            if on_done is not None:
                on_done(n + len(bad))

        with ThreadPoolExecutor(self.threads, thread_name_prefix="es-bulk") as pool:
            try:
                for body, uids, bad in bodies:
                    failures.update(bad)
                    if uids:
                        pending.append(pool.submit(self._send, body, uids))
                    # as many requests queued as running: a connection that frees up starts
                    # the next at once even when both free up together, while this thread
                    # builds more
                    while len(pending) > 2 * self.threads:
                        collect(pending.popleft())
                while pending:
                    collect(pending.popleft())
            finally:  # an error: let the requests in flight end before raising
                for f in pending:
                    f.cancel()
        return ok, failures

    def _send(self, body: bytes, uids: list[str]) -> tuple[int, dict[str, str]]:
        """One bulk request, with its 429s sent again; (acknowledged, refused)."""
        ok, failures = 0, dict[str, str]()
        pause = _BACKOFF
        for attempt in range(MAX_RETRIES + 1):
            last = attempt == MAX_RETRIES
            try:
                with es_errors(self.url, f"{self.what} ({len(uids)} documents)"):
                    kwargs: dict[str, Any] = {"operations": body, "filter_path": _FILTER}
                    if self.refresh:
                        kwargs["refresh"] = self.refresh
                    resp = self.client.bulk(**kwargs)
            except SearchUnavailable as exc:
                if "HTTP 429" not in str(exc) or last:
                    raise
                log.info("search: %s pushed back (%s); again in %.1f s", self.what, exc, pause)
                self.sleep(pause)
                pause = min(pause * 2, _MAX_BACKOFF)
                continue
            if not resp.get("errors"):
                return ok + len(uids), failures
            again: list[int] = []
            for i, item in enumerate(resp["items"]):
                info = next(iter(item.values()))
                status = int(info.get("status", 0))
                if status < 300:
                    ok += 1
                elif status == 429 and not last:
                    again.append(i)
                else:
                    failures[uids[i]] = _reason(info)
            if not again:
                return ok, failures
            with self._count_lock:
                self.retried += len(again)
            body, uids = _lines(body, again), [uids[i] for i in again]
            log.info("search: %d documents pushed back; again in %.1f s", len(again), pause)
            self.sleep(pause)
            pause = min(pause * 2, _MAX_BACKOFF)
        raise AssertionError("unreachable")  # pragma: no cover  (the last attempt returns)


def _reason(info: dict[str, Any]) -> str:
    err = info.get("error", info.get("status"))
    if isinstance(err, dict):
        return f"{err.get('type')}: {err.get('reason')}"
    return str(err)
