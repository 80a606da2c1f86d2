"""What the server benches share: a scratch centre, a server process on it, latency summaries.

:func:`scratch_centre` gives a run its own PostgreSQL database (on ``SUPERBRAIN_PG_URL``) with a
``centre.toml`` on it, prepared by ``superbrain centre init`` and dropped afterwards, with the
run's Elasticsearch indices when it searches there. :func:`serve` runs ``superbrain serve`` on
it. Both run the checkout under test (``repo``) as a subprocess only and import none of its
code, so a bench with ``--repo DIR`` measures another checkout's server with this set-up.

The benches import it as a sibling module (``from centre_harness import …``): Python puts a
script's own folder first on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: This checkout (the default ``repo``).
REPO = Path(__file__).resolve().parents[2]


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` (nearest rank); NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, Any]:
    """Count, p50, p95, max and mean of durations in seconds, in milliseconds (None for none)."""
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "mean_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(pct(values, 50) * 1000, 2),
        "p95_ms": round(pct(values, 95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


def log(message: str) -> None:
    """A progress line on stderr, with the UTC time."""
    print(f"{time.strftime('%H:%M:%S', time.gmtime())} UTC {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ScratchCentre:
    """A centre made for one bench run.

    Attributes
    ----------
    name: the database's name, unique to the run; also the search index prefix.
    database_url: the database's PostgreSQL URL.
    config: its ``centre.toml`` (mode 0600: it holds the database URL).
    folder: the temporary folder holding the file, for the run's other files; removed after.
    repo: the checkout whose ``main.py`` prepared it (and :func:`serve` runs).
    """

    name: str
    database_url: str
    config: Path
    folder: Path
    repo: Path

    def env(self) -> dict[str, str]:
        """The environment for the checkout's ``main.py``: its own code first on the path."""
        return {**os.environ, "PYTHONPATH": str(self.repo)}


def admin_database_url() -> str:
    """``SUPERBRAIN_PG_URL``, or exit saying how to get one."""
    url = os.environ.get("SUPERBRAIN_PG_URL")
    if not url:
        raise SystemExit('set SUPERBRAIN_PG_URL (eval "$(tools/dev-postgres start)")')
    return url


@contextmanager
def scratch_centre(
    prefix: str,
    *,
    admin: str,
    password: str,
    repo: Path = REPO,
    search_backend: str = "",
    search_url: str = "",
) -> Iterator[ScratchCentre]:
    """A fresh database ``PREFIX_xxxxxxxx`` with a ``centre.toml`` on it, initialised by
    ``superbrain centre init --admin ADMIN`` (password ``password``) of ``repo``.

    ``search_backend`` (``embedded`` or ``elasticsearch`` at ``search_url``) adds a ``[search]``
    table whose index prefix is the database's name; without it the centre's default search
    applies. On exit the database is dropped (``WITH (FORCE)``: open sessions too) and, on
    Elasticsearch, the indices of that prefix deleted.
    """
    import psycopg

    admin_url = admin_database_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    database_url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    try:
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
            folder = Path(tmp)
            config = folder / "centre.toml"
            text = (
                f'[centre]\nname = "bench"\ndata_dir = "data"\n\n'
                f"[database]\nurl = {json.dumps(database_url)}\n\n[server]\n"
            )
            if search_backend:
                text += (
                    f"\n[search]\nbackend = {json.dumps(search_backend)}\n"
                    f"url = {json.dumps(search_url)}\nindex_prefix = {json.dumps(name)}\n"
                )
            config.write_text(text, encoding="utf-8")
            config.chmod(0o600)
            centre = ScratchCentre(name, database_url, config, folder, repo.resolve())
            _centre_init(centre, admin, password)
            yield centre
    finally:
        with psycopg.connect(admin_url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if search_backend == "elasticsearch":
            _drop_indices(search_url, name)


def _centre_init(centre: ScratchCentre, admin: str, password: str) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(centre.repo / "main.py"),
            "centre",
            "init",
            "--config",
            str(centre.config),
            "--admin",
            admin,
        ],
        cwd=centre.repo,
        env={**centre.env(), "SUPERBRAIN_NEW_PASSWORD": password},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if out.returncode != 0:
        raise SystemExit(
            f"`superbrain centre init` of {str(centre.repo)!r} failed ({out.returncode}):\n"
            f"{out.stderr[-3000:]}"
        )


def _drop_indices(url: str, prefix: str) -> None:
    """Delete the run's own indices (``prefix*``) from the Elasticsearch node."""
    req = urllib.request.Request(f"{url.rstrip('/')}/{prefix}*", method="DELETE")
    try:
        urllib.request.urlopen(req, timeout=60).close()
    except OSError as exc:
        log(f"could not delete the indices {prefix}*: {exc}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    centre: ScratchCentre, *, timeout: float = 120
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``superbrain serve`` of the centre's checkout on a free port, once it accepts
    connections: yields (the process, its port); SIGTERM on exit (SIGKILL after 30 s). Its
    output goes to ``serve.log`` in the centre's folder, whose end a start that fails shows."""
    port = free_port()
    log_path = centre.folder / "serve.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(centre.repo / "main.py"),
                "serve",
                "--config",
                str(centre.config),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=centre.repo,
            env=centre.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    why = "exited" if proc.poll() is not None else f"did not listen in {timeout} s"
                    tail = log_path.read_text("utf-8", errors="replace")[-3000:]
                    raise SystemExit(f"the server {why}:\n{tail}") from None
                time.sleep(0.2)
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
