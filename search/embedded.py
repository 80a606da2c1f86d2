"""The embedded search engine (default): tantivy, in the workspace's ``search/`` folder.

Layout: ``search/tantivy/CURRENT`` names the live generation folder (``g-<time>``); a rebuild
writes a new generation and then replaces CURRENT atomically, so searches never stop. Typed
fields (``t_``/``k_``/``n_``/``d_`` + field name) come from the declared record schemas; a
schema that gains fields after the index was built is reported by :meth:`health` ("rebuild
needed") and its new fields are searchable by exact value until ``superbrain reindex``.

Index format 2 (``layout.json``): text arrives tokenized by Python (``analysis.index_text``)
and is split on spaces; each analysed field has a Han bigram twin ``g_<field>`` (no positions)
for two-character words; numbers, times and coordinates are fast fields only. An existing
generation is opened with the schema stored in its ``meta.json``, so indexes written by
earlier versions (format 1: tantivy's regex tokenizer) keep working.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Filter, Order, TextAnalyzerBuilder, Tokenizer

from core.model import FieldRole, Record
from core.progress import CancelToken, ProgressCallback, ProgressMeter
from core.store import storage_problem
from search.analysis import RUST_TOKEN_PATTERN
from search.backend import SearchBackend, decode_cursor, encode_cursor, request_key
from search.document import FieldRegistry, default_text_fields
from search.embedded_docs import BIGRAM_PREFIX, DocLayout, DocumentBuilder
from search.embedded_query import TantivyTranslator, field_name
from search.errors import QueryLimitError, QueryTimeoutError, SearchError, SearchUnavailable
from search.highlight import snippets
from search.matcher import haversine_m
from search.model import (
    FacetBucket,
    Filters,
    Health,
    Hit,
    IndexReport,
    SearchRequest,
    SearchResult,
)
from search.plan import SEARCH_TIME_LIMIT_S, PBool, PGeoRadius, PNode

log = logging.getLogger(__name__)

#: Index format written by this version. 1: text tokenized by tantivy's regex tokenizer;
#: 2: text tokenized in Python (``analysis.index_text``) and split on spaces by tantivy.
FORMAT = 2
TOKENIZER = "superbrain"  # format 1: the UAX #29-like Rust regex over folded text
WS_TOKENIZER = "superbrain_ws"  # format 2: whitespace split of pre-tokenized, lower-cased text
BIGRAM_TOKENIZER = "superbrain_bigram"  # format 2: Han character pairs (search.analysis.han_runs)
_RAW_FAST = ("uid", "source", "type", "day", "ids", "ent", "k_category", "k_district")
MAX_RADIUS_CANDIDATES = 200_000
_PINNED_SEARCHERS = 32
_PIN_SECONDS = 600


def _analyzer(pretokenized: bool) -> Any:
    if pretokenized:
        return TextAnalyzerBuilder(Tokenizer.whitespace()).build()
    return (
        TextAnalyzerBuilder(Tokenizer.regex(RUST_TOKEN_PATTERN)).filter(Filter.lowercase()).build()
    )


class _Damaged(SearchUnavailable):
    """A generation's files are incomplete (e.g. ``meta.json`` deleted)."""


