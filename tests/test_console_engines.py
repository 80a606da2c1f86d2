"""The console's typed boundary to the engines (console.engines): every endpoint is a real
registered service, calls carry the service's own name and parameters over whichever transport
(local service layer or a centre), a client console is offered only what runs remotely, a broken
engine makes its services unavailable with the reason, and mypy rejects a call that does not fit
the engine's signature."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


class Recorder:
    """A transport that records what it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, /, **params: Any) -> Any:
        self.sent.append((name, params))
        return []


def test_every_endpoint_is_the_registered_service_of_its_engine_function() -> None:
    from console.engines import EngineServices, endpoints
    from core.services import services

    registered = services()
    engines = EngineServices(Recorder())
    assert len(endpoints()) >= 40
    for attr, endpoint in endpoints().items():
        bound = getattr(engines, attr)
        assert bound.unavailable() == "", attr
        spec = registered[bound.name]  # a name the service layer knows
        assert spec.fn is endpoint.load().service_spec.fn, attr  # type: ignore[attr-defined]


def test_a_call_sends_the_engine_service_name_and_the_keyword_parameters() -> None:
    from console.engines import EngineServices

    wire = Recorder()
    engines = EngineServices(wire)
    engines.graph_expand(entities=["phone:13800000001"], depth=1)
    engines.cases_chart_save(case="2026-JX-0117", name="周三 通话", data={})  # "name" is data
    assert wire.sent == [
        ("graph.expand", {"entities": ["phone:13800000001"], "depth": 1}),
        ("cases.chart_save", {"case": "2026-JX-0117", "name": "周三 通话", "data": {}}),
    ]
    with pytest.raises(TypeError, match="keyword arguments only"):
        engines.search_record("uid-1")  # type: ignore[call-arg]
    assert len(wire.sent) == 2


def test_a_client_console_is_offered_only_services_that_run_remotely() -> None:
    from console.engines import CLIENT_MODE, EngineServices
    from console.errors import EngineUnavailableError

    wire = Recorder()
    client = EngineServices(wire, remote=True)
    assert client.search_query.available() and client.graph_expand.available()
    # faces and analyses run on the centre too; ingest takes a file of the server's
    assert client.faces_search.available() and client.graph_centrality.available()
    assert client.ingest_file.unavailable() == CLIENT_MODE
    with pytest.raises(EngineUnavailableError, match="not available in client mode"):
        client.ingest_file(path="/tmp/x.csv", source="calls")
    assert wire.sent == []  # nothing went to the centre
    assert EngineServices(wire).ingest_file.available()  # the same service, locally


def test_a_broken_engine_makes_its_services_unavailable_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.engines import EngineServices
    from console.errors import EngineUnavailableError

    monkeypatch.setitem(sys.modules, "graph.analysis", None)  # the import fails
    wire = Recorder()
    engines = EngineServices(wire)
    reason = engines.graph_centrality.unavailable()
    assert "graph.analysis" in reason
    with pytest.raises(EngineUnavailableError, match="engine not available: graph: "):
        engines.graph_communities(graph=None)
    assert engines.graph_expand.available()  # the rest of the engine still works
    assert wire.sent == []


@pytest.mark.slow
def test_mypy_rejects_a_console_call_that_does_not_fit_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    monkeypatch.chdir(REPO)  # mypy reads this checkout's packages (and their cache)
    snippet = tmp_path / "wrong_call.py"
    snippet.write_text(
        "from console.context import ConsoleContext\n\n\n"
        "def wrong(ctx: ConsoleContext) -> None:\n"
        "    ctx.engines.graph_expand(entities=['phone:1'], dept=1)\n"
        "    ctx.engines.graph_expnd(entities=['phone:1'])\n"
        "    count: int = ctx.engines.cases_list()\n"
        "    ctx.engines.ops_assign(incident_id='7', unit_ids=['U1'])\n",
        encoding="utf-8",
    )
    out, err, status = mypy_api.run(
        [str(snippet), "--config-file", str(REPO / "pyproject.toml"), "--follow-imports", "silent"]
    )
    assert status == 1, out + err
    assert 'Unexpected keyword argument "dept"' in out  # a parameter renamed
    assert '"EngineServices" has no attribute "graph_expnd"' in out  # a service renamed
    assert "wrong_call.py:7: error: Incompatible types in assignment" in out  # its result
    assert 'Argument "incident_id"' in out and 'expected "int"' in out  # a parameter's type
    assert "Found 4 errors in 1 file" in out


def test_the_status_bar_says_what_the_workspace_reads_from_the_cluster(workspace: Any) -> None:
    # search embedded, the chart's links from Elasticsearch: the analyst sees both
    from console.context import BackendStatus, ConsoleContext

    ctx = ConsoleContext(workspace)
    try:
        assert ctx.backend_status().describe() == "embedded"
        workspace.config["graph"] = {"backend": "elasticsearch"}
        status = ctx.backend_status()
        assert status.on_cluster == ("graph",)
        assert status.describe() == "embedded · graph on the cluster"
        workspace.config["faces"] = {"backend": "elasticsearch"}
        assert ctx.backend_status().describe() == "embedded · graph and faces on the cluster"
    finally:
        ctx.close()
    assert BackendStatus("elasticsearch", "green").describe() == "cluster (green)"
