"""The console as a client of a centre server (``superbrain console --server URL``).

:class:`RemoteContext` stands where :class:`console.context.ConsoleContext` stands for a local
workspace, so the same panels run unchanged: their searches, record reads, chart expansions and
operations calls go to ``POST /api/v1/call/{service}`` with the session's token
(:class:`core.remote.CentreClient`), and the server checks the role and writes the audit entry.
Nothing here opens a database or holds its credentials.

What a client console offers: search, the record pane, the link chart's expansions, paths,
centrality and communities, the timeline, face search (the probe photo's bytes go up, checked by
:func:`core.remote_files.read_upload`; the server runs the gallery with case and purpose and
audits it), the alert tray, the dispatch board and the Cases dock. Exports (GraphML, CSV, the
chart picture, the dossier, the case file) are made by the service on the server and come down
to the path the analyst picked, checked against the SHA-256 the server's audit entry records
(:meth:`core.remote.CentreClient.download`). Panels whose engine work is not offered to
consoles (ingest, plugins: ``remote=False`` in :mod:`console.engines`) show "not available in
client mode" instead of failing. No Qt in this module.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.context import ConsoleContext
from console.engines import CLIENT_MODE, EngineServices
from console.errors import EngineUnavailableError
from console.remote_codec import DecodeError, decode, graph_result, timeline_result
from core.remote import CentreClient, RemoteSession, SessionExpiredError
from core.workspace import SearchConfig

log = logging.getLogger(__name__)


def _one(cls_path: str) -> Any:
    module, name = cls_path.rsplit(".", 1)

    def convert(data: Any) -> Any:
        import importlib

        return decode(getattr(importlib.import_module(module), name), data)

    return convert


def _many(cls_path: str) -> Any:
    one = _one(cls_path)
    return lambda data: [one(d) for d in data]


def _centrality(data: Any) -> Any:
    """``graph.centrality``'s result (``{measure: [{"id", "score"}…], "approximate"}``) as a
    ``graph.analysis.Centrality``."""
    from graph.analysis import Centrality

    if not isinstance(data, dict):
        raise DecodeError(f"centrality: expected an object, got {type(data).__name__}")
    approximate = data.get("approximate") or {}
    scores = {
        str(m): {str(r["id"]): float(r["score"]) for r in rows}
        for m, rows in data.items()
        if m != "approximate" and isinstance(rows, list)
    }
    return Centrality(scores, {str(k): bool(v) for k, v in dict(approximate).items()})


def _face_search(data: Any) -> Any:
    """``faces.search``'s result as a ``facematch.results.SearchResult`` (its leads, each with
    its similarity, the calibrated threshold and false-match rates)."""
    from facematch.pipeline import Face
    from facematch.results import LEAD_NOTICE, Candidate, ProbeFaceResult, SearchResult

    faces = tuple(
        ProbeFaceResult(
            decode(Face, f["face"]), tuple(decode(Candidate, c) for c in f.get("candidates", ()))
        )
        for f in data.get("faces", ())
    )
    return SearchResult(
        str(data["search_id"]),
        str(data["case"]),
        str(data["purpose"]),
        str(data["probe_sha256"]),
        str(data.get("probe", "")),
        int(data["k"]),
        float(data["threshold"]),
        float(data["threshold_fmr"]),
        int(data["gallery_size"]),
        faces,
        str(data.get("notice") or LEAD_NOTICE),
    )


def _bytes(value: Any) -> bytes | None:
    """``{"base64": …}`` (how bytes travel) as bytes."""
    import base64
    import binascii

    if not (isinstance(value, dict) and "base64" in value):
        return None
    try:
        return base64.b64decode(str(value["base64"]), validate=True)
    except (binascii.Error, ValueError):
        raise DecodeError("a picture from the server is not valid base64") from None


#: How the result of each service a panel calls is turned back into the engine's own type.
RESULTS: dict[str, Any] = {
    "graph.centrality": _centrality,
    "faces.detect": _one("facematch.pipeline.ImageFaces"),
    "faces.search": _face_search,
    "faces.candidates": lambda rows: [{**r, "jpeg": _bytes(r.get("jpeg"))} for r in rows],
    "search.query": _one("search.model.SearchResult"),
    "search.record": _one("core.model.Record"),
    "graph.expand": graph_result,
    "graph.timeline": timeline_result,
    "graph.merge_clusters": _many("graph.er_person.Cluster"),
    "ops.units": _many("ops.model.Unit"),
    "ops.unit_status": _one("ops.model.Unit"),
    "ops.release": _one("ops.model.Unit"),
    "ops.alerts": _many("ops.model.Alert"),
    "ops.alert_ack": _one("ops.model.Alert"),
    "ops.recommend": _many("ops.model.Recommendation"),
    "ops.assign": _many("ops.model.Assignment"),
    "ops.events": _many("ops.model.OpsEvent"),
}


def call_centre(client: CentreClient, name: str, /, **params: Any) -> Any:
    """The service ``name`` on the centre: parameters sent as JSON (the calling process's hooks
    left out), the result turned back into the engine's own type (:data:`RESULTS`)."""
    from core.services import RUNTIME_PARAMS, to_json

    sent = {k: to_json(v) for k, v in params.items() if k not in RUNTIME_PARAMS}
    data = client.call(name, **sent)
    decoder = RESULTS.get(name)
    return data if decoder is None or data is None else decoder(data)


