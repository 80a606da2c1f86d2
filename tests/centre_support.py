"""Real parts for the centre tests: a PostgreSQL database of their own, `superbrain serve`
processes on 127.0.0.1, and plain HTTP / SSE clients.

PostgreSQL comes from SUPERBRAIN_PG_URL (exported by tools/ci-services in CI, or by
`eval "$(tools/dev-postgres start)"`). Each test module gets a fresh database on that server,
dropped afterwards. With SUPERBRAIN_PG_REQUIRED=1 (CI) a missing or unreachable server FAILS
the tests; otherwise they skip and say why.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The first administrator of a test centre (``centre init --admin``), with its password.
ADMIN = ("admin", "Heron-Lantern-71")


def pg_server_url() -> str:
    """The URL of a running PostgreSQL, or skip/fail as the environment says."""
    url = os.environ.get("SUPERBRAIN_PG_URL", "")
    required = os.environ.get("SUPERBRAIN_PG_REQUIRED") == "1"
    if not url:
        if required:
            pytest.fail("SUPERBRAIN_PG_REQUIRED=1 but SUPERBRAIN_PG_URL is not set")
        reason = os.environ.get("SUPERBRAIN_PG_SKIP_REASON") or (
            'SUPERBRAIN_PG_URL is not set (start one with `eval "$(tools/dev-postgres start)"`)'
        )
        pytest.skip(f"no PostgreSQL: {reason}")
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as exc:
        message = f"PostgreSQL at SUPERBRAIN_PG_URL is not usable: {exc}"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    return url


def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server (dropped when the generator is closed)."""
    import psycopg

    name = f"sbtest_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(server_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def write_centre(
    folder: Path, database_url: str, *, server: dict[str, Any] | None = None, extra: str = ""
) -> Path:
    """A centre.toml in ``folder`` for ``database_url``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "[centre]",
        'name = "test centre"',
        'data_dir = "data"',
        "",
        "[database]",
        f"url = {json.dumps(database_url)}",
        "",
        "[server]",
    ]
    for key, value in (server or {}).items():
        lines.append(f"{key} = {json.dumps(value)}")
    path = folder / "centre.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env.pop("SUPERBRAIN_PASSWORD", None)
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        cwd=REPO,
        env={**cli_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def init_centre(config: Path, admin: str = ADMIN[0], password: str = ADMIN[1]) -> None:
    out = run_cli(
        "centre",
        "init",
        "--config",
        str(config),
        "--admin",
        admin,
        env={"SUPERBRAIN_NEW_PASSWORD": password},
    )
    assert out.returncode == 0, out.stderr


def chain_problems(config: Path) -> list[str]:
    """What is wrong with the centre's audit chain (empty: intact), read from PostgreSQL."""
    from centre.workspace import open_centre

    ws = open_centre(config, application_name="superbrain-test")
    try:
        return [str(p) for p in ws.audit.verify()]
    finally:
        ws.close()