class _Generation:
    """One tantivy index folder with the field layout it was built with."""

    def __init__(self, path: Path, registry: FieldRegistry, create: bool) -> None:
        self.path = path
        layout_file = path / "layout.json"
        if create:
            path.mkdir(parents=True, exist_ok=True)
            layout: dict[str, Any] = {
                "format": FORMAT,
                "text": registry.names(FieldRole.TEXT),
                "keyword": sorted(
                    {*registry.names(FieldRole.KEYWORD), *registry.names(FieldRole.IDENTIFIER)}
                ),
                "number": registry.names(FieldRole.NUMBER),
                "time": registry.names(FieldRole.TIME),
            }
            layout_file.write_text(json.dumps(layout, ensure_ascii=False), encoding="utf-8")
        else:
            layout = json.loads(layout_file.read_text(encoding="utf-8"))
        self.layout: dict[str, Any] = layout
        # Indexes written before format 2 keep their layout (they work; a reindex is faster).
        self.pretokenized = int(layout.get("format", 1)) >= 2
        self.fields: set[str] = set()
        meta = path / "meta.json"
        if (
            not create
            and not meta.exists()
            and any(
                f.suffix in (".idx", ".store", ".term", ".pos", ".fast") for f in path.iterdir()
            )
        ):
            # segments without the file that lists them: opening would start an empty index
            # over them and every search would silently find nothing
            raise _Damaged(f"{str(meta)!r} is missing: the index's segments cannot be opened")
        if meta.exists():
            # An existing index: its own schema says which fields it has (whatever version
            # of this code wrote it), so opening never depends on rebuilding the same schema.
            self.index = tantivy.Index.open(str(path))
            schema = json.loads(meta.read_text(encoding="utf-8"))["schema"]
            self.fields = {f["name"] for f in schema} - {"src"}
        else:
            self.index = tantivy.Index(self._build_schema(layout), path=str(path))
        self.schema = self.index.schema
        self.index.register_tokenizer(TOKENIZER, _analyzer(False))
        self.index.register_tokenizer(WS_TOKENIZER, _analyzer(True))
        self.index.register_tokenizer(
            BIGRAM_TOKENIZER, TextAnalyzerBuilder(Tokenizer.ngram(2, 2, False)).build()
        )
        self.translator = TantivyTranslator(self.schema, self.fields, default_text_fields(registry))
        self.doc_layout = DocLayout(frozenset(self.fields), self.pretokenized)

    def _build_schema(self, layout: dict[str, Any]) -> tantivy.Schema:
        tokenizer = WS_TOKENIZER if self.pretokenized else TOKENIZER
        # Format 2 keeps numbers, times and coordinates in fast fields only: tantivy's range
        # queries read the column, and not indexing them saves a term per value at ingest.
        ranged = not self.pretokenized
        sb = tantivy.SchemaBuilder()
        for name in _RAW_FAST:
            # uid, ids and ent are never faceted or sorted on; as fast fields they only cost
            # a dictionary of unique values at every commit (format 2 drops them).
            fast = ranged or name not in ("uid", "ids", "ent")
            sb.add_text_field(
                name, stored=name in ("uid", "source", "type"), fast=fast, tokenizer_name="raw"
            )
        sb.add_unsigned_field("h", indexed=True, fast=True)
        sb.add_text_field("all", tokenizer_name=tokenizer)
        sb.add_json_field("kx", tokenizer_name="raw")
        sb.add_date_field("time", indexed=ranged, fast=True)
        sb.add_float_field("lat", indexed=ranged, fast=True)
        sb.add_float_field("lon", indexed=ranged, fast=True)
        sb.add_bytes_field("src", stored=True)
        self.fields = {*_RAW_FAST, "h", "all", "kx", "time", "lat", "lon"}
        for name in layout["text"]:
            self._add(sb, f"t.{name}", lambda f: sb.add_text_field(f, tokenizer_name=tokenizer))
        if self.pretokenized:  # a bigram twin (no positions) of every analysed text field
            for text_field in ["all", *(field_name(f"t.{n}") for n in layout["text"])]:
                self._add(
                    sb,
                    f"{BIGRAM_PREFIX}{text_field}",
                    lambda f: sb.add_text_field(
                        f, tokenizer_name=BIGRAM_TOKENIZER, index_option="freq"
                    ),
                )
        for name in layout["keyword"]:
            self._add(
                sb, f"k.{name}", lambda f: sb.add_text_field(f, tokenizer_name="raw", fast=True)
            )
        for name in layout["number"]:
            self._add(sb, f"n.{name}", lambda f: sb.add_float_field(f, indexed=ranged, fast=True))
        for name in layout["time"]:
            self._add(sb, f"d.{name}", lambda f: sb.add_date_field(f, indexed=ranged, fast=True))
        return sb.build()

    def _add(self, sb: tantivy.SchemaBuilder, plan_field: str, add: Any) -> None:
        name = field_name(plan_field)
        if name not in self.fields:
            add(name)
            self.fields.add(name)

    def missing(self, registry: FieldRegistry) -> list[str]:
        """Declared fields this generation has no typed field for."""
        prefix = {FieldRole.TEXT: "t", FieldRole.NUMBER: "n", FieldRole.TIME: "d"}
        out = []
        for name, spec in registry.fields.items():
            if spec.role in (FieldRole.GEO, FieldRole.PHOTO):
                continue
            if field_name(f"{prefix.get(spec.role, 'k')}.{name}") not in self.fields:
                out.append(name)
        return sorted(out)