class RemoteStore:
    """The few store reads panels make, as service calls (``search.record``)."""

    def __init__(self, client: CentreClient) -> None:
        self.client = client
        self.path = Path("")  # there is no local file: the helper process is not used
        self.engines = EngineServices(functools.partial(call_centre, client), remote=True)

    def get_record(self, uid: str) -> Any:
        return self.engines.search_record(uid=uid)

    def get_entity(self, entity_id: str) -> Any:
        """An entity's type, key and label (``graph.expand`` to depth 0: a graph read, checked
        and audited as one), or None."""
        from core.store import EntityRow

        found = self.engines.graph_expand(entities=[entity_id], depth=0, max_nodes=1)
        node = found.nodes.get(entity_id) or next(iter(found.nodes.values()), None)
        if node is None:
            return None
        key = node.id.split(":", 1)[1] if ":" in node.id else node.id
        return EntityRow(node.id, node.type, key, node.label, dict(node.props), None, None)

    def get_records(self, uids: Sequence[str], with_graph: bool = False) -> list[Any]:
        return [r for r in (self.get_record(u) for u in uids) if r is not None]

    def __getattr__(self, name: str) -> Any:
        raise EngineUnavailableError("store", f"{name}: {CLIENT_MODE}")


class RemoteWorkspace:
    """What panels ask of a workspace, answered by the centre (name, user, search backend);
    ``login`` makes :class:`console.login.LoginDialog` work unchanged against the server."""

    def __init__(self, client: CentreClient, user: str = "") -> None:
        self.client = client
        host = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{client.host}_{client.port}")
        self.root = Path.home() / ".cache" / "superbrain" / "centres" / host
        self.user = user
        self._session: Any = None
        self.health: dict[str, Any] = {}
        self.store = RemoteStore(client)
        self.config: dict[str, Any] = {"workspace": {"name": client.url}, "map": {}}

    def login(self, user: str, password: str) -> RemoteSession:
        """Log in on the server (Argon2id, lock-out and audit are the server's)."""
        from core.security import Session

        remote = self.client.login(user, password)
        self.user = remote.user
        self._session = Session(remote.user, remote.role, "password")
        try:
            self.health = self.client.health()
        except Exception as exc:  # the window opens anyway; the status bar says what failed
            log.warning("centre health unavailable: %s", exc)
        name = self.health.get("centre") or self.client.url
        self.config["workspace"]["name"] = f"{name} (centre)"
        self.config["workspace"]["timezone"] = remote.timezone  # times in the centre's zone
        return remote

    @property
    def session(self) -> Any:
        if self._session is None:
            raise EngineUnavailableError("centre", "not logged in")
        return self._session

    @property
    def search_config(self) -> SearchConfig:
        search = self.health.get("search") if isinstance(self.health, dict) else None
        backend = "embedded"
        if isinstance(search, dict) and search.get("backend") == "elasticsearch":
            backend = "elasticsearch"
        return SearchConfig(
            backend=backend,
            url="",
            api_key="",
            username="",
            password="",
            ca_certs="",
            index_prefix="",
            default_window_days=0,
        )

    def discover_sources(self) -> Any:
        raise EngineUnavailableError("plugins", CLIENT_MODE)

    @property
    def audit(self) -> Any:
        raise EngineUnavailableError("audit", CLIENT_MODE)

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception as exc:  # closing goes on; the token expires on the server anyway
            log.warning("logout from %s failed: %s", self.client.url, exc)
        self.client.close()


@dataclass(frozen=True)
class CentreStatus:
    """The status bar's backend field in client mode."""

    url: str
    kind: str  # the centre's search backend: "embedded" or "elasticsearch"
    health: str

    def describe(self) -> str:
        return f"centre {self.url} (search {self.kind}: {self.health})"


