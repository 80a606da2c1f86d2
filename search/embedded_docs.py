"""The embedded engine's documents: records become tantivy JSON, here or in worker processes.

Building a document (folding, identifier detection, tokenizing, JSON) costs more than tantivy's
indexing of it. Two builders produce the same JSON:

* the compiled one, ``search._native`` (Rust, ``search/native/``; built by ``pip install`` when
  a Rust toolchain is present), about 4x faster; it takes the records whose text uses ASCII,
  accented Latin letters, the common CJK ideographs, full-width forms and common CJK
  punctuation, and whose fields are all declared, and declines the rest;
* this module's Python code (``build_doc`` + :func:`tantivy_json`), the reference, which
  builds whatever the compiled one declined, and everything where it is absent or switched
  off (``SUPERBRAIN_SEARCH_NATIVE=0``).

:class:`DocumentBuilder` can also build large batches in worker processes (one per core beyond
two, started on first use) and hands back JSON strings, which the writer adds with
``IndexWriter.add_json``; small batches, and machines where workers are disabled or fail to
start, are built in this process with the same code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import re
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.model import Record
from core.timezones import offset_table
from search.analysis import han_runs, index_text
from search.document import (
    FieldRegistry,
    build_doc,
    field_plan_tuple,
    record_time,
    text_values,
    time_value_function,
)

log = logging.getLogger(__name__)

#: Records per unit of work handed to a worker (and per writer-lock hold in the caller).
CHUNK = 500
#: Batches smaller than this are built in-process (a worker round trip is not worth it).
POOL_MIN_RECORDS = 2 * CHUNK

_UNSAFE = re.compile(r"[^0-9A-Za-z_\u0080-\uffff]")
#: The bigram twin of analysed text field ``f`` is ``g_f`` (format 2).
BIGRAM_PREFIX = "g_"

Built = tuple[list[tuple[str, str]], dict[str, str]]  # ([(uid, json)], {uid: failure})


def field_name(plan_field: str) -> str:
    """Tantivy field of a plan field: ``t.x`` -> ``t_x`` (dots are not allowed)."""
    if "." not in plan_field:
        return plan_field
    space, _, name = plan_field.partition(".")
    return f"{space}_{_UNSAFE.sub('_', name)}"


def uid_hash(uid: str) -> int:
    """A 64-bit hash of a uid (the ``h`` fast field, used by exact radius filters)."""
    return int.from_bytes(hashlib.blake2b(uid.encode(), digest_size=8).digest(), "big")


@dataclass
class DocLayout:
    """What one index generation's schema has: its field names and how its text is tokenized.

    Picklable (workers receive it with each chunk); the name caches fill on use.
    """

    fields: frozenset[str]
    pretokenized: bool
    _names: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)

    def typed(self, space: str, name: str) -> str | None:
        """The tantivy field of ``space.name`` (``t``, ``k``, ``n``, ``d``) if the schema has it."""
        key = f"{space}.{name}"
        try:
            return self._names[key]
        except KeyError:
            f = field_name(key)
            self._names[key] = f if f in self.fields else None
            return self._names[key]


try:  # orjson encodes a document about 2.5x faster than the standard library (measured)
    import orjson

    def _json_bytes(value: Any) -> bytes:
        return orjson.dumps(value)

    def _json_text(value: Any) -> str:
        return orjson.dumps(value).decode()

except ImportError:  # pragma: no cover - orjson is a declared dependency
    # One encoder for every document (json.dumps(..., ensure_ascii=False) makes one per call).
    _JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)

    def _json_bytes(value: Any) -> bytes:
        return _JSON.encode(value).encode()

    def _json_text(value: Any) -> str:
        return _JSON.encode(value)


# Short values repeat (categories, districts, names): their analysis is remembered.
_SHORT = 12
_short_analysis: dict[str, tuple[str, list[str]]] = {}


def _analyse(value: str) -> tuple[str, list[str]]:
    """``value``'s tokens (space-joined) and its Han runs (for the bigram field)."""
    if len(value) > _SHORT:
        tokens = index_text(value)
        return tokens, han_runs(tokens)
    known = _short_analysis.get(value)
    if known is None:
        if len(_short_analysis) >= 8192:  # unique values (plates, phones) must not pile up
            _short_analysis.clear()
        tokens = index_text(value)
        known = _short_analysis[value] = (tokens, han_runs(tokens))
    return known


