"""The console's hold on one case and one open chart: which case, which saved chart at which
version, and whether the chart on screen differs from what was saved. No Qt here; every read
and change goes through the case services (:mod:`cases.api`, typed in :mod:`console.engines`)
with the console's session."""

from __future__ import annotations

import copy
from typing import Any

from cases.errors import CaseInvalidError
from console.engines import EngineServices


class CaseSession:
    """The case the analyst works in and the saved chart the link chart shows.

    Parameters
    ----------
    workspace:
        The console's workspace; calls act as its session (``core.services.local_context``).
    engines:
        The console's engine services (``ctx.engines``): a client console's go to the centre
        server (checked and audited there, as the logged-in user). Default: local calls on
        ``workspace``.
    """

    def __init__(self, workspace: Any, engines: EngineServices | None = None) -> None:
        self.workspace = workspace
        self.engines = engines or EngineServices(self._call_locally)
        self.case: str | None = None
        self.chart_id: str | None = None
        self.chart_name: str = ""
        self.version: int | None = None
        self._saved: dict[str, Any] | None = None
        self.last_event = 0

    # -- services ----------------------------------------------------------------------------
    def _call_locally(self, service: str, /, **params: Any) -> Any:
        """The transport of a session made without a console: the case service ``service`` as
        the workspace's session."""
        import cases.api  # noqa: F401 - registers the case services
        from core.services import call, local_context

        return call(service, local_context(self.workspace), **params)

    def number(self) -> str:
        """The open case's number; :class:`CaseInvalidError` when no case is chosen."""
        if self.case is None:
            raise CaseInvalidError("no case is open: choose a case first")
        return self.case

    def cases(self) -> list[dict[str, Any]]:
        return list(self.engines.cases_list())

    def choose(self, number: str | None) -> dict[str, Any] | None:
        """Work in case ``number`` (None: no case); the open chart is forgotten."""
        self.case, self.chart_id, self.version, self._saved = number, None, None, None
        self.chart_name = ""
        return self.engines.cases_get(case=number) if number else None

    # -- the open chart ---------------------------------------------------------------------------
    def is_dirty(self, doc: dict[str, Any]) -> bool:
        """True when the chart ``doc`` on screen has something not saved: a chart with nodes
        that was never saved, or differs from the version opened or saved (an empty chart
        has nothing to lose)."""
        if not doc.get("nodes"):
            return False
        return self._saved is None or doc != self._saved

    def open(self, chart_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The saved chart's document exactly as saved, and the links offered since."""
        found = self.engines.cases_chart_open(case=self.number(), chart_id=chart_id)
        chart = found["chart"]
        self.chart_id, self.chart_name, self.version = chart["id"], chart["name"], chart["version"]
        self._saved = copy.deepcopy(chart["data"])
        return chart["data"], found["offered"]

    def save(self, doc: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        """Save: over the open chart (same name) when ``name`` is None, else as a new chart
        called ``name`` (save as). A stale version raises CaseConflictError; nothing is lost."""
        if name is None and self.chart_id is not None:
            saved = self.engines.cases_chart_save(
                case=self.number(),
                name=self.chart_name,
                data=doc,
                chart_id=self.chart_id,
                version=self.version,
            )
        else:
            saved = self.engines.cases_chart_save(
                case=self.number(), name=name or self.chart_name or "chart", data=doc
            )
        self.chart_id, self.chart_name, self.version = saved["id"], saved["name"], saved["version"]
        self._saved = copy.deepcopy(doc)
        return dict(saved)

    def forget_chart(self) -> None:
        self.chart_id, self.version, self._saved, self.chart_name = None, None, None, ""

    def events(self) -> list[dict[str, Any]]:
        """Changes since the last call, of the cases this user is a member of."""
        found = list(self.engines.cases_events(after=self.last_event))
        if found:
            self.last_event = int(found[-1]["id"])
        return found
