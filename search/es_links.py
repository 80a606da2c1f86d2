"""Entities and links on Elasticsearch: the storage half of the cluster graph store.

The Elasticsearch client stays in ``search/`` (the layering rule); this module only stores and
reads rows, and :mod:`graph.backend` runs the graph operations over it, the same code as over
SQLite. Two indices per prefix::

    <prefix>-entities   one document per entity, _id = entity id
    <prefix>-links      one document per link, _id = link id (idempotent re-sends)

A link row comes back as ``(handle, type, source, target, time, record_uid)`` with the
document id as handle, the shape SQLite rows have. Times are epoch seconds kept as ``double``,
so a time read back equals the time written (the conformance suite compares them exactly).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from search.errors import SearchConfigError, SearchError, SearchUnavailable

log = logging.getLogger(__name__)

LinkRow = tuple[str, str, str, str, "float | None", str]
T = TypeVar("T")
PAGE = 5000  # hits per page of a link scan
TERMS_CHUNK = 10_000  # ids per terms clause (the index limit is 65,536)
SPLIT_MIN = 250  # a links-among read of at least twice this many ids runs as two searches
_NAME = re.compile(r"[^a-z0-9_]+")
_USERINFO = re.compile(r"//[^/@]*@")
_KEYWORD = {"type": "keyword"}
_LINK_SORT = [
    {"source": "asc"},
    {"target": "asc"},
    {"type": "asc"},
    {"time": {"order": "asc", "missing": "_first"}},
    {"record_uid": "asc"},
]

_FILTER = "hits.total.value,hits.hits._id,hits.hits._source,hits.hits.sort"


def _rows(hits: list[dict[str, Any]]) -> Iterator[LinkRow]:
    for h in hits:
        s = h["_source"]
        yield (h["_id"], s["type"], s["source"], s["target"], s.get("time"), s["record_uid"])


ENTITY_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "type": _KEYWORD,
        "key": _KEYWORD,
        "label": {"type": "keyword", "index": False},
        "props": {"type": "keyword", "index": False, "doc_values": False},
        "first_seen": {"type": "double"},
        "last_seen": {"type": "double"},
    },
}
LINK_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "type": _KEYWORD,
        "source": _KEYWORD,
        "target": _KEYWORD,
        "time": {"type": "double"},
        # read back and sorted on, never searched: doc values only
        "record_uid": {"type": "keyword", "index": False},
    },
}


def _es() -> Any:
    import elasticsearch
    import elasticsearch.helpers

    return elasticsearch


def es_client(
    urls: str,
    *,
    username: str = "",
    password: str = "",
    api_key: str = "",
    ca_certs: str = "",
    timeout: float = 30,
) -> tuple[Any, str]:
    """A client for a comma-separated URL list, and the URLs as shown (no credentials)."""
    hosts = [u.strip() for u in urls.split(",") if u.strip()]
    if not hosts:
        raise SearchConfigError("no Elasticsearch URL configured")
    kwargs: dict[str, Any] = {
        "request_timeout": timeout,
        "retry_on_timeout": True,
        "max_retries": 3,
    }
    if api_key:
        kwargs["api_key"] = api_key
    elif username:
        kwargs["basic_auth"] = (username, password)
    if ca_certs:
        kwargs["ca_certs"] = ca_certs
    try:  # orjson reads a page of 5,000 link hits ~2x faster than the standard library
        from elasticsearch.serializer import OrjsonSerializer

        kwargs["serializer"] = OrjsonSerializer()
    except ImportError:  # pragma: no cover - orjson is a declared dependency
        pass
    try:
        client = _es().Elasticsearch(hosts, **kwargs)
    except ValueError as exc:
        raise SearchConfigError(f"Elasticsearch url {urls!r}: {exc}") from exc
    return client, ",".join(_USERINFO.sub("//***@", u) for u in hosts)


def config_client(cfg: Any, url: str = "") -> tuple[Any, str]:
    """:func:`es_client` for a workspace's ``[search]`` settings (``SearchConfig``: URL and
    credentials), at ``url`` instead of its URL when given (``[graph]`` / ``[faces] url``)."""
    return es_client(
        url or cfg.url,
        username=cfg.username,
        password=cfg.password,
        api_key=cfg.api_key,
        ca_certs=cfg.ca_certs,
    )


@contextmanager
def es_errors(url: str, what: str) -> Iterator[None]:
    """Connection trouble and refusals inside the block become search errors naming ``what``
    was being done and where."""
    es = _es()
    try:
        yield
    except (es.ConnectionError, es.ConnectionTimeout) as exc:
        raise SearchUnavailable(
            f"Elasticsearch at {url or '?'} is unreachable ({what}): {exc}"
        ) from None
    except es.ApiError as exc:
        status = getattr(exc.meta, "status", 0)
        info = getattr(exc, "info", None) or getattr(exc, "body", None)
        reason = str(exc)
        if isinstance(info, dict) and isinstance(info.get("error"), dict):
            root = (info["error"].get("root_cause") or [info["error"]])[0]
            reason = f"{root.get('type')}: {root.get('reason')}"
        kind = SearchUnavailable if status in (429, 503) else SearchError
        raise kind(f"Elasticsearch at {url} refused {what} (HTTP {status}): {reason}") from None


def call(url: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """One client call under :func:`es_errors`."""
    with es_errors(url, what):
        return fn(*args, **kwargs)


def guarded(url: str, what: str, items: Iterable[Any]) -> Iterator[Any]:
    """Iterate a streaming helper (bulk, scroll) under :func:`es_errors`."""
    with es_errors(url, what):
        yield from items


def bulk_index(
    client: Any, url: str, actions: Iterable[dict[str, Any]], *, threads: int, chunk: int, what: str
) -> int:
    """Bulk-index ``actions`` (in ``threads`` parallel streams, or one streaming with retries)
    and return how many were acknowledged; the first rejection raises :class:`SearchError`
    naming the document (those acknowledged before it stay; resending is harmless)."""
    helpers = _es().helpers
    if threads > 1:
        stream = helpers.parallel_bulk(
            client,
            actions,
            thread_count=threads,
            chunk_size=chunk,
            raise_on_error=False,
            raise_on_exception=False,
            queue_size=threads,
        )
    else:
        stream = helpers.streaming_bulk(
            client,
            actions,
            chunk_size=chunk,
            max_retries=6,
            initial_backoff=0.5,
            raise_on_error=False,
            raise_on_exception=False,
        )
    ok = 0
    for success, item in guarded(url, what, stream):
        if not success:
            info = next(iter(item.values()))
            raise SearchError(
                f"Elasticsearch at {url} rejected {info.get('_id')!r} "
                f"in {info.get('_index')} ({what}): {info.get('error')}"
            )
        ok += 1
    return ok


class EsLinkIndex:
    """The entity and link indices under one prefix.

    Parameters
    ----------
    client:
        An ``elasticsearch.Elasticsearch`` client (see :func:`es_client`).
    prefix:
        Index name prefix (lower-cased; other characters become ``-``).
    shards, replicas:
        For indices this object creates. One replica is what keeps an acknowledged write
        through the loss of a node.
    """

    split_min = SPLIT_MIN

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "superbrain-graph",
        url: str = "",
        shards: int = 1,
        replicas: int = 0,
    ) -> None:
        self.client = client
        self.prefix = _NAME.sub("-", prefix.lower()).strip("-") or "superbrain-graph"
        self.url = url
        self.shards = shards
        self.replicas = replicas
        self.entities = f"{self.prefix}-entities"
        self.links = f"{self.prefix}-links"
        self._threads: ThreadPoolExecutor | None = None

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return call(self.url, what, fn, *args, **kwargs)

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run a read on another connection (the client is thread-safe): two searches at once
        use two of the node's cores where one search uses one."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=3, thread_name_prefix="es-links")
        return self._threads.submit(fn)

    # -- indices ---------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the two indices if missing (idempotent; a racing creator is fine)."""
        for name, mapping in ((self.entities, ENTITY_MAPPING), (self.links, LINK_MAPPING)):
            if self._call(f"checking index {name}", self.client.indices.exists, index=name):
                continue
            try:
                self._call(
                    f"creating index {name}",
                    self.client.indices.create,
                    index=name,
                    settings={
                        "number_of_shards": self.shards,
                        "number_of_replicas": self.replicas,
                        "refresh_interval": "1s",
                    },
                    mappings=mapping,
                )
            except SearchError as exc:
                if "already_exists" not in str(exc):
                    raise

    def drop(self) -> None:
        """Delete both indices (tests, or a migration started over)."""
        self._call(
            "deleting the graph indices",
            self.client.indices.delete,
            index=f"{self.entities},{self.links}",
            ignore_unavailable=True,
        )

    def refresh(self) -> None:
        self._call(
            "refreshing",
            self.client.indices.refresh,
            index=f"{self.entities},{self.links}",
            ignore_unavailable=True,
        )

    def counts(self) -> dict[str, int]:
        """Documents in each index (after a refresh)."""
        return {
            name: int(self._call(f"counting {name}", self.client.count, index=name)["count"])
            for name in (self.entities, self.links)
        }

    def store_bytes(self) -> dict[str, int]:
        """Primary store size of each index in bytes (for the sizing in docs/SCALING.md)."""
        stats = self._call(
            "reading index stats",
            self.client.indices.stats,
            index=f"{self.entities},{self.links}",
            metric="store",
        )
        return {
            name: int(stats["indices"][name]["primaries"]["store"]["size_in_bytes"])
            for name in (self.entities, self.links)
            if name in stats["indices"]
        }

    # -- writing ---------------------------------------------------------------------------
    def write(
        self,
        entities: Iterable[Sequence[Any]],
        links: Iterable[Sequence[Any]],
        *,
        threads: int = 2,
        chunk: int = 2000,
        refresh: bool = False,
    ) -> tuple[int, int]:
        """Index entity rows ``(id, type, key, label, props_json, first, last)`` and link rows
        ``(id, type, source, target, time, record_uid)``; return what was acknowledged.

        Bulk requests run on ``threads`` connections. Raises :class:`SearchError` naming the
        first rejected document when any is rejected (those before it are acknowledged; a
        re-send of the same rows is harmless, the ids are the rows' own).
        """
        ents = (
            {
                "_index": self.entities,
                "_id": e[0],
                "_source": {
                    "type": e[1],
                    "key": e[2],
                    "label": e[3],
                    "props": e[4] or "{}",
                    "first_seen": e[5],
                    "last_seen": e[6],
                },
            }
            for e in entities
        )
        lnks = (
            {
                "_index": self.links,
                "_id": r[0],
                "_source": {
                    "type": r[1],
                    "source": r[2],
                    "target": r[3],
                    "time": r[4],
                    "record_uid": r[5],
                },
            }
            for r in links
        )
        done = [self._bulk(ents, threads, chunk), self._bulk(lnks, threads, chunk)]
        if refresh:
            self.refresh()
        return done[0], done[1]

    def _bulk(self, actions: Iterable[dict[str, Any]], threads: int, chunk: int) -> int:
        return bulk_index(
            self.client,
            self.url,
            actions,
            threads=threads,
            chunk=chunk,
            what="bulk indexing graph rows",
        )

    # -- reading ---------------------------------------------------------------------------
    def entity_rows(self, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        """``id -> (id, type, key, label, props_json)`` for the ids that exist."""
        out: dict[str, tuple[Any, ...]] = {}
        for i in range(0, len(ids), TERMS_CHUNK):
            resp = self._call(
                "reading entities",
                self.client.mget,
                index=self.entities,
                ids=list(ids[i : i + TERMS_CHUNK]),
            )
            for d in resp["docs"]:
                if "error" in d:  # e.g. the index is missing: not the same as "no entity"
                    err = d["error"]
                    raise SearchError(
                        f"Elasticsearch at {self.url} cannot read entity "
                        f"{d.get('_id')!r} from {self.entities}: "
                        f"{err.get('type')}: {err.get('reason')}"
                        if isinstance(err, dict)
                        else str(err)
                    )
                if d.get("found"):
                    s = d["_source"]
                    out[d["_id"]] = (d["_id"], s["type"], s["key"], s["label"], s["props"])
        return out

    @staticmethod
    def _filters(
        types: Sequence[str] | None, start: float | None, end: float | None
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if types:
            out.append({"terms": {"type": list(types)}})
        if start is not None or end is not None:
            rng: dict[str, float] = {}
            if start is not None:
                rng["gte"] = start
            if end is not None:
                rng["lte"] = end
            out.append({"range": {"time": rng}})
        return out

    def _scan(self, filters: list[dict[str, Any]], what: str) -> Iterator[LinkRow]:
        # Most reads fit in one page: ask for it unsorted (sorting thousands of hits on five
        # fields costs the node more than fetching them); page in sorted order only when the
        # first answer says there is more.
        query = {"bool": {"filter": filters}}
        first = self._call(
            what,
            self.client.search,
            index=self.links,
            query=query,
            size=PAGE,
            track_total_hits=PAGE + 1,
            filter_path=_FILTER,
        )
        hits = first.get("hits", {}).get("hits", [])
        if int(first["hits"]["total"]["value"]) <= PAGE:
            yield from _rows(hits)
            return
        after = None
        while True:
            body: dict[str, Any] = {
                "query": query,
                "size": PAGE,
                "sort": _LINK_SORT,
                "track_total_hits": False,
            }
            if after is not None:
                body["search_after"] = after
            hits = (
                self._call(what, self.client.search, index=self.links, filter_path=_FILTER, **body)
                .get("hits", {})
                .get("hits", [])
            )
            yield from _rows(hits)
            if len(hits) < PAGE:
                return
            after = hits[-1]["sort"]

    def links_of(
        self,
        ids: Sequence[str],
        column: str,
        types: Sequence[str] | None = None,
        start: float | None = None,
        end: float | None = None,
        other_in: Sequence[str] | None = None,
    ) -> Iterator[LinkRow]:
        """Links whose ``column`` (``source`` or ``target``) is one of ``ids`` — and, with
        ``other_in``, whose other end is one of those — by type and time window."""
        other = "target" if column == "source" else "source"
        base = self._filters(types, start, end)
        others = list(other_in) if other_in is not None else None
        if (
            others is not None
            and self.split_min * 2 <= len(ids) <= TERMS_CHUNK
            and len(others) <= TERMS_CHUNK
        ):
            # One shard answers a search on one thread: two halves at once use two cores of
            # the node (the links among a 2,000-entity expansion: docs/PERFORMANCE.md).
            half = (len(ids) + 1) // 2
            flt = [*base, {"terms": {other: others}}]

            def read(part: list[str]) -> list[LinkRow]:
                scan = self._scan([*flt, {"terms": {column: part}}], f"reading links by {column}")
                return list(scan)

            jobs = [
                self.submit(functools.partial(read, list(ids[:half]))),
                self.submit(functools.partial(read, list(ids[half:]))),
            ]
            for job in jobs:
                yield from job.result()
            return
        for i in range(0, len(ids), TERMS_CHUNK):
            flt = [*base, {"terms": {column: list(ids[i : i + TERMS_CHUNK])}}]
            if others is None:
                yield from self._scan(flt, f"reading links by {column}")
                continue
            for j in range(0, len(others), TERMS_CHUNK):
                yield from self._scan(
                    [*flt, {"terms": {other: others[j : j + TERMS_CHUNK]}}],
                    f"reading links by {column}",
                )

    def links_touching(
        self,
        ids: Sequence[str],
        types: Sequence[str] | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> Iterator[LinkRow]:
        """Links with either end in ``ids`` (each once), by type and time window: one query
        per chunk of ids where :meth:`links_of` needs one per column."""
        base = self._filters(types, start, end)
        for i in range(0, len(ids), TERMS_CHUNK):
            chunk = list(ids[i : i + TERMS_CHUNK])
            yield from self._scan(
                [
                    *base,
                    {
                        "bool": {
                            "should": [{"terms": {"source": chunk}}, {"terms": {"target": chunk}}],
                            "minimum_should_match": 1,
                        }
                    },
                ],
                "reading links",
            )

    def links_and_counts(
        self,
        ids: Sequence[str],
        limit: int,
        types: Sequence[str] | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> tuple[dict[str, int], list[LinkRow] | None]:
        """How many links each of ``ids`` has (as :meth:`link_counts`) and, when all the links
        touching ``ids`` number at most ``limit``, those links (each once) — one request where
        counting and then reading takes two. ``None`` in place of the links when there are
        more (nothing beyond ``limit`` hits is fetched)."""
        if len(ids) > TERMS_CHUNK or limit > PAGE:
            return self.link_counts(ids, types, start, end), None
        chunk = list(ids)
        resp = self._call(
            "reading links",
            self.client.search,
            index=self.links,
            size=limit,
            track_total_hits=limit + 1,
            query={
                "bool": {
                    "filter": self._filters(types, start, end),
                    "should": [{"terms": {"source": chunk}}, {"terms": {"target": chunk}}],
                    "minimum_should_match": 1,
                }
            },
            aggs=self._count_aggs(chunk),
            filter_path=f"{_FILTER},aggregations",
        )
        out: dict[str, int] = {}
        for c in ("source", "target"):
            for b in resp["aggregations"][c]["buckets"]:
                out[b["key"]] = out.get(b["key"], 0) + int(b["doc_count"])
        if int(resp["hits"]["total"]["value"]) > limit:
            return out, None
        return out, list(_rows(resp.get("hits", {}).get("hits", [])))

    @staticmethod
    def _count_aggs(chunk: list[str]) -> dict[str, Any]:
        # "map": count the matching links' values as they come. The default walks global
        # ordinals, which the node rebuilds over every distinct entity after each refresh
        # (seconds at 1M entities while links are being written; docs/PERFORMANCE.md).
        return {
            c: {
                "terms": {
                    "field": c,
                    "include": chunk,
                    "size": len(chunk),
                    "execution_hint": "map",
                }
            }
            for c in ("source", "target")
        }

    def link_counts(
        self,
        ids: Sequence[str],
        types: Sequence[str] | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> dict[str, int]:
        """How many links (either end) each of ``ids`` has, by aggregation (no hits read)."""
        out: dict[str, int] = {}
        base = self._filters(types, start, end)
        for i in range(0, len(ids), TERMS_CHUNK):
            chunk = list(ids[i : i + TERMS_CHUNK])
            aggs = self._count_aggs(chunk)
            resp = self._call(
                "counting links",
                self.client.search,
                index=self.links,
                size=0,
                query={
                    "bool": {
                        "filter": base,
                        "should": [{"terms": {"source": chunk}}, {"terms": {"target": chunk}}],
                        "minimum_should_match": 1,
                    }
                },
                aggs=aggs,
            )
            for c in ("source", "target"):
                for b in resp["aggregations"][c]["buckets"]:
                    out[b["key"]] = out.get(b["key"], 0) + int(b["doc_count"])
        return out

    def links_near(
        self, probes: Sequence[tuple[str, float]], window: float, link_type: str
    ) -> Iterator[LinkRow]:
        """For each ``(target, time)``, the ``link_type`` links to that target within
        ±``window`` s (co-occurrence: who passed the same device at the same time)."""
        for i in range(0, len(probes), 200):
            searches: list[dict[str, Any]] = []
            for target, t in probes[i : i + 200]:
                searches.append({"index": self.links})
                searches.append(
                    {
                        "size": 10_000,
                        "track_total_hits": False,
                        "query": {
                            "bool": {
                                "filter": [
                                    {"term": {"target": target}},
                                    {"term": {"type": link_type}},
                                    {"range": {"time": {"gte": t - window, "lte": t + window}}},
                                ]
                            }
                        },
                    }
                )
            resp = self._call("reading co-sightings", self.client.msearch, searches=searches)
            for r in resp["responses"]:
                if "error" in r:
                    raise SearchError(
                        f"Elasticsearch at {self.url} refused a co-sighting "
                        f"read: {json.dumps(r['error'])[:300]}"
                    )
                for h in r["hits"]["hits"]:
                    s = h["_source"]
                    yield (
                        h["_id"],
                        s["type"],
                        s["source"],
                        s["target"],
                        s.get("time"),
                        s["record_uid"],
                    )

    def scan_type(
        self, link_type: str, start: float | None = None, end: float | None = None
    ) -> Iterator[LinkRow]:
        """Every ``link_type`` link with a time (in the window), in no particular order, by a
        scroll over all shards (the input of all-pairs co-occurrence)."""
        flt = [*self._filters([link_type], start, end), {"exists": {"field": "time"}}]
        scan = _es().helpers.scan(
            self.client, index=self.links, size=PAGE, query={"query": {"bool": {"filter": flt}}}
        )
        for h in guarded(self.url, "scanning links", scan):
            s = h["_source"]
            yield (h["_id"], s["type"], s["source"], s["target"], s.get("time"), s["record_uid"])

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False)
        self.client.close()
