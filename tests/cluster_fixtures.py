"""A real 3-node Elasticsearch cluster on 127.0.0.1 for the fault tests (imported explicitly).

The ``cluster`` fixture starts it with ``tools/dev-elasticsearch --nodes 3`` once per module and
stops it at the end. A module that uses it names its own cluster, distinct from every other's so
that the modules can run at once: ``CLUSTER_NAME`` and ``CLUSTER_PORT`` (HTTP ports PORT to
PORT+2, transport PORT+100 to PORT+102).

With ``SUPERBRAIN_ES_REQUIRED=1`` (CI) a cluster that cannot start FAILS the tests; otherwise
they skip and say why. ``SUPERBRAIN_TRUST_CLUSTER=0`` skips them explicitly;
``SUPERBRAIN_TRUST_KEEP_CLUSTER=1`` leaves the cluster running afterwards (for a rerun).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO / "tools" / "dev-elasticsearch"
CACHE = Path(os.environ.get("SUPERBRAIN_ES_CACHE", REPO / ".cache" / "elasticsearch"))
NODES = 3


@dataclass(frozen=True)
class Cluster:
    """The cluster ``name``: ``nodes`` nodes on HTTP ports ``port`` onwards."""

    name: str
    port: int
    nodes: int = NODES

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port + i}" for i in range(self.nodes)]

    def node_pid(self, node: int) -> int:
        """The process id of node ``node`` (1 to ``nodes``)."""
        return int((CACHE / "run" / self.name / f"node-{node}" / "es.pid").read_text().strip())

    def kill(self, node: int) -> None:
        """SIGKILL node ``node``: no clean shutdown."""
        os.kill(self.node_pid(node), signal.SIGKILL)

    def start(self) -> None:
        """Start the nodes that are not running (data kept) and wait until healthy."""
        _tool(
            "start",
            "--nodes",
            str(self.nodes),
            "--name",
            self.name,
            "--port",
            str(self.port),
            "--heap",
            "512m",
            "--timeout",
            "400",
        )

    def stop(self) -> None:
        """Stop every node and remove the data (what failed to stop is left to the tool)."""
        subprocess.run([str(TOOL), "stop", "--name", self.name], capture_output=True, timeout=300)


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(TOOL), *args], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(
            f"tools/dev-elasticsearch {' '.join(args)} failed:\n{proc.stderr[-3000:]}"
        )
    return proc


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The module's own running 3-node cluster (``CLUSTER_NAME``, ``CLUSTER_PORT``)."""
    module = request.module
    missing = [k for k in ("CLUSTER_NAME", "CLUSTER_PORT") if not hasattr(module, k)]
    if missing:
        pytest.fail(
            f"{module.__name__}: the cluster fixture needs {' and '.join(missing)} "
            "(its own cluster name and HTTP port, distinct from other modules')",
            pytrace=False,
        )
    required = os.environ.get("SUPERBRAIN_ES_REQUIRED") == "1"

    def unavailable(why: str) -> NoReturn:
        if required:
            pytest.fail(why)
        pytest.skip(why)

    if os.environ.get("SUPERBRAIN_TRUST_CLUSTER") == "0":
        pytest.skip("SUPERBRAIN_TRUST_CLUSTER=0")
    if os.environ.get("SUPERBRAIN_ES_SKIP_REASON") and not required:
        pytest.skip(f"no Elasticsearch: {os.environ['SUPERBRAIN_ES_SKIP_REASON']}")
    if not TOOL.exists():
        unavailable("tools/dev-elasticsearch (the cluster launcher) is missing")
    cl = Cluster(str(module.CLUSTER_NAME), int(module.CLUSTER_PORT))
    try:
        cl.start()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        cl.stop()
        unavailable(f"3-node cluster did not start: {exc}")
    try:
        yield cl
    finally:
        if os.environ.get("SUPERBRAIN_TRUST_KEEP_CLUSTER") != "1":
            cl.stop()