def _rfc3339(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def tantivy_json(doc: dict[str, Any], layout: DocLayout) -> str:
    """The document (:func:`search.document.build_doc`) as tantivy JSON for ``layout``."""
    out: dict[str, Any] = {"h": uid_hash(doc["uid"]), "ids": doc["ids"], "ent": doc["ent"]}
    if layout.pretokenized:
        _add_analysed(out, "all", doc["all"], layout.fields)
        for name, value in doc["t"].items():
            f = layout.typed("t", name)
            if f is not None:
                _add_analysed(out, f, [value], layout.fields)
    else:  # format 1: tantivy tokenizes the folded text itself
        out["all"] = doc["all"]
        for name, value in doc["t"].items():
            f = layout.typed("t", name)
            if f is not None:
                out[f] = value
    for name in ("uid", "source", "type", "day"):
        if doc.get(name):
            out[name] = doc[name]
    extra: dict[str, Any] = {}
    for name, values in doc["k"].items():
        f = layout.typed("k", name)
        if f is not None:
            out[f] = values
        else:
            extra[name] = values  # undeclared: exact values in the kx JSON field
    if extra:
        out["kx"] = extra
    for name, value in doc["n"].items():
        f = layout.typed("n", name)
        if f is not None and math.isfinite(value):  # JSON has no NaN; a range never matches it
            out[f] = float(value)
    for name, value in doc["d"].items():
        f = layout.typed("d", name)
        if f is not None:
            out[f] = _rfc3339(value)
    if doc["time"] is not None:
        out["time"] = _rfc3339(doc["time"])
    geo = doc["geo"]
    if geo and math.isfinite(geo[0]) and math.isfinite(geo[1]):
        out["lat"], out["lon"] = geo
    src = dict(doc["src"], all=text_values(doc), geo=geo, ms=doc["time"])
    out["src"] = base64.b64encode(_json_bytes(src)).decode()
    return _json_text(out)


def _add_analysed(
    out: dict[str, Any], field: str, values: list[str], fields: frozenset[str]
) -> None:
    tokens: list[str] = []
    runs: list[str] = []
    for value in values:
        t, r = _analyse(value)
        tokens.append(t)
        runs.extend(r)
    out[field] = tokens
    if runs and BIGRAM_PREFIX + field in fields:  # (indexes from before bigrams have none)
        out[BIGRAM_PREFIX + field] = runs


def build_chunk(records: Sequence[Record], registry: FieldRegistry, layout: DocLayout) -> Built:
    """Tantivy JSON of each record; records that cannot be indexed go to the failures."""
    docs: list[tuple[str, str]] = []
    failures: dict[str, str] = {}
    native = native_builder(registry, layout)
    if native is None:
        built: list[str | None] = [None] * len(records)
    else:
        builder, lock = native
        with lock:  # one call at a time: the builder's caches are not shared across threads
            built = builder.build(records)
    for r, doc in zip(records, built, strict=True):
        try:
            if doc is None:  # declined by the compiled builder, or none
                doc = tantivy_json(build_doc(r, registry), layout)
            docs.append((r.uid, doc))
        except (ValueError, TypeError, OverflowError) as exc:
            failures[r.uid] = f"{type(exc).__name__}: {exc}"
    return docs, failures


# -- the compiled builder -------------------------------------------------------------------------
try:
    from search import _native  # type: ignore[attr-defined]
except ImportError:  # no Rust toolchain at install time: the Python builder does everything
    _native = None

#: (registry, its version, layout, builder, its lock) of the builders made so far (a few at most).
_native_builders: list[tuple[FieldRegistry, int, DocLayout, Any, threading.Lock]] = []
_native_builders_lock = threading.Lock()


def native_available() -> bool:
    """Whether the compiled document builder is installed and not switched off."""
    return _native is not None and os.environ.get("SUPERBRAIN_SEARCH_NATIVE", "1") != "0"


def _time_parts(registry: FieldRegistry) -> Any:
    """``time_parts(value) -> (epoch ms, day in the registry's zone, isoformat)``."""
    zone = registry.zone

    def time_parts(value: datetime) -> tuple[int, str, str]:
        ms, day = record_time(value, zone)
        return ms, day, value.isoformat()

    return time_parts


#: The UTC offset at which the compiled builder reads a naive record time (it subtracts eight
#: hours, then looks the local day up in the table it is given).
NATIVE_NAIVE_OFFSET_S = 8 * 3600


def native_zone_table(zone: Any) -> tuple[int, int, tuple[tuple[int, int], ...]] | None:
    """The offset table the compiled builder gets for ``zone``: the years in which the zone is
    UTC+8 throughout (Asia/Shanghai from 1991, after its last summer time), where the builder's
    fixed reading of a naive time is the zone's own; None for a zone never at UTC+8 at the end
    of the table (America/New_York). Naive times outside go through :func:`record_time` in
    Python, which reads them in the zone, so both builders make the same document."""
    key = getattr(zone, "key", None)
    if not key:
        return None
    lo, hi, spans = offset_table(key)
    i = len(spans)
    while i > 0 and spans[i - 1][1] == NATIVE_NAIVE_OFFSET_S:
        i -= 1
    if i == len(spans):
        return None
    # a day after the change to UTC+8: the wall-clock hour it repeats stays with Python
    start = lo if i == 0 else spans[i][0] + 86_400
    return (start, hi, ((start, NATIVE_NAIVE_OFFSET_S),)) if start < hi else None


def native_builder(registry: FieldRegistry, layout: DocLayout) -> tuple[Any, threading.Lock] | None:
    """The compiled builder for ``registry`` and ``layout`` with the lock to call it under, or
    None (absent, switched off, or a format-1 index, whose text tantivy tokenizes itself).

    A builder caches field plans and must not be entered by two threads at once (PyO3 would
    refuse the second with a RuntimeError), hence the lock.
    """
    if not layout.pretokenized or not native_available():
        return None
    with _native_builders_lock:
        for reg, version, lay, builder, lock in _native_builders:
            if reg is registry and lay is layout and version == registry.version:
                return builder, lock
        assert _native is not None
        try:
            builder = _native.DocBuilder(
                lambda rtype, name: field_plan_tuple(registry, rtype, name),
                layout.typed,
                _time_parts(registry),
                time_value_function(registry),
                sorted(layout.fields),
                native_zone_table(registry.zone),
            )
        except TypeError as exc:  # a builder compiled before the zone argument existed
            log.warning(
                "the compiled search builder is out of date (%s); building documents "
                "in Python until it is rebuilt (pip install -e .)",
                exc,
            )
            return None
        lock = threading.Lock()
        if len(_native_builders) >= 8:
            del _native_builders[0]
        _native_builders.append((registry, registry.version, layout, builder, lock))
        return builder, lock


# -- worker processes -----------------------------------------------------------------------------
_worker_registry: FieldRegistry | None = None


def _init_worker(registry: FieldRegistry) -> None:
    global _worker_registry
    _worker_registry = registry


def _build_in_worker(records: list[Record], layout: DocLayout) -> Built:
    assert _worker_registry is not None, "worker not initialised"
    return build_chunk(records, _worker_registry, layout)


def default_workers() -> int:
    """Worker processes for document building: one per core beyond two, at most 4.

    The calling thread (adding documents) and tantivy's indexing thread already keep two cores
    busy, so on a 2-core machine workers only add pickling work (measured: ~25 % more CPU
    per record, no faster); past 4 workers the calling thread's ``add_json`` is the limit.
    """
    return max(0, min(4, (os.cpu_count() or 1) - 2))


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for r in records:
        chunk.append(r)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class DocumentBuilder:
    """Builds tantivy JSON for batches of records, in worker processes when it pays.

    Parameters
    ----------
    registry:
        Declared fields (sent once to each worker).
    workers:
        Worker processes; 0 builds everything in this process. ``None``: :func:`default_workers`.
    chunk:
        Records per unit of work.
    min_pooled:
        Batches known to be smaller than this are built in this process.
    """

    def __init__(
        self,
        registry: FieldRegistry,
        workers: int | None = None,
        *,
        chunk: int = CHUNK,
        min_pooled: int = POOL_MIN_RECORDS,
    ) -> None:
        self.registry = registry
        self.workers = default_workers() if workers is None else max(0, workers)
        self.chunk = chunk
        self.min_pooled = min_pooled
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def build(
        self, records: Iterable[Record], layout: DocLayout, *, size_hint: int | None = None
    ) -> Generator[Built, None, None]:
        """Built chunks of ``records``, in order (``size_hint``: how many there are, if known)."""
        small = size_hint is not None and size_hint < self.min_pooled
        if self.workers == 0 or small:
            for chunk in _chunks(records, self.chunk):
                yield build_chunk(chunk, self.registry, layout)
            return
        yield from self._build_pooled(records, layout)

    def _build_pooled(self, records: Iterable[Record], layout: DocLayout) -> Iterator[Built]:
        pending: deque[tuple[list[Record], Future[Built] | None]] = deque()
        depth = 2 * self.workers  # chunks in flight: workers stay busy while we add
        for chunk in _chunks(records, self.chunk):
            pending.append((chunk, self._submit(chunk, layout)))
            if len(pending) >= depth:
                yield self._result(*pending.popleft(), layout)
        while pending:
            yield self._result(*pending.popleft(), layout)

    def _submit(self, chunk: list[Record], layout: DocLayout) -> Future[Built] | None:
        pool = self._get_pool()
        if pool is None:
            return None
        try:
            return pool.submit(_build_in_worker, chunk, layout)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._give_up_pool(exc)
            return None

    def _result(
        self, chunk: list[Record], future: Future[Built] | None, layout: DocLayout
    ) -> Built:
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool as exc:
                self._give_up_pool(exc)
            except Exception as exc:  # e.g. a record value that cannot be pickled
                log.debug("search: a document worker failed (%s); building its chunk here", exc)
        # Documents' own errors were caught per record in the worker; whatever else went
        # wrong there is retried here, so a worker problem never loses records.
        return build_chunk(chunk, self.registry, layout)

    def _get_pool(self) -> ProcessPoolExecutor | None:
        with self._pool_lock:
            if self._pool is None and self.workers > 0:
                import multiprocessing

                try:
                    # spawn, not fork: the parent runs tantivy (and maybe Qt) threads.
                    self._pool = ProcessPoolExecutor(
                        self.workers,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_init_worker,
                        initargs=(self.registry,),
                    )
                except (OSError, ValueError) as exc:
                    log.warning(
                        "search: cannot start document workers (%s); building "
                        "documents in this process",
                        exc,
                    )
                    self.workers = 0
            return self._pool

    def _give_up_pool(self, exc: BaseException) -> None:
        log.warning(
            "search: document worker processes failed (%s); building documents in "
            "this process from now on",
            exc,
        )
        self.workers = 0
        self.close()

    def close(self) -> None:
        """Stop the worker processes (they start again on the next large batch)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
