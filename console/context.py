"""What every panel shares: the open workspace, the engines that are installed, the user.

Panels reach the engines (``search``, ``graph``, ``facematch``, ``ops``, cases) through
:attr:`ConsoleContext.engines`, the typed boundary of :mod:`console.engines`: each service with
the engine's own signature, e.g. ``ctx.engines.graph_expand(entities=[eid])``. Engines are
imported when first used and may be absent or broken; ``ctx.engines.graph_expand.unavailable()``
says why, so a panel can show "engine not available: …" instead of failing. This module imports
no Qt and is tested without a window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.engines import EngineServices
from console.errors import EngineUnavailableError
from core.extensions import ENGINES as ENGINE_GROUP
from core.extensions import extensions
from core.workspace import Workspace

log = logging.getLogger(__name__)

DEFAULT_TIME_ZONE = "Asia/Shanghai"

#: The engine packages (``superbrain.engines`` entry-point group, pyproject.toml).
ENGINES = tuple(ext.name for ext in extensions(ENGINE_GROUP))


@dataclass(frozen=True)
class BackendStatus:
    """The search backend as the status bar shows it."""

    kind: str  # "embedded" or "elasticsearch"
    health: str  # "ok", "yellow", "red", "unreachable: …", "n/a"
    #: what else the workspace reads from the cluster (``[graph]``/``[faces] backend``)
    on_cluster: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "embedded":  # health compares index and store counts (issue #16)
            text = "embedded" if self.health in ("green", "n/a") else f"embedded ({self.health})"
        else:
            text = f"cluster ({self.health})"
        if self.on_cluster:  # an analyst should know where the chart's links come from
            text += f" · {' and '.join(self.on_cluster)} on the cluster"
        return text


class ConsoleContext:
    """The workspace and its services, shared by the main window and every panel.

    Parameters
    ----------
    workspace:
        The opened workspace.
    """

    #: True in a client console (:class:`console.remote.RemoteContext`).
    remote = False

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._services: dict[str, Any] = {}
        self._lock = threading.RLock()
        #: The engine services, typed from the engines' own functions (console.engines).
        self.engines = EngineServices(self._transport, remote=self.remote)

    # -- identity -----------------------------------------------------------------------------
    @property
    def user(self) -> str:
        return self.workspace.user

    @property
    def role(self) -> str:
        """The acting user's role (``core.security`` session; a workspace without accounts makes
        the OS user its administrator, as on the command line)."""
        session = getattr(self.workspace, "_session", None)
        if session is None:
            try:
                session = self.workspace.session
            except Exception as exc:  # shown in the status bar instead of a role
                return f"not logged in: {exc}"
        return str(session.role)

    @property
    def name(self) -> str:
        return str(self.workspace.config.get("workspace", {}).get("name", self.workspace.root.name))

    @property
    def tile_url(self) -> str:
        return str(self.workspace.config.get("map", {}).get("tile_url", "")).strip()

    @property
    def time_zone(self) -> str:
        """The workspace's time zone (``[workspace] timezone``, default Asia/Shanghai; a
        centre's, which the server names at login, in client mode): the console shows every
        time in it. An unknown name falls back to the default (logged)."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if hasattr(type(self.workspace), "zone"):
            from core.errors import WorkspaceError

            try:  # a workspace folder's or a centre's own zone (centre.toml [centre] timezone)
                return str(self.workspace.zone.key)
            except WorkspaceError as exc:  # an unknown name: the default, as below
                log.warning("%s; using %s", exc, DEFAULT_TIME_ZONE)
                return DEFAULT_TIME_ZONE
        name = (
            str(
                (self.workspace.config.get("workspace", {}) or {}).get(
                    "timezone", DEFAULT_TIME_ZONE
                )
            ).strip()
            or DEFAULT_TIME_ZONE
        )
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning(
                "%s: unknown [workspace] timezone %r; using %s",
                self.workspace.root,
                name,
                DEFAULT_TIME_ZONE,
            )
            return DEFAULT_TIME_ZONE
        return name

    # -- the service layer (core.services) --------------------------------------------------
    def service_context(self) -> Any:
        """The :class:`core.services.ServiceContext` of the logged-in session."""
        from core.services import local_context

        return local_context(self.workspace)

    def _transport(self, name: str, /, **params: Any) -> Any:
        """Run the service ``name`` as the logged-in user: the permission is checked and the
        call audited there, never in the panels. Panels call :attr:`engines`, which passes the
        service's name from the engine's function (a client console sends it to the centre)."""
        from core.services import call

        return call(name, self.service_context(), **params)

    def service(self, key: str, factory: Callable[[], Any]) -> Any:
        """A lazily created, cached service (e.g. the search backend); thread-safe."""
        with self._lock:
            if key not in self._services:
                self._services[key] = factory()
            return self._services[key]

    def drop_service(self, key: str) -> None:
        with self._lock:
            self._services.pop(key, None)

    # -- status -------------------------------------------------------------------------------
    def backend_status(self) -> BackendStatus:
        """The configured search backend and its health (may block: worker)."""
        kind = self.workspace.search_config.backend
        config = self.workspace.config
        elsewhere = tuple(
            name
            for name in ("graph", "faces")
            if str((config.get(name, {}) or {}).get("backend", "embedded")) == "elasticsearch"
        )
        if not self.engines.search_query.available():
            return BackendStatus(kind, "engine not available", elsewhere)
        try:
            backend = self.search_backend()
            health = getattr(backend, "health", None)
            value = health() if callable(health) else "unknown"
        except Exception as exc:  # shown in the status bar, not raised
            return BackendStatus(kind, f"unreachable: {exc}", elsewhere)
        if isinstance(value, dict):
            value = value.get("status", "unknown")
        return BackendStatus(kind, str(getattr(value, "status", value)), elsewhere)

    def search_backend(self) -> Any:
        """The workspace's search backend (``search.backend.open_backend``); raises when the
        engine is unavailable."""
        reason = self.engines.search_query.unavailable()
        if reason:
            raise EngineUnavailableError("search", reason)
        from search.service import backend_for  # the one the search.query service uses

        return backend_for(self.workspace)

    def close(self) -> None:
        for service in list(self._services.values()):
            close = getattr(service, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # closing must go on for the others
                    log.warning("closing %r failed: %s", service, exc)
        self._services.clear()
        self.workspace.close()
