"""Helpers for the centre tests (imported explicitly): a real PostgreSQL, one fresh database per
test, and the tiny demo workspace built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parent.parent

PG_SKIP = ("no PostgreSQL for the centre tests: set SUPERBRAIN_PG_URL "
           "(eval \"$(tools/dev-postgres start)\" starts one on 127.0.0.1)")


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


def cli(*args: str, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python main.py ARGS`` in the repository, as a user would run it."""
    return subprocess.run([sys.executable, "main.py", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})},
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo workspace (built once; copy it before changing it)."""
    root = tmp_path_factory.mktemp("demo") / "ws"
    out = cli("demo", "-w", str(root), "--no-console", "--size", "tiny",
              env={"SUPERBRAIN_USER": "chief"})
    assert out.returncode == 0, out.stderr[-2000:]
    return root


def copy_workspace(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
