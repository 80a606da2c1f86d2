"""A centre has one time zone (``[centre] timezone`` in centre.toml) and says so: its consoles,
its command line and its answers show times in it (issue #18 item 5).

Run against a real ``superbrain serve`` on PostgreSQL, with a centre in London, so a console
that kept the default (Asia/Shanghai) would show every time eight hours off.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from centre_support import (
    ServerProcess,
    free_port,
    fresh_database,
    init_centre,
    login,
    ok,
    pg_server_url,
    run_cli,
    write_centre,
)

from centre.config import TEMPLATE, load_centre_config
from core.errors import WorkspaceError
from core.remote import CentreClient

pytestmark = pytest.mark.timeout(300)
ADMIN = ("admin", "Heron-Lantern-71")


def _in_london(config: Path) -> Path:
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('data_dir = "data"', 'data_dir = "data"\ntimezone = "Europe/London"'),
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def london(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    gen = fresh_database(pg_server_url())
    database = next(gen)
    config = _in_london(write_centre(tmp_path_factory.mktemp("london"), database))
    init_centre(config, *ADMIN)
    server = ServerProcess(config, free_port()).start()
    try:
        yield {"server": server, "config": config}
    finally:
        server.stop()
        gen.close()


def test_the_template_has_a_time_zone_and_a_bad_one_names_the_file(tmp_path: Path) -> None:
    text = TEMPLATE.format(
        path="c.toml",
        name="c",
        data_dir="d",
        url="postgresql://x@h/db",
        certificate="",
        private_key="",
        backend="embedded",
        search_url="",
    )
    assert tomllib.loads(text)["centre"]["timezone"] == "Asia/Shanghai"
    path = tmp_path / "centre.toml"
    path.write_text(text.replace('"Asia/Shanghai"', '"Europe/Londn"'), encoding="utf-8")
    with pytest.raises(
        WorkspaceError,
        match=r"centre\.toml'?: \[centre\] timezone: unknown "
        r"time zone 'Europe/Londn'; did you mean "
        r"'Europe/London'",
    ):
        load_centre_config(path)


def test_the_server_tells_consoles_its_zone(london: dict[str, Any]) -> None:
    client = CentreClient(london["server"].base, timeout=60)
    session = client.login(*ADMIN)
    assert session.timezone == "Europe/London"
    assert client.health()["timezone"] == "Europe/London"
    client.logout()


def test_a_client_console_shows_times_in_the_centres_zone(london: dict[str, Any]) -> None:
    pytest.importorskip("PyQt6")
    from console.remote import RemoteContext, RemoteWorkspace

    workspace = RemoteWorkspace(CentreClient(london["server"].base, timeout=60))
    workspace.login(*ADMIN)
    try:
        assert RemoteContext(workspace).time_zone == "Europe/London"
        from cases.model import workspace_tz

        assert workspace_tz(workspace) == "Europe/London"  # case panels and dossiers too
    finally:
        workspace.close()


def test_the_command_line_on_the_centre_shows_london_times(london: dict[str, Any]) -> None:
    server, config = london["server"], london["config"]
    token = login(server, *ADMIN)
    inc = ok(
        server,
        token,
        "ops.incident_create",
        category="纠纷",
        priority=3,
        text="london",
        lat=30.76,
        lon=120.79,
    )
    received = datetime.fromisoformat(inc["received_at"]).astimezone(ZoneInfo("Europe/London"))
    out = run_cli(
        "ops",
        "incidents",
        "-w",
        str(config),
        env={"SUPERBRAIN_USER": ADMIN[0], "SUPERBRAIN_PASSWORD": ADMIN[1]},
    )
    assert out.returncode == 0, out.stderr
    assert "received (Europe/London)" in out.stdout.splitlines()[0]
    assert received.strftime("%Y-%m-%d %H:%M") in out.stdout
