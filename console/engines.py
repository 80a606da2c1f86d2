"""The console's typed boundary to the engines: every service a panel calls, with its signature.

Panels reach the engines only through :class:`EngineServices` (``ctx.engines`` of
:class:`console.context.ConsoleContext`)::

    found = ctx.engines.graph_expand(entities=[eid], depth=1)

Each attribute is declared from the engine's own service function (``graph.service.expand``),
so its parameters and result are the function's: mypy checks every call in ``console/`` against
the engine, and renaming or changing a service fails the type check, not a user at run time.
The call itself goes through a *transport* ``transport(name, **params)``: in a local console the
service layer (:func:`core.services.call`, which checks the role and audits), in a client
console the centre's HTTP API (:class:`console.remote.RemoteContext`). The service's name is
read from the function (``service_spec``), never typed here.

Engines are imported when a service is first used, not with the console: an engine that is
absent or fails to import makes its services *unavailable* (:meth:`BoundService.unavailable`
says why) instead of stopping the console, and a service marked ``remote=False`` (it needs
files or work of the server's machine) is unavailable in a client console. No Qt here.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from console.errors import EngineUnavailableError

if TYPE_CHECKING:
    import cases.api as cases_api
    import core.workspace_service as workspace_service
    import facematch.service as faces_service
    import graph.service as graph_service
    import ops.field as ops_field
    import ops.service as ops_service
    import search.service as search_service
    from core.services import ServiceContext
else:

    class _Lazy:
        """A service module imported on first attribute access (so a broken engine fails
        when its service is first used, not when the console starts)."""

        def __init__(self, name: str) -> None:
            self.__name__ = name

        def __getattr__(self, attr: str) -> Any:
            return getattr(importlib.import_module(self.__name__), attr)

    cases_api = _Lazy("cases.api")
    workspace_service = _Lazy("core.workspace_service")
    faces_service = _Lazy("facematch.service")
    graph_service = _Lazy("graph.service")
    ops_field = _Lazy("ops.field")
    ops_service = _Lazy("ops.service")
    search_service = _Lazy("search.service")

P = ParamSpec("P")
R = TypeVar("R")

#: ``transport(service_name, /, **params)``: runs the named service as the console's session
#: (the name is positional-only: services have parameters called ``name``).
Transport = Callable[..., Any]

CLIENT_MODE = (
    "not available in client mode: this runs on the centre server and is not offered "
    "to a client console yet"
)


class Endpoint(Generic[P, R]):
    """One engine service, declared as a class attribute of :class:`EngineServices`.

    Parameters
    ----------
    load:
        Returns the engine's service function (``lambda: graph_service.expand``); called when
        the service is first used. Its type gives the endpoint its parameters and result.
    remote:
        False when a client console cannot use the service (files or work of the server's
        machine); then it is unavailable in client mode.
    requires:
        Further engine modules the panels need besides the service module (e.g. the face
        gallery's libraries); the service is unavailable when one fails to import.
    """

    def __init__(
        self,
        load: Callable[[], Callable[Concatenate[ServiceContext, P], R]],
        *,
        remote: bool = True,
        requires: tuple[str, ...] = (),
    ) -> None:
        self.load = load
        self.remote = remote
        self.requires = requires
        self.attr = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, obj: None, owner: type) -> Endpoint[P, R]: ...

    @overload
    def __get__(self, obj: EngineServices, owner: type) -> BoundService[P, R]: ...

    def __get__(
        self, obj: EngineServices | None, owner: type
    ) -> Endpoint[P, R] | BoundService[P, R]:
        if obj is None:
            return self
        return BoundService(obj, self)


class BoundService(Generic[P, R]):
    """An :class:`Endpoint` of one :class:`EngineServices`: call it with the service's own
    keyword parameters; :meth:`unavailable` says why it cannot be used (empty when it can)."""

    def __init__(self, services: EngineServices, endpoint: Endpoint[P, R]) -> None:
        self._services = services
        self._endpoint = endpoint

    @property
    def name(self) -> str:
        """The service's registered name (e.g. ``graph.expand``); raises when unavailable."""
        return self._services._resolve(self._endpoint)

    def unavailable(self) -> str:
        """Why the service cannot be used here (engine missing or broken, client mode), or
        ``""``."""
        try:
            self._services._resolve(self._endpoint)
        except EngineUnavailableError as exc:
            return exc.reason
        return ""

    def available(self) -> bool:
        return not self.unavailable()

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if args:  # services take (ctx, *, params): the signature forbids positional values
            raise TypeError(f"{self._endpoint.attr}: services take keyword arguments only")
        return cast(R, self._services.transport(self.name, **kwargs))


class EngineServices:
    """The engine services the console calls, typed from the engines' own functions.

    Parameters
    ----------
    transport:
        ``transport(name, **params)`` that runs a service as the console's session (locally
        :func:`core.services.call`, in a client console the centre's HTTP API).
    remote:
        True in a client console: services declared ``remote=False`` are unavailable.
    """

    def __init__(self, transport: Transport, *, remote: bool = False) -> None:
        #: The wire under the typed services (tests may wrap it, e.g. to count calls).
        self.transport = transport
        self.remote = remote
        self._names: dict[str, str] = {}
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()

    def _resolve(self, endpoint: Endpoint[Any, Any]) -> str:
        """The endpoint's service name, importing its engine on first use; raises
        :class:`EngineUnavailableError` with the reason when it cannot be used."""
        if self.remote and not endpoint.remote:
            raise EngineUnavailableError(_engine_of(endpoint), CLIENT_MODE)
        with self._lock:
            name = self._names.get(endpoint.attr)
            if name is not None:
                return name
            error = self._errors.get(endpoint.attr)
            if error is None:
                try:
                    for module in endpoint.requires:
                        importlib.import_module(module)
                    name = str(endpoint.load().service_spec.name)  # type: ignore[attr-defined]
                except Exception as exc:  # a broken engine must not stop the console
                    error = self._errors[endpoint.attr] = f"{type(exc).__name__}: {exc}"
                else:
                    self._names[endpoint.attr] = name
                    return name
        raise EngineUnavailableError(_engine_of(endpoint), error)

    # -- search ----------------------------------------------------------------------------------
    search_query = Endpoint(lambda: search_service.query, requires=("search.backend",))
    search_record = Endpoint(lambda: search_service.record)
    search_health = Endpoint(lambda: search_service.health)

    # -- graph -----------------------------------------------------------------------------------
    graph_expand = Endpoint(lambda: graph_service.expand, requires=("graph.expand",))
    graph_path = Endpoint(lambda: graph_service.path, requires=("graph.expand",))
    graph_timeline = Endpoint(lambda: graph_service.timeline, requires=("graph.timeline",))
    graph_centrality = Endpoint(lambda: graph_service.centrality, requires=("graph.analysis",))
    graph_communities = Endpoint(lambda: graph_service.communities, requires=("graph.analysis",))
    graph_export = Endpoint(lambda: graph_service.export, requires=("graph.export",))
    graph_merge_queue = Endpoint(lambda: graph_service.merge_queue)
    graph_merge_clusters = Endpoint(lambda: graph_service.merge_clusters)
    graph_merge_proposals = Endpoint(lambda: graph_service.merge_proposals)
    graph_merge_review = Endpoint(lambda: graph_service.merge_review)
    graph_merge_split = Endpoint(lambda: graph_service.merge_split)

    # -- faces -----------------------------------------------------------------------------------
    faces_detect = Endpoint(lambda: faces_service.detect, requires=("facematch.gallery",))
    faces_search = Endpoint(lambda: faces_service.search, requires=("facematch.gallery",))
    faces_review = Endpoint(lambda: faces_service.review, requires=("facematch.gallery",))
    faces_candidates = Endpoint(lambda: faces_service.candidates, requires=("facematch.gallery",))

    # -- ingest ----------------------------------------------------------------------------------
    ingest_file = Endpoint(lambda: workspace_service.ingest_file, remote=False)

    # -- operations ------------------------------------------------------------------------------
    ops_board = Endpoint(lambda: ops_service.board)
    ops_events = Endpoint(lambda: ops_service.events)
    ops_queue = Endpoint(lambda: ops_service.queue)
    ops_units = Endpoint(lambda: ops_service.units)
    ops_recommend = Endpoint(lambda: ops_service.recommend)
    ops_assign = Endpoint(lambda: ops_service.assign)
    ops_release = Endpoint(lambda: ops_service.release)
    ops_unit_status = Endpoint(lambda: ops_service.unit_status)
    ops_alerts = Endpoint(lambda: ops_service.alerts)
    ops_alert_ack = Endpoint(lambda: ops_service.alert_ack)
    ops_hotspots = Endpoint(lambda: ops_service.hotspots_of)
    ops_metrics = Endpoint(lambda: ops_service.metrics_of)
    ops_evaluate = Endpoint(lambda: ops_service.evaluate_of)
    ops_incidents = Endpoint(lambda: ops_service.incidents)
    ops_incident_followup = Endpoint(lambda: ops_field.followup)
    ops_photo = Endpoint(lambda: ops_field.photo)
    ops_track = Endpoint(lambda: ops_field.track)
    ops_position = Endpoint(lambda: ops_service.position)

    # -- cases -----------------------------------------------------------------------------------
    cases_list = Endpoint(lambda: cases_api.list_cases)
    cases_get = Endpoint(lambda: cases_api.get)
    cases_create = Endpoint(lambda: cases_api.create)
    cases_charts = Endpoint(lambda: cases_api.charts)
    cases_chart_open = Endpoint(lambda: cases_api.chart_open)
    cases_chart_save = Endpoint(lambda: cases_api.chart_save)
    cases_chart_duplicate = Endpoint(lambda: cases_api.chart_duplicate)
    cases_chart_image = Endpoint(lambda: cases_api.chart_image)
    cases_notes = Endpoint(lambda: cases_api.notes)
    cases_note_add = Endpoint(lambda: cases_api.note_add)
    cases_note_places = Endpoint(lambda: cases_api.note_places)
    cases_pins = Endpoint(lambda: cases_api.pins)
    cases_pin = Endpoint(lambda: cases_api.pin)
    cases_events = Endpoint(lambda: cases_api.events)
    cases_dossier = Endpoint(lambda: cases_api.dossier)
    cases_handover_export = Endpoint(lambda: cases_api.handover_export)
    cases_handover_import = Endpoint(lambda: cases_api.handover_import)


def _engine_of(endpoint: Endpoint[Any, Any]) -> str:
    """The engine named in an unavailable-service message (``graph_expand`` → ``graph``)."""
    prefix = endpoint.attr.split("_", 1)[0]
    return {"faces": "facematch", "ingest": "plugins"}.get(prefix, prefix)


def endpoints() -> dict[str, Endpoint[Any, Any]]:
    """Every endpoint of :class:`EngineServices` by attribute name (for tests and docs)."""
    return {k: v for k, v in vars(EngineServices).items() if isinstance(v, Endpoint)}