def _dt(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class EmbeddedBackend(SearchBackend):
    """Search without a server: a tantivy index under ``search_dir``.

    Thread-safe: searches run on immutable searcher snapshots; writes take an internal lock.
    Only one process may write at a time (tantivy's lock file enforces it).

    The writer defaults were measured on 2 cores (150k–300k records in 10,000-record
    batches): a second indexing thread costs ~6 % more CPU per record and ingests no
    faster (the ingesting Python thread needs the other core), and a larger heap changes
    nothing (a batch fits in 128 MB). ``add_json`` holds the GIL, so adding from a second
    thread only slows the thread building documents; ``commit`` releases it, but ``flush``
    must wait for it, so there is nothing to overlap it with.
    """

    name = "embedded"

    def __init__(
        self,
        search_dir: Path,
        registry: FieldRegistry,
        writer_heap: int = 128_000_000,
        writer_threads: int = 1,
        index_workers: int | None = None,
    ) -> None:
        super().__init__(registry)
        self.root = Path(search_dir) / "tantivy"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._writer: Any = None
        self._writer_heap = writer_heap
        self._writer_threads = writer_threads
        self._builder = DocumentBuilder(registry, index_workers)
        self._uncommitted: set[str] = set()  # uids added since the last commit
        self._pinned: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self.damage: str | None = None  # why the live generation had to be replaced
        self._gen: _Generation = self._open_current()
        self._current_mtime = self._current_file_mtime()

    # -- generations --------------------------------------------------------------------------
    def _current_file_mtime(self) -> float:
        try:
            return (self.root / "CURRENT").stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def _open_current(self) -> _Generation:
        current = self.root / "CURRENT"
        try:
            if current.exists():
                name = current.read_text(encoding="utf-8").strip()
                try:
                    return _Generation(self.root / name, self.registry, create=False)
                except _Damaged as exc:
                    # Keep the damaged folder for inspection, search an empty generation, and
                    # say so: health compares with the store (red), the stale marker names
                    # the cause, and `superbrain reindex` rebuilds.
                    from search.stage import mark_stale

                    self.damage = f"{exc}; run `superbrain reindex` to rebuild it from the store"
                    log.error("search index damaged: %s", self.damage)
                    mark_stale(self.root.parent, self.damage)
            gen = _Generation(self.root / f"g-{time.time_ns()}", self.registry, create=True)
            self._set_current(gen.path.name)
            return gen
        except (OSError, ValueError, json.JSONDecodeError) as exc:
            raise SearchUnavailable(
                f"{str(self.root)!r}: cannot open the search index: {exc}; "
                "run `superbrain reindex` to rebuild it"
            ) from exc

    def _set_current(self, name: str) -> None:
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(name, encoding="utf-8")
        os.replace(tmp, self.root / "CURRENT")

    def _generation(self) -> _Generation:
        """The live generation, switching when another process rebuilt the index."""
        mtime = self._current_file_mtime()
        if mtime != self._current_mtime:
            with self._lock:
                if mtime != self._current_mtime:
                    self._close_writer()
                    self._gen = self._open_current()
                    self._current_mtime = mtime
        return self._gen

    # -- writing ------------------------------------------------------------------------------
    def _writer_for(self, gen: _Generation) -> Any:
        if self._writer is None:
            try:
                self._writer = gen.index.writer(self._writer_heap, self._writer_threads)
            except ValueError as exc:
                raise SearchError(
                    f"{str(gen.path)!r}: cannot write the search index "
                    f"(is another ingest running?): {exc}"
                ) from exc
            gen.index.reload()  # another process may have written since: upserts look here
            self._uncommitted.clear()
        return self._writer

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer = None
            self._uncommitted.clear()

    def _indexed_already(self, gen: _Generation, uids: list[str]) -> set[str]:
        """The uids among ``uids`` that an upsert must delete first.

        A delete per added document costs tantivy about a fifth of its ingest work (each
        delete term is looked up in every segment at commit, measured), and on a fresh ingest
        nothing is there to delete. One term-set query over the committed index tells whether
        any of the chunk is there; if so, the whole chunk is replaced as before. Documents
        added since the last commit are not searchable yet and are remembered instead.
        """
        searcher = gen.index.searcher()
        query = tantivy.Query.term_set_query(gen.schema, "uid", uids)
        if searcher.search(query, 1, count=False).hits:
            return set(uids)
        return self._uncommitted.intersection(uids)

    def index(self, records: Sequence[Record]) -> IndexReport:
        gen = self._generation()
        failures: dict[str, str] = {}
        indexed = 0
        # Documents are built chunk by chunk outside the lock (searches go on) and added as
        # they come, so tantivy indexes one chunk while the next is being built.
        for docs, chunk_failures in self._builder.build(
            records, gen.doc_layout, size_hint=len(records)
        ):
            failures.update(chunk_failures)
            if not docs:
                continue
            with self._lock:
                writer = self._writer_for(gen)
                replace = self._indexed_already(gen, [uid for uid, _ in docs])
                indexed += self._add(writer, docs, failures, replace)
                self._uncommitted.update(uid for uid, _ in docs)
        return IndexReport(indexed, failures)

    @staticmethod
    def _add(
        writer: Any, docs: list[tuple[str, str]], failures: dict[str, str], replace: set[str]
    ) -> int:
        """Add ``docs``, deleting first the uids in ``replace`` (and repeats within ``docs``)."""
        added = 0
        for uid, doc in docs:
            if uid in replace:
                writer.delete_documents_by_term("uid", uid)
            replace.add(uid)  # the same uid again later in this chunk replaces this one
            try:
                writer.add_json(doc)
            except ValueError as exc:  # tantivy refused the document (e.g. a value out of range)
                failures[uid] = f"ValueError: {exc}"
                continue
            added += 1
        return added

    def delete(self, uids: Sequence[str]) -> None:
        gen = self._generation()
        with self._lock:
            writer = self._writer_for(gen)
            for uid in uids:
                writer.delete_documents_by_term("uid", uid)

    def flush(self) -> None:
        with self._lock:
            if self._writer is not None:
                try:
                    self._writer.commit()
                except (ValueError, OSError) as exc:  # e.g. tantivy's "No space left on device"
                    self._close_writer()
                    raise SearchError(storage_problem(self._gen.path, exc)) from exc
                self._uncommitted.clear()
                self._gen.index.reload()

    def release(self) -> None:
        """Commit and drop the writer, so another process (or backend) may write; stop the
        document workers until the next large batch."""
        self._builder.close()
        with self._lock:
            if self._writer is not None:
                self._writer.commit()
                self._writer.wait_merging_threads()
                self._writer = None
                self._uncommitted.clear()
                self._gen.index.reload()

    def close(self) -> None:
        self._builder.close()
        with self._lock:
            if self._writer is not None:
                self._writer.commit()
                self._writer.wait_merging_threads()
                self._writer = None
                self._uncommitted.clear()
            self._pinned.clear()

    def rebuild(
        self,
        records: Iterable[Record],
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IndexReport:
        new = _Generation(self.root / f"g-{time.time_ns()}", self.registry, create=True)
        writer = new.index.writer(self._writer_heap, self._writer_threads)
        meter = ProgressMeter(progress, total)
        failures: dict[str, str] = {}
        n = 0
        built = self._builder.build(records, new.doc_layout, size_hint=total)
        try:
            for docs, chunk_failures in built:
                failures.update(chunk_failures)
                n += self._add(writer, docs, failures, set())  # a fresh index: nothing to replace
                meter.advance(len(docs) + len(chunk_failures), "indexing")
                if cancel is not None and cancel.cancelled:
                    writer.rollback()
                    del writer
                    shutil.rmtree(new.path, ignore_errors=True)
                    return IndexReport(n, failures, cancelled=True)
        finally:
            built.close()  # stops handing out chunks; the pool itself stays for the next batch
        try:
            writer.commit()
            writer.wait_merging_threads()
        except (ValueError, OSError) as exc:  # the old index stays in use
            shutil.rmtree(new.path, ignore_errors=True)
            raise SearchError(storage_problem(new.path, exc)) from exc
        meter.advance(0, "switching", force=True)
        with self._lock:
            old = self._gen
            self._close_writer()
            self._set_current(new.path.name)
            self._gen = new
            self._current_mtime = self._current_file_mtime()
            new.index.reload()
            self._pinned.clear()
        for path in self.root.glob("g-*"):  # keep the previous generation for open readers
            if path not in (new.path, old.path):
                shutil.rmtree(path, ignore_errors=True)
        return IndexReport(n, failures)

    # -- searching ----------------------------------------------------------------------------
    def _searcher(self, gen: _Generation, pin: str | None) -> tuple[Any, str]:
        now = time.monotonic()
        with self._lock:
            for key in [k for k, (_, t) in self._pinned.items() if now - t > _PIN_SECONDS]:
                del self._pinned[key]
            if pin and pin in self._pinned:
                searcher, _ = self._pinned.pop(pin)
            else:
                searcher = gen.index.searcher()
                pin = f"{gen.path.name}:{time.time_ns()}"
            self._pinned[pin] = (searcher, now)
            while len(self._pinned) > _PINNED_SEARCHERS:
                self._pinned.popitem(last=False)
        return searcher, pin

    def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        plan = self.plan(request)
        size = max(1, min(1000, request.size))
        offset, pin = 0, None
        if request.cursor:
            payload = decode_cursor(request.cursor, request)
            offset, pin = int(payload["off"]), payload.get("pin")
        gen = self._generation()
        searcher, pin = self._searcher(gen, pin)
        kwargs: dict[str, Any] = {}
        if request.sort != "relevance":
            kwargs = {
                "order_by_field": "time",
                "order": Order.Desc if request.sort == "time_desc" else Order.Asc,
            }
        try:
            query = self._query(gen, searcher, plan.root)
            result = searcher.search(query, size, count=True, offset=offset, **kwargs)
        except ValueError as exc:  # tantivy: e.g. a wildcard's automaton over its size limit
            raise QueryLimitError(
                f"the query is too complex for the index ({exc})", request.query, 0
            ) from None
        deadline = started + SEARCH_TIME_LIMIT_S
        hits = []
        for score, address in result.hits:
            _check_deadline(deadline, request.query)
            stored = searcher.doc(address)
            src = json.loads(stored["src"][0])
            ms = src.get("ms")
            hits.append(
                Hit(
                    uid=stored["uid"][0],
                    source=stored["source"][0],
                    type=stored["type"][0],
                    score=float(score) if request.sort == "relevance" else 0.0,
                    time=_dt(ms) if ms is not None else None,
                    geo=(src["geo"][0], src["geo"][1]) if src.get("geo") else None,
                    title=src.get("title", ""),
                    snippets=snippets(src.get("all", []), plan.highlight_terms)
                    if request.highlight
                    else (),
                    text=src.get("text", {}),
                )
            )
        total = int(result.count or 0)
        _check_deadline(deadline, request.query)
        facets = self._facets(gen, searcher, query, request) if not request.cursor else {}
        next_cursor = None
        if offset + len(hits) < total and hits:
            next_cursor = encode_cursor(
                {"q": request_key(request), "off": offset + len(hits), "pin": pin}
            )
        warnings = list(plan.warnings)
        from search.stage import stale_reason

        stale = stale_reason(self.root.parent)
        if stale:
            warnings.append(
                f"the search index is stale ({stale}): results may miss records; "
                "run `superbrain reindex`"
            )
        missing = gen.missing(self.registry)
        if missing:
            warnings.append(
                "the search index predates fields "
                + ", ".join(missing[:5])
                + ": run `superbrain reindex`"
            )
        return SearchResult(
            total,
            tuple(hits),
            facets,
            next_cursor,
            (time.perf_counter() - started) * 1000,
            tuple(warnings),
        )

    def _query(self, gen: _Generation, searcher: Any, root: PNode) -> Any:
        query = gen.translator.translate(root)
        radii = _radius_filters(root)
        if not radii:
            return query
        # Exact circles: the translated query holds each circle's bounding box; keep only the
        # candidates within the radius, identified by their uid hash.
        candidates = searcher.search(query, MAX_RADIUS_CANDIDATES, count=False)
        addresses = [a for _, a in candidates.hits]
        lats = searcher.fast_field_values("lat", addresses)
        lons = searcher.fast_field_values("lon", addresses)
        hashes = searcher.fast_field_values("h", addresses)
        keep = [
            h
            for h, la, lo in zip(hashes, lats, lons, strict=True)
            if la is not None and all(haversine_m(r.lat, r.lon, la, lo) <= r.meters for r in radii)
        ]
        if len(addresses) >= MAX_RADIUS_CANDIDATES:
            log.warning(
                "radius filter: more than %d candidates, result truncated", MAX_RADIUS_CANDIDATES
            )
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, query),
                (
                    tantivy.Occur.Must,
                    tantivy.Query.const_score_query(
                        tantivy.Query.term_set_query(gen.schema, "h", keep), 0.0
                    ),
                ),
            ]
        )

    def _facets(
        self, gen: _Generation, searcher: Any, query: Any, request: SearchRequest
    ) -> dict[str, tuple[FacetBucket, ...]]:
        if not request.facets:
            return {}
        aggs = {}
        for name in request.facets:
            f = name if name in ("source", "type", "day") else field_name(f"k.{name}")
            if f in gen.fields:
                aggs[name] = {"terms": {"field": f, "size": request.facet_size}}
        raw = searcher.aggregate(query, aggs) if aggs else {}
        out: dict[str, tuple[FacetBucket, ...]] = {}
        for name in request.facets:
            buckets = raw.get(name, {}).get("buckets", [])
            out[name] = tuple(
                sorted(
                    (FacetBucket(str(b["key"]), int(b["doc_count"])) for b in buckets),
                    key=lambda b: (-b.count, b.value),
                )
            )
        return out

    def count(self, query: str = "", filters: Filters | None = None) -> int:
        plan = self.planner.plan(query, filters)
        gen = self._generation()
        searcher = gen.index.searcher()
        result: Any = searcher.search(self._query(gen, searcher, plan.root), 1, count=True)
        return int(result.count)

    def health(self) -> Health:
        try:
            gen = self._generation()
            docs = int(gen.index.searcher().num_docs)
        except SearchError as exc:
            return Health(self.name, "red", 0, message=str(exc))
        missing = gen.missing(self.registry)
        status = "yellow" if missing else "green"
        message = (
            f"index predates fields {', '.join(missing)}: run `superbrain reindex`"
            if missing
            else "ok"
        )
        return self._with_store(
            Health(
                self.name,
                status,
                docs,
                {"path": str(gen.path), "segments": gen.index.searcher().num_segments},
                message,
            )
        )


def _check_deadline(deadline: float, query: str) -> None:
    if time.perf_counter() > deadline:
        raise QueryTimeoutError(
            f"the search for {query[:60]!r} ran longer than "
            f"{SEARCH_TIME_LIMIT_S:g} s and was stopped; narrow it (a field,"
            " a time range, fewer wildcards)"
        )


def _radius_filters(node: PNode) -> list[PGeoRadius]:
    if isinstance(node, PGeoRadius):
        return [node]
    if isinstance(node, PBool):
        return [r for n in (*node.must, *node.filter) for r in _radius_filters(n)]
    return []
