"""The database restarts under running server processes: they recover on their own, with no
failed request, and their consoles keep receiving events.

Real parts: a PostgreSQL cluster of this test's own (tools/dev-postgres, so that it can be
restarted), a `superbrain serve` process and an SSE client.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from centre_support import (
    REPO,
    Console,
    ServerProcess,
    call,
    free_port,
    init_centre,
    login,
    ok,
    pg_server_url,
    write_centre,
)

pytestmark = pytest.mark.timeout(300)

TOOL = REPO / "tools" / "dev-postgres"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, str]]:
    pg_server_url()  # skip (or fail in CI) like every centre test when PostgreSQL is absent
    name = f"restart-{uuid.uuid4().hex[:6]}"
    out = subprocess.run(
        [str(TOOL), "start", "--name", name, "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        message = f"tools/dev-postgres could not start a cluster: {out.stderr[-2000:]}"
        if os.environ.get("SUPERBRAIN_PG_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    url = out.stdout.strip().split("=", 1)[1]
    try:
        yield name, url
    finally:
        subprocess.run([str(TOOL), "stop", "--name", name], capture_output=True, timeout=120)


def _restart(name: str) -> None:
    root = Path(os.environ.get("SUPERBRAIN_PG_ROOT", "/tmp/superbrain-pg")) / name
    bindir = next(
        p
        for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
        if (p / "pg_ctl").exists()
    )
    cmd = [
        str(bindir / "pg_ctl"),
        "-D",
        str(root / "data"),
        "-m",
        "fast",
        "-l",
        str(root / "server.log"),
        "-w",
        "restart",
    ]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", os.environ.get("SUPERBRAIN_PG_USER", "postgres"), "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def test_servers_ride_through_a_database_restart(cluster: tuple[str, str], tmp_path: Path) -> None:
    name, url = cluster
    config = write_centre(tmp_path, url)
    init_centre(config, "admin", "Heron-Lantern-71")
    server = ServerProcess(config, free_port()).start()
    try:
        token = login(server, "admin", "Heron-Lantern-71")
        ok(server, token, "ops.seed_units", count=5)
        console = Console(server, token).start()
        _restart(name)
        for _ in range(5):  # not one request fails: stale connections are replaced
            status, body = call(server, token, "ops.units")
            assert status == 200, body
        incident = ok(
            server,
            token,
            "ops.incident_create",
            category="盗窃",
            priority=2,
            lat=30.75,
            lon=120.76,
            text="after the restart",
        )
        console.wait_for(
            lambda e: e.kind == "incident" and e.data["ref"] == str(incident["id"]), timeout=10
        )
        console.close()
    finally:
        server.stop()
