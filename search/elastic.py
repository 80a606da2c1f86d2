"""The Elasticsearch backend (for scale): one index per record type behind aliases.

Index layout, for ``index_prefix = "superbrain"`` and record type ``incident``::

    superbrain-incident-<stamp>     concrete index, mappings built from the RecordSchema
    superbrain-incident             write alias of the live concrete index
    superbrain-all                  read alias over every live concrete index (searches)

A rebuild writes new concrete indices and swaps both aliases in one atomic ``_aliases`` call,
so searches never see a missing or half-built index. The client is ``elasticsearch`` 8.x,
which talks to Elasticsearch 8 and 9 clusters (it sends ``compatible-with=8``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from core.model import FieldRole, Record, RecordSchema
from core.progress import CancelToken, ProgressCallback, ProgressMeter
from core.workspace import SearchConfig
from search.backend import SearchBackend, decode_cursor, encode_cursor, request_key
from search.document import FieldRegistry, default_text_fields
from search.errors import SearchConfigError, SearchError, SearchUnavailable
from search.es_bulk import BULK_THREADS, EsDocBuilder, ParallelBulk
from search.es_query import to_dsl
from search.highlight import merge_adjacent_marks
from search.model import (
    MARK_CLOSE,
    MARK_OPEN,
    FacetBucket,
    Filters,
    Health,
    Hit,
    IndexReport,
    SearchRequest,
    SearchResult,
)
from search.plan import SEARCH_TIME_LIMIT_S

log = logging.getLogger(__name__)

BULK_CHUNK = 1000
PIT_KEEP_ALIVE = "5m"
_NAME = re.compile(r"[^a-z0-9_]+")
_USERINFO = re.compile(r"//[^/@]*@")


def _es() -> Any:
    import elasticsearch
    import elasticsearch.helpers

    return elasticsearch


def schema_mapping(schema: RecordSchema | None) -> dict[str, Any]:
    """The index mapping of one record type (undeclared fields go by dynamic templates)."""
    t: dict[str, Any] = {}
    k: dict[str, Any] = {}
    n: dict[str, Any] = {}
    d: dict[str, Any] = {}
    for spec in schema.fields if schema else ():
        if spec.role is FieldRole.TEXT:
            t[spec.name] = {"type": "text", "analyzer": "standard"}
        elif spec.role in (FieldRole.KEYWORD, FieldRole.IDENTIFIER):
            k[spec.name] = {"type": "keyword"}
        elif spec.role is FieldRole.NUMBER:
            n[spec.name] = {"type": "double"}
        elif spec.role is FieldRole.TIME:
            d[spec.name] = {"type": "date", "format": "epoch_millis"}
    keyword = {"type": "keyword"}
    return {
        "dynamic": True,
        "dynamic_templates": [
            {"t": {"path_match": "t.*", "mapping": {"type": "text", "analyzer": "standard"}}},
            {"k": {"path_match": "k.*", "mapping": keyword}},
            {"n": {"path_match": "n.*", "mapping": {"type": "double"}}},
            {"d": {"path_match": "d.*", "mapping": {"type": "date", "format": "epoch_millis"}}},
        ],
        "properties": {
            "uid": keyword,
            "source": keyword,
            "type": keyword,
            "day": keyword,
            "ids": keyword,
            "ent": keyword,
            "all": {"type": "text", "analyzer": "standard"},
            "time": {"type": "date", "format": "epoch_millis"},
            "geo": {"type": "geo_point"},
            "src": {"type": "object", "enabled": False},
            "t": {"properties": t},
            "k": {"properties": k},
            "n": {"properties": n},
            "d": {"properties": d},
        },
    }


class ElasticsearchBackend(SearchBackend):
    """Search on an Elasticsearch 8.x or 9.x cluster.

    Thread-safe (the client pools connections). Errors reaching the cluster raise
    :class:`~search.errors.SearchUnavailable` with the URL and the reason.
    """

    name = "elasticsearch"

    def __init__(
        self,
        client: Any,
        registry: FieldRegistry,
        *,
        prefix: str = "superbrain",
        url: str = "",
        shards: int = 1,
        replicas: int = 0,
        bulk_threads: int = BULK_THREADS,
    ) -> None:
        super().__init__(registry)
        self.client = client
        self.prefix = _NAME.sub("-", prefix.lower()).strip("-") or "superbrain"
        self.url = url
        self.shards = shards
        self.replicas = replicas
        self.read_alias = f"{self.prefix}-all"
        self._known_aliases: set[str] = set()
        self._lock = threading.Lock()
        self.retire_grace_seconds = 2.0
        self.text_fields = default_text_fields(registry)
        #: Documents from the compiled builder, sent on ``bulk_threads`` connections at once.
        self.docs = EsDocBuilder(registry)
        self.bulk_threads = bulk_threads

    @classmethod
    def from_config(
        cls, cfg: SearchConfig, registry: FieldRegistry, *, shards: int = 1, replicas: int = 0
    ) -> ElasticsearchBackend:
        """A backend for the workspace's ``[search]`` settings (URL(s), credentials, CA)."""
        urls = [u.strip() for u in cfg.url.split(",") if u.strip()]
        if not urls:
            raise SearchConfigError("[search] backend is 'elasticsearch' but url is empty")
        kwargs: dict[str, Any] = {"request_timeout": 30, "retry_on_timeout": True, "max_retries": 2}
        if cfg.api_key:
            kwargs["api_key"] = cfg.api_key
        elif cfg.username:
            kwargs["basic_auth"] = (cfg.username, cfg.password)
        if cfg.ca_certs:
            kwargs["ca_certs"] = cfg.ca_certs
        try:
            client = _es().Elasticsearch(urls, **kwargs)
        except ValueError as exc:
            raise SearchConfigError(f"[search] url {cfg.url!r}: {exc}") from exc
        shown = ",".join(_USERINFO.sub("//***@", u) for u in urls)  # no passwords in messages
        return cls(
            client, registry, prefix=cfg.index_prefix, url=shown, shards=shards, replicas=replicas
        )

    # -- errors ------------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        es = _es()
        try:
            return fn(*args, **kwargs)
        except (es.ConnectionError, es.ConnectionTimeout) as exc:
            raise SearchUnavailable(
                f"Elasticsearch at {self.url or '?'} is unreachable ({what}): {exc}"
            ) from None
        except es.AuthenticationException as exc:
            raise SearchUnavailable(
                f"Elasticsearch at {self.url} rejected the credentials "
                f"in [search] ({what}): {exc.message}"
            ) from None
        except es.ApiError as exc:
            status = getattr(exc.meta, "status", 0)
            if status in (503, 429) or "all shards failed" in str(exc):
                raise SearchUnavailable(
                    f"Elasticsearch at {self.url} cannot serve {what} "
                    f"(HTTP {status}): {self._short(exc)}; cluster health: "
                    f"{self.health().status}"
                ) from None
            raise SearchError(
                f"Elasticsearch refused {what} (HTTP {status}): {self._short(exc)}"
            ) from None

    @staticmethod
    def _short(exc: Any) -> str:
        info = getattr(exc, "info", None) or getattr(exc, "body", None)
        if isinstance(info, dict) and isinstance(info.get("error"), dict):
            err = info["error"]
            root = (err.get("root_cause") or [err])[0]
            return f"{root.get('type')}: {root.get('reason')}"
        return str(exc)

    # -- indices -----------------------------------------------------------------------------
    def type_alias(self, record_type: str) -> str:
        return f"{self.prefix}-{_NAME.sub('_', record_type.lower())}"

    def _create_concrete(self, record_type: str, aliases: bool) -> str:
        name = f"{self.type_alias(record_type)}-{time.time_ns()}"
        body: dict[str, Any] = {
            "settings": {
                "number_of_shards": self.shards,
                "number_of_replicas": self.replicas,
                "refresh_interval": "1s",
            },
            "mappings": schema_mapping(self.registry.schemas.get(record_type)),
        }
        if aliases:
            body["aliases"] = {
                self.type_alias(record_type): {"is_write_index": True},
                self.read_alias: {},
            }
        self._call(f"creating index {name}", self.client.indices.create, index=name, **body)
        return name

    def _ensure_alias(self, record_type: str) -> str:
        alias = self.type_alias(record_type)
        if alias in self._known_aliases:
            return alias
        with self._lock:
            exists = self._call("checking aliases", self.client.indices.exists_alias, name=alias)
            if not exists:
                try:
                    self._create_concrete(record_type, aliases=True)
                except SearchError as exc:
                    if "already exists" not in str(exc):  # another writer was faster
                        raise
            self._known_aliases.add(alias)
        return alias

    def _alias_targets(self) -> dict[str, list[str]]:
        """Concrete index -> aliases, for this prefix."""
        try:
            raw = self.client.indices.get_alias(index=f"{self.prefix}-*")
        except _es().NotFoundError:
            return {}
        except Exception:
            raw = self._call(
                "listing aliases", self.client.indices.get_alias, index=f"{self.prefix}-*"
            )
        return {idx: sorted(v.get("aliases", {})) for idx, v in dict(raw).items()}

    # -- writing -----------------------------------------------------------------------------
    def _bulk(self, actions: Iterable[dict[str, Any]]) -> tuple[int, dict[str, str]]:
        helpers = _es().helpers
        ok, failures = 0, {}
        stream = helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=BULK_CHUNK,
            max_retries=6,
            initial_backoff=0.5,
            max_backoff=30,
            raise_on_error=False,
            raise_on_exception=False,
        )
        for success, item in self._call("bulk indexing", list, stream):
            if success:
                ok += 1
            else:
                info = next(iter(item.values()))
                err = info.get("error", info.get("status"))
                if isinstance(err, dict):
                    err = f"{err.get('type')}: {err.get('reason')}"
                failures[str(info.get("_id"))] = str(err)
        return ok, failures

    def _load(
        self, records: Iterable[Record], target: Any, on_done: Any = None
    ) -> tuple[int, dict[str, str]]:
        """Records into ``target(type)`` indices: compiled documents, parallel bulk requests."""
        loader = ParallelBulk(
            self.client, self.url, threads=self.bulk_threads, what="bulk indexing"
        )
        bodies = self.docs.bodies(
            records, target, chunk=BULK_CHUNK, taper=self.bulk_threads * BULK_CHUNK // 2
        )
        return loader.load(bodies, on_done)

    def index(self, records: Sequence[Record]) -> IndexReport:
        for rtype in {r.type for r in records}:
            self._ensure_alias(rtype)
        ok, failures = self._load(records, self.type_alias)
        for uid, reason in list(failures.items())[:5]:
            log.warning("Elasticsearch rejected %s: %s", uid, reason)
        return IndexReport(ok, failures)

    def delete(self, uids: Sequence[str]) -> None:
        if not uids:
            return
        found = self._call(
            "finding records to delete",
            self.client.search,
            index=self.read_alias,
            query={"terms": {"uid": list(uids)}},
            size=len(uids),
            source=False,
            ignore_unavailable=True,
        )
        actions = [
            {"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]}
            for h in found["hits"]["hits"]
        ]
        if actions:
            self._bulk(actions)

    def flush(self) -> None:
        self._call(
            "refreshing",
            self.client.indices.refresh,
            index=self.read_alias,
            ignore_unavailable=True,
            allow_no_indices=True,
        )

    def rebuild(
        self,
        records: Iterable[Record],
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IndexReport:
        new: dict[str, str] = {}
        failures: dict[str, str] = {}
        meter = ProgressMeter(progress, total)

        def target(record_type: str) -> str:
            if record_type not in new:
                new[record_type] = self._create_concrete(record_type, aliases=False)
            return new[record_type]

        stopped = False

        def fed() -> Iterator[Record]:  # stops at a cancel, checked every bulk request
            nonlocal stopped
            for i, r in enumerate(records, 1):
                yield r
                if i % BULK_CHUNK == 0 and cancel is not None and cancel.cancelled:
                    stopped = True
                    return

        indexed, bad = self._load(fed(), target, lambda n: meter.advance(n, "indexing"))
        failures.update(bad)
        if stopped:
            for name in new.values():
                self._call("dropping a cancelled rebuild", self.client.indices.delete, index=name)
            return IndexReport(indexed, failures, cancelled=True)
        meter.advance(0, "switching aliases", force=True)
        if new:
            self._call("refreshing", self.client.indices.refresh, index=",".join(new.values()))
        old = self._alias_targets()
        actions: list[dict[str, Any]] = []
        for rtype, name in new.items():
            actions.append(
                {"add": {"index": name, "alias": self.type_alias(rtype), "is_write_index": True}}
            )
            actions.append({"add": {"index": name, "alias": self.read_alias}})
        retired = [idx for idx in old if idx not in new.values()]
        for idx in retired:
            for alias in old[idx]:
                actions.append({"remove": {"index": idx, "alias": alias}})
        if actions:
            self._call("switching aliases", self.client.indices.update_aliases, actions=actions)
        self._known_aliases = {self.type_alias(t) for t in new}
        if retired:
            # Searches already routed to the old indices finish first; deleting them in the
            # same call as the swap makes those searches return partial results.
            time.sleep(self.retire_grace_seconds)
            self._call(
                "dropping retired indices",
                self.client.indices.delete,
                index=",".join(retired),
                ignore_unavailable=True,
            )
        return IndexReport(indexed, failures)

    # -- searching ---------------------------------------------------------------------------
    def _sort(self, request: SearchRequest) -> list[Any]:
        if request.sort == "relevance":
            return [{"_score": "desc"}, {"uid": "asc"}]
        order = "desc" if request.sort == "time_desc" else "asc"
        return [{"time": {"order": order, "missing": "_last"}}, {"uid": "asc"}]

    def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        plan = self.plan(request)
        size = max(1, min(1000, request.size))
        body: dict[str, Any] = {
            "query": to_dsl(plan.root, self.text_fields),
            "size": size,
            "sort": self._sort(request),
            "track_total_hits": True,
        }
        pit = None
        if request.cursor:
            # The first page runs without a point in time (most searches never page); the
            # second page opens one, and every later page reads that same snapshot.
            payload = decode_cursor(request.cursor, request)
            pit = (
                payload.get("pit")
                or self._call(
                    "opening a point in time",
                    self.client.open_point_in_time,
                    index=self.read_alias,
                    keep_alive=PIT_KEEP_ALIVE,
                )["id"]
            )
            body["search_after"] = payload["after"]
            body["pit"] = {"id": pit, "keep_alive": PIT_KEEP_ALIVE}
        elif request.facets:
            body["aggs"] = {
                name: {
                    "terms": {
                        "field": name if name in ("source", "type", "day") else f"k.{name}",
                        "size": request.facet_size,
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                    }
                }
                for name in request.facets
            }
        if request.highlight and plan.highlight_terms:
            body["highlight"] = {
                "fields": {f: {} for f in self.text_fields},
                "pre_tags": [MARK_OPEN],
                "post_tags": [MARK_CLOSE],
                "encoder": "html",
                "fragment_size": 120,
                "number_of_fragments": 3,
                "require_field_match": False,
            }
        body["timeout"] = f"{SEARCH_TIME_LIMIT_S:g}s"  # the server stops and says timed_out
        if pit:
            resp = self._call("searching", self.client.search, **body)
        else:
            resp = self._call(
                "searching",
                self.client.search,
                index=self.read_alias,
                ignore_unavailable=True,
                allow_no_indices=True,
                **body,
            )
        warnings = list(plan.warnings)
        if resp.get("timed_out"):
            warnings.append(
                f"partial results: the search ran longer than "
                f"{SEARCH_TIME_LIMIT_S:g} s and was stopped; narrow it"
            )
        shards = resp.get("_shards", {})
        if shards.get("failed"):
            warnings.append(
                f"partial results: {shards['failed']} of {shards.get('total')} "
                "shards did not answer"
            )
        raw_hits = resp["hits"]["hits"]
        total = int(resp["hits"]["total"]["value"])
        hits = tuple(self._hit(h, request) for h in raw_hits)
        facets = {
            name: tuple(FacetBucket(str(b["key"]), int(b["doc_count"])) for b in agg["buckets"])
            for name, agg in resp.get("aggregations", {}).items()
        }
        next_cursor = None
        more = total > size if pit is None else True
        if raw_hits and len(raw_hits) == size and more:
            next_cursor = encode_cursor(
                {
                    "q": request_key(request),
                    "pit": resp.get("pit_id", pit),
                    "after": raw_hits[-1]["sort"],
                }
            )
        elif pit is not None:
            try:
                self.client.close_point_in_time(id=pit)
            except Exception as exc:  # expiry will clean up; paging is already complete
                log.debug("closing point in time: %s", exc)
        return self._result(total, hits, facets, next_cursor, started, warnings)

    @staticmethod
    def _result(
        total: int,
        hits: tuple[Hit, ...],
        facets: dict[str, Any],
        cursor: str | None,
        started: float,
        warnings: list[str],
    ) -> SearchResult:
        return SearchResult(
            total, hits, facets, cursor, (time.perf_counter() - started) * 1000, tuple(warnings)
        )

    @staticmethod
    def _hit(raw: dict[str, Any], request: SearchRequest) -> Hit:
        from datetime import UTC, datetime

        src = raw["_source"]
        inner = src.get("src", {})
        geo = src.get("geo")
        ms = src.get("time")
        return Hit(
            uid=src["uid"],
            source=src["source"],
            type=src["type"],
            score=float(raw.get("_score") or 0.0) if request.sort == "relevance" else 0.0,
            time=datetime.fromtimestamp(ms / 1000, tz=UTC) if ms is not None else None,
            geo=(geo["lat"], geo["lon"]) if geo else None,
            title=inner.get("title", ""),
            snippets=tuple(
                merge_adjacent_marks(s)
                for values in raw.get("highlight", {}).values()
                for s in values
            )[:3],
            text=inner.get("text", {}),
        )

    def count(self, query: str = "", filters: Filters | None = None) -> int:
        plan = self.planner.plan(query, filters)
        resp = self._call(
            "counting",
            self.client.count,
            index=self.read_alias,
            query=to_dsl(plan.root, self.text_fields),
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        return int(resp["count"])

    def health(self) -> Health:
        es = _es()
        try:
            h = self.client.options(request_timeout=10).cluster.health()
        except (es.ConnectionError, es.ConnectionTimeout) as exc:
            return Health(
                self.name,
                "red",
                0,
                {"url": self.url},
                f"Elasticsearch at {self.url} is unreachable: {exc}",
            )
        except es.ApiError as exc:
            return Health(
                self.name,
                "red",
                0,
                {"url": self.url},
                f"Elasticsearch at {self.url} answered HTTP "
                f"{getattr(exc.meta, 'status', '?')}: {self._short(exc)}",
            )
        docs = 0
        try:
            docs = int(
                self.client.count(
                    index=self.read_alias, ignore_unavailable=True, allow_no_indices=True
                )["count"]
            )
        except es.ApiError as exc:
            log.debug("count failed: %s", exc)
        detail = {
            "url": self.url,
            "cluster": h.get("cluster_name"),
            "nodes": h.get("number_of_nodes"),
            "active_shards": h.get("active_shards"),
            "unassigned_shards": h.get("unassigned_shards"),
            "aliases": self.read_alias,
        }
        status = str(h.get("status", "red"))
        message = {
            "green": "ok",
            "yellow": "replicas unassigned: searches work",
            "red": "primary shards unassigned: some records cannot be searched",
        }.get(status, status)
        return self._with_store(Health(self.name, status, docs, detail, message))

    def close(self) -> None:
        self.client.close()