class RemoteContext(ConsoleContext):
    """A :class:`ConsoleContext` whose engines are the centre server's services."""

    remote = True

    def __init__(self, workspace: RemoteWorkspace) -> None:
        super().__init__(workspace)  # type: ignore[arg-type]
        self.client = workspace.client
        #: Called (from any thread) when the server says the session is over.
        self.on_session_expired: Any = None

    @property
    def role(self) -> str:
        return str(self.workspace.session.role)

    @property
    def name(self) -> str:
        return str(self.workspace.config["workspace"]["name"])

    def _transport(self, name: str, /, **params: Any) -> Any:
        """The service ``name`` on the server, as the logged-in user (checked and audited
        there); the result comes back as the engine's own type (:data:`RESULTS`). Hooks of the
        calling process (progress, cancel, compute, write) stay here. An export's target file
        (:data:`server.downloads.DOWNLOADS`) is made on the server and comes down to that path."""
        from core.services import RUNTIME_PARAMS, to_json
        from server.downloads import DOWNLOADS

        target = params.get(DOWNLOADS.get(name, ""))
        try:
            if isinstance(target, str | Path):  # a file the analyst keeps: made on the server
                sent = {k: to_json(v) for k, v in params.items() if k not in RUNTIME_PARAMS}
                return self._download(name, DOWNLOADS[name], Path(target), sent)
            return call_centre(self.client, name, **params)
        except SessionExpiredError:
            if self.on_session_expired is not None:
                self.on_session_expired()  # the window asks for the password again
            raise

    def _download(self, name: str, param: str, target: Path, sent: dict[str, Any]) -> Any:
        """Run the export ``name`` on the server and keep its files at ``target`` (checked
        against their SHA-256 on arrival); the result names the files written here."""
        sent.pop(param, None)
        result, written = self.client.download(name, param, target.expanduser(), **sent)
        if isinstance(result, dict):
            result = dict(result)
            if "files" in result:
                result["server_files"] = result["files"]
                result["files"] = [str(p) for p in written]
            if "file" in result:
                result["server_file"] = result["file"]
                result["file"] = str(written[0])
        return result

    def service(self, key: str, factory: Any) -> Any:
        if key == "ops.view":  # the operations view over the ops services, not a database
            from console.remote_ops import RemoteOpsView

            return super().service(key, lambda: RemoteOpsView(self))
        return super().service(key, factory)

    def search_backend(self) -> Any:
        raise EngineUnavailableError(
            "search", "a client console searches through ctx.engines.search_query: " + CLIENT_MODE
        )

    def backend_status(self) -> Any:
        """The centre and its search backend, as the status bar shows them."""
        try:
            health = self.engines.search_health()
        except Exception as exc:  # shown in the status bar
            return CentreStatus(self.client.url, "?", f"unreachable: {exc}")
        if not isinstance(health, dict):
            return CentreStatus(self.client.url, "?", str(health))
        return CentreStatus(
            self.client.url, str(health.get("backend", "?")), str(health.get("status", "unknown"))
        )

    def path_graph(
        self,
        current: Any,
        source: str,
        target: str,
        *,
        positions: dict[str, tuple[float, float]],
        keep_seeds: Sequence[str] = (),
        cancel: Any = None,
    ) -> tuple[Any, dict[str, tuple[float, float]], list[str]]:
        """The chart plus the shortest path ``source`` → ``target`` found by ``graph.path`` on
        the server: ``(graph, positions, path node ids)``; only the new nodes move."""
        from graph.layout import layout
        from graph.model import GraphResult

        paths = self.engines.graph_path(source=source, target=target)
        if not paths:
            raise EngineUnavailableError("graph", f"no path from {source!r} to {target!r}")
        best = paths[0]
        hops = [str(n) for n in best["nodes"]]
        nodes = self.engines.graph_expand(entities=hops, depth=0, max_nodes=len(hops) + 1)
        edges = graph_result(
            {"edges": [e for hop in best.get("hops", []) for e in hop.get("edges", [])]}
        ).edges
        merged = GraphResult(
            dict(current.nodes) if current else {}, list(current.edges) if current else []
        )
        for nid, node in nodes.nodes.items():
            merged.nodes.setdefault(nid, node)
        have = {e.key for e in merged.edges}
        merged.edges += [e for e in edges if e.key not in have]
        merged.seeds = tuple(keep_seeds)
        fixed = {k: v for k, v in positions.items() if k in merged.nodes}
        return merged, layout(merged, fixed=fixed or None), hops

    def grow(
        self,
        current: Any,
        seeds: Sequence[str],
        *,
        positions: dict[str, tuple[float, float]],
        link_types: Sequence[str] | None = None,
        depth: int = 1,
        max_nodes: int = 2000,
        keep_seeds: Sequence[str] = (),
        cancel: Any = None,
    ) -> tuple[Any, dict[str, tuple[float, float]]]:
        """The link chart's growth through ``graph.expand`` on the server: the chart so far
        plus the neighbourhood of ``seeds``; only the new nodes move."""
        from graph.layout import layout
        from graph.model import GraphResult

        budget = max(len(seeds) + 1, max_nodes - (len(current.nodes) if current else 0))
        found = self.engines.graph_expand(
            entities=list(seeds),
            depth=depth,
            link_types=list(link_types) if link_types else None,
            max_nodes=budget,
        )
        merged = GraphResult(
            dict(current.nodes) if current else {}, list(current.edges) if current else []
        )
        for nid, node in found.nodes.items():
            merged.nodes.setdefault(nid, node).depth = node.depth
        have = {e.key for e in merged.edges}
        merged.edges += [e for e in found.edges if e.key not in have]
        merged.seeds = tuple(dict.fromkeys([*keep_seeds, *found.seeds]))
        merged.truncated = found.truncated
        fixed = {k: v for k, v in positions.items() if k in merged.nodes}
        return merged, layout(merged, fixed=fixed or None)