@dataclass
class ServerProcess:
    """One `superbrain serve` process."""

    config: Path
    port: int
    scheme: str = "http"
    ca: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        self.log = self.config.parent / f"serve-{self.port}.log"
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(REPO / "main.py"),
                    "serve",
                    "--config",
                    str(self.config),
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                cwd=REPO,
                env=cli_env(),
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(
            f"server did not listen in {timeout} s: {self.log.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def two_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, ServerProcess, ServerProcess]]:
    """(centre.toml, server A, server B): a fresh centre (its own database, ``centre init`` with
    :data:`ADMIN`, event streams kept alive every second) served by two processes at once, as
    desks on two servers of one centre meet it. Stopped and dropped after the module; a module
    adds its own accounts and data in a fixture of its own on top."""
    gen = fresh_database(pg_server_url())
    database = next(gen)
    try:
        folder = tmp_path_factory.mktemp("two-servers")
        config = write_centre(folder, database, server={"keepalive_seconds": 1})
        init_centre(config, *ADMIN)
        a, b = ServerProcess(config, free_port()), ServerProcess(config, free_port())
        try:
            a.start()
            b.start()
            yield config, a, b
        finally:
            a.stop()
            b.stop()
    finally:
        gen.close()


def _connection(base: str, ca: Path | None, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        return http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=context
        )
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def api(
    server: ServerProcess | str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    timeout: float = 60,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(status, decoded JSON body or None)."""
    base = server if isinstance(server, str) else server.base
    ca = None if isinstance(server, str) else server.ca
    con = _connection(base, ca, timeout)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    try:
        con.request(method, path, body=data, headers=all_headers)
        response = con.getresponse()
        raw = response.read()
    finally:
        con.close()
    return response.status, (json.loads(raw) if raw else None)


def login(server: ServerProcess, user: str, password: str) -> str:
    status, body = api(server, "POST", "/api/v1/session", body={"user": user, "password": password})
    assert status == 200, body
    return str(body["token"])


def call(server: ServerProcess, token: str, service: str, **params: Any) -> tuple[int, Any]:
    return api(server, "POST", f"/api/v1/call/{service}", token=token, body={"params": params})


def ok(server: ServerProcess, token: str, service: str, **params: Any) -> Any:
    status, body = call(server, token, service, **params)
    assert status == 200, (service, status, body)
    return body["result"]


@dataclass
class Received:
    id: int
    kind: str
    data: dict[str, Any]
    at: float  # time.time() when it arrived (compare with data["ts"], the commit's clock)


@dataclass
class Console:
    """An SSE client in a thread (what a console does): records every event it receives."""

    server: ServerProcess
    token: str
    after: int | None = None
    events: list[Received] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    ended: list[str] = field(default_factory=list)  # session-ended, reset
    announced: list[Received] = field(default_factory=list)  # events without an id
    finished: threading.Event = field(default_factory=threading.Event)
    _stop: bool = False
    _con: http.client.HTTPConnection | None = None

    def start(self) -> Console:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.connected.wait(30), f"console did not connect: {self.error!r}"
        return self

    def _run(self) -> None:
        try:
            self._con = _connection(self.server.base, self.server.ca, 60)
            path = "/api/v1/events"
            headers = {"Authorization": f"Bearer {self.token}"}
            if self.after is not None:
                headers["Last-Event-ID"] = str(self.after)
            self._con.request("GET", path, headers=headers)
            response = self._con.getresponse()
            assert response.status == 200, response.status
            self.connected.set()
            event: dict[str, str] = {}
            while not self._stop:
                raw = response.readline()
                if not raw:
                    self.finished.set()
                    return
                line = raw.decode("utf-8").rstrip("\n")
                if not line:
                    if "id" in event:
                        self.events.append(
                            Received(
                                int(event["id"]),
                                event.get("event", ""),
                                json.loads(event.get("data", "{}")),
                                time.time(),
                            )
                        )
                    elif event.get("event") in ("session-ended", "reset"):
                        self.ended.append(event["event"])
                    elif "event" in event:  # announced, not journalled (a GPS fix)
                        self.announced.append(
                            Received(
                                0, event["event"], json.loads(event.get("data", "{}")), time.time()
                            )
                        )
                    event = {}
                    continue
                if line.startswith(":"):
                    continue
                key, _, value = line.partition(":")
                event[key] = value.removeprefix(" ")
        except BaseException as exc:  # reported by wait_for
            if not self._stop:
                self.error = exc
            self.connected.set()

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 10) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if predicate(event):
                    return event
            if self.error is not None:
                raise AssertionError(f"console stream failed: {self.error!r}")
            time.sleep(0.01)
        raise AssertionError(
            f"no matching event in {timeout} s; got "
            f"{[(e.id, e.data.get('kind')) for e in self.events][-20:]}"
        )

    def close(self) -> None:
        self._stop = True
        if self._con is not None:
            try:
                if self._con.sock is not None:
                    self._con.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._con.close()
