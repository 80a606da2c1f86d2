"""Helpers for the centre tests (imported explicitly): a real PostgreSQL, one fresh database per
test, the tiny demo workspace built once per session, and a real centre server on it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parent.parent

PG_SKIP = (
    "no PostgreSQL for the centre tests: set SUPERBRAIN_PG_URL "
    '(eval "$(tools/dev-postgres start)" starts one on 127.0.0.1)'
)


def pg_admin_url() -> str:
    url = os.environ.get("SUPERBRAIN_PG_URL", "")
    if not url:
        pytest.skip(PG_SKIP)
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty database on the test PostgreSQL, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    admin = pg_admin_url()
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python main.py ARGS`` in the repository, as a user would run it."""
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo workspace (built once; copy it before changing it)."""
    root = tmp_path_factory.mktemp("demo") / "ws"
    out = cli(
        "demo", "-w", str(root), "--no-console", "--size", "tiny", env={"SUPERBRAIN_USER": "chief"}
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return root


def copy_workspace(src: Path, dst: Path) -> Path:
    """A copy of a workspace that keeps its audit anchors (the key and the file anchor live
    outside the folder, named after its path: a plain copy would refuse appends until
    `superbrain audit repair`, as docs/SECURITY.md says for a moved workspace)."""
    from core.anchor import anchor_dir, workspace_id

    shutil.copytree(src, dst)
    for suffix in (".key", ".json"):
        anchor = anchor_dir() / f"{workspace_id(src)}{suffix}"
        if anchor.exists():
            shutil.copy2(anchor, anchor_dir() / f"{workspace_id(dst)}{suffix}")
    return dst


# -- a real centre: PostgreSQL + `superbrain serve` on the migrated tiny demo -------------------
PASSWORDS = {
    "chief": "Quartz-Harbor-19",
    "li": "Willow-Ember-64",
    "cmd": "Copper-Falcon-27",
    "locky": "Birch-Thunder-83",
}
ROLES = {"chief": "administrator", "li": "analyst", "cmd": "commander", "locky": "analyst"}


@dataclass
class Centre:
    """A running centre server (``url``) on its database (``pg_url``) and ``centre.toml``."""

    url: str
    pg_url: str
    config: Path
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    for port in range(55442, 55450):  # this project's test range
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 55442-55449 for a test centre server")


def start_centre(root: Path, demo: Path, pg_url: str) -> Centre:
    """Move the demo (with one account per role) into ``pg_url``, index it, serve it."""
    ws = copy_workspace(demo, root / "ws")
    admin = {"SUPERBRAIN_USER": "chief", "SUPERBRAIN_PASSWORD": PASSWORDS["chief"]}
    for name in PASSWORDS:
        out = cli(
            "users",
            "-w",
            str(ws),
            "add",
            name,
            "--role",
            ROLES[name],
            env={**admin, "SUPERBRAIN_NEW_PASSWORD": PASSWORDS[name]},
        )
        assert out.returncode == 0, out.stderr
    out = cli("migrate", str(ws), "--to", pg_url, env=admin)
    assert out.returncode == 0, out.stdout + out.stderr
    from centre.config import write_template

    config = root / "centre.toml"
    write_template(config, database_url=pg_url)
    out = cli("reindex", "-w", str(config), env=admin)
    assert out.returncode == 0, out.stdout + out.stderr
    port = _free_port()
    log = (root / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    from core.remote import wait_until_up

    try:
        wait_until_up(url, timeout=60)
    except Exception:
        proc.kill()
        raise AssertionError((root / "serve.log").read_text("utf-8")[-3000:]) from None
    return Centre(url, pg_url, config, proc)


def stop_centre(centre: Centre) -> None:
    centre.process.send_signal(signal.SIGTERM)
    try:
        centre.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        centre.process.kill()
        centre.process.wait(timeout=10)


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, tiny_demo: Path) -> Iterator[Centre]:
    """A running centre server on the migrated tiny demo (one per test module)."""
    psycopg = pytest.importorskip("psycopg")
    admin = pg_admin_url()
    name = "c_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    running = start_centre(tmp_path_factory.mktemp("centre"), tiny_demo, with_database(admin, name))
    try:
        yield running
    finally:
        stop_centre(running)
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
