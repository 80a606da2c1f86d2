"""The console's hold on one case and one open chart: which case, which saved chart at which
version, and whether the chart on screen differs from what was saved. No Qt here; every read
and change goes through the case services (:mod:`cases.api`) with the console's session."""

from __future__ import annotations

import copy
from typing import Any


class CaseSession:
    """The case the analyst works in and the saved chart the link chart shows.

    Parameters
    ----------
    workspace:
        The console's workspace; calls act as its session (``core.services.local_context``).
    caller:
        ``caller(service, **params)`` in place of a local call: a client console passes
        :meth:`console.remote.RemoteContext.call`, so every case call goes to the centre
        server (checked and audited there, as the logged-in user).
    """

    def __init__(self, workspace: Any, caller: Any = None) -> None:
        self.workspace = workspace
        self._caller = caller
        self.case: str | None = None
        self.chart_id: str | None = None
        self.chart_name: str = ""
        self.version: int | None = None
        self._saved: dict[str, Any] | None = None
        self.last_event = 0

    # -- services ----------------------------------------------------------------------------
    def call(self, service: str, /, **params: Any) -> Any:
        """Call the case service ``service`` as the console's session."""
        if self._caller is not None:
            return self._caller(service, **params)
        import cases.api  # noqa: F401 - registers the case services
        from core.services import call, local_context

        return call(service, local_context(self.workspace), **params)

    def cases(self) -> list[dict[str, Any]]:
        return list(self.call("cases.list"))

    def choose(self, number: str | None) -> dict[str, Any] | None:
        """Work in case ``number`` (None: no case); the open chart is forgotten."""
        self.case, self.chart_id, self.version, self._saved = number, None, None, None
        self.chart_name = ""
        return self.call("cases.get", case=number) if number else None

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
        found = self.call("cases.chart_open", case=self.case, chart_id=chart_id)
        chart = found["chart"]
        self.chart_id, self.chart_name, self.version = chart["id"], chart["name"], \
            chart["version"]
        self._saved = copy.deepcopy(chart["data"])
        return chart["data"], found["offered"]

    def save(self, doc: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        """Save: over the open chart (same name) when ``name`` is None, else as a new chart
        called ``name`` (save as). A stale version raises CaseConflictError; nothing is lost."""
        if name is None and self.chart_id is not None:
            saved = self.call("cases.chart_save", case=self.case, name=self.chart_name,
                              data=doc, chart_id=self.chart_id, version=self.version)
        else:
            saved = self.call("cases.chart_save", case=self.case,
                              name=name or self.chart_name or "chart", data=doc)
        self.chart_id, self.chart_name, self.version = saved["id"], saved["name"], \
            saved["version"]
        self._saved = copy.deepcopy(doc)
        return dict(saved)

    def forget_chart(self) -> None:
        self.chart_id, self.version, self._saved, self.chart_name = None, None, None, ""

    def events(self) -> list[dict[str, Any]]:
        """Changes since the last call, of the cases this user is a member of."""
        found = list(self.call("cases.events", after=self.last_event))
        if found:
            self.last_event = int(found[-1]["id"])
        return found
